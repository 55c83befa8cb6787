// ComputePlan: desired + observed -> ordered actions. Pure: no I/O, no clock.

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "base/encoding.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "deploy/internal/ownership.h"
#include "deploy/plan.h"
#include "deploy/resume.h"
#include "pkcs/digest.h"

namespace certdeploy::deploy {
namespace {

std::string PfxKey(std::string_view upn, std::string_view thumbprint) {
  return "pfx/" + AsciiToLower(upn) + "/" + AsciiToLower(thumbprint);
}

std::string DescribeAssignments(const std::vector<ObservedAssignment>& a) {
  if (a.empty()) return "(none)";
  std::string out;
  for (const ObservedAssignment& x : a) {
    if (!out.empty()) out += ", ";
    if (x.target_type == "#microsoft.graph.groupAssignmentTarget") {
      out += "group " + x.group_id;
    } else if (x.target_type == "#microsoft.graph.exclusionGroupAssignmentTarget") {
      out += "exclude " + x.group_id;
    } else {
      std::string t = x.target_type;
      if (t.rfind("#microsoft.graph.", 0) == 0) t = t.substr(17);
      out += t + (x.group_id.empty() ? "" : " " + x.group_id);
    }
  }
  return out;
}

class Planner {
 public:
  Planner(const DesiredState& desired, const ObservedState& observed, SystemTime now)
      : desired_(desired), observed_(observed), now_(now),
        want_assignments_(DesiredAssignments(desired.assign_to)),
        manage_assignments_(!want_assignments_.empty()),
        owner_(AssignmentsOwnerDigest(want_assignments_)) {}

  Plan Run() {
    Plan plan;
    plan.observed_digest = DigestObservedState(observed_);
    plan.observed_parts = ObservedPartDigests(observed_);
    PlanTrustedProfiles(plan);
    PlanImportedProfiles(plan);
    PlanAppConfigurations(plan);
    for (Action& a : assigns_) plan.actions.push_back(std::move(a));
    PlanUserPfx(plan);
    for (Action& a : invalid_profiles_) plan.actions.push_back(std::move(a));
    std::vector<InvalidRow> invalid = desired_.invalid;
    invalid.insert(invalid.end(), address_problems_.begin(), address_problems_.end());
    std::stable_sort(invalid.begin(), invalid.end(),
                     [](const InvalidRow& a, const InvalidRow& b) { return a.line < b.line; });
    for (const InvalidRow& row : invalid) {
      Action a;
      a.kind = ActionKind::kInvalid;
      a.key = "row/" + std::to_string(row.line);
      a.line = row.line;
      a.upn = row.upn;
      a.pfx_file = row.pfx_file;
      a.findings = row.findings;
      std::string codes;
      for (const pkcs::Finding& f : row.findings) {
        if (f.severity != pkcs::Severity::kError) continue;
        codes += (codes.empty() ? "" : ", ") + f.code;
      }
      // Rows too malformed to name their user show the line alone.
      a.description = "line " + std::to_string(row.line) + (row.upn.empty() ? "" : " ") +
                      row.upn + ": " + codes;
      plan.actions.push_back(std::move(a));
    }
    return plan;
  }

 private:
  // Adds an unchanged/assign action for an existing or new profile.
  // `show_unchanged` false: an existing profile is not listed (another action already is).
  // `want`: the set wanted instead of the configured groups.
  void PlanAssignment(Action& profile_action, const ObservedProfile* existing, Plan& plan,
                      bool show_unchanged = true,
                      const std::optional<std::vector<ObservedAssignment>>& want = std::nullopt) {
    const std::vector<ObservedAssignment>& wanted = want ? *want : want_assignments_;
    std::vector<ObservedAssignment> before;
    if (existing) {
      before = existing->assignments;
      std::sort(before.begin(), before.end());
    }
    bool differs = manage_assignments_ && before != wanted;
    if (existing && !differs) {
      if (!show_unchanged) return;
      profile_action.kind = ActionKind::kUnchangedProfile;
      profile_action.description += "  (assignments: " + DescribeAssignments(before) + ")";
      plan.actions.push_back(profile_action);
      return;
    }
    if (existing && show_unchanged) {
      plan.actions.push_back(profile_action);  // Shown as unchanged, assign follows.
    }
    if (!differs) return;
    if (existing && internal::OwnedElsewhere(*existing, wanted, desired_.take_over_assignments)) {
      invalid_profiles_.push_back(
          internal::OwnershipConflict(profile_action, *existing, before, wanted));
      return;
    }
    Action assign = profile_action;
    assign.kind = ActionKind::kAssignProfile;
    assign.assignments_before = before;
    assign.assignments_after = wanted;
    assign.description = profile_action.display_name + ": " + DescribeAssignments(before) +
                         " -> " + DescribeAssignments(wanted);
    assigns_.push_back(std::move(assign));
  }

