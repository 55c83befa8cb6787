// Problem responses, JSON helpers and audit for the REST handlers.

#include <algorithm>

#include "base/log.h"
#include "base/time_format.h"
#include "service/internal/api_handlers.h"

namespace certdeploy::service {
namespace {

std::string Reason(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 422:
      return "Unprocessable Content";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

Problem Make(int status, std::string type, std::string detail) {
  Problem p;
  p.status = status;
  p.type = std::move(type);
  p.title = Reason(status);
  p.detail = std::move(detail);
  return p;
}

}  // namespace

http::ServerResponse Problem::ToResponse() const {
  nlohmann::ordered_json body;
  body["type"] = type;
  body["title"] = title.empty() ? Reason(status) : title;
  body["status"] = status;
  body["detail"] = detail;
  if (!findings.empty()) {
    body["findings"] = nlohmann::ordered_json::array();
    for (const pkcs::Finding& f : findings) {
      body["findings"].push_back({{"code", f.code},
                                  {"severity", std::string(pkcs::SeverityName(f.severity))},
                                  {"message", f.message}});
    }
  }
  http::ServerResponse r;
  r.status = status;
  r.headers.emplace("content-type", "application/problem+json");
  if (status == 401) r.headers.emplace("www-authenticate", "Bearer realm=\"certdeploy\"");
  if (retry_after_seconds > 0) {
    r.headers.emplace("retry-after", std::to_string(retry_after_seconds));
  }
  if (!allow.empty()) {
    std::string methods;
    for (const std::string& m : allow) methods += (methods.empty() ? "" : ", ") + m;
    r.headers.emplace("allow", methods);
  }
  r.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return r;
}

Problem BadRequest(std::string detail) {
  return Make(400, "urn:certdeploy:problem:invalid-request", std::move(detail));
}

Problem NotFound(std::string detail) { return Make(404, "about:blank", std::move(detail)); }

Problem Unprocessable(std::string slug, std::string detail, std::vector<pkcs::Finding> findings) {
  Problem p = Make(422, "urn:certdeploy:problem:" + slug, std::move(detail));
  p.findings = std::move(findings);
  return p;
}

Problem Conflict(std::string detail, std::string_view slug) {
  return Make(409, "urn:certdeploy:problem:" + std::string(slug), std::move(detail));
}

Problem Busy(const Status& status) {
  Problem p = status.code() == StatusCode::kResourceExhausted
                  ? Make(429, "urn:certdeploy:problem:too-many-requests",
                         std::string(status.message()))
                  : Make(503, "urn:certdeploy:problem:unavailable", std::string(status.message()));
  p.retry_after_seconds = p.status == 429 ? 1 : 2;
  return p;
}

Problem FromStatus(const Status& status, std::string_view what) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return NotFound(std::string(what) + " not found");
    case StatusCode::kAborted:
    case StatusCode::kFailedPrecondition:
      return Conflict(std::string(status.message()));
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
      CD_LOG_WARN("{}: {}", what, status);
      return Make(503, "urn:certdeploy:problem:unavailable",
                  std::string(what) + ": a dependency is unavailable, retry later");
    default:
      CD_LOG_ERROR("{}: {}", what, status);
      return Make(500, "about:blank", std::string(what) + " failed; see the daemon log");
  }
}

nlohmann::ordered_json ItemCountsJson(const store::ItemSummary& s) {
  return {{"queued", s.queued},       {"running", s.running}, {"succeeded", s.succeeded},
          {"failed", s.failed},       {"invalid", s.invalid}, {"cancelled", s.cancelled},
          {"total", s.total()}};
}

http::ServerResponse JsonResponse(int status, const nlohmann::json& body) {
  return http::ServerResponse::Json(status,
                              body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::optional<nlohmann::json> ParseObject(const http::ServerRequest& request, Problem& problem) {
  nlohmann::json body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    problem = BadRequest("the request body is not valid JSON");
    return std::nullopt;
  }
  if (!body.is_object()) {
    problem = BadRequest("the request body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

bool IdempotencyKeyOf(const Caller& caller, const http::ServerRequest& request,
                      std::optional<std::string>& key, Problem& problem) {
  key.reset();
  std::optional<std::string> header = request.Header("idempotency-key");
  if (!header) return true;
  if (header->empty() || header->size() > 200 ||
      std::any_of(header->begin(), header->end(),
                  [](unsigned char c) { return c < 0x21 || c > 0x7e; })) {
    problem = BadRequest("Idempotency-Key: expected 1 to 200 visible ASCII characters");
    return false;
  }
  key = caller.key_name + "/" + *header;
  return true;
}

std::string ApiTime(SystemTime t) { return FormatRfc3339UtcMillis(t); }

void ApiContext::Audit(const Caller& caller, std::string action, std::string upn,
                       std::string thumbprint, std::string outcome, std::string detail) const {
  store::AuditRecord record;
  record.api_key_name = caller.key_name;
  record.action = std::move(action);
  record.user_principal_name = std::move(upn);
  record.thumbprint = std::move(thumbprint);
  record.outcome = std::move(outcome);
  record.detail = std::move(detail);
  Result<int64_t> appended = deps.store->AppendAudit(record);
  if (!appended.ok()) CD_LOG_WARN("audit of {}: {}", record.action, appended.status());
}

}  // namespace certdeploy::service
