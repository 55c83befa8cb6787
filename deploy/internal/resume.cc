// CheckResume: which differences between a plan's observed state and the tenant now are the
// plan's own effects (deploy/resume.h).

#include "deploy/resume.h"

#include <algorithm>
#include <set>

#include "base/strings.h"
#include "base/time_format.h"
#include "pkcs/digest.h"

namespace certdeploy::deploy {
namespace {

constexpr size_t kPartDigestLength = 16;

std::string Short(const std::string& text) {
  return pkcs::Sha256Hex(text).substr(0, kPartDigestLength);
}

std::string Assignments(std::vector<ObservedAssignment> a) {
  std::sort(a.begin(), a.end());
  std::string out;
  for (const ObservedAssignment& x : a) out += "|" + x.target_type + ":" + x.group_id;
  return out;
}

std::vector<ObservedAssignment> Sorted(std::vector<ObservedAssignment> a) {
  std::sort(a.begin(), a.end());
  return a;
}

std::string Lower(std::string_view s) { return AsciiToLower(s); }

// Walks the differing parts and marks the actions whose effects they are.
class Explainer {
 public:
  Explainer(const Plan& plan, const ObservedState& now, const DesiredSeal& seal)
      : plan_(plan), now_(now), seal_(seal), done_(plan.actions.size(), false),
        created_ids_(plan.actions.size()) {}

  ResumeCheck Run() {
    ResumeCheck check;
    if (plan_.observed_parts.empty()) {
      check.unexplained.push_back("the plan records no per-part digests (made by an older "
                                  "certdeploy), so its own effects cannot be told from drift");
      return check;
    }
    const std::map<std::string, std::string> parts = ObservedPartDigests(now_);
    std::set<std::string> names;
    for (const auto& [name, digest] : plan_.observed_parts) names.insert(name);
    for (const auto& [name, digest] : parts) names.insert(name);
    // Profiles and app configurations first: their assignment parts refer to them.
    std::vector<std::string> ordered(names.begin(), names.end());
    std::stable_partition(ordered.begin(), ordered.end(), [](const std::string& n) {
      return n.rfind("profile/", 0) == 0 || n.rfind("appconfig/", 0) == 0;
    });
    for (const std::string& name : ordered) {
      auto before = plan_.observed_parts.find(name);
      auto after = parts.find(name);
      const bool was = before != plan_.observed_parts.end();
      const bool is = after != parts.end();
      if (was && is && before->second == after->second) continue;
      if (!Explain(name, was, is)) {
        const char* what = !was ? " appeared" : !is ? " disappeared" : " changed";
        check.unexplained.push_back(name + what);
      }
    }
    check.remaining = plan_;
    check.remaining.actions.clear();
    for (size_t i = 0; i < plan_.actions.size(); ++i) {
      if (done_[i]) {
        ++check.done;
        continue;
      }
      Action a = plan_.actions[i];
      if (a.kind == ActionKind::kAssignProfile && a.profile_id.empty()) {
        a.profile_id = CreatedIdFor(a.key);
      }
      check.remaining.actions.push_back(std::move(a));
    }
    return check;
  }

 private:
  bool Explain(const std::string& name, bool was, bool is) {
    const size_t slash = name.find('/');
    const std::string kind = name.substr(0, slash);
    const std::string id = slash == std::string::npos ? "" : name.substr(slash + 1);
    if (kind == "profile") return !was && is && ExplainNewProfile(id);
    if (kind == "silent") return ExplainSilent(id, was);
    if (kind == "assign") return is && ExplainAssign(id, /*app=*/false);
    if (kind == "pfx") return ExplainRecord(id, was, is);
    if (kind == "appconfig") return is && ExplainAppConfiguration(id, was);
    if (kind == "appconfig-assign") return is && ExplainAssign(id, /*app=*/true);
    return false;  // Users, Outlook's apps: the plan changes neither.
  }

  const ObservedProfile* Profile(const std::string& id) const {
    for (const ObservedProfile& p : now_.profiles) {
      if (p.id == id) return &p;
    }
    return nullptr;
  }