  template <typename Pred>
  const ObservedProfile* Find(Pred pred) const {
    for (const ObservedProfile& p : observed_.profiles) {
      if (pred(p)) return &p;
    }
    return nullptr;
  }

  // `create` describes the profile; it is created unless `existing`, then assigned if needed.
  void PlanProfile(Action& create, const ObservedProfile* existing, Plan& plan) {
    if (existing) {
      create.profile_id = existing->id;
      create.kind = ActionKind::kUnchangedProfile;
      // Found by what it carries, not by name: the plan shows the name it has in the tenant
      // (one made under an earlier naming is kept, never renamed or duplicated).
      if (!existing->display_name.empty() && existing->display_name != create.display_name &&
          create.description.starts_with(create.display_name)) {
        create.description =
            existing->display_name + create.description.substr(create.display_name.size());
        create.display_name = existing->display_name;
      }
    } else {
      plan.actions.push_back(create);
    }
    PlanAssignment(create, existing, plan);
  }

  void PlanTrustedProfiles(Plan& plan) {
    std::vector<const DesiredTrustedProfile*> wanted;
    for (const DesiredTrustedProfile& t : desired_.trusted) wanted.push_back(&t);
    std::sort(wanted.begin(), wanted.end(), [](auto* a, auto* b) {
      if (a->platform != b->platform) return a->platform < b->platform;
      if (a->role != b->role) return a->role > b->role;  // Roots first: trust anchors before CAs.
      return a->cert.sha1 < b->cert.sha1;
    });
    for (const DesiredTrustedProfile* t : wanted) {
      Action a;
      a.kind = ActionKind::kCreateTrustedProfile;
      a.platform = t->platform;
      a.odata_type = TrustedRootType(t->platform);
      a.display_name = t->display_name;
      a.cert_sha1 = t->cert.sha1;
      a.cert_der_base64 = Base64Encode(t->cert.der);
      a.role = std::string(pkcs::ChainRoleName(t->role));
      a.not_after = t->cert.not_after;
      a.key = "trusted/" + std::string(config::PlatformName(t->platform)) + "/" + t->cert.sha1;
      a.description = t->display_name + "  [" + a.role + ", sha1 " + t->cert.sha1 + "]";
      a.assignments_owner = owner_;
      PlanProfile(a, Find([&](const ObservedProfile& p) {
                    return p.odata_type == a.odata_type &&
                           AsciiToLower(p.cert_sha1) == t->cert.sha1;
                  }),
                  plan);
    }
  }

  void PlanImportedProfiles(Plan& plan) {
    for (const DesiredImportedProfile& d : desired_.imported) {
      Action a;
      a.kind = ActionKind::kCreateImportedPfxProfile;
      a.platform = d.platform;
      a.odata_type = ImportedPfxType(d.platform);
      a.display_name = d.display_name;
      a.purpose = d.purpose;
      a.key = "imported/" + std::string(config::PlatformName(d.platform)) + "/" +
              std::string(pkcs::PurposeName(d.purpose));
      a.description = d.display_name + "  [intendedPurpose " +
                      std::string(pkcs::PurposeName(d.purpose)) + "]";
      a.assignments_owner = owner_;
      const ObservedProfile* existing = Find([&](const ObservedProfile& p) {
        return p.odata_type == a.odata_type && p.purpose == d.purpose;
      });
      if (existing != nullptr && existing->outlook_silent_access == false) {
        // Made before certdeploy granted Outlook silent access, or by hand: grant it.
        Action update = a;
        update.kind = ActionKind::kUpdateProfile;
        update.profile_id = existing->id;
        update.display_name = existing->display_name;
        update.description = existing->display_name +
                             ": grant Outlook silent access to the certificate "
                             "(certificateAccessType -> specificApps, " +
                             std::string(kOutlookAndroidPackage) + ")";
        plan.actions.push_back(std::move(update));
        a.profile_id = existing->id;
        a.kind = ActionKind::kUnchangedProfile;
        PlanAssignment(a, existing, plan, /*show_unchanged=*/false);
        continue;
      }
      PlanProfile(a, existing, plan);
    }
  }

