// /groups: the directory's groups, read-only, found by id or by displayName.
//
// "List groups" (https://learn.microsoft.com/graph/api/group-list?view=graph-rest-1.0) and the
// group resource (https://learn.microsoft.com/graph/api/resources/group?view=graph-rest-1.0):
// GET /groups supports $filter, $select and $top (among others); displayName supports $filter
// eq as a default query, without the ConsistencyLevel header. The sandbox serves exactly the
// query certdeploy sends, `displayName eq '<literal>'` (' doubled inside the literal), and
// refuses every other filter with 400 rather than answering it wrongly. The pages say nothing
// of case, so names are compared as written: a client must not count on a looser match.

#include "base/strings.h"
#include "sandbox/internal/core.h"

namespace certdeploy::sandbox::internal {

Reply HandleGroups(const Operation& op, TenantCore& core) {
  const RequestContext& ctx = *op.context;
  if (op.method != "GET") return MethodNotAllowed(op);
  auto render = [](const DirectoryGroup& group) {
    return json{{"id", group.id},
                {"displayName", group.display_name},
                {"securityEnabled", true},
                {"mailEnabled", false},
                {"groupTypes", json::array()}};
  };
  if (op.segments.size() == 2) {
    if (auto refusal = CheckQueryOptions(op, {"$select"})) return FromRefusal(ctx, *refusal);
    for (const DirectoryGroup& group : core.directory().groups()) {
      if (!EqualsIgnoreCaseAscii(group.id, op.segments[1])) continue;
      json body = render(group);
      ApplySelect(op, &body);
      body["@odata.context"] = ctx.base_url + "/" + op.version + "/$metadata#groups/$entity";
      Reply reply;
      reply.body = std::move(body);
      return reply;
    }
    return GraphError(ctx, 404, "Request_ResourceNotFound",
                      "Resource '" + op.segments[1] +
                          "' does not exist or one of its queried reference-property objects "
                          "are not present.");
  }
  if (op.segments.size() != 1) return UnknownSegment(op, op.segments[2]);
  if (auto refusal = CheckQueryOptions(op, {"$filter", "$select", "$top", "$skiptoken"})) {
    return FromRefusal(ctx, *refusal);
  }
  std::optional<std::string> name;
  if (auto filter = op.Query("$filter")) {
    auto clauses = ParseEqFilter(*filter);
    if (!clauses || clauses->size() != 1 || (*clauses)[0].property != "displayName" ||
        (*clauses)[0].tolower) {
      return GraphError(ctx, 400, "Request_UnsupportedQuery",
                        "Unsupported or invalid query filter clause specified for property "
                        "'displayName' of resource 'Group'.");
    }
    name = (*clauses)[0].literal;
  }
  std::vector<PageItem> items;
  for (const DirectoryGroup& group : core.directory().groups()) {
    if (name && group.display_name != *name) continue;
    items.push_back({group.id, render(group)});
  }
  auto page = MakePage(op, std::move(items), core.page_size, "groups");
  if (auto* refusal = std::get_if<Refusal>(&page)) return FromRefusal(ctx, *refusal);
  Reply reply;
  reply.body = std::move(std::get<json>(page));
  return reply;
}

}  // namespace certdeploy::sandbox::internal
