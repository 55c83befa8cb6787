// The owner mark of assignment sets (deploy/model.h) and the planner's conflicts
// (deploy/internal/ownership.h).

#include "deploy/internal/ownership.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "base/strings.h"
#include "pkcs/digest.h"

namespace certdeploy::deploy {
namespace {

constexpr std::string_view kOwnerMark = " Assignments owner: ";
constexpr size_t kOwnerDigestLength = 12;

}  // namespace

std::string AssignmentsOwnerDigest(const std::vector<ObservedAssignment>& wanted) {
  if (wanted.empty()) return "";
  std::vector<ObservedAssignment> sorted = wanted;
  std::sort(sorted.begin(), sorted.end());
  std::string canonical;
  for (const ObservedAssignment& x : sorted) canonical += x.target_type + ":" + x.group_id + "\n";
  return pkcs::Sha256Hex(canonical).substr(0, kOwnerDigestLength);
}

std::string AssignmentsOwnerMark(std::string_view digest) {
  if (digest.empty()) return "";
  return std::string(kOwnerMark) + std::string(digest) + ".";
}

std::string ParseAssignmentsOwner(std::string_view description) {
  const size_t at = description.rfind(kOwnerMark);
  if (at == std::string_view::npos) return "";
  std::string_view rest = description.substr(at + kOwnerMark.size());
  if (rest.size() < kOwnerDigestLength) return "";
  std::string digest(rest.substr(0, kOwnerDigestLength));
  for (char c : digest) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
  }
  return AsciiToLower(digest);
}

std::string WithAssignmentsOwner(std::string_view description, std::string_view digest) {
  std::string_view kept = description;
  if (!ParseAssignmentsOwner(description).empty()) {
    kept = description.substr(0, description.rfind(kOwnerMark));
  }
  return std::string(kept) + AssignmentsOwnerMark(digest);
}

namespace internal {
namespace {

// "assignTo.excludeGroups: [g1] vs none; assignTo.groups: [a] vs [b]": the tenant's set (as the
// owning config wrote it) against this config's, per key of the profiles section.
std::string DescribeOwnershipDifference(const std::vector<ObservedAssignment>& theirs,
                                        const std::vector<ObservedAssignment>& ours) {
  auto list = [](const std::vector<ObservedAssignment>& set, std::string_view type) {
    std::string out;
    for (const ObservedAssignment& x : set) {
      if (x.target_type != type) continue;
      out += (out.empty() ? "" : ", ") + (x.group_id.empty() ? x.target_type : x.group_id);
    }
    return out.empty() ? std::string("none") : "[" + out + "]";
  };
  const std::pair<const char*, const char*> keys[] = {
      {"assignTo.groups", "#microsoft.graph.groupAssignmentTarget"},
      {"assignTo.excludeGroups", "#microsoft.graph.exclusionGroupAssignmentTarget"},
  };
  std::string out;
  for (const auto& [key, type] : keys) {
    const std::string a = list(theirs, type), b = list(ours, type);
    if (a == b) continue;
    out += (out.empty() ? "" : "; ") + std::string(key) + ": " + a + " vs " + b;
  }
  if (out.empty()) out = "other assignment targets differ";
  return out;
}

}  // namespace

bool OwnedElsewhere(const ObservedProfile& existing, const std::vector<ObservedAssignment>& wanted,
                    bool take_over) {
  if (take_over || IsAppConfigurationType(existing.odata_type)) return false;
  return !existing.assignments_owner.empty() &&
         existing.assignments_owner != AssignmentsOwnerDigest(wanted);
}

Action OwnershipConflict(const Action& profile_action, const ObservedProfile& existing,
                         const std::vector<ObservedAssignment>& before,
                         const std::vector<ObservedAssignment>& wanted) {
  Action a;
  a.kind = ActionKind::kInvalid;
  a.key = "owner/" + profile_action.key;
  a.platform = profile_action.platform;
  a.odata_type = profile_action.odata_type;
  a.display_name = existing.display_name;
  a.profile_id = existing.id;
  const std::string message =
      "profile '" + existing.display_name + "': its assignments were written by a config " +
      "whose profiles section differs (" + DescribeOwnershipDifference(before, wanted) +
      "); they are left as they are. Pass --take-over-assignments or set " +
      "profiles.takeOverAssignments: true to replace them";
  a.description = existing.display_name +
                  ": assignments owned by another config's profiles section, left as they are";
  a.findings.push_back({kAssignmentsOwnedElsewhere, pkcs::Severity::kError, message});
  return a;
}

}  // namespace internal
}  // namespace certdeploy::deploy