  // One Outlook app configuration policy per platform: the one that already sets Outlook's
  // S/MIME keys (the lowest id if several do) gets the wanted values, else one is created.
  void PlanAppConfigurations(Plan& plan) {
    for (const DesiredAppConfiguration& d : desired_.outlook) {
      const std::string platform(config::OutlookPlatformName(d.platform));
      Action a;
      a.kind = ActionKind::kCreateAppConfiguration;
      a.key = "outlook/" + platform;
      a.odata_type = AppConfigurationType(d.platform);
      a.display_name = d.display_name;
      a.app_settings = d.settings;
      auto app = observed_.outlook_apps.find(d.platform);
      if (!observed_.apps_read || app == observed_.outlook_apps.end()) {
        a.kind = ActionKind::kInvalid;
        const std::string what = d.platform == config::OutlookPlatform::kIos
                                     ? "Outlook for iOS (bundle id " +
                                           std::string(kOutlookIosBundleId) + ")"
                                     : "Outlook for Android (managed Google Play package " +
                                           std::string(kOutlookAndroidPackage) + ")";
        const std::string message =
            observed_.apps_read
                ? what + " is not among the tenant's apps: add it in Intune (Apps), or leave " +
                      platform + " out of outlook.platforms"
                : "the tenant's apps were not read, so " + what + " could not be found";
        a.findings.push_back({"outlook-not-in-tenant", pkcs::Severity::kError, message});
        a.description = "Outlook app configuration (" + platform + "): " + message;
        invalid_profiles_.push_back(std::move(a));
        continue;
      }
      a.app_id = app->second;
      a.description = d.display_name + "  [" + DescribeSettings(d.settings) + "]";
      const ObservedAppConfiguration* existing = ManagedAppConfiguration(observed_, a.odata_type);
      if (existing == nullptr) {
        plan.actions.push_back(a);
        PlanAssignment(a, nullptr, plan);
        continue;
      }
      a.profile_id = existing->id;
      a.display_name = existing->display_name;
      std::string others;  // Other policies setting the same keys: Intune reports conflicts.
      for (const ObservedAppConfiguration& c : observed_.app_configurations) {
        if (c.odata_type == a.odata_type && c.id != existing->id) {
          others += (others.empty() ? "" : ", ") + c.id;
        }
      }
      if (!others.empty()) {
        others = "  (other Outlook S/MIME policies, which conflict with this one: " + others + ")";
      }
      ObservedProfile as_profile;
      as_profile.assignments = existing->assignments;
      // A policy made in the portal may carry other Outlook settings for other users: its
      // assignments gain the profiles' groups and lose none.
      std::optional<std::vector<ObservedAssignment>> want;
      if (!existing->made_by_certdeploy) want = Union(existing->assignments, want_assignments_);
      if (!SmimeSettingsMatch(existing->smime, d.settings)) {
        Action update = a;
        update.kind = ActionKind::kUpdateAppConfiguration;
        update.description =
            existing->display_name + ": " + SettingChanges(existing->smime, d) + others;
        plan.actions.push_back(std::move(update));
        PlanAssignment(a, &as_profile, plan, /*show_unchanged=*/false, want);
        continue;
      }
      a.kind = ActionKind::kUnchangedProfile;
      a.description = existing->display_name + "  [" + DescribeSettings(d.settings) + "]" + others;
      PlanAssignment(a, &as_profile, plan, /*show_unchanged=*/true, want);
    }
  }

  static std::vector<ObservedAssignment> Union(std::vector<ObservedAssignment> have,
                                               const std::vector<ObservedAssignment>& add) {
    for (const ObservedAssignment& x : add) {
      if (std::find(have.begin(), have.end(), x) == have.end()) have.push_back(x);
    }
    std::sort(have.begin(), have.end());
    return have;
  }

  static std::string DescribeSettings(const AppSettings& settings) {
    std::string out;
    for (const auto& [key, value] : settings) {
      std::string name = key.substr(std::string_view(kOutlookSmimeKeyPrefix).size());
      out += (out.empty() ? "" : ", ") + (name.empty() ? "SMIMEEnabled" : name.substr(1)) + "=" +
             (value ? "true" : "false");
    }
    return out;
  }

  static std::string SettingChanges(const std::map<std::string, std::string>& have,
                                    const DesiredAppConfiguration& d) {
    std::string out;
    for (const auto& [key, value] : d.settings) {
      auto it = have.find(key);
      const std::string want = value ? "true" : "false";
      if (it != have.end() && EqualsIgnoreCaseAscii(it->second, want)) continue;
      out += (out.empty() ? "" : "; ") + key + " " + (it == have.end() ? "(unset)" : it->second) +
             " -> " + want;
    }
    return out;
  }

