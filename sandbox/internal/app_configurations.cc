// /{v1.0|beta}/deviceAppManagement/mobileAppConfigurations: app configuration policies for
// managed devices (iosMobileAppConfiguration; androidManagedStoreAppConfiguration in beta only),
// their /assign action and /assignments.
//   POST   201 + object
//   https://learn.microsoft.com/graph/api/intune-apps-iosmobileappconfiguration-create?view=graph-rest-1.0
//                        https://learn.microsoft.com/graph/api/intune-apps-androidmanagedstoreappconfiguration-create?view=graph-rest-beta
//   GET    200
//   https://learn.microsoft.com/graph/api/intune-apps-iosmobileappconfiguration-get?view=graph-rest-1.0
//   PATCH  200 + object
//   https://learn.microsoft.com/graph/api/intune-apps-iosmobileappconfiguration-update?view=graph-rest-1.0
//   DELETE 204
//   https://learn.microsoft.com/graph/api/intune-apps-iosmobileappconfiguration-delete?view=graph-rest-1.0
//   POST .../{id}/microsoft.graph.managedDeviceMobileAppConfiguration/assign 204
//                        https://learn.microsoft.com/graph/api/intune-apps-manageddevicemobileappconfiguration-assign?view=graph-rest-1.0
//        The page documents the short form .../{id}/assign, but the service answers it with 400
//        "No method match route template" and Microsoft's support gives the cast form as the
//        way (microsoftgraph/msgraph-sdk-powershell#2985, microsoft-graph-docs#15359 and #20609):
//        the sandbox answers the short form as the service does.
//   GET .../{id}/assignments[/{assignmentId}]
//                        https://learn.microsoft.com/graph/api/intune-apps-manageddevicemobileappconfigurationassignment-list?view=graph-rest-1.0
// Every id in targetedMobileApps must name an existing mobileApp of the policy's platform (an
// iOS policy targets iOS apps, an Android Enterprise one managed Google Play apps): Intune
// refuses a policy for an app it does not have.

#include <set>

#include "base/strings.h"
#include "base/time_format.h"
#include "sandbox/internal/app_schema.h"
#include "sandbox/internal/assignment_target.h"
#include "sandbox/internal/core.h"

