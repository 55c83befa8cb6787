// graph/internal/url.h: the small URL toolkit the graph module needs (no third-party parser).
// Percent-encoding and case-insensitive comparison come from base/encoding.h and base/strings.h.

#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace certdeploy::graph::internal {

// An absolute http(s) URL split into its parts. Only what the client needs: no userinfo, no
// fragment (both refused).
struct Url {
  std::string scheme;          // "http" or "https", lower case.
  std::string host;            // Lower case; IPv6 without brackets.
  int port = 0;                // Explicit or the scheme default (80/443).
  std::string path_and_query;  // Starts with "/" ("/" when the URL has no path).

  // "scheme://host[:port]" with the port only when not the default; IPv6 hosts in brackets.
  std::string Origin() const;
  // The path without the query string, for logs.
  std::string_view Path() const;
};

// Parses an absolute http:// or https:// URL. Errors: kInvalidArgument.
Result<Url> ParseUrl(std::string_view url);

// `path` without its query string.
std::string_view StripQuery(std::string_view path);

}  // namespace certdeploy::graph::internal
