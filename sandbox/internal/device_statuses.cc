// /beta/deviceManagement/deviceConfigurations/{id}/deviceStatuses: the per-device report of a
// profile (deviceConfigurationDeviceStatus), and POST /_sandbox/deviceStatuses, which plays the
// devices that report into it.
//
// Graph (beta) documents the collection at
// https://learn.microsoft.com/graph/api/intune-deviceconfig-deviceconfigurationdevicestatus-list?view=graph-rest-beta
// with the properties of
// https://learn.microsoft.com/graph/api/resources/intune-deviceconfig-deviceconfigurationdevicestatus?view=graph-rest-beta
// and `status` a complianceStatus. The list page documents no optional query parameters; the
// sandbox pages it like its other collections ($top, $skiptoken, $select) and refuses any other
// $-option, $filter included, so a client cannot come to rely on one. Reports are written by
// Intune from what devices say, so the sandbox serves GET only (405 otherwise): the generated
// create/update/delete pages exist, but no client of a real tenant writes reports.

#include <set>

#include "base/strings.h"
#include "sandbox/internal/core.h"

namespace certdeploy::sandbox::internal {
namespace {

constexpr const char* kComplianceStatuses[] = {"unknown", "notApplicable", "compliant",
                                               "remediated", "nonCompliant", "error",
                                               "conflict", "notAssigned"};

Reply NoProfile(const Operation& op, const std::string& id) {
  return GraphError(*op.context, 404, "ResourceNotFound",
                    "The deviceConfiguration '" + id + "' was not found.");
}

Reply GetOne(const Operation& op, TenantCore& core, const std::string& config_id,
             const std::string& status_id) {
  if (auto refusal = CheckQueryOptions(op, {"$select"})) return FromRefusal(*op.context, *refusal);
  std::lock_guard<std::mutex> lock(core.mu);
  auto it = core.state.configs.find(config_id);
  if (it == core.state.configs.end()) return NoProfile(op, config_id);
  for (const json& status : it->second.device_statuses) {
    if (status.value("id", "") != status_id) continue;
    Reply reply;
    json out = status;
    ApplySelect(op, &out);
    reply.body = std::move(out);
    return reply;
  }
  return GraphError(*op.context, 404, "ResourceNotFound",
                    "The deviceConfigurationDeviceStatus '" + status_id + "' was not found.");
}

std::optional<std::string> SeedError(const json& body) {
  static const std::set<std::string> kKnown = {
      "configurationId", "userPrincipalName", "deviceDisplayName", "status",
      "lastReportedDateTime", "deviceModel", "platform", "userName"};
  for (const auto& [key, value] : body.items()) {
    if (!kKnown.count(key)) return "unknown property '" + key + "'";
  }
  for (const char* key : {"configurationId", "userPrincipalName", "deviceDisplayName", "status"}) {
    if (!body.contains(key) || !body[key].is_string() || body[key].get<std::string>().empty()) {
      return std::string("'") + key + "' must be a non-empty string";
    }
  }
  bool member = false;
  for (const char* s : kComplianceStatuses) member = member || body["status"] == s;
  if (!member) return "'status' must be a complianceStatus member";
  for (const char* key : {"deviceModel", "userName", "lastReportedDateTime"}) {
    if (body.contains(key) && !body[key].is_string()) {
      return std::string("'") + key + "' must be a string";
    }
  }
  if (body.contains("platform") && !body["platform"].is_number_integer()) {
    return "'platform' must be an integer (Int32)";
  }
  if (body.contains("lastReportedDateTime") &&
      !ParseRfc3339(body["lastReportedDateTime"].get<std::string>(), kGraphDateTimeOptions).ok()) {
    return "'lastReportedDateTime' must be an RFC 3339 date-time with an offset";
  }
  return std::nullopt;
}

}  // namespace

Reply HandleDeviceStatuses(const Operation& op, TenantCore& core, const std::string& config_id,
                           const std::vector<std::string>& rest) {
  // rest: "deviceStatuses"[, statusId]
  if (op.method != "GET") return MethodNotAllowed(op);
  if (rest.size() == 1) {
    return ListProfileMembers(op, core, config_id, &ConfigRecord::device_statuses,
                              "deviceStatuses");
  }
  if (rest.size() == 2) return GetOne(op, core, config_id, rest[1]);
  return UnknownSegment(op, rest[2]);
}

Reply SeedDeviceStatus(const std::string& raw_body, const RequestContext& ctx, TenantCore& core) {
  json body = json::parse(raw_body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return GraphError(ctx, 400, "BadRequest", "POST /_sandbox/deviceStatuses takes a JSON object.");
  }
  if (std::optional<std::string> error = SeedError(body)) {
    return GraphError(ctx, 400, "BadRequest", "deviceStatuses seed: " + *error);
  }
  std::optional<DirectoryUser> user =
      core.directory().FindByUpn(body["userPrincipalName"].get<std::string>());
  if (!user) {
    return GraphError(ctx, 400, "BadRequest", "deviceStatuses seed: no such user in the directory");
  }
  const std::string config_id = body["configurationId"];
  const std::string device = body["deviceDisplayName"];
  SystemTime reported = ctx.now;
  if (body.contains("lastReportedDateTime")) {
    reported = *ParseRfc3339(body["lastReportedDateTime"].get<std::string>(), kGraphDateTimeOptions);
  }
  std::lock_guard<std::mutex> lock(core.mu);
  auto it = core.state.configs.find(config_id);
  if (it == core.state.configs.end()) {
    return GraphError(ctx, 404, "ResourceNotFound",
                      "The deviceConfiguration '" + config_id + "' was not found.");
  }
  // One entry per (user, device) in a profile: a second report replaces the first, keeping its id.
  std::string id = NewGuid(core.random);
  for (const json& existing : it->second.device_statuses) {
    if (EqualsIgnoreCaseAscii(existing.value("userPrincipalName", ""), user->upn) &&
        existing.value("deviceDisplayName", "") == device) {
      id = existing.value("id", id);
    }
  }
  json status = {{"@odata.type", "#microsoft.graph.deviceConfigurationDeviceStatus"},
                 {"id", id},
                 {"deviceDisplayName", device},
                 {"userName", body.value("userName", user->display_name)},
                 {"deviceModel", body.value("deviceModel", "")},
                 {"platform", body.value("platform", 0)},
                 {"complianceGracePeriodExpirationDateTime", "0001-01-01T00:00:00Z"},
                 {"status", body["status"]},
                 {"lastReportedDateTime", FormatRfc3339UtcTicks(reported)},
                 {"userPrincipalName", user->upn}};
  if (Status s = core.Commit({{"op", "putDeviceStatus"}, {"id", config_id}, {"status", status}});
      !s.ok()) {
    return CommitFailed(ctx, s);
  }
  Reply reply;
  reply.status = 201;
  reply.body = std::move(status);
  return reply;
}

}  // namespace certdeploy::sandbox::internal