  void PlanUserPfx(Plan& plan) {
    std::map<std::string, const ObservedUserPfx*> present;
    for (const ObservedUserPfx& r : observed_.pfx) present.emplace(PfxKey(r.upn, r.thumbprint), &r);

    std::set<std::string> seen;
    std::set<std::string> manifest_users;
    // Newest valid certificate (not_after, thumbprint) per (user, purpose) among what will exist
    // after apply.
    std::map<std::pair<std::string, pkcs::Purpose>, std::pair<SystemTime, std::string>> newest;
    auto note_newest = [&](const std::string& upn, pkcs::Purpose p, SystemTime not_after,
                           const std::string& thumbprint) {
      if (not_after <= now_) return;
      auto [it, inserted] = newest.emplace(std::make_pair(AsciiToLower(upn), p),
                                           std::make_pair(not_after, thumbprint));
      if (!inserted && it->second.first < not_after) it->second = {not_after, thumbprint};
    };
    for (const ObservedUserPfx& r : observed_.pfx) {
      note_newest(r.upn, r.purpose, r.not_after, r.thumbprint);
    }

    for (const DesiredUserPfx& d : desired_.pfx) {
      if (std::optional<pkcs::Finding> problem = AddressProblem(d)) {
        address_problems_.push_back({d.line, d.upn, d.pfx_file, {*std::move(problem)}});
        continue;
      }
      Action a;
      a.key = PfxKey(d.upn, d.thumbprint);
      a.line = d.line;
      a.upn = d.upn;
      a.pfx_file = d.pfx_file;
      a.pfx_sha256 = d.pfx_sha256;
      a.thumbprint = d.thumbprint;
      a.purpose = d.purpose;
      a.not_before = d.not_before;
      a.not_after = d.not_after;
      a.findings = d.warnings;
      manifest_users.insert(AsciiToLower(d.upn));
      std::string what = d.upn + "  " + d.thumbprint + "  " + std::string(pkcs::PurposeName(d.purpose)) +
                         "  (line " + std::to_string(d.line) + ")";
      // A record already in the tenant is "already imported" for every row naming it, so that
      // each of them carries the record's id (the daemon counts such an item done).
      const bool first = seen.insert(a.key).second;
      if (auto it = present.find(a.key); it != present.end()) {
        const std::string changes = RecordChanges(*it->second, d);
        if (changes.empty()) {
          a.kind = ActionKind::kSkipUserPfx;
          a.record_id = it->second->id;
          a.description = what + "  already imported";
        } else if (first) {
          a.kind = ActionKind::kUpdateUserPfx;
          a.record_id = it->second->id;
          a.description = what + "  " + changes;
          note_newest(d.upn, d.purpose, d.not_after, d.thumbprint);
        } else {  // The first row's update decides for this one too.
          a.kind = ActionKind::kSkipUserPfx;
          a.description = what + "  duplicate of an earlier row";
        }
      } else if (!first) {
        a.kind = ActionKind::kSkipUserPfx;
        a.description = what + "  duplicate of an earlier row";
      } else {
        a.kind = ActionKind::kImportUserPfx;
        a.description = what + "  expires " + FormatRfc3339Utc(d.not_after);
        note_newest(d.upn, d.purpose, d.not_after, d.thumbprint);
      }
      plan.actions.push_back(std::move(a));
    }

    if (!desired_.prune_expired) return;
    // Expired and superseded records of manifest users, with the thumbprint superseding each.
    // Encryption certificates stay unless pruneExpiredEncryption: Outlook decrypts old mail with
    // the user's past encryption keys, which every newly enrolled device receives from Intune
    // ("Use S/MIME to sign and encrypt emails in Intune": import the new certificate before the
    // old one expires and keep the old ones,
    // https://learn.microsoft.com/mem/intune/protect/certificates-s-mime-encryption-sign).
    std::vector<std::pair<const ObservedUserPfx*, std::string>> expired;
    for (const ObservedUserPfx& r : observed_.pfx) {
      if (r.not_after > now_ || !manifest_users.count(AsciiToLower(r.upn))) continue;
      if (r.purpose == pkcs::Purpose::kSmimeEncryption && !desired_.prune_expired_encryption) {
        continue;
      }
      auto it = newest.find({AsciiToLower(r.upn), r.purpose});
      if (it == newest.end() || it->second.first <= r.not_after) continue;  // Not superseded.
      expired.push_back({&r, it->second.second});
    }
    std::sort(expired.begin(), expired.end(),
              [](const auto& a, const auto& b) { return a.first->id < b.first->id; });
    for (const auto& [r, successor] : expired) {
      Action a;
      a.kind = ActionKind::kDeleteUserPfx;
      a.key = PfxKey(r->upn, r->thumbprint);
      a.upn = r->upn;
      a.thumbprint = r->thumbprint;
      a.record_id = r->id;
      a.purpose = r->purpose;
      a.not_before = r->not_before;
      a.not_after = r->not_after;
      a.description = r->upn + "  " + r->thumbprint + "  " +
                      std::string(pkcs::PurposeName(r->purpose)) + "  expired " +
                      FormatRfc3339Utc(r->not_after) + ", superseded by " + successor;
      if (r->purpose == pkcs::Purpose::kSmimeEncryption) {
        a.findings.push_back(
            {"prune-encryption", pkcs::Severity::kWarning,
             "mail encrypted to this certificate can no longer be decrypted on devices enrolled "
             "from now on (pfx.pruneExpiredEncryption)"});
      }
      plan.actions.push_back(std::move(a));
    }
  }

