#include "graph/internal/url.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "base/strings.h"
#include "graph/http_transport.h"

namespace certdeploy::graph {
namespace internal {

std::string_view StripQuery(std::string_view path) {
  size_t q = path.find_first_of("?#");
  return q == std::string_view::npos ? path : path.substr(0, q);
}

std::string Url::Origin() const {
  std::string out = scheme + "://";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  int default_port = scheme == "https" ? 443 : 80;
  if (port != default_port) out += ":" + std::to_string(port);
  return out;
}

std::string_view Url::Path() const { return StripQuery(path_and_query); }

Result<Url> ParseUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("invalid URL \"" + std::string(StripQuery(url)) +
                                "\": " + std::string(why));
  };
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return bad("not absolute");
  Url out;
  out.scheme = AsciiToLower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") return bad("scheme must be http or https");
  std::string_view rest = url.substr(sep + 3);
  size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view tail =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  if (tail.find('#') != std::string_view::npos) return bad("fragments are not allowed");
  if (authority.find('@') != std::string_view::npos) return bad("user info is not allowed");
  if (authority.empty()) return bad("no host");
  std::string_view host;
  std::string_view port_text;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (host.empty()) return bad("no host");
  for (char c : host) {
    if (c <= ' ' || c == '/' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f) {
      return bad("invalid character in host");
    }
  }
  out.host = AsciiToLower(host);
  out.port = out.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port <= 0 ||
        port > 65535) {
      return bad("invalid port");
    }
    out.port = port;
  }
  out.path_and_query = tail.empty() ? "/" : std::string(tail);
  if (out.path_and_query.front() == '?') out.path_and_query.insert(0, "/");
  for (char c : out.path_and_query) {
    if (static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f) {
      return bad("path must be percent-encoded");
    }
  }
  return out;
}

}  // namespace internal

bool IsLoopbackHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (EqualsIgnoreCaseAscii(host, "localhost")) return true;
  std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return std::memcmp(&v6, &in6addr_loopback, sizeof(v6)) == 0;
  }
  return false;
}

}  // namespace certdeploy::graph
