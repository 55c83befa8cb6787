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

}  // namespace

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
  if (op == "putConfig") {
    ConfigRecord record;
    RETURN_IF_ERROR(ConfigFromJournal(entry.value("config", json()), &record));
    auto it = configs.find(record.id);
    if (it != configs.end()) record.assignments = std::move(it->second.assignments);
    next_seq = std::max(next_seq, record.seq + 1);
    configs[record.id] = std::move(record);
  } else if (op == "deleteConfig") {
    std::string id;
    RETURN_IF_ERROR(id_of(&id));
    configs.erase(id);
  } else if (op == "setAssignments") {
    std::string id;
    RETURN_IF_ERROR(id_of(&id));
    if (!entry.contains("assignments") || !entry["assignments"].is_array()) {
      return InvalidArgumentError("setAssignments without assignments");
    }
    auto it = configs.find(id);
    if (it == configs.end()) return InvalidArgumentError("setAssignments for unknown " + id);
    it->second.assignments = entry["assignments"];
  } else if (op == "putPfx") {
    PfxRecord record;
    RETURN_IF_ERROR(PfxFromJournal(entry.value("record", json()), &record));
    pfx[record.id] = std::move(record);
  } else if (op == "deletePfx") {
    std::string id;
    RETURN_IF_ERROR(id_of(&id));
    pfx.erase(id);
  } else if (op == "reset") {
    configs.clear();
    pfx.clear();
    next_seq = 1;
  } else {
    return InvalidArgumentError("unknown journal op " + op);
  }
  return OkStatus();
}

}  // namespace certdeploy::sandbox::internal