  const ObservedAppConfiguration* AppConfiguration(const std::string& id) const {
    for (const ObservedAppConfiguration& c : now_.app_configurations) {
      if (c.id == id) return &c;
    }
    return nullptr;
  }

  std::string CreatedIdFor(const std::string& key) const {
    for (size_t i = 0; i < plan_.actions.size(); ++i) {
      if (plan_.actions[i].key == key && !created_ids_[i].empty()) return created_ids_[i];
    }
    return "";
  }

  // A profile that was not there: one the plan creates, not created twice.
  bool ExplainNewProfile(const std::string& id) {
    const ObservedProfile* p = Profile(id);
    if (p == nullptr) return false;
    for (size_t i = 0; i < plan_.actions.size(); ++i) {
      const Action& a = plan_.actions[i];
      if (done_[i] || p->odata_type != a.odata_type) continue;
      const bool match =
          (a.kind == ActionKind::kCreateTrustedProfile && !p->cert_sha1.empty() &&
           p->cert_sha1 == Lower(a.cert_sha1)) ||
          (a.kind == ActionKind::kCreateImportedPfxProfile && p->purpose == a.purpose);
      if (!match) continue;
      done_[i] = true;
      created_ids_[i] = id;
      new_profiles_.insert(id);
      return true;
    }
    return false;
  }

  // Outlook silent access: granted on a profile the plan created, or by its updateProfile.
  bool ExplainSilent(const std::string& id, bool was) {
    const ObservedProfile* p = Profile(id);
    if (p == nullptr || p->outlook_silent_access != true) return false;
    if (!was) return new_profiles_.count(id) > 0;
    for (size_t i = 0; i < plan_.actions.size(); ++i) {
      const Action& a = plan_.actions[i];
      if (a.kind == ActionKind::kUpdateProfile && a.profile_id == id) {
        done_[i] = true;
        return true;
      }
    }
    return false;
  }

  // An assignment set: the plan's assign wrote it (done), or has not yet (a profile the plan
  // created, still unassigned; an existing one whose owner mark the assign already set).
  bool ExplainAssign(const std::string& id, bool app) {
    std::vector<ObservedAssignment> have;
    std::string owner;
    if (app) {
      const ObservedAppConfiguration* c = AppConfiguration(id);
      if (c == nullptr) return false;
      have = Sorted(c->assignments);
    } else {
      const ObservedProfile* p = Profile(id);
      if (p == nullptr) return false;
      have = Sorted(p->assignments);
      owner = p->assignments_owner;
    }
    const bool created = new_profiles_.count(id) > 0;
    for (size_t i = 0; i < plan_.actions.size(); ++i) {
      const Action& a = plan_.actions[i];
      if (a.kind != ActionKind::kAssignProfile) continue;
      const std::string target = a.profile_id.empty() ? CreatedIdFor(a.key) : a.profile_id;
      if (target != id) continue;
      if (!app && owner != a.assignments_owner) return false;
      if (have == Sorted(a.assignments_after)) {
        done_[i] = true;
        return true;
      }
      // Not assigned yet: a new profile has no assignments, an existing one has its old set.
      return have == (created ? std::vector<ObservedAssignment>{} : Sorted(a.assignments_before));
    }
    // A profile the plan created, carrying the plan's owner mark, with no assign to come.
    if (!created) return false;
    for (size_t i = 0; i < plan_.actions.size(); ++i) {
      if (created_ids_[i] == id) return have.empty() && owner == plan_.actions[i].assignments_owner;
    }
    return false;
  }

  bool SealedAsConfigured(const ObservedUserPfx& r) const {
    return (seal_.provider_name.empty() || r.provider_name == seal_.provider_name) &&
           (seal_.key_name.empty() || r.key_name == seal_.key_name) &&
           (seal_.padding_scheme.empty() || r.padding_scheme == seal_.padding_scheme);
  }