  std::optional<pkcs::Finding> AddressProblem(const DesiredUserPfx& d) const {
    auto user = observed_.users.find(AsciiToLower(d.upn));
    const ObservedUser* known = user != observed_.users.end() ? &user->second : nullptr;
    if (known != nullptr && !known->found) return AddressFinding(d.upn, {}, known);
    if (!d.emails) return std::nullopt;  // The row check compared them already.
    return AddressFinding(d.upn, *d.emails, known);
  }

  // What an existing record lacks, as "keyName OldKey -> NewKey; ..."; "" when it is as wanted.
  // The seal fields are compared only when the desired state names them.
  std::string RecordChanges(const ObservedUserPfx& r, const DesiredUserPfx& d) const {
    std::string out;
    auto compare = [&out](const char* field, const std::string& have, const std::string& want) {
      if (want.empty() || have == want) return;
      out += (out.empty() ? "" : "; ") + std::string(field) + " " +
             (have.empty() ? "(none)" : have) + " -> " + want;
    };
    compare("providerName", r.provider_name, desired_.seal.provider_name);
    compare("keyName", r.key_name, desired_.seal.key_name);
    compare("paddingScheme", r.padding_scheme, desired_.seal.padding_scheme);
    if (!out.empty()) out = "re-seal to the configured connector key: " + out;
    if (r.purpose != d.purpose) {
      out += (out.empty() ? "" : "; ") + std::string("intendedPurpose ") +
             std::string(pkcs::PurposeName(r.purpose)) + " -> " +
             std::string(pkcs::PurposeName(d.purpose));
    }
    return out;
  }

  const DesiredState& desired_;
  const ObservedState& observed_;
  const SystemTime now_;
  const std::vector<ObservedAssignment> want_assignments_;
  const bool manage_assignments_;
  const std::string owner_;  // AssignmentsOwnerDigest(want_assignments_).
  std::vector<Action> assigns_;
  std::vector<Action> invalid_profiles_;  // Outlook app configurations that cannot be made.
  std::vector<InvalidRow> address_problems_;
};

}  // namespace

Plan ComputePlan(const DesiredState& desired, const ObservedState& observed, SystemTime now) {
  return Planner(desired, observed, now).Run();
}

PlanSummary Plan::Summary() const {
  PlanSummary s;
  for (const Action& a : actions) {
    switch (a.kind) {
      case ActionKind::kCreateTrustedProfile:
      case ActionKind::kCreateImportedPfxProfile:
      case ActionKind::kCreateAppConfiguration:
      case ActionKind::kImportUserPfx: ++s.add; break;
      case ActionKind::kUpdateAppConfiguration:
      case ActionKind::kUpdateProfile:
      case ActionKind::kAssignProfile:
      case ActionKind::kUpdateUserPfx: ++s.change; break;
      case ActionKind::kDeleteUserPfx: ++s.remove; break;
      case ActionKind::kSkipUserPfx:
      case ActionKind::kUnchangedProfile: ++s.unchanged; break;
      case ActionKind::kInvalid: ++s.invalid; break;
    }
  }
  return s;
}

bool Plan::HasWrites() const {
  PlanSummary s = Summary();
  return s.add + s.change + s.remove > 0;
}

}  // namespace certdeploy::deploy
