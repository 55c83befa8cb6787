#include "sandbox/internal/wire.h"

#include "base/encoding.h"
#include "base/strings.h"
#include "base/time_format.h"

namespace certdeploy::sandbox::internal {

std::optional<std::string> HeaderValue(const http::HeaderMap& headers, std::string_view name) {
  auto it = headers.find(AsciiToLower(name));
  if (it != headers.end()) return it->second;
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCaseAscii(key, name)) return value;
  }
  return std::nullopt;
}

std::optional<std::string> Operation::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::optional<std::vector<std::string>> SplitPath(std::string_view path, bool decode) {
  std::vector<std::string> segments;
  for (std::string_view part : SplitString(path, '/')) {
    if (part.empty()) continue;
    std::optional<std::string> segment =
        decode ? PercentDecode(part, /*plus_is_space=*/false) : std::string(part);
    if (!segment) return std::nullopt;
    segments.push_back(std::move(*segment));
  }
  return segments;
}

std::optional<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view raw) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::string_view part : SplitString(raw, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto key = PercentDecode(part.substr(0, eq), true);
    auto value = eq == std::string_view::npos ? std::optional<std::string>("")
                                              : PercentDecode(part.substr(eq + 1), true);
    if (!key || !value) return std::nullopt;
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

bool IsGraphType(const json& value, std::string_view name, bool hash_optional) {
  constexpr std::string_view kPrefix = "microsoft.graph.";
  if (!value.is_string()) return false;
  std::string_view s = value.get_ref<const std::string&>();
  if (!s.empty() && s.front() == '#') {
    s.remove_prefix(1);
  } else if (!hash_optional) {
    return false;
  }
  return s.size() == kPrefix.size() + name.size() && s.substr(0, kPrefix.size()) == kPrefix &&
         s.substr(kPrefix.size()) == name;
}

int64_t ToUnixMillis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SystemTime FromUnixMillis(int64_t ms) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::milliseconds(ms)));
}

json GraphErrorBody(const RequestContext& ctx, std::string_view code, std::string_view message) {
  std::string date = FormatRfc3339Utc(ctx.now);
  if (!date.empty() && date.back() == 'Z') date.pop_back();
  return json{{"error",
               {{"code", code},
                {"message", message},
                {"innerError",
                 {{"date", date},
                  {"request-id", ctx.request_id},
                  {"client-request-id", ctx.client_request_id}}}}}};
}

Reply GraphError(const RequestContext& ctx, int status, std::string_view code,
                 std::string_view message) {
  Reply reply;
  reply.status = status;
  reply.body = GraphErrorBody(ctx, code, message);
  return reply;
}

Reply FromRefusal(const RequestContext& ctx, const Refusal& refusal) {
  Reply reply = GraphError(ctx, refusal.status, refusal.code, refusal.message);
  reply.rejection = refusal.reason;
  return reply;
}

Reply Throttled(const RequestContext& ctx, int64_t retry_after_seconds) {
  std::string date = FormatRfc3339Utc(ctx.now);
  if (!date.empty() && date.back() == 'Z') date.pop_back();
  Reply reply;
  reply.status = 429;
  reply.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  reply.body = json{{"error",
                     {{"code", "TooManyRequests"},
                      {"innerError",
                       {{"code", "429"},
                        {"date", date},
                        {"message", "Please retry after"},
                        {"request-id", ctx.request_id},
                        {"client-request-id", ctx.client_request_id},
                        {"status", "429"}}},
                      {"message", "Please retry again later."}}}};
  return reply;
}

std::string IntuneOpaqueMessage(const RequestContext& ctx, std::string_view url_path) {
  json inner = {{"_version", 3},
                {"Message", "An error has occurred - Operation ID (for customer support): " +
                                ctx.request_id + " - Activity ID: " + ctx.client_request_id +
                                " - Url: https://fef.sandbox.manage.microsoft.com/RACerts/"
                                "StatelessImportPFXService/" +
                                std::string(url_path) + "?api-version=5021-04-09"},
                {"CustomApiErrorPhrase", ""},
                {"RetryAfter", nullptr},
                {"ErrorSourceService", ""},
                {"HttpHeaders", "{}"}};
  return inner.dump(-1, ' ', false, json::error_handler_t::replace);
}

http::ServerResponse ToServerResponse(const RequestContext& ctx, const Reply& reply) {
  http::ServerResponse response;
  response.status = reply.status;
  response.headers.emplace("request-id", ctx.request_id);
  response.headers.emplace("client-request-id", ctx.client_request_id);
  response.headers.emplace("date", FormatHttpDate(ctx.now));
  for (const auto& [name, value] : reply.headers) {
    response.headers.emplace(AsciiToLower(name), value);
  }
  if (reply.body.has_value()) {
    response.headers.emplace("content-type", "application/json; charset=utf-8");
    response.body = reply.body->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return response;
}

}  // namespace certdeploy::sandbox::internal
