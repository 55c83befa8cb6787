// /beta/deviceManagement/deviceConfigurations: trusted root and imported-PFX profiles, /assign
// and /assignments.

#include <set>

#include "base/strings.h"
#include "base/time_format.h"
#include "sandbox/internal/assignment_target.h"
#include "sandbox/internal/config_schema.h"
#include "sandbox/internal/core.h"

namespace certdeploy::sandbox::internal {
namespace {

constexpr char kTypePrefix[] = "#microsoft.graph.";

Refusal Invalid(const std::string& reason, const std::string& message) {
  return Refusal{400, "BadRequest", message, "deviceConfiguration: " + reason};
}

Reply NotFound(const Operation& op, const std::string& id) {
  return GraphError(*op.context, 404, "ResourceNotFound",
                    "The deviceConfiguration '" + id + "' was not found.");
}

// Resolves "@odata.type" of a body. nullptr type with no refusal means "absent".
std::optional<Refusal> ResolveType(const json& body, bool required, const TypeSpec** type) {
  *type = nullptr;
  auto it = body.find("@odata.type");
  if (it == body.end()) {
    if (required) {
      return Invalid("missing @odata.type",
                     "A deviceConfiguration must be created with an '@odata.type' naming a "
                     "concrete type.");
    }
    return std::nullopt;
  }
  std::string name = it->is_string() ? it->get<std::string>() : "";
  if (name.rfind(kTypePrefix, 0) != 0 ||
      (*type = FindConfigType(name.substr(sizeof(kTypePrefix) - 1))) == nullptr) {
    return Invalid("unsupported @odata.type",
                   "The type '" + name + "' is not a supported deviceConfiguration type.");
  }
  return std::nullopt;
}

// Validates one deviceConfigurationAssignment and returns its stored form.
std::variant<json, Refusal> ValidateAssignment(const json& in, const std::string& config_id) {
  if (!in.is_object()) return Invalid("invalid assignment", "An assignment must be an object.");
  std::string intent = "apply";
  for (const auto& [key, value] : in.items()) {
    if (key == "@odata.type") {
      if (value != "#microsoft.graph.deviceConfigurationAssignment") {
        return Invalid("invalid assignment", "Unexpected assignment type " + value.dump() + ".");
      }
    } else if (key == "intent") {
      if (value != "apply" && value != "remove") {
        return Invalid("invalid assignment", "Invalid intent " + value.dump() + ".");
      }
      intent = value;
    } else if (key == "source") {
      if (value != "direct" && value != "policySets") {
        return Invalid("invalid assignment", "Invalid source " + value.dump() + ".");
      }
    } else if (key == "id" || key == "sourceId") {
      if (!value.is_string() && !value.is_null()) {
        return Invalid("invalid assignment", "'" + key + "' must be a string.");
      }
    } else if (key != "target") {
      return Invalid("unknown property", "The property '" + key +
                                             "' does not exist on type "
                                             "'microsoft.graph.deviceConfigurationAssignment'.");
    }
  }
  if (!in.contains("target") || !in["target"].is_object()) {
    return Invalid("invalid assignment", "An assignment requires a 'target' object.");
  }
  auto target = ValidateAssignmentTarget(in["target"], "deviceConfiguration",
                                         /*hash_optional=*/false);
  if (auto* refusal = std::get_if<Refusal>(&target)) return *refusal;
  auto& [target_json, target_id] = std::get<ValidTarget>(target);
  return json{{"@odata.type", "#microsoft.graph.deviceConfigurationAssignment"},
              {"id", config_id + "_" + target_id},
              {"intent", intent},
              {"source", "direct"},
              {"sourceId", config_id},
              {"target", std::move(target_json)}};
}

Reply Create(const Operation& op, TenantCore& core) {
  const RequestContext& ctx = *op.context;
  auto parsed = ParseJsonBody(op, "deviceConfiguration");
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return FromRefusal(ctx, *refusal);
  const json& body = std::get<json>(parsed);
  const TypeSpec* type = nullptr;
  if (auto refusal = ResolveType(body, true, &type)) return FromRefusal(ctx, *refusal);
  std::lock_guard<std::mutex> lock(core.mu);
  ValidatedConfig valid;
  auto exists = [&](const std::string& id) { return core.state.configs.count(id) > 0; };
  if (auto refusal = ValidateConfigBody(body, type, true, exists, &valid)) {
    return FromRefusal(ctx, *refusal);
  }
  ConfigRecord record;
  record.id = NewGuid(core.random);
  record.type = type->name;
  record.seq = core.state.next_seq;
  record.created = record.modified = ctx.now;
  record.props = std::move(valid.props);
  record.root_sha1 = valid.root_sha1;
  Reply reply;
  for (const auto& [id, other] : core.state.configs) {
    if (!record.root_sha1.empty() && other.type == record.type &&
        other.root_sha1 == record.root_sha1) {
      reply.duplicate = true;  // Graph accepts it; the statistics flag the waste.
    }
  }
  if (Status s = core.Commit({{"op", "putConfig"}, {"config", ConfigToJournal(record)}}); !s.ok()) {
    return CommitFailed(ctx, s);
  }
  reply.status = 201;
  reply.write_committed = true;
  json out = RenderConfig(record, false);
  out["@odata.context"] =
      ctx.base_url + "/" + op.version + "/$metadata#deviceManagement/deviceConfigurations/$entity";
  reply.body = std::move(out);
  return reply;
}

Reply List(const Operation& op, TenantCore& core) {
  const RequestContext& ctx = *op.context;
  if (auto refusal =
          CheckQueryOptions(op, {"$filter", "$top", "$skiptoken", "$select", "$expand"})) {
    return FromRefusal(ctx, *refusal);
  }
  bool expand = false;
  if (auto e = op.Query("$expand")) {
    if (*e != "assignments") {
      return GraphError(ctx, 400, "BadRequest", "Only $expand=assignments is supported.");
    }
    expand = true;
  }
  // Supported filters are applied; like Intune, any other filter is silently ignored.
  const TypeAndNameFilter filter = ParseTypeAndNameFilter(op.Query("$filter"));
  std::vector<PageItem> items;
  {
    std::lock_guard<std::mutex> lock(core.mu);
    for (const auto& [id, record] : core.state.configs) {
      if (!filter.Matches(record.type, record.props.value("displayName", ""))) continue;
      items.push_back({SeqKey(record.seq), RenderConfig(record, expand)});
    }
  }
  auto page =
      MakePage(op, std::move(items), core.page_size, "deviceManagement/deviceConfigurations");
  if (auto* refusal = std::get_if<Refusal>(&page)) return FromRefusal(ctx, *refusal);
  Reply reply;
  reply.body = std::move(std::get<json>(page));
  return reply;
}

Reply Update(const Operation& op, TenantCore& core, const std::string& id) {
  const RequestContext& ctx = *op.context;
  auto parsed = ParseJsonBody(op, "deviceConfiguration");
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return FromRefusal(ctx, *refusal);
  const json& body = std::get<json>(parsed);
  const TypeSpec* type = nullptr;
  if (auto refusal = ResolveType(body, false, &type)) return FromRefusal(ctx, *refusal);
  std::lock_guard<std::mutex> lock(core.mu);
  auto it = core.state.configs.find(id);
  if (it == core.state.configs.end()) return NotFound(op, id);
  if (type != nullptr && type->name != it->second.type) {
    return FromRefusal(ctx, Invalid("type change",
                                    "The @odata.type of a deviceConfiguration "
                                    "cannot be changed."));
  }
  ValidatedConfig valid;
  auto exists = [&](const std::string& other) { return core.state.configs.count(other) > 0; };
  if (auto refusal = ValidateConfigBody(body, type, false, exists, &valid)) {
    return FromRefusal(ctx, *refusal);
  }
  ConfigRecord record = it->second;
  for (auto& [key, value] : valid.props.items()) record.props[key] = value;
  if (!valid.root_sha1.empty()) record.root_sha1 = valid.root_sha1;
  record.version += 1;
  record.modified = ctx.now;
  if (Status s = core.Commit({{"op", "putConfig"}, {"config", ConfigToJournal(record)}}); !s.ok()) {
    return CommitFailed(ctx, s);
  }
  Reply reply;
  reply.write_committed = true;
  reply.body = RenderConfig(core.state.configs.at(id), false);
  return reply;
}

Reply Assign(const Operation& op, TenantCore& core, const std::string& id) {
  const RequestContext& ctx = *op.context;
  auto parsed = ParseJsonBody(op, "deviceConfiguration");
  if (auto* refusal = std::get_if<Refusal>(&parsed)) return FromRefusal(ctx, *refusal);
  const json& body = std::get<json>(parsed);
  for (const auto& [key, value] : body.items()) {
    if (key != "assignments" && key != "deviceConfigurationGroupAssignments") {
      return FromRefusal(ctx, Invalid("unknown property", "The parameter '" + key +
                                                              "' is not in scope for action "
                                                              "'assign'."));
    }
  }
  if (!body.contains("assignments") || !body["assignments"].is_array()) {
    return FromRefusal(ctx, Invalid("missing property",
                                    "The 'assignments' parameter is "
                                    "required."));
  }
  std::lock_guard<std::mutex> lock(core.mu);
  if (!core.state.configs.count(id)) return NotFound(op, id);
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
  if (Status s = core.Commit({{"op", "setAssignments"}, {"id", id}, {"assignments", assignments}});
      !s.ok()) {
    return CommitFailed(ctx, s);
  }
  Reply reply;
  reply.write_committed = true;
  reply.body = json{{"@odata.context", ctx.base_url + "/" + op.version +
                                           "/$metadata#Collection(microsoft.graph."
                                           "deviceConfigurationAssignment)"},
                    {"value", assignments}};
  return reply;
}

}  // namespace

Reply ListProfileMembers(const Operation& op, TenantCore& core, const std::string& id,
                         json ConfigRecord::*member, const std::string& segment) {
  const RequestContext& ctx = *op.context;
  if (auto refusal = CheckQueryOptions(op, {"$top", "$skiptoken", "$select"})) {
    return FromRefusal(ctx, *refusal);
  }
  std::vector<PageItem> items;
  {
    std::lock_guard<std::mutex> lock(core.mu);
    auto it = core.state.configs.find(id);
    if (it == core.state.configs.end()) return NotFound(op, id);
    uint64_t n = 0;
    for (const auto& a : it->second.*member) items.push_back({SeqKey(n++), a});
  }
  auto page = MakePage(op, std::move(items), core.page_size,
                       "deviceManagement/deviceConfigurations('" + id + "')/" + segment);
  if (auto* refusal = std::get_if<Refusal>(&page)) return FromRefusal(ctx, *refusal);
  Reply reply;
  reply.body = std::move(std::get<json>(page));
  return reply;
}

json RenderConfig(const ConfigRecord& record, bool with_assignments) {
  const json& p = record.props;
  auto prop = [&](const char* name, json fallback) {
    return p.contains(name) ? p[name] : std::move(fallback);
  };
  json out = {{"@odata.type", kTypePrefix + record.type},
              {"id", record.id},
              {"lastModifiedDateTime", FormatRfc3339UtcTicks(record.modified)},
              {"roleScopeTagIds", prop("roleScopeTagIds", json::array({"0"}))},
              {"supportsScopeTags", true},
              {"deviceManagementApplicabilityRuleOsEdition",
               prop("deviceManagementApplicabilityRuleOsEdition", nullptr)},
              {"deviceManagementApplicabilityRuleOsVersion",
               prop("deviceManagementApplicabilityRuleOsVersion", nullptr)},
              {"deviceManagementApplicabilityRuleDeviceMode",
               prop("deviceManagementApplicabilityRuleDeviceMode", nullptr)},
              {"createdDateTime", FormatRfc3339UtcTicks(record.created)},
              {"description", prop("description", nullptr)},
              {"displayName", prop("displayName", "")},
              {"version", record.version}};
  if (const TypeSpec* type = FindConfigType(record.type)) {
    json own = RenderConfigProps(*type, p);
    for (auto& [key, value] : own.items()) out[key] = value;
  }
  if (with_assignments) out["assignments"] = record.assignments;
  return out;
}

Reply HandleDeviceConfigurations(const Operation& op, TenantCore& core) {
  // segments: deviceManagement, deviceConfigurations[('id')], [id], [assign|assignments]
  auto collection = ParseKeySegment(op.segments[1]);
  if (!collection) return UnknownSegment(op, op.segments[1]);
  std::vector<std::string> rest(op.segments.begin() + 2, op.segments.end());
  std::optional<std::string> id = collection->key;
  if (!id && !rest.empty()) {
    id = rest.front();
    rest.erase(rest.begin());
  }
  if (!id) {
    if (op.method == "GET") return List(op, core);
    if (op.method == "POST") return Create(op, core);
    return MethodNotAllowed(op);
  }
  if (rest.empty()) {
    if (op.method == "GET") {
      if (auto refusal = CheckQueryOptions(op, {"$select", "$expand"})) {
        return FromRefusal(*op.context, *refusal);
      }
      bool expand = op.Query("$expand") == std::optional<std::string>("assignments");
      std::lock_guard<std::mutex> lock(core.mu);
      auto it = core.state.configs.find(*id);
      if (it == core.state.configs.end()) return NotFound(op, *id);
      Reply reply;
      json out = RenderConfig(it->second, expand);
      ApplySelect(op, &out);
      reply.body = std::move(out);
      return reply;
    }
    if (op.method == "PATCH") return Update(op, core, *id);
    if (op.method == "DELETE") {
      std::lock_guard<std::mutex> lock(core.mu);
      if (!core.state.configs.count(*id)) return NotFound(op, *id);
      if (Status s = core.Commit({{"op", "deleteConfig"}, {"id", *id}}); !s.ok()) {
        return CommitFailed(*op.context, s);
      }
      Reply reply;
      reply.status = 204;
      reply.write_committed = true;
      return reply;
    }
    return MethodNotAllowed(op);
  }
  if (rest.size() == 1 && rest[0] == "assign") {
    return op.method == "POST" ? Assign(op, core, *id) : MethodNotAllowed(op);
  }
  if (rest[0] == "deviceStatuses") return HandleDeviceStatuses(op, core, *id, rest);
  if (rest.size() == 1 && rest[0] == "assignments") {
    return op.method == "GET"
               ? ListProfileMembers(op, core, *id, &ConfigRecord::assignments, "assignments")
               : MethodNotAllowed(op);
  }
  return UnknownSegment(op, rest[0]);
}

}  // namespace certdeploy::sandbox::internal
