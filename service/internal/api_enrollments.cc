// POST /v1/enrollments and GET /v1/enrollments/{id}.
//
// The password is in this process only between parsing the body and sealing it: it is moved into
// a SecretBytes at once and the JSON copy is wiped. Idempotency follows docs/store-schema.md: the
// key (scoped to the API key's name, so two callers cannot collide) and the SHA-256 of the body
// live on the item the request created.

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string_view>

#include "base/encoding.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "config/upn.h"
#include "deploy/observe.h"
#include "deploy/plan.h"
#include "graph/intune.h"
#include "pkcs/digest.h"
#include "service/internal/api_handlers.h"
#include "service/internal/dispatcher_item.h"

namespace certdeploy::service {
namespace {

struct EnrollmentRequest {
  std::string upn;
  std::string pfx;
  SecretBytes password;
  pkcs::Purpose purpose = pkcs::Purpose::kSmimeEncryption;
  bool dry_run = false;
};

// Wipes the plaintext copies nlohmann holds.
void WipeString(nlohmann::json& value) {
  if (!value.is_string()) return;
  std::string& s = value.get_ref<std::string&>();
  SecureWipe(s.data(), s.size());
  s.clear();
}

std::optional<EnrollmentRequest> ParseRequest(const http::ServerRequest& r, pkcs::Purpose fallback,
                                              Problem& problem) {
  std::optional<nlohmann::json> body = ParseObject(r, problem);
  if (!body) return std::nullopt;
  EnrollmentRequest out;
  if (body->contains("password") && (*body)["password"].is_string()) {
    out.password = SecretBytes((*body)["password"].get_ref<const std::string&>());
  }
  WipeString((*body)["password"]);
  static const std::set<std::string> kFields = {"userPrincipalName", "pfx", "password",
                                                "intendedPurpose", "dryRun"};
  for (const auto& [key, value] : body->items()) {
    if (!kFields.count(key)) {
      problem = BadRequest("unknown field '" + key.substr(0, 64) + "'");
      return std::nullopt;
    }
  }
  const nlohmann::json& upn = (*body)["userPrincipalName"];
  if (!upn.is_string()) {
    problem = BadRequest(
        "userPrincipalName: expected a user principal name such as alice@contoso.com");
    return std::nullopt;
  }
  if (Status valid = config::ValidateUpn(upn.get_ref<const std::string&>()); !valid.ok()) {
    problem = BadRequest("userPrincipalName: " + std::string(valid.message()));
    return std::nullopt;
  }
  out.upn = upn.get<std::string>();
  const nlohmann::json& pfx = (*body)["pfx"];
  std::optional<std::string> bytes;
  if (pfx.is_string()) bytes = Base64Decode(pfx.get_ref<const std::string&>(), kLenientBase64);
  if (!bytes || bytes->empty()) {
    problem = BadRequest("pfx: expected the PFX (PKCS#12) file in standard base64");
    return std::nullopt;
  }
  out.pfx = std::move(*bytes);
  if (!(*body)["password"].is_string()) {
    problem = BadRequest("password: expected a string (the PFX password)");
    return std::nullopt;
  }
  out.purpose = fallback;
  if (body->contains("intendedPurpose")) {
    const nlohmann::json& p = (*body)["intendedPurpose"];
    Result<pkcs::Purpose> purpose =
        p.is_string() ? pkcs::ParseImportPurpose(p.get<std::string>())
                      : Result<pkcs::Purpose>(InvalidArgumentError("expected a string"));
    if (!purpose.ok()) {
      // Never echo the value: a client that mixed up its fields may have put a secret there.
      const std::string message(purpose.status().message());
      const size_t valid = message.find("; ");
      problem = BadRequest("intendedPurpose: not a known purpose" +
                           (valid == std::string::npos ? "" : message.substr(valid)));
      return std::nullopt;
    }
    out.purpose = *purpose;
  }
  if (body->contains("dryRun")) {
    if (!(*body)["dryRun"].is_boolean()) {
      problem = BadRequest("dryRun: expected true or false");
      return std::nullopt;
    }
    out.dry_run = (*body)["dryRun"].get<bool>();
  }
  return out;
}

// `status`: "queued" for a new enrollment; a replay answers the item's current status.
http::ServerResponse Accepted(const std::string& id, std::string_view status = "queued") {
  http::ServerResponse r = JsonResponse(202, {{"id", id}, {"status", status}});
  r.headers.emplace("location", "/v1/enrollments/" + id);
  return r;
}

// The answer for a request whose Idempotency-Key already names an item.
http::ServerResponse Replay(const store::WorkItem& item, const std::string& request_sha256) {
  if (item.request_sha256 != request_sha256) {
    return Unprocessable("idempotency-key-reused",
                         "this Idempotency-Key was used with a different request body")
        .ToResponse();
  }
  return Accepted(item.id, store::ItemStatusName(item.status));
}

std::vector<pkcs::Finding> Warnings(const std::vector<pkcs::Finding>& findings) {
  std::vector<pkcs::Finding> out;
  for (const pkcs::Finding& f : findings) {
    if (f.severity == pkcs::Severity::kWarning) out.push_back(f);
  }
  return out;
}

// Checks the certificate's address against the user's primary SMTP address at once, so that HR
// hears of a certificate Outlook will not use in the answer (422), not later. When the directory
// cannot be read now, the item is accepted and the dispatcher checks it when it plans.
void AddAddressFinding(ApiContext& ctx, const EnrollmentRequest& req, PreparedItem& prepared) {
  if (ctx.deps.graph == nullptr || !prepared.facts.emails) return;
  graph::IntuneApi intune(*ctx.deps.graph);
  Result<std::map<std::string, graph::UserMailbox>> mailboxes = intune.GetUserMailboxes({req.upn});
  if (!mailboxes.ok() || mailboxes->empty()) {
    CD_LOG_INFO("enrollment for {}: the directory could not be read now ({}); the address is "
                "checked when the item is planned",
                ForLog(req.upn), mailboxes.status());
    return;
  }
  const graph::UserMailbox& mailbox = mailboxes->begin()->second;
  const deploy::ObservedUser user{mailbox.found, mailbox.PrimarySmtp()};
  if (std::optional<pkcs::Finding> f =
          deploy::AddressFinding(req.upn, *prepared.facts.emails, &user)) {
    prepared.findings.insert(prepared.findings.begin(), *std::move(f));
    prepared.deployable = false;
  }
}

http::ServerResponse DryRun(ApiContext& ctx, const EnrollmentRequest& req, const PreparedItem& prepared,
                      const http::ServerRequest& r) {
  if (ctx.deps.graph == nullptr) {
    return FromStatus(UnavailableError("no Graph connection"), "dry run").ToResponse();
  }
  graph::IntuneApi intune(*ctx.deps.graph);
  Result<deploy::ObservedState> observed = deploy::ReadObservedState(
      intune, {req.upn}, deploy::ObserveOptionsFor(*ctx.deps.config));
  if (!observed.ok()) return FromStatus(observed.status(), "reading the tenant").ToResponse();
  PlannedItem item{
      1, req.upn, req.purpose, prepared.item.thumbprint, prepared.item.pfx_sha256, prepared.facts};
  deploy::Plan plan = deploy::ComputePlan(DesiredStateForItems(*ctx.deps.config, {item}), *observed,
                                          ctx.deps.clock->Now());
  plan.created_at = FormatRfc3339Utc(ctx.deps.clock->Now());
  plan.tenant = ctx.deps.config->tenant.id;
  if (r.Header("accept").value_or("").find("text/plain") != std::string::npos) {
    return http::ServerResponse::Text(200, deploy::RenderPlanText(plan));
  }
  nlohmann::json findings = nlohmann::json::array();
  for (const pkcs::Finding& f : Warnings(prepared.findings)) {
    findings.push_back({{"code", f.code},
                        {"severity", std::string(pkcs::SeverityName(f.severity))},
                        {"message", f.message}});
  }
  return JsonResponse(200, {{"dryRun", true},
                            {"userPrincipalName", req.upn},
                            {"thumbprint", prepared.item.thumbprint},
                            {"findings", findings},
                            {"plan", deploy::PlanToJson(plan)}});
}

}  // namespace

http::ServerResponse CreateEnrollment(ApiContext& ctx, const Caller& caller, const http::ServerRequest& r) {
  const std::string request_sha256 = pkcs::Sha256Hex(r.body);
  std::optional<std::string> key;
  Problem problem;
  if (!IdempotencyKeyOf(caller, r, key, problem)) return problem.ToResponse();
  if (key) {
    Result<store::WorkItem> earlier = ctx.deps.store->FindByIdempotencyKey(*key);
    if (earlier.ok()) return Replay(*earlier, request_sha256);
    if (earlier.status().code() != StatusCode::kNotFound) {
      return FromStatus(earlier.status(), "idempotency lookup").ToResponse();
    }
  }

  std::optional<EnrollmentRequest> req =
      ParseRequest(r, ctx.deps.config->pfx.intended_purpose, problem);
  if (!req) return problem.ToResponse();
  // The PFX work is bounded (pfx_gate.h) and has a deadline: a request still waiting for, or
  // doing, PFX work after service.pfxWorkDeadlineMillis stores nothing (its client has most
  // likely given up; it may retry).
  const SteadyTime deadline = ctx.deps.clock->SteadyNow() + ctx.service().pfx_work_deadline;
  Result<PfxGate::Ticket> ticket = ctx.pfx_gate->Enter(caller.key_name, deadline);
  if (!ticket.ok()) return Busy(ticket.status()).ToResponse();
  PrepareContext prepare{*ctx.deps.config, *ctx.deps.connector_key, ctx.deps.trust_bundle,
                         ctx.deps.clock->Now()};
  std::span<const uint8_t> pfx(reinterpret_cast<const uint8_t*>(req->pfx.data()), req->pfx.size());
  PreparedItem prepared = PrepareItem(prepare, pfx, req->password, req->upn, req->purpose);
  req->password.Clear();
  if (ctx.deps.clock->SteadyNow() > deadline) {
    return Busy(UnavailableError("checking the PFX took longer than the request deadline; "
                                 "nothing was stored, retry"))
        .ToResponse();
  }
  if (prepared.deployable) AddAddressFinding(ctx, *req, prepared);
  if (!prepared.deployable) {
    if (!req->dry_run) {
      std::string codes;
      for (const pkcs::Finding& f : prepared.findings) {
        if (f.severity == pkcs::Severity::kError) codes += (codes.empty() ? "" : ",") + f.code;
      }
      ctx.Audit(caller, "enroll", req->upn, "", "rejected: " + codes, "");
    }
    return Unprocessable("pfx-not-deployable",
                         "the PFX cannot be deployed to " + req->upn + "; see findings",
                         prepared.findings)
        .ToResponse();
  }
  if (req->dry_run) return DryRun(ctx, *req, prepared, r);

  store::WorkItem item = std::move(prepared.item);
  item.id = NewGuid(*ctx.deps.random);
  item.kind = store::ItemKind::kEnrollment;
  item.idempotency_key = key;
  item.request_sha256 = request_sha256;
  Status created = ctx.deps.store->CreateItems(std::span<const store::WorkItem>(&item, 1));
  if (created.code() == StatusCode::kAlreadyExists && key) {
    // A concurrent request with the same key won the insert.
    Result<store::WorkItem> winner = ctx.deps.store->FindByIdempotencyKey(*key);
    if (winner.ok()) return Replay(*winner, request_sha256);
    return FromStatus(winner.status(), "idempotency lookup").ToResponse();
  }
  if (!created.ok()) return FromStatus(created, "storing the enrollment").ToResponse();
  ctx.Audit(caller, "enroll", item.user_principal_name, item.thumbprint, "accepted",
            "enrollment " + item.id);
  CD_LOG_INFO("enrollment {} queued for {} ({})", item.id, item.user_principal_name,
              item.thumbprint);
  if (ctx.deps.wake) ctx.deps.wake();
  return Accepted(item.id, store::ItemStatusName(item.status));
}

http::ServerResponse GetEnrollment(ApiContext& ctx, const std::string& id) {
  Result<store::WorkItem> item = ctx.deps.store->GetItem(id);
  if (!item.ok()) return FromStatus(item.status(), "enrollment " + id).ToResponse();
  if (item->kind != store::ItemKind::kEnrollment)
    return NotFound("enrollment " + id + " not found").ToResponse();
  return http::ServerResponse::Json(200, EnrollmentJson(*item).dump());
}

}  // namespace certdeploy::service
