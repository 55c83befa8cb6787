// http/internal/util.h: pure helpers behind the HTTP server (no Boost, no sockets).
//
// Split out so that request-target decoding and listen-address parsing can be unit-tested without
// starting a server, and so that the Beast translation units stay small.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace certdeploy::http::internal {

// Decodes the path part of an origin-form request target ("/a%20b" -> "/a b"). Returns nullopt
// when the path does not start with '/', has an invalid escape, or decodes to a NUL byte.
std::optional<std::string> DecodeRequestPath(std::string_view raw_path);

// True when `value` can be sent as a header value or name without breaking the framing (no CR,
// LF or NUL).
bool IsSafeHeaderText(std::string_view value);

// A "host:port" listen address split into its parts. IPv6 hosts come without brackets.
struct ListenAddress {
  std::string host;  // "127.0.0.1", "::1", "localhost", "0.0.0.0"
  uint16_t port = 0;
  bool bracketed = false;  // The input used "[...]" (IPv6).
};

// Splits "host:port", "[v6]:port" or "localhost:port". InvalidArgument for a missing or
// out-of-range port, an empty host, or unbalanced brackets. Does not resolve anything.
Result<ListenAddress> SplitListenAddress(std::string_view listen);

// The JSON body of an application/problem+json response (RFC 9457 members type, title, status,
// detail), correctly escaped. Invalid UTF-8 in title/detail is replaced, never thrown.
std::string ProblemJson(int status, std::string_view title, std::string_view detail);

}  // namespace certdeploy::http::internal
