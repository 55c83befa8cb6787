#include "graph/internal/graph_errors.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "graph/retry_policy.h"

namespace certdeploy::graph::internal {
namespace {

constexpr size_t kMaxMessage = 600;

std::string StringField(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Looks for "request-id" in innerError / innererror, descending through nested ones.
std::string InnerRequestId(const nlohmann::json& error) {
  const nlohmann::json* level = &error;
  for (int depth = 0; depth < 5 && level->is_object(); ++depth) {
    const nlohmann::json* inner = nullptr;
    for (const char* key : {"innerError", "innererror"}) {
      auto it = level->find(key);
      if (it != level->end() && it->is_object()) inner = &*it;
    }
    if (inner == nullptr) break;
    std::string id = StringField(*inner, "request-id");
    if (!id.empty()) return id;
    level = inner;
  }
  return {};
}

}  // namespace

std::string UnwrapIntuneMessage(std::string_view message) {
  size_t open = message.find('{');
  size_t close = message.rfind('}');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::string(message);
  }
  nlohmann::json inner =
      nlohmann::json::parse(message.substr(open, close - open + 1), nullptr, false);
  std::string text = StringField(inner, "Message");
  if (text.empty()) text = StringField(inner, "message");
  return text.empty() ? std::string(message) : text;
}

GraphErrorBody ParseGraphErrorBody(std::string_view body) {
  GraphErrorBody out;
  nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object()) return out;
  auto it = json.find("error");
  if (it == json.end() || !it->is_object()) return out;
  out.code = StringField(*it, "code");
  out.message = UnwrapIntuneMessage(StringField(*it, "message"));
  out.request_id = InnerRequestId(*it);
  return out;
}

std::string RequestIdOf(const HttpResponse& response, const GraphErrorBody& body) {
  if (std::optional<std::string> id = response.Header("request-id")) return *id;
  return body.request_id;
}

StatusCode StatusCodeForHttp(int status, std::string_view method) {
  switch (status) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
    case 410:
      return StatusCode::kNotFound;
    case 409:
      return EqualsIgnoreCaseAscii(method, "POST") ? StatusCode::kAlreadyExists
                                                   : StatusCode::kAborted;
    case 412:
      return StatusCode::kAborted;
    case 424:
      return StatusCode::kFailedPrecondition;
    case 429:
      return StatusCode::kResourceExhausted;
    default:
      break;
  }
  // 503 means "not processed". Any other 5xx answer to a write may come after the write was
  // committed (a gateway or a crash behind it), so its outcome is unknown: the caller must read
  // before resending, or a create could be duplicated.
  if (status >= 500) {
    return status == 503 || IsSafeToResend(method) ? StatusCode::kUnavailable
                                                   : StatusCode::kUnknownOutcome;
  }
  if (status >= 400) return StatusCode::kInvalidArgument;
  return StatusCode::kInternal;  // 1xx/3xx are not expected from Graph.
}

Status StatusFromResponse(const HttpResponse& response, std::string_view method,
                          std::string_view path, std::optional<Duration> retry_after) {
  GraphErrorBody error = ParseGraphErrorBody(response.body);
  StatusDetails details;
  details.http_status = response.status;
  details.service_code = error.code;
  details.request_id = RequestIdOf(response, error);
  if (retry_after) {
    details.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after);
  }
  std::string text = error.message;
  if (text.size() > kMaxMessage) text = text.substr(0, kMaxMessage) + "...";
  std::string message =
      std::string(method) + " " + std::string(path) + ": HTTP " + std::to_string(response.status);
  if (!error.code.empty()) message += " " + error.code;
  if (!text.empty()) message += ": " + text;
  // Once per error: Intune's own text often names it already ("Operation ID (for customer
  // support): <request-id>").
  if (details.request_id.empty()) {
    message += " (no request-id)";
  } else if (text.find(details.request_id) == std::string::npos) {
    message += " (request-id " + details.request_id + ")";
  }
  return Status(StatusCodeForHttp(response.status, method), std::move(message), std::move(details));
}

}  // namespace certdeploy::graph::internal
