// The operators' lists: GET /v1/rollouts, /v1/rollouts/{id}/items, /v1/enrollments, /v1/audit,
// and GET /v1/me (what the calling key may do, for the console). All are paged the same way
// (api_paging.h) and answer {"value": [...], "next": "<link>"}, with `next` absent on the last
// page.

#include <charconv>

#include "base/time_format.h"
#include "config/upn.h"
#include "service/internal/api_paging.h"
#include "service/internal/dispatcher_item.h"

namespace certdeploy::service {
namespace {

// An optional status filter: nullopt and a 400 in `problem` for an unknown name.
template <typename S, typename Parse>
bool StatusParam(const http::ServerRequest& r, Parse parse, std::optional<S>& out,
                 Problem& problem) {
  std::optional<std::string> text = r.QueryParam("status");
  if (!text || text->empty()) return true;
  out = parse(*text);
  if (!out) problem = BadRequest("status: not a known status");
  return out.has_value();
}

// An optional ?upn= filter, checked by the one UPN rule.
bool UpnParam(const http::ServerRequest& r, std::optional<std::string>& out, Problem& problem) {
  std::optional<std::string> upn = r.QueryParam("upn");
  if (!upn || upn->empty()) return true;
  if (Status valid = config::ValidateUpn(*upn); !valid.ok()) {
    problem = BadRequest("upn: " + std::string(valid.message()));
    return false;
  }
  out = *upn;
  return true;
}

// The page of `rows` to show: at most `limit`, and the position of its last row when the store
// had more (it was asked for limit + 1).
template <typename Row, typename PositionOf>
std::optional<store::PagePosition> TrimPage(std::vector<Row>& rows, int limit,
                                            PositionOf position_of) {
  if (rows.size() <= static_cast<size_t>(limit)) return std::nullopt;
  rows.resize(static_cast<size_t>(limit));
  return position_of(rows.back());
}

store::PagePosition ItemPosition(const store::WorkItem& item) {
  return {.created_at = item.created_at, .manifest_line = item.manifest_line, .id = item.id};
}

nlohmann::ordered_json ErrorJson(const store::WorkItem& item) {
  return {{"code", item.error_code},
          {"message", item.error_message},
          {"requestId", item.request_id}};
}

nlohmann::ordered_json FindingsJson(const store::WorkItem& item) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  if (item.status != store::ItemStatus::kFailed) return out;
  for (const pkcs::Finding& f : ParseFindingSummary(item.error_message)) {
    out.push_back({{"code", f.code}, {"message", f.message}});
  }
  return out;
}

nlohmann::ordered_json RolloutItemJson(const store::WorkItem& item) {
  nlohmann::ordered_json j;
  j["id"] = item.id;
  j["line"] = item.manifest_line;
  j["wave"] = item.wave;
  j["userPrincipalName"] = item.user_principal_name;
  j["status"] = std::string(store::ItemStatusName(item.status));
  // A row refused when the rollout was created (status failed, never sent to Graph).
  j["invalid"] = item.status == store::ItemStatus::kFailed && item.step == store::kInvalidStep;
  j["thumbprint"] = item.thumbprint;
  j["intendedPurpose"] = item.intended_purpose;
  j["attempts"] = item.attempts;
  if (!item.error_code.empty()) j["error"] = ErrorJson(item);
  j["findings"] = FindingsJson(item);
  j["updatedAt"] = ApiTime(item.updated_at);
  return j;
}

http::ServerResponse Page(nlohmann::ordered_json value, std::optional<std::string> next) {
  nlohmann::ordered_json body;
  body["value"] = std::move(value);
  if (next) body["next"] = std::move(*next);
  return http::ServerResponse::Json(200, body.dump());
}

// One page of work items (a rollout's, or the enrollments): `filter` plus ?status=, ?upn= and
// paging; `path` is where the `next` link points, `render` draws a row.
http::ServerResponse ItemList(ApiContext& ctx, const http::ServerRequest& r,
                              store::ItemFilter filter, const std::string& path,
                              nlohmann::ordered_json (*render)(const store::WorkItem&)) {
  Problem problem;
  std::optional<PageRequest> page = ParsePageRequest(r, problem);
  store::ItemPageQuery query{.filter = std::move(filter)};
  if (!page || !StatusParam(r, &store::ParseItemStatus, query.status, problem) ||
      !UpnParam(r, query.filter.user_principal_name, problem)) {
    return problem.ToResponse();
  }
  query.after = page->after;
  query.limit = page->limit + 1;
  Result<std::vector<store::WorkItem>> rows = ctx.deps.store->ListItems(query);
  if (!rows.ok()) return FromStatus(rows.status(), "listing work items").ToResponse();
  std::optional<store::PagePosition> last = TrimPage(*rows, page->limit, &ItemPosition);
  nlohmann::ordered_json value = nlohmann::ordered_json::array();
  for (const store::WorkItem& item : *rows) value.push_back(render(item));
  std::optional<std::string> next;
  if (last) {
    next = NextLink(path,
                    {{"status", r.QueryParam("status").value_or("")},
                     {"upn", query.filter.user_principal_name.value_or("")}},
                    page->limit, *last);
  }
  return Page(std::move(value), std::move(next));
}

}  // namespace

nlohmann::ordered_json EnrollmentJson(const store::WorkItem& item) {
  nlohmann::ordered_json body;
  body["id"] = item.id;
  body["userPrincipalName"] = item.user_principal_name;
  body["thumbprint"] = item.thumbprint;
  // Cancelled: by an offboarding of the user (error code "offboarded").
  body["status"] = std::string(store::ItemStatusName(item.status));
  if (!item.error_code.empty()) body["error"] = ErrorJson(item);
  body["createdAt"] = ApiTime(item.created_at);
  body["updatedAt"] = ApiTime(item.updated_at);
  return body;
}