namespace certdeploy::sandbox::internal {
namespace {

constexpr AppFamily kFamily = AppFamily::kAppConfiguration;
constexpr char kCollection[] = "deviceAppManagement/mobileAppConfigurations";
constexpr char kBaseCast[] = "microsoft.graph.managedDeviceMobileAppConfiguration";
constexpr char kAssignmentType[] = "managedDeviceMobileAppConfigurationAssignment";

Refusal Invalid(const std::string& reason, const std::string& message) {
  return Refusal{400, "BadRequest", message, "mobileAppConfiguration: " + reason};
}

Reply NotFound(const Operation& op, const std::string& id) {
  return GraphError(*op.context, 404, "ResourceNotFound",
                    "The managedDeviceMobileAppConfiguration '" + id + "' was not found.");
}

// The record `id` if it exists and its type exists in `beta` or v1.0. REQUIRES core.mu.
ConfigRecord* FindVisible(TenantCore& core, const std::string& id, bool beta) {
  auto it = core.state.app_configs.find(id);
  if (it == core.state.app_configs.end()) return nullptr;
  const AppTypeSpec* type = FindAppType(kFamily, it->second.type);
  return type != nullptr && (beta || !type->beta_only) ? &it->second : nullptr;
}

// Every targetedMobileApps id must be a mobileApp of `type`'s platform. REQUIRES core.mu.
std::optional<Refusal> CheckTargetedApps(const TenantCore& core, const json& props,
                                         const AppTypeSpec& type) {
  if (!props.contains("targetedMobileApps")) return std::nullopt;
  for (const auto& id_value : props["targetedMobileApps"]) {
    const std::string id = id_value.get<std::string>();
    auto app = core.state.apps.find(id);
    const AppTypeSpec* app_type = app == core.state.apps.end()
                                      ? nullptr
                                      : FindAppType(AppFamily::kMobileApp, app->second.type);
    if (app_type == nullptr) {
      return Invalid("targeted app not found",
                     "The mobileApp '" + id + "' in targetedMobileApps does not exist.");
    }
    if (app_type->platform != type.platform) {
      return Invalid("targeted app of another platform",
                     "A microsoft.graph." + std::string(type.name) +
                         " cannot target the microsoft.graph." + std::string(app_type->name) +
                         " '" + id + "'.");
    }
  }
  return std::nullopt;
}

// Validates one managedDeviceMobileAppConfigurationAssignment; returns its stored form.
// https://learn.microsoft.com/graph/api/resources/intune-apps-manageddevicemobileappconfigurationassignment?view=graph-rest-1.0
std::variant<json, Refusal> ValidateAssignment(const json& in, const std::string& config_id) {
  if (!in.is_object()) return Invalid("invalid assignment", "An assignment must be an object.");
  for (const auto& [key, value] : in.items()) {
    if (key == "@odata.type") {
      if (!IsGraphType(value, kAssignmentType, /*hash_optional=*/true)) {
        return Invalid("invalid assignment", "Unexpected assignment type " + value.dump() + ".");
      }
    } else if (key == "id") {
      if (!value.is_string() && !value.is_null()) {
        return Invalid("invalid assignment", "'id' must be a string.");
      }
    } else if (key != "target") {
      return Invalid("unknown property", "The property '" + key +
                                             "' does not exist on type 'microsoft.graph." +
                                             kAssignmentType + "'.");
    }
  }
  if (!in.contains("target") || !in["target"].is_object()) {
    return Invalid("invalid assignment", "An assignment requires a 'target' object.");
  }
  // The documented example sends "microsoft.graph.allLicensedUsersAssignmentTarget" (no '#').
  auto target = ValidateAssignmentTarget(in["target"], "mobileAppConfiguration",
                                         /*hash_optional=*/true);
  if (auto* refusal = std::get_if<Refusal>(&target)) return *refusal;
  auto& [target_json, target_id] = std::get<ValidTarget>(target);
  return json{{"@odata.type", "#microsoft.graph." + std::string(kAssignmentType)},
              {"id", config_id + "_" + target_id},
              {"target", std::move(target_json)}};
}

Reply Create(const Operation& op, TenantCore& core) {
  const RequestContext& ctx = *op.context;
  const bool beta = op.version == "beta";
  const AppTypeSpec* type = nullptr;
  json props;
  if (auto refusal = ParseAppRequest(op, kFamily, /*create=*/true, &type, &props)) {
    return FromRefusal(ctx, *refusal);
  }
  std::lock_guard<std::mutex> lock(core.mu);
  if (auto refusal = CheckTargetedApps(core, props, *type)) return FromRefusal(ctx, *refusal);
  ConfigRecord record;
  record.id = NewGuid(core.random);
  record.type = type->name;
  record.seq = core.state.next_seq;
  record.created = record.modified = ctx.now;
  record.props = std::move(props);
  if (Status s = core.Commit({{"op", "putAppConfig"}, {"config", ConfigToJournal(record)}});
      !s.ok()) {
    return CommitFailed(ctx, s);
  }
  Reply reply;
  reply.status = 201;
  reply.write_committed = true;
  json out = RenderAppConfiguration(record, beta, false);
  out["@odata.context"] =
      ctx.base_url + "/" + op.version + "/$metadata#" + kCollection + "/$entity";
  reply.body = std::move(out);
  return reply;
}

// $expand=assignments or nothing; anything else is refused.
std::optional<Refusal> ParseExpand(const Operation& op, bool* expand) {
  *expand = false;
  auto e = op.Query("$expand");
  if (!e) return std::nullopt;
  if (*e != "assignments") {
    return Refusal{400, "BadRequest", "Only $expand=assignments is supported.",
                   "query: invalid option"};
  }
  *expand = true;
  return std::nullopt;
}

Reply List(const Operation& op, TenantCore& core) {
  const RequestContext& ctx = *op.context;
  const bool beta = op.version == "beta";
  if (auto refusal =
          CheckQueryOptions(op, {"$filter", "$top", "$skiptoken", "$select", "$expand"})) {
    return FromRefusal(ctx, *refusal);
  }
  bool expand = false;
  if (auto refusal = ParseExpand(op, &expand)) return FromRefusal(ctx, *refusal);
  // As for deviceConfigurations: isof() and displayName eq are applied, other filters ignored.
  const TypeAndNameFilter filter = ParseTypeAndNameFilter(op.Query("$filter"));
  std::vector<PageItem> items;
  {
    std::lock_guard<std::mutex> lock(core.mu);
    for (const auto& [id, record] : core.state.app_configs) {
      if (FindVisible(core, id, beta) == nullptr) continue;
      auto name = record.props.find("displayName");
      const bool named = name != record.props.end() && name->is_string();
      if (!filter.Matches(record.type, named ? name->get<std::string>() : "")) continue;
      items.push_back({SeqKey(record.seq), RenderAppConfiguration(record, beta, expand)});
    }
  }
  auto page = MakePage(op, std::move(items), core.page_size, kCollection);
  if (auto* refusal = std::get_if<Refusal>(&page)) return FromRefusal(ctx, *refusal);
  Reply reply;
  reply.body = std::move(std::get<json>(page));
  return reply;
}

Reply Get(const Operation& op, TenantCore& core, const std::string& id) {
  const RequestContext& ctx = *op.context;
  if (auto refusal = CheckQueryOptions(op, {"$select", "$expand"})) {
    return FromRefusal(ctx, *refusal);
  }
  bool expand = false;
  if (auto refusal = ParseExpand(op, &expand)) return FromRefusal(ctx, *refusal);
  std::lock_guard<std::mutex> lock(core.mu);
  const ConfigRecord* record = FindVisible(core, id, op.version == "beta");
  if (record == nullptr) return NotFound(op, id);
  json out = RenderAppConfiguration(*record, op.version == "beta", expand);
  ApplySelect(op, &out);
  Reply reply;
  reply.body = std::move(out);
  return reply;
}

Reply Update(const Operation& op, TenantCore& core, const std::string& id) {
  const RequestContext& ctx = *op.context;
  const bool beta = op.version == "beta";
  const AppTypeSpec* type = nullptr;
  json props;
  if (auto refusal = ParseAppRequest(op, kFamily, /*create=*/false, &type, &props)) {
    return FromRefusal(ctx, *refusal);
  }
  std::lock_guard<std::mutex> lock(core.mu);
  const ConfigRecord* existing = FindVisible(core, id, beta);
  if (existing == nullptr) return NotFound(op, id);
  if (type != nullptr && type->name != existing->type) {
    return FromRefusal(ctx, Invalid("type change",
                                    "The @odata.type of a managedDeviceMobileAppConfiguration "
                                    "cannot be changed."));
  }
  if (auto refusal = CheckTargetedApps(core, props, *FindAppType(kFamily, existing->type))) {
    return FromRefusal(ctx, *refusal);
  }
  ConfigRecord record = *existing;
  // A PATCH replaces each property it names; a collection (settings) is replaced whole.
  for (auto& [key, value] : props.items()) record.props[key] = value;
  record.version += 1;
  record.modified = ctx.now;
  if (Status s = core.Commit({{"op", "putAppConfig"}, {"config", ConfigToJournal(record)}});
      !s.ok()) {
    return CommitFailed(ctx, s);
  }
  Reply reply;
  reply.write_committed = true;
  reply.body = RenderAppConfiguration(core.state.app_configs.at(id), beta, false);
  return reply;
}

Reply Delete(const Operation& op, TenantCore& core, const std::string& id) {
  std::lock_guard<std::mutex> lock(core.mu);
  if (FindVisible(core, id, op.version == "beta") == nullptr) return NotFound(op, id);
  if (Status s = core.Commit({{"op", "deleteAppConfig"}, {"id", id}}); !s.ok()) {
    return CommitFailed(*op.context, s);
  }
  Reply reply;
  reply.status = 204;
  reply.write_committed = true;
  return reply;
}

Reply Assign(const Operation& op, TenantCore& core, const std::string& id) {
  const RequestContext& ctx = *op.context;
  auto parsed = ParseJsonBody(op, "mobileAppConfiguration");
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return FromRefusal(ctx, *refusal);
  const json& body = std::get<json>(parsed);
  for (const auto& [key, value] : body.items()) {
    if (key != "assignments") {
      return FromRefusal(ctx, Invalid("unknown property", "The parameter '" + key +
                                                              "' is not in scope for action "
                                                              "'assign'."));
    }
  }
  if (!body.contains("assignments") || !body["assignments"].is_array()) {
    return FromRefusal(ctx,
                       Invalid("missing property", "The 'assignments' parameter is required."));
  }
  std::lock_guard<std::mutex> lock(core.mu);
  if (FindVisible(core, id, op.version == "beta") == nullptr) return NotFound(op, id);
  json assignments = json::array();
  std::set<std::string> ids;
  for (const auto& item : body["assignments"]) {
    auto valid = ValidateAssignment(item, id);
    if (auto* refusal = std::get_if<Refusal>(&valid)) return FromRefusal(ctx, *refusal);
    json& a = std::get<json>(valid);
    if (!ids.insert(a["id"].get<std::string>()).second) {
      return FromRefusal(ctx, Invalid("duplicate assignment target",
                                      "The same target appears twice in 'assignments'."));
    }
    assignments.push_back(std::move(a));
  }
  if (Status s = core.Commit(
          {{"op", "setAppConfigAssignments"}, {"id", id}, {"assignments", assignments}});
      !s.ok()) {
    return CommitFailed(ctx, s);
  }
  Reply reply;
  reply.status = 204;  // The documented answer: no content, unlike deviceConfiguration /assign.
  reply.write_committed = true;
  return reply;
}

// GET .../{id}/assignments (paged) and .../{id}/assignments/{assignmentId}.
Reply GetAssignments(const Operation& op, TenantCore& core, const std::string& id,
                     const std::optional<std::string>& assignment_id) {
  const RequestContext& ctx = *op.context;
  if (auto refusal = CheckQueryOptions(
          op, assignment_id
                  ? std::initializer_list<std::string_view>{"$select"}
                  : std::initializer_list<std::string_view>{"$top", "$skiptoken", "$select"})) {
    return FromRefusal(ctx, *refusal);
  }
  std::vector<PageItem> items;
  {
    std::lock_guard<std::mutex> lock(core.mu);
    const ConfigRecord* record = FindVisible(core, id, op.version == "beta");
    if (record == nullptr) return NotFound(op, id);
    uint64_t n = 0;
    for (const auto& a : record->assignments) {
      if (assignment_id && a.value("id", "") == *assignment_id) {
        Reply reply;
        json out = a;
        ApplySelect(op, &out);
        reply.body = std::move(out);
        return reply;
      }
      items.push_back({SeqKey(n++), a});
    }
  }
  if (assignment_id) {
    return GraphError(ctx, 404, "ResourceNotFound",
                      "The managedDeviceMobileAppConfigurationAssignment '" + *assignment_id +
                          "' was not found.");
  }
  auto page = MakePage(op, std::move(items), core.page_size,
                       std::string(kCollection) + "('" + id + "')/assignments");
  if (auto* refusal = std::get_if<Refusal>(&page)) return FromRefusal(ctx, *refusal);
  Reply reply;
  reply.body = std::move(std::get<json>(page));
  return reply;
}

}  // namespace

json RenderAppConfiguration(const ConfigRecord& record, bool beta, bool with_assignments) {
  json out = json::object();
  if (const AppTypeSpec* type = FindAppType(kFamily, record.type)) {
    out = RenderAppProps(*type, record.props, beta);
  }
  out["@odata.type"] = "#microsoft.graph." + record.type;
  out["id"] = record.id;
  out["createdDateTime"] = FormatRfc3339UtcTicks(record.created);
  out["lastModifiedDateTime"] = FormatRfc3339UtcTicks(record.modified);
  out["version"] = record.version;
  if (with_assignments) out["assignments"] = record.assignments;
  return out;
}

Reply HandleMobileAppConfigurations(const Operation& op, TenantCore& core) {
  // segments: deviceAppManagement, mobileAppConfigurations[('id')], [id],
  //           [assign | microsoft.graph.managedDeviceMobileAppConfiguration/assign |
  //            assignments[/{assignmentId}]]
  EntityPath path;
  if (!ParseEntityPath(op, &path)) return UnknownSegment(op, op.segments[1]);
  if (!path.id) {
    if (op.method == "GET") return List(op, core);
    if (op.method == "POST") return Create(op, core);
    return MethodNotAllowed(op);
  }
  const std::string& id = *path.id;
  std::vector<std::string>& rest = path.rest;
  if (rest.empty()) {
    if (op.method == "GET") return Get(op, core, id);
    if (op.method == "PATCH") return Update(op, core, id);
    if (op.method == "DELETE") return Delete(op, core, id);
    return MethodNotAllowed(op);
  }
  if (rest.size() == 2 && rest[0] == kBaseCast && rest[1] == "assign") {
    return op.method == "POST" ? Assign(op, core, id) : MethodNotAllowed(op);
  }
  if (rest.size() == 1 && rest[0] == "assign" && op.method == "POST") {
    return FromRefusal(*op.context,
                       Refusal{400, "BadRequest",
                               "No method match route template: POST "
                               "deviceAppManagement/mobileAppConfigurations/{key}/assign",
                               "mobileAppConfiguration: assign without the type cast"});
  }
  if (rest[0] == "assignments" && rest.size() <= 2) {
    if (op.method != "GET") return MethodNotAllowed(op);
    return GetAssignments(op, core, id,
                          rest.size() == 2 ? std::optional<std::string>(rest[1]) : std::nullopt);
  }
  return UnknownSegment(op, rest[0]);
}

}  // namespace certdeploy::sandbox::internal
