#include "sandbox/internal/state.h"

#include <algorithm>

#include "base/status_macros.h"

namespace certdeploy::sandbox::internal {
namespace {

// Reads the journal forms back; any type mismatch is reported as InvalidArgument.
Status ConfigFromJournal(const json& j, ConfigRecord* out) {
  if (!j.is_object()) return InvalidArgumentError("config is not an object");
  try {
    out->id = j.at("id").get<std::string>();
    out->type = j.at("type").get<std::string>();
    out->seq = j.at("seq").get<uint64_t>();
    out->created = FromUnixMillis(j.at("created").get<int64_t>());
    out->modified = FromUnixMillis(j.at("modified").get<int64_t>());
    out->version = j.at("version").get<int>();
    out->props = j.at("props");
    out->root_sha1 = j.value("rootSha1", "");
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("config entry: ") + e.what());
  }
  if (!out->props.is_object()) return InvalidArgumentError("config props is not an object");
  return OkStatus();
}

Status PfxFromJournal(const json& j, PfxRecord* out) {
  if (!j.is_object()) return InvalidArgumentError("record is not an object");
  try {
    out->id = j.at("id").get<std::string>();
    out->user_id = j.at("userId").get<std::string>();
    out->upn = j.at("userPrincipalName").get<std::string>();
    out->thumbprint = j.at("thumbprint").get<std::string>();
    out->intended_purpose = j.at("intendedPurpose").get<std::string>();
    out->provider_name = j.at("providerName").get<std::string>();
    out->key_name = j.at("keyName").get<std::string>();
    out->padding_scheme = j.at("paddingScheme").get<std::string>();
    out->start = FromUnixMillis(j.at("start").get<int64_t>());
    out->expiration = FromUnixMillis(j.at("expiration").get<int64_t>());
    out->created = FromUnixMillis(j.at("created").get<int64_t>());
    out->modified = FromUnixMillis(j.at("modified").get<int64_t>());
    out->cert_sha1 = j.at("certSha1").get<std::string>();
    out->cert_not_before = FromUnixMillis(j.at("certNotBefore").get<int64_t>());
    out->cert_not_after = FromUnixMillis(j.at("certNotAfter").get<int64_t>());
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("pfx entry: ") + e.what());
  }
  return OkStatus();
}

// The seeded Outlook apps: what an Intune tenant that added Outlook from the App Store and from
// managed Google Play holds. Ids are fixed (kOutlook*AppId) and so is the creation time, so a
// seeded tenant is the same on every run.
void SeedOutlookApps(std::map<std::string, ConfigRecord>* apps, uint64_t* next_seq) {
  const SystemTime seeded_at = FromUnixMillis(1704067200000);  // 2024-01-01T00:00:00Z
  auto add = [&](const char* id, const char* type, json props) {
    ConfigRecord r;
    r.id = id;
    r.type = type;
    r.seq = (*next_seq)++;
    r.created = r.modified = seeded_at;
    r.props = std::move(props);
    (*apps)[r.id] = std::move(r);
  };
  add(kOutlookIosAppId, "iosStoreApp",
      {{"displayName", "Microsoft Outlook"},
       {"description", "Microsoft Outlook"},
       {"publisher", "Microsoft Corporation"},
       {"bundleId", "com.microsoft.Office.Outlook"},
       {"appStoreUrl", "https://apps.apple.com/us/app/microsoft-outlook/id951937596"},
       {"applicableDeviceType", {{"iPad", true}, {"iPhoneAndIPod", true}}},
       {"minimumSupportedOperatingSystem", {{"v16_0", true}}}});
  add(kOutlookAndroidAppId, "androidManagedStoreApp",
      {{"displayName", "Microsoft Outlook"},
       {"description", "Microsoft Outlook"},
       {"publisher", "Microsoft Corporation"},
       {"packageId", "com.microsoft.office.outlook"},
       {"appIdentifier", "com.microsoft.office.outlook"},
       {"appStoreUrl",
        "https://play.google.com/store/apps/details?id=com.microsoft.office.outlook"}});
}

// Creates or replaces a record from its journal form, keeping the assignments it had.
Status PutRecord(const json& j, std::map<std::string, ConfigRecord>* records, uint64_t* next_seq) {
  ConfigRecord record;
  RETURN_IF_ERROR(ConfigFromJournal(j, &record));
  auto it = records->find(record.id);
  if (it != records->end()) {
    record.assignments = std::move(it->second.assignments);
    record.device_statuses = std::move(it->second.device_statuses);
  }
  *next_seq = std::max(*next_seq, record.seq + 1);
  (*records)[record.id] = std::move(record);
  return OkStatus();
}

