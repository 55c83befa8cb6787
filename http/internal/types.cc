// http/internal/types.cc: ServerRequest/ServerResponse helpers and the pure parsing
// utilities of util.h. Kept free of Boost so it compiles quickly.

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/encoding.h"
#include "base/strings.h"
#include "http/server.h"
#include "http/internal/util.h"

namespace certdeploy::http {
namespace internal {

std::optional<std::string> DecodeRequestPath(std::string_view raw_path) {
  if (raw_path.empty() || raw_path.front() != '/') return std::nullopt;
  std::optional<std::string> decoded = PercentDecode(raw_path, /*plus_is_space=*/false);
  if (!decoded || decoded->find('\0') != std::string::npos) return std::nullopt;
  return decoded;
}

bool IsSafeHeaderText(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

Result<ListenAddress> SplitListenAddress(std::string_view listen) {
  ListenAddress out;
  std::string_view port_text;
  if (!listen.empty() && listen.front() == '[') {
    size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return InvalidArgumentError("listen address '" + std::string(listen) +
                                  "' must be [ipv6]:port");
    }
    out.host = std::string(listen.substr(1, close - 1));
    out.bracketed = true;
    port_text = listen.substr(close + 2);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos) {
      return InvalidArgumentError("listen address '" + std::string(listen) + "' must be host:port");
    }
    out.host = std::string(listen.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return InvalidArgumentError("listen address '" + std::string(listen) +
                                  "': put IPv6 addresses in brackets, e.g. [::1]:8443");
    }
    port_text = listen.substr(colon + 1);
  }
  if (out.host.empty()) {
    return InvalidArgumentError("listen address '" + std::string(listen) + "' has no host");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return InvalidArgumentError("listen address '" + std::string(listen) + "' has an invalid port");
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

std::string ProblemJson(int status, std::string_view title, std::string_view detail) {
  nlohmann::ordered_json body;
  body["type"] = "about:blank";
  body["title"] = std::string(title);
  body["status"] = status;
  body["detail"] = std::string(detail);
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace internal

std::optional<std::string> ServerRequest::Header(std::string_view name) const {
  auto it = headers.find(AsciiToLower(name));
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> ServerRequest::QueryParam(std::string_view name) const {
  for (std::string_view pair : SplitString(query, '&')) {
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::optional<std::string> key = PercentDecode(pair.substr(0, eq), true);
    if (!key || *key != name) continue;
    if (eq == std::string_view::npos) return std::string();
    std::optional<std::string> value = PercentDecode(pair.substr(eq + 1), true);
    if (value) return value;
  }
  return std::nullopt;
}

ServerResponse ServerResponse::Json(int status, std::string body) {
  ServerResponse r;
  r.status = status;
  r.headers.emplace("content-type", "application/json");
  r.body = std::move(body);
  return r;
}

ServerResponse ServerResponse::Text(int status, std::string body) {
  ServerResponse r;
  r.status = status;
  r.headers.emplace("content-type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

ServerResponse ServerResponse::Problem(int status, std::string_view title,
                                       std::string_view detail) {
  ServerResponse r;
  r.status = status;
  r.headers.emplace("content-type", "application/problem+json");
  r.body = internal::ProblemJson(status, title, detail);
  return r;
}

}  // namespace certdeploy::http
