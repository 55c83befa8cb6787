// /beta/deviceManagement/userPfxCertificates: imported user PFX records, checked by the simulated
// connector.
//
// Two layers of refusal, as in Graph: OData-level errors (unknown property, wrong JSON type, an
// enum literal that is not a member, a date without offset, a blob that is not base64) come back
// with a descriptive message; Intune-level errors (uppercase thumbprint, deprecated padding,
// unknown user, id mismatch, anything the connector cannot use) come back as Intune's opaque
// "An error has occurred - Operation ID ..." message. The precise reason is always counted in
// the statistics and sent in the x-sandbox-reason response header.

#include <set>

#include "base/encoding.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "sandbox/internal/core.h"

namespace certdeploy::sandbox::internal {
namespace {

constexpr char kType[] = "#microsoft.graph.userPFXCertificate";
constexpr char kResourcePath[] = "deviceManagement/userPfxCertificates";

const std::set<std::string> kPurposes = {"unassigned", "smimeEncryption", "smimeSigning", "vpn",
                                         "wifi"};
const std::set<std::string> kPaddings = {"none",       "pkcs1",      "oaepSha1",
                                         "oaepSha256", "oaepSha384", "oaepSha512"};
const std::set<std::string> kSupportedPaddings = {"oaepSha256", "oaepSha384", "oaepSha512"};
const std::set<std::string> kRequired = {
    "thumbprint",         "intendedPurpose",     "userPrincipalName", "startDateTime",
    "expirationDateTime", "providerName",        "keyName",           "paddingScheme",
    "encryptedPfxBlob",   "encryptedPfxPassword"};
const std::set<std::string> kOptional = {"@odata.type", "id", "createdDateTime",
                                         "lastModifiedDateTime"};

// The fields of a create or patch body, validated at the OData level.
struct PfxInput {
  std::optional<std::string> id, thumbprint, intended_purpose, upn, provider_name, key_name,
      padding_scheme, blob, sealed_password;
  std::optional<SystemTime> start, expiration;
};

Refusal OData(const std::string& reason, const std::string& message) {
  return Refusal{400, "BadRequest", message, "userPfxCertificate: " + reason};
}

// An Intune-level refusal: opaque message, precise reason.
Refusal Intune(const RequestContext& ctx, const std::string& reason) {
  return Refusal{400, "BadRequest", IntuneOpaqueMessage(ctx, kResourcePath), reason};
}

Reply Refuse(const RequestContext& ctx, const Refusal& refusal) {
  Reply reply = FromRefusal(ctx, refusal);
  reply.headers.emplace_back("x-sandbox-reason", refusal.reason);
  return reply;
}

// The member of `members` that `literal` names, in its camelCase spelling. Case is not
// significant: the IntunePfxImport module serialises its enums with Newtonsoft's default
// StringEnumConverter ("SmimeEncryption", "OaepSha512"), and the service accepts them.
std::optional<std::string> EnumMember(const std::set<std::string>& members,
                                      const std::string& literal) {
  for (const std::string& m : members) {
    if (EqualsIgnoreCaseAscii(m, literal)) return m;
  }
  return std::nullopt;
}

std::optional<Refusal> ParseFields(const json& body, bool create, PfxInput* in) {
  for (const auto& [key, value] : body.items()) {
    if (!kRequired.count(key) && !kOptional.count(key)) {
      return OData("unknown property",
                   "The property '" + key +
                       "' does not exist on type "
                       "'microsoft.graph.userPFXCertificate'. Make sure to only use property names "
                       "that are defined by the type.");
    }
    auto literal_error = [&, &key = key, &value = value](const std::string& type) {
      return OData("invalid " + key, "Cannot convert the literal '" + value.dump() +
                                         "' to the expected type '" + type + "'.");
    };
    if (value.is_null()) {
      if (kRequired.count(key)) return OData("invalid " + key, "'" + key + "' cannot be null.");
      continue;
    }
    if (key == "@odata.type") {
      if (value != kType) return OData("invalid @odata.type", "Unexpected type " + value.dump());
      continue;
    }
    if (key == "startDateTime" || key == "expirationDateTime" || key == "createdDateTime" ||
        key == "lastModifiedDateTime") {
      std::optional<SystemTime> t;
      if (value.is_string()) {
        Result<SystemTime> parsed = ParseRfc3339(value.get<std::string>(), kGraphDateTimeOptions);
        if (parsed.ok()) t = *parsed;
      }
      if (!t) return literal_error("Edm.DateTimeOffset");
      if (key == "startDateTime") in->start = t;
      if (key == "expirationDateTime") in->expiration = t;
      continue;
    }
    if (!value.is_string()) return literal_error("Edm.String");
    std::string s = value.get<std::string>();
    if (key == "intendedPurpose") {
      std::optional<std::string> member = EnumMember(kPurposes, s);
      if (!member) return literal_error("microsoft.graph.userPfxIntendedPurpose");
      in->intended_purpose = *member;
    } else if (key == "paddingScheme") {
      std::optional<std::string> member = EnumMember(kPaddings, s);
      if (!member) return literal_error("microsoft.graph.userPfxPaddingScheme");
      in->padding_scheme = *member;
    } else if (key == "encryptedPfxBlob") {
      auto bytes = Base64Decode(s);
      if (!bytes) return literal_error("Edm.Binary");
      in->blob = std::move(*bytes);
    } else if (key == "id") {
      in->id = s;
    } else if (key == "thumbprint") {
      in->thumbprint = s;
    } else if (key == "userPrincipalName") {
      in->upn = s;
    } else if (key == "providerName") {
      in->provider_name = s;
    } else if (key == "keyName") {
      in->key_name = s;
    } else if (key == "encryptedPfxPassword") {
      in->sealed_password = s;
    }
  }
  if (create) {
    for (const auto& key : kRequired) {
      if (!body.contains(key)) {
        return OData("missing property", "The property '" + key + "' is required.");
      }
    }
  }
  return std::nullopt;
}

// Intune-level checks of the fields present.
std::optional<Refusal> CheckFields(const RequestContext& ctx, const PfxInput& in) {
  if (in.thumbprint) {
    bool ok = in.thumbprint->size() == 40;
    for (char c : *in.thumbprint) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!ok) return Intune(ctx, "userPfxCertificate: thumbprint not 40 lowercase hex");
  }
  if (in.padding_scheme && !kSupportedPaddings.count(*in.padding_scheme)) {
    return Intune(ctx, "userPfxCertificate: unsupported paddingScheme");
  }
  if ((in.provider_name && in.provider_name->empty()) || (in.key_name && in.key_name->empty())) {
    return Intune(ctx, "userPfxCertificate: empty providerName or keyName");
  }
  return std::nullopt;
}

// Runs the connector and compares what it found with the record's fields.
std::optional<Refusal> CheckWithConnector(const RequestContext& ctx, const TenantCore& core,
                                          const PfxRecord& record, const std::string& blob,
                                          const std::string& sealed, ConnectorFacts* facts) {
  auto result = core.connector().Open(blob, sealed, record.padding_scheme);
  if (auto* reason = std::get_if<std::string>(&result)) return Intune(ctx, *reason);
  *facts = std::get<ConnectorFacts>(result);
  if (facts->sha1 != record.thumbprint) return Intune(ctx, kReasonThumbprint);
  if (facts->not_before != record.start || facts->not_after != record.expiration) {
    return Intune(ctx, kReasonDates);
  }
  return std::nullopt;
}

std::string RecordId(const std::string& user_id, const std::string& thumbprint) {
  std::string compact;
  for (char c : user_id) {
    if (c != '-') compact += c;
  }
  return compact + "-" + thumbprint;
}

Reply NotFound(const Operation& op, const std::string& id) {
  return GraphError(*op.context, 404, "ResourceNotFound",
                    "The userPfxCertificate '" + id + "' was not found.");
}

Reply Create(const Operation& op, TenantCore& core) {
  const RequestContext& ctx = *op.context;
  auto parsed = ParseJsonBody(op, "userPfxCertificate");
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return Refuse(ctx, *refusal);
  PfxInput in;
  if (auto refusal = ParseFields(std::get<json>(parsed), true, &in)) return Refuse(ctx, *refusal);
  if (auto refusal = CheckFields(ctx, in)) return Refuse(ctx, *refusal);
  auto user = core.directory().FindByUpn(*in.upn);
  if (!user) return Refuse(ctx, Intune(ctx, "userPfxCertificate: unknown user"));
  PfxRecord record;
  record.user_id = user->id;
  record.upn = *in.upn;
  record.thumbprint = *in.thumbprint;
  record.id = RecordId(user->id, record.thumbprint);
  if (in.id && !in.id->empty() && *in.id != record.id) {
    return Refuse(ctx, Intune(ctx, "userPfxCertificate: id mismatch"));
  }
  record.intended_purpose = *in.intended_purpose;
  record.provider_name = *in.provider_name;
  record.key_name = *in.key_name;
  record.padding_scheme = *in.padding_scheme;
  record.start = *in.start;
  record.expiration = *in.expiration;
  record.created = record.modified = ctx.now;
  ConnectorFacts facts;
  if (auto refusal = CheckWithConnector(ctx, core, record, *in.blob, *in.sealed_password, &facts)) {
    return Refuse(ctx, *refusal);
  }
  record.cert_sha1 = facts.sha1;
  record.cert_not_before = facts.not_before;
  record.cert_not_after = facts.not_after;
  std::lock_guard<std::mutex> lock(core.mu);
  if (core.state.pfx.count(record.id)) {
    // Graph documents no 409 here: a second record with the same user and thumbprint is refused
    // by the import service with the same opaque 400 as any other refusal.
    Reply reply = Refuse(ctx, Intune(ctx, "userPfxCertificate: a record with this id exists"));
    reply.duplicate = true;
    return reply;
  }
  if (Status s = core.Commit({{"op", "putPfx"}, {"record", PfxToJournal(record)}}); !s.ok()) {
    return CommitFailed(ctx, s);
  }
  Reply reply;
  reply.status = 201;
  reply.write_committed = true;
  json out = RenderPfx(record);
  out["@odata.context"] =
      ctx.base_url + "/" + op.version + "/$metadata#" + kResourcePath + "/$entity";
  reply.body = std::move(out);
  return reply;
}

Reply Update(const Operation& op, TenantCore& core, const std::string& id) {
  const RequestContext& ctx = *op.context;
  PfxRecord record;
  {
    std::lock_guard<std::mutex> lock(core.mu);
    auto it = core.state.pfx.find(id);
    if (it == core.state.pfx.end()) return NotFound(op, id);
    record = it->second;
  }
  auto parsed = ParseJsonBody(op, "userPfxCertificate");
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return Refuse(ctx, *refusal);
  PfxInput in;
  if (auto refusal = ParseFields(std::get<json>(parsed), false, &in)) return Refuse(ctx, *refusal);
  if (auto refusal = CheckFields(ctx, in)) return Refuse(ctx, *refusal);
  if ((in.thumbprint && *in.thumbprint != record.thumbprint) ||
      (in.upn && !EqualsIgnoreCaseAscii(*in.upn, record.upn)) ||
      (in.id && !in.id->empty() && *in.id != record.id)) {
    return Refuse(ctx, Intune(ctx, "userPfxCertificate: key fields changed"));
  }
  std::string old_padding = record.padding_scheme;
  if (in.intended_purpose) record.intended_purpose = *in.intended_purpose;
  if (in.provider_name) record.provider_name = *in.provider_name;
  if (in.key_name) record.key_name = *in.key_name;
  if (in.padding_scheme) record.padding_scheme = *in.padding_scheme;
  if (in.start) record.start = *in.start;
  if (in.expiration) record.expiration = *in.expiration;
  if (in.blob || in.sealed_password) {
    if (!in.blob || !in.sealed_password) {
      return Refuse(ctx, Intune(ctx,
                                "userPfxCertificate: blob and password must change "
                                "together"));
    }
    ConnectorFacts facts;
    if (auto refusal =
            CheckWithConnector(ctx, core, record, *in.blob, *in.sealed_password, &facts)) {
      return Refuse(ctx, *refusal);
    }
    record.cert_sha1 = facts.sha1;
    record.cert_not_before = facts.not_before;
    record.cert_not_after = facts.not_after;
  } else {
    // The stored sealed password would no longer decrypt under another padding.
    if (record.padding_scheme != old_padding) return Refuse(ctx, Intune(ctx, kReasonPassword));
    if (record.start != record.cert_not_before || record.expiration != record.cert_not_after) {
      return Refuse(ctx, Intune(ctx, kReasonDates));
    }
  }
  record.modified = ctx.now;
  std::lock_guard<std::mutex> lock(core.mu);
  if (!core.state.pfx.count(id)) return NotFound(op, id);
  record.created = core.state.pfx.at(id).created;
  if (Status s = core.Commit({{"op", "putPfx"}, {"record", PfxToJournal(record)}}); !s.ok()) {
    return CommitFailed(ctx, s);
  }
  Reply reply;
  reply.write_committed = true;
  reply.body = RenderPfx(record);
  return reply;
}

Reply List(const Operation& op, TenantCore& core) {
  const RequestContext& ctx = *op.context;
  if (auto refusal = CheckQueryOptions(op, {"$filter", "$top", "$skiptoken", "$select"})) {
    return FromRefusal(ctx, *refusal);
  }
  std::vector<EqClause> clauses;
  if (auto filter = op.Query("$filter")) {
    auto parsed = ParseEqFilter(*filter);
    std::set<std::string> seen;
    bool ok = parsed.has_value();
    for (const auto& c : parsed.value_or(std::vector<EqClause>{})) {
      ok = ok && (c.property == "userPrincipalName" || c.property == "thumbprint") &&
           seen.insert(c.property).second;
    }
    if (!ok) {
      return FromRefusal(ctx, Refusal{400, "BadRequest",
                                      "Invalid filter clause: only tolower(userPrincipalName) eq "
                                      "'...' [and tolower(thumbprint) eq '...'] is supported.",
                                      "query: unsupported $filter"});
    }
    clauses = std::move(*parsed);
  }
  std::vector<PageItem> items;
  {
    std::lock_guard<std::mutex> lock(core.mu);
    for (const auto& [id, record] : core.state.pfx) {
      bool match = true;
      for (const auto& c : clauses) {
        const std::string& v = c.property == "thumbprint" ? record.thumbprint : record.upn;
        match = match && (c.tolower ? AsciiToLower(v) : v) == c.literal;
      }
      if (match) items.push_back({id, RenderPfx(record)});
    }
  }
  auto page = MakePage(op, std::move(items), core.page_size, kResourcePath);
  if (auto* refusal = std::get_if<Refusal>(&page)) return FromRefusal(ctx, *refusal);
  Reply reply;
  reply.body = std::move(std::get<json>(page));
  return reply;
}

}  // namespace

