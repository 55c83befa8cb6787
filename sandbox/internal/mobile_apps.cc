// /{v1.0|beta}/deviceAppManagement/mobileApps: store apps, the targets of app configuration
// policies. iosStoreApp (v1.0 and beta) and androidManagedStoreApp (beta only; invisible under
// /v1.0, where Graph has no such type) can be listed, read, created, updated and deleted:
//   POST   201 + object
//   https://learn.microsoft.com/graph/api/intune-apps-iosstoreapp-create?view=graph-rest-1.0
//                        https://learn.microsoft.com/graph/api/intune-apps-androidmanagedstoreapp-create?view=graph-rest-beta
//   GET    200
//   https://learn.microsoft.com/graph/api/intune-apps-iosstoreapp-get?view=graph-rest-1.0 PATCH 200
//   + object
//   https://learn.microsoft.com/graph/api/intune-apps-iosstoreapp-update?view=graph-rest-1.0 DELETE
//   204 https://learn.microsoft.com/graph/api/intune-apps-iosstoreapp-delete?view=graph-rest-1.0
// App assignments, categories and install statuses are not modelled.

#include <algorithm>
#include <iterator>

#include "base/strings.h"
#include "base/time_format.h"
#include "sandbox/internal/app_schema.h"
#include "sandbox/internal/core.h"

namespace certdeploy::sandbox::internal {
namespace {

constexpr AppFamily kFamily = AppFamily::kMobileApp;
constexpr char kCollection[] = "deviceAppManagement/mobileApps";

Reply NotFound(const Operation& op, const std::string& id) {
  return GraphError(*op.context, 404, "ResourceNotFound",
                    "The mobileApp '" + id + "' was not found.");
}

// The record `id` if it exists and its type exists in the operation's version.
const ConfigRecord* FindVisible(const TenantCore& core, const std::string& id, bool beta) {
  auto it = core.state.apps.find(id);
  if (it == core.state.apps.end()) return nullptr;
  const AppTypeSpec* type = FindAppType(kFamily, it->second.type);
  return type != nullptr && (beta || !type->beta_only) ? &it->second : nullptr;
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
  ConfigRecord record;
  record.id = NewGuid(core.random);
  record.type = type->name;
  record.seq = core.state.next_seq;
  record.created = record.modified = ctx.now;
  record.props = std::move(props);
  if (Status s = core.Commit({{"op", "putApp"}, {"app", ConfigToJournal(record)}}); !s.ok()) {
    return CommitFailed(ctx, s);
  }
  Reply reply;
  reply.status = 201;
  reply.write_committed = true;
  json out = RenderMobileApp(record, beta);
  out["@odata.context"] =
      ctx.base_url + "/" + op.version + "/$metadata#" + kCollection + "/$entity";
  reply.body = std::move(out);
  return reply;
}

// True when every clause is `[tolower(]prop[)] eq '...'` on a string property that `app` has
// and matches. nullopt when a clause names something else: the filter is then ignored, as
// Intune ignores filters it does not support on deviceConfigurations.
std::optional<bool> MatchesEq(const std::vector<EqClause>& clauses, const json& app) {
  static constexpr std::string_view kFilterable[] = {"displayName", "publisher", "bundleId",
                                                     "packageId", "appIdentifier"};
  bool all = true;
  for (const EqClause& c : clauses) {
    if (std::find(std::begin(kFilterable), std::end(kFilterable), c.property) ==
        std::end(kFilterable)) {
      return std::nullopt;
    }
    const json value = app.contains(c.property) ? app[c.property] : json();
    const std::string s = value.is_string() ? value.get<std::string>() : "";
    all = all && value.is_string() && (c.tolower ? AsciiToLower(s) : s) == c.literal;
  }
  return all;
}

Reply List(const Operation& op, TenantCore& core) {
  const RequestContext& ctx = *op.context;
  const bool beta = op.version == "beta";
  if (auto refusal = CheckQueryOptions(op, {"$filter", "$top", "$skiptoken", "$select"})) {
    return FromRefusal(ctx, *refusal);
  }
  std::optional<std::string> type_filter;
  std::optional<std::vector<EqClause>> eq_filter;
  if (auto filter = op.Query("$filter")) {
    type_filter = ParseIsOf(*filter);
    eq_filter = ParseEqFilter(*filter);
  }
  std::vector<PageItem> items;
  {
    std::lock_guard<std::mutex> lock(core.mu);
    for (const auto& [id, record] : core.state.apps) {
      if (FindVisible(core, id, beta) == nullptr) continue;
      if (type_filter && record.type != *type_filter) continue;
      json app = RenderMobileApp(record, beta);
      if (eq_filter && MatchesEq(*eq_filter, app) == std::optional<bool>(false)) continue;
      items.push_back({SeqKey(record.seq), std::move(app)});
    }
  }
  auto page = MakePage(op, std::move(items), core.page_size, kCollection);
  if (auto* refusal = std::get_if<Refusal>(&page)) return FromRefusal(ctx, *refusal);
  Reply reply;
  reply.body = std::move(std::get<json>(page));
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
    return FromRefusal(
        ctx, Refusal{400, "BadRequest", "The @odata.type of a mobileApp cannot be changed.",
                     "mobileApp: type change"});
  }
  ConfigRecord record = *existing;
  for (auto& [key, value] : props.items()) record.props[key] = value;
  record.modified = ctx.now;
  if (Status s = core.Commit({{"op", "putApp"}, {"app", ConfigToJournal(record)}}); !s.ok()) {
    return CommitFailed(ctx, s);
  }
  Reply reply;
  reply.write_committed = true;
  reply.body = RenderMobileApp(core.state.apps.at(id), beta);
  return reply;
}

Reply Get(const Operation& op, TenantCore& core, const std::string& id) {
  if (auto refusal = CheckQueryOptions(op, {"$select"})) {
    return FromRefusal(*op.context, *refusal);
  }
  std::lock_guard<std::mutex> lock(core.mu);
  const ConfigRecord* record = FindVisible(core, id, op.version == "beta");
  if (record == nullptr) return NotFound(op, id);
  json out = RenderMobileApp(*record, op.version == "beta");
  ApplySelect(op, &out);
  Reply reply;
  reply.body = std::move(out);
  return reply;
}

Reply Delete(const Operation& op, TenantCore& core, const std::string& id) {
  std::lock_guard<std::mutex> lock(core.mu);
  if (FindVisible(core, id, op.version == "beta") == nullptr) return NotFound(op, id);
  if (Status s = core.Commit({{"op", "deleteApp"}, {"id", id}}); !s.ok()) {
    return CommitFailed(*op.context, s);
  }
  Reply reply;
  reply.status = 204;
  reply.write_committed = true;
  return reply;
}

}  // namespace

