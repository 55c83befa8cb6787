// POST /v1/offboardings and GET /v1/offboardings/{id}: HR removes a leaver's certificates.
//
// The request is stored (store::Offboarding) and answered 202 at once; the dispatcher deletes the
// records and verifies them gone (offboarder.h). Creating it cancels the user's queued work items
// in the same transaction, so that nothing queued for the leaver is imported afterwards.
// Idempotency-Key works as for enrollments: the same key and body answer with the same id.

#include <algorithm>
#include <set>

#include "base/log.h"
#include "base/random.h"
#include "base/strings.h"
#include "config/upn.h"
#include "deploy/offboard.h"
#include "pkcs/digest.h"
#include "service/internal/api_handlers.h"

namespace certdeploy::service {
namespace {

constexpr size_t kMaxThumbprints = 100;

std::optional<store::Offboarding> ParseRequest(const http::ServerRequest& r, Problem& problem) {
  std::optional<nlohmann::json> body = ParseObject(r, problem);
  if (!body) return std::nullopt;
  static const std::set<std::string> kFields = {"userPrincipalName", "thumbprints"};
  for (auto it = body->begin(); it != body->end(); ++it) {
    if (!kFields.count(it.key())) {
      problem = BadRequest("unknown field '" + it.key().substr(0, 64) + "'");
      return std::nullopt;
    }
  }
  store::Offboarding out;
  auto upn = body->find("userPrincipalName");
  if (upn == body->end() || !upn->is_string()) {
    problem = BadRequest(
        "userPrincipalName: expected a user principal name such as alice@contoso.com");
    return std::nullopt;
  }
  if (Status valid = config::ValidateUpn(upn->get_ref<const std::string&>()); !valid.ok()) {
    problem = BadRequest("userPrincipalName: " + std::string(valid.message()));
    return std::nullopt;
  }
  out.user_principal_name = upn->get<std::string>();
  auto thumbprints = body->find("thumbprints");
  if (thumbprints != body->end()) {
    if (!thumbprints->is_array() || thumbprints->empty() ||
        thumbprints->size() > kMaxThumbprints) {
      problem = BadRequest("thumbprints: expected 1 to " + std::to_string(kMaxThumbprints) +
                           " thumbprints (omit it to remove all of the user's certificates)");
      return std::nullopt;
    }
    for (const nlohmann::json& t : *thumbprints) {
      Result<std::string> parsed =
          t.is_string() ? deploy::ParseThumbprint(t.get_ref<const std::string&>())
                        : Result<std::string>(InvalidArgumentError("expected a string"));
      if (!parsed.ok()) {
        problem = BadRequest("thumbprints: " + std::string(parsed.status().message()));
        return std::nullopt;
      }
      if (std::find(out.thumbprints.begin(), out.thumbprints.end(), *parsed) ==
          out.thumbprints.end()) {
        out.thumbprints.push_back(*std::move(parsed));
      }
    }
  }
  return out;
}

// A replay answers the offboarding's current status, not the "queued" of its first answer.
http::ServerResponse Accepted(const store::Offboarding& o) {
  http::ServerResponse r =
      JsonResponse(202, {{"id", o.id},
                         {"status", store::OffboardingStatusName(o.status)},
                         {"cancelledItems", o.cancelled_items}});
  r.headers.emplace("location", "/v1/offboardings/" + o.id);
  return r;
}

http::ServerResponse Replay(const store::Offboarding& o, const std::string& request_sha256) {
  if (o.request_sha256 != request_sha256) {
    return Unprocessable("idempotency-key-reused",
                         "this Idempotency-Key was used with a different request body")
        .ToResponse();
  }
  return Accepted(o);
}

}  // namespace

http::ServerResponse CreateOffboarding(ApiContext& ctx, const Caller& caller,
                                       const http::ServerRequest& r) {
  const std::string request_sha256 = pkcs::Sha256Hex(r.body);
  std::optional<std::string> key;
  Problem problem;
  if (!IdempotencyKeyOf(caller, r, key, problem)) return problem.ToResponse();
  if (key) {
    Result<store::Offboarding> earlier = ctx.deps.store->FindOffboardingByIdempotencyKey(*key);
    if (earlier.ok()) return Replay(*earlier, request_sha256);
    if (earlier.status().code() != StatusCode::kNotFound) {
      return FromStatus(earlier.status(), "idempotency lookup").ToResponse();
    }
  }
  std::optional<store::Offboarding> req = ParseRequest(r, problem);
  if (!req) return problem.ToResponse();
  req->id = NewGuid(*ctx.deps.random);
  req->step = "accepted";
  req->api_key_name = caller.key_name;
  req->idempotency_key = key;
  req->request_sha256 = request_sha256;
  std::string scope = req->thumbprints.empty() ? "all certificates" : "";
  for (const std::string& t : req->thumbprints) scope += (scope.empty() ? "" : " ") + t;
  store::AuditRecord audit{.api_key_name = caller.key_name,
                           .action = "offboard",
                           .user_principal_name = req->user_principal_name,
                           .outcome = "accepted",
                           .detail = "offboarding " + req->id + ": " + scope};
  Result<store::Offboarding> created = ctx.deps.store->CreateOffboarding(*req, audit);
  if (created.status().code() == StatusCode::kAlreadyExists && key) {
    Result<store::Offboarding> winner = ctx.deps.store->FindOffboardingByIdempotencyKey(*key);
    if (winner.ok()) return Replay(*winner, request_sha256);
    return FromStatus(winner.status(), "idempotency lookup").ToResponse();
  }
  if (!created.ok()) return FromStatus(created.status(), "storing the offboarding").ToResponse();
  CD_LOG_INFO("offboarding {} queued for {} ({}); {} queued item(s) cancelled", created->id,
              ForLog(created->user_principal_name), scope, created->cancelled_items);
  if (ctx.deps.wake) ctx.deps.wake();
  return Accepted(*created);
}

http::ServerResponse GetOffboarding(ApiContext& ctx, const std::string& id) {
  Result<store::Offboarding> o = ctx.deps.store->GetOffboarding(id);
  if (!o.ok()) return FromStatus(o.status(), "offboarding " + id).ToResponse();
  nlohmann::ordered_json body;
  body["id"] = o->id;
  body["userPrincipalName"] = o->user_principal_name;
  body["thumbprints"] = o->thumbprints;
  body["status"] = std::string(store::OffboardingStatusName(o->status));
  body["removed"] = o->removed;
  body["cancelledItems"] = o->cancelled_items;
  if (!o->error_code.empty()) {
    body["error"] = {{"code", o->error_code},
                     {"message", o->error_message},
                     {"requestId", o->request_ids}};
  }
  body["createdAt"] = ApiTime(o->created_at);
  body["updatedAt"] = ApiTime(o->updated_at);
  return http::ServerResponse::Json(200, body.dump());
}

}  // namespace certdeploy::service
