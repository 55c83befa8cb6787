// Grouping rows by identical findings, for the human output.

#include "deploy/finding_groups.h"

#include <algorithm>
#include <map>

namespace certdeploy::deploy {
namespace {

// A key that tells findings lists apart: each field length-prefixed, so no message can forge
// another list's key.
std::string Signature(const std::vector<pkcs::Finding>& findings) {
  std::string key;
  for (const pkcs::Finding& f : findings) {
    for (std::string_view part : {std::string_view(f.code), pkcs::SeverityName(f.severity),
                                  std::string_view(f.message)}) {
      key += std::to_string(part.size()) + ":" + std::string(part);
    }
  }
  return key;
}

}  // namespace

std::vector<FindingGroup> GroupRowsByFindings(std::span<const RowFindings> rows) {
  std::vector<FindingGroup> groups;
  std::map<std::string, size_t> index;  // Signature -> position in `groups`.
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].findings == nullptr || rows[i].findings->empty()) continue;
    auto [it, fresh] = index.emplace(Signature(*rows[i].findings), groups.size());
    if (fresh) groups.push_back(FindingGroup{*rows[i].findings, {}});
    groups[it->second].members.push_back(i);
  }
  return groups;
}

std::string FindingsHeadline(const std::vector<pkcs::Finding>& findings) {
  if (findings.size() == 1) return findings[0].code + ": " + findings[0].message;
  std::string codes;
  for (const pkcs::Finding& f : findings) codes += (codes.empty() ? "" : ", ") + f.code;
  return codes;
}

std::string DescribeMembers(std::span<const RowFindings> rows, const std::vector<size_t>& members,
                            size_t examples) {
  if (members.size() == 1) {
    const RowFindings& row = rows[members[0]];
    return "line " + std::to_string(row.line) + (row.upn.empty() ? "" : " " + row.upn);
  }
  const size_t shown = std::min(members.size(), std::max<size_t>(examples, 1));
  std::string lines = "lines ";
  std::string upns;
  for (size_t i = 0; i < shown; ++i) {
    const RowFindings& row = rows[members[i]];
    lines += (i ? ", " : "") + std::to_string(row.line);
    upns += (i ? ", " : "") + row.upn;
  }
  if (members.size() > shown) {
    lines += " and " + std::to_string(members.size() - shown) + " more";
    upns += ", ...";
  }
  return lines + ": " + upns;
}

}  // namespace certdeploy::deploy