json RenderMobileApp(const ConfigRecord& record, bool beta) {
  json out = json::object();
  if (const AppTypeSpec* type = FindAppType(kFamily, record.type)) {
    out = RenderAppProps(*type, record.props, beta);
  }
  out["@odata.type"] = "#microsoft.graph." + record.type;
  out["id"] = record.id;
  out["createdDateTime"] = FormatRfc3339UtcTicks(record.created);
  out["lastModifiedDateTime"] = FormatRfc3339UtcTicks(record.modified);
  return out;
}

Reply HandleMobileApps(const Operation& op, TenantCore& core) {
  // segments: deviceAppManagement, mobileApps[('id')], [id]
  EntityPath path;
  if (!ParseEntityPath(op, &path)) return UnknownSegment(op, op.segments[1]);
  if (!path.id) {
    if (op.method == "GET") return List(op, core);
    if (op.method == "POST") return Create(op, core);
    return MethodNotAllowed(op);
  }
  if (!path.rest.empty()) {
    return GraphError(*op.context, 400, "BadRequest",
                      "Resource not found for the segment '" + path.rest[0] +
                          "'. (The sandbox does not model mobileApp navigations or actions.)");
  }
  if (op.method == "GET") return Get(op, core, *path.id);
  if (op.method == "PATCH") return Update(op, core, *path.id);
  if (op.method == "DELETE") return Delete(op, core, *path.id);
  return MethodNotAllowed(op);
}

}  // namespace certdeploy::sandbox::internal