  bool ExplainRecord(const std::string& id, bool was, bool is) {
    const ObservedUserPfx* r = nullptr;
    for (const ObservedUserPfx& x : now_.pfx) {
      if (x.id == id) r = &x;
    }
    for (size_t i = 0; i < plan_.actions.size(); ++i) {
      const Action& a = plan_.actions[i];
      if (done_[i]) continue;
      bool match = false;
      if (!was && is && a.kind == ActionKind::kImportUserPfx) {
        match = Lower(r->upn) == Lower(a.upn) && Lower(r->thumbprint) == Lower(a.thumbprint) &&
                r->purpose == a.purpose && SealedAsConfigured(*r);
      } else if (was && is && a.kind == ActionKind::kUpdateUserPfx && a.record_id == id) {
        match = Lower(r->thumbprint) == Lower(a.thumbprint) && r->purpose == a.purpose &&
                SealedAsConfigured(*r);
      } else if (was && !is && a.kind == ActionKind::kDeleteUserPfx && a.record_id == id) {
        match = true;
      }
      if (match) {
        done_[i] = true;
        return true;
      }
    }
    return false;
  }

  bool ExplainAppConfiguration(const std::string& id, bool was) {
    const ObservedAppConfiguration* c = AppConfiguration(id);
    if (c == nullptr) return false;
    for (size_t i = 0; i < plan_.actions.size(); ++i) {
      const Action& a = plan_.actions[i];
      if (done_[i] || c->odata_type != a.odata_type) continue;
      const bool match =
          was ? a.kind == ActionKind::kUpdateAppConfiguration && a.profile_id == id
              : a.kind == ActionKind::kCreateAppConfiguration && c->made_by_certdeploy;
      if (!match || !SmimeSettingsMatch(c->smime, a.app_settings)) continue;
      done_[i] = true;
      if (!was) {
        created_ids_[i] = id;
        new_profiles_.insert(id);
      }
      return true;
    }
    return false;
  }

  const Plan& plan_;
  const ObservedState& now_;
  const DesiredSeal& seal_;
  std::vector<bool> done_;                // By action index.
  std::vector<std::string> created_ids_;  // By action index: the id a done create made.
  std::set<std::string> new_profiles_;    // Profiles and app configurations the plan created.
};

}  // namespace

std::map<std::string, std::string> ObservedPartDigests(const ObservedState& observed) {
  std::map<std::string, std::string> parts;
  for (const ObservedProfile& p : observed.profiles) {
    parts["profile/" + p.id] = Short(p.odata_type + "|" + p.cert_sha1 + "|" +
                                     (p.purpose ? std::string(pkcs::PurposeName(*p.purpose)) : ""));
    if (p.outlook_silent_access) {
      parts["silent/" + p.id] = Short(*p.outlook_silent_access ? "silent" : "ask");
    }
    parts["assign/" + p.id] = Short(Assignments(p.assignments) + "|owner:" + p.assignments_owner);
  }
  for (const ObservedUserPfx& r : observed.pfx) {
    parts["pfx/" + r.id] =
        Short(Lower(r.upn) + "|" + r.thumbprint + "|" + std::string(pkcs::PurposeName(r.purpose)) +
              "|" + FormatRfc3339Utc(r.not_after) + "|" + r.provider_name + "|" + r.key_name +
              "|" + r.padding_scheme);
  }
  for (const auto& [upn, user] : observed.users) {
    parts["user/" + upn] = Short(std::string(user.found ? "1" : "0") + "|" + user.primary_smtp);
  }
  std::string apps = observed.apps_read ? "read" : "";
  for (const auto& [platform, id] : observed.outlook_apps) {
    apps += "|" + std::string(config::OutlookPlatformName(platform)) + ":" + id;
  }
  parts["apps"] = Short(apps);
  for (const ObservedAppConfiguration& c : observed.app_configurations) {
    std::string line = c.odata_type + "|" + (c.made_by_certdeploy ? "1" : "0");
    for (const auto& [key, value] : c.smime) line += "|" + key + "=" + value;
    parts["appconfig/" + c.id] = Short(line);
    parts["appconfig-assign/" + c.id] = Short(Assignments(c.assignments));
  }
  return parts;
}

ResumeCheck CheckResume(const Plan& plan, const ObservedState& now, const DesiredSeal& seal) {
  return Explainer(plan, now, seal).Run();
}

}  // namespace certdeploy::deploy
