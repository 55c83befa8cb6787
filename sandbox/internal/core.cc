#include "sandbox/internal/core.h"

#include <cctype>
#include <cstdio>

#include "base/log.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/time_format.h"

namespace certdeploy::sandbox::internal {

Status TenantCore::Commit(json entry) {
  if (journal_) {
    json line = json::object();
    line["v"] = 1;
    line["at"] = FormatRfc3339UtcTicks(clock.Now());
    for (auto& [key, value] : entry.items()) line[key] = value;
    RETURN_IF_ERROR(journal_->Append(line));
  }
  return state.Apply(entry);
}

std::variant<json, Refusal> ParseJsonBody(const Operation& op, std::string_view resource) {
  std::string content_type = AsciiToLower(op.Header("content-type").value_or(""));
  if (content_type.rfind("application/json", 0) != 0) {
    return Refusal{415, "UnsupportedMediaType",
                   "The content type '" + content_type +
                       "' is not supported; send "
                       "application/json.",
                   std::string(resource) + ": not JSON"};
  }
  json body = json::parse(op.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return Refusal{400, "BadRequest",
                   "Unable to read JSON request payload. Please ensure Content-Type header is set "
                   "and payload is of valid JSON format.",
                   std::string(resource) + ": invalid JSON"};
  }
  return body;
}

Reply CommitFailed(const RequestContext& ctx, const Status& status) {
  CD_LOG_ERROR("sandbox: cannot persist a change: {}", status);
  return GraphError(ctx, 500, "InternalServerError", "The sandbox could not persist the change.");
}

Reply MethodNotAllowed(const Operation& op) {
  return GraphError(*op.context, 405, "BadRequest",
                    "The HTTP method '" + op.method + "' is not supported on this resource.");
}

Reply UnknownSegment(const Operation& op, const std::string& segment) {
  return GraphError(*op.context, 400, "BadRequest",
                    "Resource not found for the segment '" + segment + "'.");
}

bool ParseEntityPath(const Operation& op, EntityPath* out) {
  if (op.segments.size() < 2) return false;
  auto collection = ParseKeySegment(op.segments[1]);
  if (!collection) return false;
  out->id = collection->key;
  out->rest.assign(op.segments.begin() + 2, op.segments.end());
  if (!out->id && !out->rest.empty()) {
    out->id = out->rest.front();
    out->rest.erase(out->rest.begin());
  }
  return true;
}

std::string SeqKey(uint64_t seq) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016llu", static_cast<unsigned long long>(seq));
  return buf;
}

Reply HandleUsers(const Operation& op, TenantCore& core) {
  const RequestContext& ctx = *op.context;
  if (op.method != "GET") return MethodNotAllowed(op);
  // proxyAddresses is not in the default property set: Graph returns it only on $select
  // (https://learn.microsoft.com/graph/api/resources/user?view=graph-rest-1.0).
  const std::optional<std::string> select = op.Query("$select");
  const bool proxies = select && select->find("proxyAddresses") != std::string::npos;
  auto render = [&](const DirectoryUser& user) {
    json out{{"id", user.id},
             {"userPrincipalName", user.upn},
             {"mail", user.mail},
             {"displayName", user.display_name}};
    if (proxies) out["proxyAddresses"] = user.proxy_addresses;
    return out;
  };
  if (op.segments.size() == 2) {
    if (auto refusal = CheckQueryOptions(op, {"$select"})) return FromRefusal(ctx, *refusal);
    auto user = core.directory().FindByIdOrUpn(op.segments[1]);
    if (!user) {
      return GraphError(ctx, 404, "Request_ResourceNotFound",
                        "Resource '" + op.segments[1] +
                            "' does not exist or one of its queried reference-property objects "
                            "are not present.");
    }
    json body = render(*user);
    ApplySelect(op, &body);
    body["@odata.context"] = ctx.base_url + "/" + op.version + "/$metadata#users/$entity";
    Reply reply;
    reply.body = std::move(body);
    return reply;
  }
  if (op.segments.size() != 1) return UnknownSegment(op, op.segments[2]);
  if (auto refusal = CheckQueryOptions(op, {"$filter", "$select", "$top", "$skiptoken"})) {
    return FromRefusal(ctx, *refusal);
  }
  std::vector<PageItem> items;
  if (auto filter = op.Query("$filter")) {
    auto clauses = ParseEqFilter(*filter);
    if (!clauses || clauses->size() != 1 || (*clauses)[0].property != "userPrincipalName" ||
        (*clauses)[0].tolower) {
      return GraphError(ctx, 400, "Request_UnsupportedQuery",
                        "Unsupported or invalid query filter clause specified for property "
                        "'userPrincipalName' of resource 'User'.");
    }
    if (auto user = core.directory().FindByUpn((*clauses)[0].literal)) {
      items.push_back({AsciiToLower(user->upn), render(*user)});
    }
  } else {
    for (const auto& user : core.directory().List()) {
      items.push_back({AsciiToLower(user.upn), render(user)});
    }
  }
  auto page = MakePage(op, std::move(items), core.page_size, "users");
  if (auto* refusal = std::get_if<Refusal>(&page)) return FromRefusal(ctx, *refusal);
  Reply reply;
  reply.body = std::move(std::get<json>(page));
  return reply;
}

}  // namespace certdeploy::sandbox::internal