// Adds a device report to a deviceConfiguration, or replaces the one with the same id.
Status PutDeviceStatus(const json& entry, std::map<std::string, ConfigRecord>* configs) {
  if (!entry.contains("id") || !entry["id"].is_string()) {
    return InvalidArgumentError("putDeviceStatus without id");
  }
  const json status = entry.value("status", json());
  if (!status.is_object() || !status.contains("id") || !status["id"].is_string()) {
    return InvalidArgumentError("putDeviceStatus without a status object with an id");
  }
  auto it = configs->find(entry["id"].get<std::string>());
  if (it == configs->end()) return InvalidArgumentError("putDeviceStatus for an unknown profile");
  for (json& existing : it->second.device_statuses) {
    if (existing.value("id", "") == status["id"]) {
      existing = status;
      return OkStatus();
    }
  }
  it->second.device_statuses.push_back(status);
  return OkStatus();
}

}  // namespace

TenantState::TenantState(bool outlook_apps) : outlook_apps_(outlook_apps) { Reset(); }

void TenantState::Reset() {
  configs.clear();
  pfx.clear();
  apps.clear();
  app_configs.clear();
  next_seq = 1;
  if (outlook_apps_) SeedOutlookApps(&apps, &next_seq);
}

json ConfigToJournal(const ConfigRecord& r) {
  return json{{"id", r.id},
              {"type", r.type},
              {"seq", r.seq},
              {"created", ToUnixMillis(r.created)},
              {"modified", ToUnixMillis(r.modified)},
              {"version", r.version},
              {"props", r.props},
              {"rootSha1", r.root_sha1}};
}

json PfxToJournal(const PfxRecord& r) {
  return json{{"id", r.id},
              {"userId", r.user_id},
              {"userPrincipalName", r.upn},
              {"thumbprint", r.thumbprint},
              {"intendedPurpose", r.intended_purpose},
              {"providerName", r.provider_name},
              {"keyName", r.key_name},
              {"paddingScheme", r.padding_scheme},
              {"start", ToUnixMillis(r.start)},
              {"expiration", ToUnixMillis(r.expiration)},
              {"created", ToUnixMillis(r.created)},
              {"modified", ToUnixMillis(r.modified)},
              {"certSha1", r.cert_sha1},
              {"certNotBefore", ToUnixMillis(r.cert_not_before)},
              {"certNotAfter", ToUnixMillis(r.cert_not_after)}};
}

Status TenantState::Apply(const json& entry) {
  if (!entry.is_object() || !entry.contains("op") || !entry["op"].is_string()) {
    return InvalidArgumentError("journal entry without op");
  }
  const std::string op = entry["op"];
  auto id_of = [&](std::string* id) -> Status {
    if (!entry.contains("id") || !entry["id"].is_string()) {
      return InvalidArgumentError(op + " without id");
    }
    *id = entry["id"];
    return OkStatus();
  };
  auto set_assignments = [&](std::map<std::string, ConfigRecord>* records) -> Status {
    std::string id;
    RETURN_IF_ERROR(id_of(&id));
    if (!entry.contains("assignments") || !entry["assignments"].is_array()) {
      return InvalidArgumentError(op + " without assignments");
    }
    auto it = records->find(id);
    if (it == records->end()) return InvalidArgumentError(op + " for unknown " + id);
    it->second.assignments = entry["assignments"];
    return OkStatus();
  };
  auto erase = [&](auto* records) -> Status {
    std::string id;
    RETURN_IF_ERROR(id_of(&id));
    records->erase(id);
    return OkStatus();
  };
  if (op == "putConfig") return PutRecord(entry.value("config", json()), &configs, &next_seq);
  if (op == "deleteConfig") return erase(&configs);
  if (op == "setAssignments") return set_assignments(&configs);
  if (op == "putDeviceStatus") return PutDeviceStatus(entry, &configs);
  if (op == "putApp") return PutRecord(entry.value("app", json()), &apps, &next_seq);
  if (op == "deleteApp") return erase(&apps);
  if (op == "putAppConfig") {
    return PutRecord(entry.value("config", json()), &app_configs, &next_seq);
  }
  if (op == "deleteAppConfig") return erase(&app_configs);
  if (op == "setAppConfigAssignments") return set_assignments(&app_configs);
  if (op == "putPfx") {
    PfxRecord record;
    RETURN_IF_ERROR(PfxFromJournal(entry.value("record", json()), &record));
    pfx[record.id] = std::move(record);
    return OkStatus();
  }
  if (op == "deletePfx") return erase(&pfx);
  if (op == "reset") {
    Reset();
    return OkStatus();
  }
  return InvalidArgumentError("unknown journal op " + op);
}

}  // namespace certdeploy::sandbox::internal