json RenderPfx(const PfxRecord& r) {
  return json{{"@odata.type", kType},
              {"id", r.id},
              {"thumbprint", r.thumbprint},
              {"intendedPurpose", r.intended_purpose},
              {"userPrincipalName", r.upn},
              {"startDateTime", FormatRfc3339UtcTicks(r.start)},
              {"expirationDateTime", FormatRfc3339UtcTicks(r.expiration)},
              {"providerName", r.provider_name},
              {"keyName", r.key_name},
              {"encryptedPfxBlob", "AA=="},
              {"encryptedPfxPassword", ""},
              {"createdDateTime", FormatRfc3339UtcTicks(r.created)},
              {"lastModifiedDateTime", FormatRfc3339UtcTicks(r.modified)},
              {"paddingScheme", r.padding_scheme}};
}

Reply HandleUserPfxCertificates(const Operation& op, TenantCore& core) {
  // segments: deviceManagement, userPfxCertificates[('id') | (id)], [id]
  auto collection = ParseKeySegment(op.segments[1]);
  if (!collection) return UnknownSegment(op, op.segments[1]);
  std::optional<std::string> id = collection->key;
  size_t next = 2;
  if (!id && op.segments.size() > 2) id = op.segments[next++];
  if (next < op.segments.size()) return UnknownSegment(op, op.segments[next]);
  if (!id) {
    if (op.method == "GET") return List(op, core);
    if (op.method == "POST") return Create(op, core);
    return MethodNotAllowed(op);
  }
  std::string key = AsciiToLower(*id);
  if (op.method == "GET") {
    if (auto refusal = CheckQueryOptions(op, {"$select"})) {
      return FromRefusal(*op.context, *refusal);
    }
    std::lock_guard<std::mutex> lock(core.mu);
    auto it = core.state.pfx.find(key);
    if (it == core.state.pfx.end()) return NotFound(op, *id);
    Reply reply;
    json out = RenderPfx(it->second);
    ApplySelect(op, &out);
    reply.body = std::move(out);
    return reply;
  }
  if (op.method == "PATCH") return Update(op, core, key);
  if (op.method == "DELETE") {
    std::lock_guard<std::mutex> lock(core.mu);
    if (!core.state.pfx.count(key)) return NotFound(op, *id);
    if (Status s = core.Commit({{"op", "deletePfx"}, {"id", key}}); !s.ok()) {
      return CommitFailed(*op.context, s);
    }
    Reply reply;
    reply.status = 204;
    reply.write_committed = true;
    return reply;
  }
  return MethodNotAllowed(op);
}

}  // namespace certdeploy::sandbox::internal