http::ServerResponse ListRollouts(ApiContext& ctx, const http::ServerRequest& r) {
  Problem problem;
  std::optional<PageRequest> page = ParsePageRequest(r, problem);
  std::optional<store::RolloutStatus> status;
  if (!page || !StatusParam(r, &store::ParseRolloutStatus, status, problem)) {
    return problem.ToResponse();
  }
  store::RolloutPageQuery query{.after = page->after, .limit = page->limit + 1};
  if (status) query.statuses.push_back(*status);
  Result<std::vector<store::Rollout>> rows = ctx.deps.store->ListRolloutPage(query);
  if (!rows.ok()) return FromStatus(rows.status(), "listing rollouts").ToResponse();
  std::optional<store::PagePosition> last =
      TrimPage(*rows, page->limit, [](const store::Rollout& ro) {
        return store::PagePosition{.created_at = ro.created_at, .id = ro.id};
      });
  nlohmann::ordered_json value = nlohmann::ordered_json::array();
  for (const store::Rollout& ro : *rows) {
    Result<store::ItemSummary> counts = ctx.deps.store->SummarizeItems({.rollout_id = ro.id}, 0);
    if (!counts.ok()) return FromStatus(counts.status(), "listing rollouts").ToResponse();
    Result<std::vector<Wave>> waves = WavesFromJson(ro.waves_json);
    nlohmann::ordered_json j;
    j["id"] = ro.id;
    j["name"] = ro.name;
    j["status"] = std::string(store::RolloutStatusName(ro.status));
    j["dryRun"] = ro.dry_run;
    j["currentWave"] = ro.current_wave;
    j["waveCount"] = waves.ok() ? waves->size() : 0;
    j["startAt"] = ApiTime(ro.start_at);
    j["counts"] = ItemCountsJson(*counts);
    j["createdAt"] = ApiTime(ro.created_at);
    j["updatedAt"] = ApiTime(ro.updated_at);
    value.push_back(std::move(j));
  }
  std::optional<std::string> next;
  if (last) {
    next = NextLink("/v1/rollouts", {{"status", r.QueryParam("status").value_or("")}},
                    page->limit, *last);
  }
  return Page(std::move(value), std::move(next));
}

http::ServerResponse ListRolloutItems(ApiContext& ctx, const std::string& id,
                                      const http::ServerRequest& r) {
  Result<store::Rollout> rollout = ctx.deps.store->GetRollout(id);
  if (!rollout.ok()) return FromStatus(rollout.status(), "rollout " + id).ToResponse();
  return ItemList(ctx, r, {.rollout_id = id}, "/v1/rollouts/" + id + "/items", &RolloutItemJson);
}

http::ServerResponse ListEnrollments(ApiContext& ctx, const http::ServerRequest& r) {
  return ItemList(ctx, r, {.kind = store::ItemKind::kEnrollment}, "/v1/enrollments",
                  &EnrollmentJson);
}

http::ServerResponse ListAudit(ApiContext& ctx, const http::ServerRequest& r) {
  Problem problem;
  std::optional<PageRequest> page = ParsePageRequest(r, problem);
  if (!page) return problem.ToResponse();
  store::AuditPageQuery query{.limit = page->limit + 1};
  if (page->after) {  // Audit cursors carry the record id (ids only grow).
    int64_t before = 0;
    auto [end, ec] = std::from_chars(page->after->id.data(),
                                     page->after->id.data() + page->after->id.size(), before);
    if (ec != std::errc() || end != page->after->id.data() + page->after->id.size()) {
      return BadRequest("cursor: not a cursor this API handed out (use the `next` link)")
          .ToResponse();
    }
    query.before_id = before;
  }
  std::optional<std::string> since = r.QueryParam("since");
  if (since && !since->empty()) {
    Result<SystemTime> t = ParseApiTime(*since);
    if (!t.ok()) return BadRequest("since: " + std::string(t.status().message())).ToResponse();
    query.since = *t;
  }
  Result<std::vector<store::AuditRecord>> rows = ctx.deps.store->ListAuditPage(query);
  if (!rows.ok()) return FromStatus(rows.status(), "reading the audit log").ToResponse();
  std::optional<store::PagePosition> last =
      TrimPage(*rows, page->limit, [](const store::AuditRecord& a) {
        return store::PagePosition{.created_at = a.at, .id = std::to_string(a.id)};
      });
  nlohmann::ordered_json value = nlohmann::ordered_json::array();
  for (const store::AuditRecord& a : *rows) {
    value.push_back({{"id", a.id},
                     {"at", ApiTime(a.at)},
                     {"apiKey", a.api_key_name},
                     {"action", a.action},
                     {"userPrincipalName", a.user_principal_name},
                     {"thumbprint", a.thumbprint},
                     {"outcome", a.outcome},
                     {"requestIds", a.request_ids},
                     {"detail", a.detail}});
  }
  std::optional<std::string> next;
  if (last) next = NextLink("/v1/audit", {{"since", since.value_or("")}}, page->limit, *last);
  return Page(std::move(value), std::move(next));
}

http::ServerResponse Me(const Caller& caller) {
  nlohmann::ordered_json scopes = nlohmann::ordered_json::array();
  for (config::ApiScope s : caller.scopes) scopes.push_back(std::string(config::ApiScopeName(s)));
  nlohmann::ordered_json body;
  body["name"] = caller.key_name;
  body["scopes"] = std::move(scopes);
  return http::ServerResponse::Json(200, body.dump());
}

}  // namespace certdeploy::service
