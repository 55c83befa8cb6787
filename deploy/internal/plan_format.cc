// The versioned JSON plan file (docs/plan-format.md). The text rendering is plan_text.cc.

#include "base/time_format.h"
#include "deploy/plan.h"

namespace certdeploy::deploy {
namespace {

using nlohmann::json;

constexpr std::pair<ActionKind, const char*> kKinds[] = {
    {ActionKind::kCreateTrustedProfile, "createTrustedProfile"},
    {ActionKind::kCreateImportedPfxProfile, "createImportedPfxProfile"},
    {ActionKind::kUpdateProfile, "updateProfile"},
    {ActionKind::kCreateAppConfiguration, "createAppConfiguration"},
    {ActionKind::kUpdateAppConfiguration, "updateAppConfiguration"},
    {ActionKind::kAssignProfile, "assignProfile"},
    {ActionKind::kImportUserPfx, "importUserPfx"},
    {ActionKind::kUpdateUserPfx, "updateUserPfx"},
    {ActionKind::kSkipUserPfx, "skipUserPfx"},
    {ActionKind::kUnchangedProfile, "unchangedProfile"},
    {ActionKind::kDeleteUserPfx, "deleteUserPfx"},
    {ActionKind::kInvalid, "invalid"},
};

// Reads a date-time as FormatRfc3339Utc writes it ("2026-11-28T11:49:53Z"; any RFC 3339
// date-time SystemTime can hold is accepted). False, leaving `out` as it was, otherwise.
bool ParseUtc(const std::string& s, SystemTime& out) {
  // Clamped like the Graph reader: a plan may carry an observed record's dates, and Graph's
  // "no date" (0001-01-01, 9999-12-31) is written as the nearest instant SystemTime holds.
  Rfc3339Options options;
  options.clamp_to_representable = true;
  Result<SystemTime> t = ParseRfc3339(s, options);
  if (!t.ok()) return false;
  out = *t;
  return true;
}

json AssignmentsJson(const std::vector<ObservedAssignment>& a) {
  json out = json::array();
  for (const ObservedAssignment& x : a) {
    out.push_back({{"targetType", x.target_type}, {"groupId", x.group_id}});
  }
  return out;
}

constexpr char kOutlookKeyPrefix[] = "outlook/";

bool IsOutlookAction(const Action& a) { return a.key.rfind(kOutlookKeyPrefix, 0) == 0; }

// An Outlook app configuration action (createAppConfiguration, updateAppConfiguration, and the
// unchangedProfile, assignProfile or invalid action of one).
json OutlookActionJson(const Action& a, json j) {
  j["outlookPlatform"] = a.key.substr(std::string_view(kOutlookKeyPrefix).size());
  j["odataType"] = a.odata_type;
  j["displayName"] = a.display_name;
  j["profileId"] = a.profile_id;
  j["appId"] = a.app_id;
  json settings = json::array();
  for (const auto& [key, value] : a.app_settings) {
    settings.push_back({{"key", key}, {"value", value}});
  }
  j["settings"] = std::move(settings);
  if (a.kind == ActionKind::kAssignProfile) {
    j["assignmentsBefore"] = AssignmentsJson(a.assignments_before);
    j["assignmentsAfter"] = AssignmentsJson(a.assignments_after);
  }
  return j;
}

void OutlookActionFrom(const json& x, Action& a) {
  a.odata_type = x.at("odataType").get<std::string>();
  a.display_name = x.at("displayName").get<std::string>();
  a.profile_id = x.value("profileId", "");
  a.app_id = x.value("appId", "");
  for (const json& s : x.at("settings")) {
    a.app_settings.emplace_back(s.at("key").get<std::string>(), s.at("value").get<bool>());
  }
  if (x.contains("assignmentsBefore")) {
    for (const json& y : x["assignmentsBefore"]) {
      a.assignments_before.push_back({y.at("targetType"), y.at("groupId")});
    }
  }
  if (x.contains("assignmentsAfter")) {
    for (const json& y : x["assignmentsAfter"]) {
      a.assignments_after.push_back({y.at("targetType"), y.at("groupId")});
    }
  }
}

std::vector<ObservedAssignment> AssignmentsFrom(const json& j) {
  std::vector<ObservedAssignment> out;
  for (const json& x : j) out.push_back({x.at("targetType"), x.at("groupId")});
  return out;
}

}  // namespace

bool IsProfileAction(ActionKind k) {
  return k == ActionKind::kCreateTrustedProfile || k == ActionKind::kCreateImportedPfxProfile ||
         k == ActionKind::kUpdateProfile || k == ActionKind::kCreateAppConfiguration ||
         k == ActionKind::kUpdateAppConfiguration || k == ActionKind::kAssignProfile ||
         k == ActionKind::kUnchangedProfile;
}

std::string_view ActionKindName(ActionKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "invalid";
}

Result<ActionKind> ParseActionKind(std::string_view name) {
  for (const auto& [k, n] : kKinds) {
    if (name == n) return k;
  }
  return InvalidArgumentError("unknown action kind '" + std::string(name) + "'");
}

char ActionMarker(ActionKind kind) {
  switch (kind) {
    case ActionKind::kCreateTrustedProfile:
    case ActionKind::kCreateImportedPfxProfile:
    case ActionKind::kCreateAppConfiguration:
    case ActionKind::kImportUserPfx: return '+';
    case ActionKind::kUpdateAppConfiguration:
    case ActionKind::kUpdateProfile:
    case ActionKind::kAssignProfile:
    case ActionKind::kUpdateUserPfx: return '~';
    case ActionKind::kDeleteUserPfx: return '-';
    case ActionKind::kSkipUserPfx:
    case ActionKind::kUnchangedProfile: return '=';
    case ActionKind::kInvalid: return '!';
  }
  return '!';
}

json PlanToJson(const Plan& plan) {
  json actions = json::array();
  for (const Action& a : plan.actions) {
    json j = {{"kind", ActionKindName(a.kind)}, {"key", a.key}, {"description", a.description}};
    if (IsOutlookAction(a)) {
      j = OutlookActionJson(a, std::move(j));
    } else {
      switch (a.kind) {
        case ActionKind::kCreateAppConfiguration:
        case ActionKind::kUpdateAppConfiguration:
          break;  // Always Outlook actions.
        case ActionKind::kCreateTrustedProfile:
        case ActionKind::kCreateImportedPfxProfile:
        case ActionKind::kUpdateProfile:
        case ActionKind::kUnchangedProfile:
        case ActionKind::kAssignProfile:
          j["platform"] = config::PlatformName(a.platform);
          j["odataType"] = a.odata_type;
          j["displayName"] = a.display_name;
          j["profileId"] = a.profile_id;
          if (!a.cert_sha1.empty()) {
            j["certificateThumbprint"] = a.cert_sha1;
            j["certificate"] = a.cert_der_base64;
            j["role"] = a.role;
            j["certificateNotAfter"] = FormatRfc3339Utc(a.not_after);
          } else {
            j["intendedPurpose"] = pkcs::PurposeName(a.purpose);
          }
          if (!a.assignments_owner.empty()) j["assignmentsOwner"] = a.assignments_owner;
          if (a.kind == ActionKind::kAssignProfile) {
            j["assignmentsBefore"] = AssignmentsJson(a.assignments_before);
            j["assignmentsAfter"] = AssignmentsJson(a.assignments_after);
          }
          break;
        case ActionKind::kImportUserPfx:
        case ActionKind::kUpdateUserPfx:
        case ActionKind::kSkipUserPfx:
        case ActionKind::kDeleteUserPfx:
        case ActionKind::kInvalid:
          j["line"] = a.line;
          j["userPrincipalName"] = a.upn;
          j["pfxFile"] = a.pfx_file;
          j["pfxSha256"] = a.pfx_sha256;
          j["thumbprint"] = a.thumbprint;
          j["recordId"] = a.record_id;
          j["intendedPurpose"] = pkcs::PurposeName(a.purpose);
          if (a.kind != ActionKind::kInvalid) {
            j["startDateTime"] = FormatRfc3339Utc(a.not_before);
            j["expirationDateTime"] = FormatRfc3339Utc(a.not_after);
          }
          break;
      }
    }
    if (!a.findings.empty()) {
      json findings = json::array();
      for (const pkcs::Finding& f : a.findings) {
        findings.push_back({{"code", f.code},
                            {"severity", pkcs::SeverityName(f.severity)},
                            {"message", f.message}});
      }
      j["findings"] = findings;
    }
    actions.push_back(std::move(j));
  }
  PlanSummary s = plan.Summary();
  return {{"schemaVersion", Plan::kSchemaVersion},
          {"createdAt", plan.created_at},
          {"tenant", plan.tenant},
          {"observedDigest", plan.observed_digest},
          {"observedParts", plan.observed_parts},
          {"manifest", {{"path", plan.manifest_path}, {"sha256", plan.manifest_sha256}}},
          {"summary",
           {{"add", s.add}, {"change", s.change}, {"remove", s.remove},
            {"unchanged", s.unchanged}, {"invalid", s.invalid}}},
          {"actions", actions}};
}

Result<Plan> PlanFromJson(const json& j) {
  try {
    if (!j.is_object()) return InvalidArgumentError("a plan file is a JSON object");
    int version = j.at("schemaVersion").get<int>();
    if (version != 1 && version != Plan::kSchemaVersion) {
      return InvalidArgumentError("plan schemaVersion " + std::to_string(version) +
                                  " is not supported (expected " +
                                  std::to_string(Plan::kSchemaVersion) + "); re-run plan");
    }
    Plan plan;
    plan.created_at = j.value("createdAt", "");
    plan.tenant = j.at("tenant").get<std::string>();
    plan.observed_digest = j.at("observedDigest").get<std::string>();
    if (j.contains("observedParts")) {
      plan.observed_parts = j["observedParts"].get<std::map<std::string, std::string>>();
    }
    if (j.contains("manifest")) {
      plan.manifest_path = j["manifest"].at("path").get<std::string>();
      plan.manifest_sha256 = j["manifest"].at("sha256").get<std::string>();
    }
    for (const json& x : j.at("actions")) {
      Action a;
      Result<ActionKind> kind = ParseActionKind(x.at("kind").get<std::string>());
      if (!kind.ok()) return kind.status();
      a.kind = *kind;
      a.key = x.at("key").get<std::string>();
      a.description = x.value("description", "");
      if (x.contains("outlookPlatform")) {
        OutlookActionFrom(x, a);
      } else if (x.contains("platform")) {
        Result<config::Platform> p = config::ParsePlatform(x.at("platform").get<std::string>());
        if (!p.ok()) return p.status();
        a.platform = *p;
        a.odata_type = x.at("odataType").get<std::string>();
        a.display_name = x.at("displayName").get<std::string>();
        a.profile_id = x.value("profileId", "");
        a.cert_sha1 = x.value("certificateThumbprint", "");
        a.cert_der_base64 = x.value("certificate", "");
        a.role = x.value("role", "");
        if (x.contains("certificateNotAfter")) {
          ParseUtc(x.at("certificateNotAfter").get<std::string>(), a.not_after);
        }
        a.assignments_owner = x.value("assignmentsOwner", "");
        if (x.contains("assignmentsBefore")) a.assignments_before = AssignmentsFrom(x["assignmentsBefore"]);
        if (x.contains("assignmentsAfter")) a.assignments_after = AssignmentsFrom(x["assignmentsAfter"]);
      }
      if (x.contains("intendedPurpose")) {
        Result<pkcs::Purpose> p = pkcs::ParsePurpose(x.at("intendedPurpose").get<std::string>());
        if (!p.ok()) return p.status();
        a.purpose = *p;
      }
      if (x.contains("userPrincipalName")) {
        a.line = x.value("line", 0);
        a.upn = x.at("userPrincipalName").get<std::string>();
        a.pfx_file = x.value("pfxFile", "");
        a.pfx_sha256 = x.value("pfxSha256", "");
        a.thumbprint = x.value("thumbprint", "");
        a.record_id = x.value("recordId", "");
        if (x.contains("startDateTime") &&
            (!ParseUtc(x["startDateTime"], a.not_before) ||
             !ParseUtc(x.at("expirationDateTime"), a.not_after))) {
          return InvalidArgumentError("action " + a.key + ": bad date");
        }
      }
      if (x.contains("findings")) {
        for (const json& f : x["findings"]) {
          a.findings.push_back({f.at("code"),
                                f.at("severity") == "warning" ? pkcs::Severity::kWarning
                                                              : pkcs::Severity::kError,
                                f.at("message")});
        }
      }
      plan.actions.push_back(std::move(a));
    }
    return plan;
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("malformed plan file: ") + e.what());
  }
}

}  // namespace certdeploy::deploy
