// graph/http_transport.h: the synchronous HTTP seam under the Graph client.
//
// GraphClient and the token source never talk to a network library directly; they build an
// HttpRequest and call HttpTransport::Send. Production uses NewCpprestTransport (cpprestsdk behind
// one adapter file); tests use tests/support/fake_http_transport.h, which scripts responses and
// records requests. Keeping the seam blocking makes both the fake and the retry loop easy to read.
//
//   ASSIGN_OR_RETURN(auto transport, NewCpprestTransport(TransportOptions{}));
//   ASSIGN_OR_RETURN(HttpResponse r, transport->Send(request, std::chrono::seconds(30)));
//   if (r.status == 200) Use(r.body);

#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/result.h"

namespace certdeploy::graph {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Returns the value of the first header named `name` (ASCII case-insensitive), if any.
std::optional<std::string> FindHeader(const HttpHeaders& headers, std::string_view name);

// One HTTP request. A value type: copyable and comparable, so fakes can record it.
struct HttpRequest {
  std::string method;  // "GET", "POST", "PATCH", "DELETE", "PUT", "HEAD".
  std::string url;     // Absolute and already percent-encoded: "https://host/beta/...?$filter=...".
  HttpHeaders headers;  // Sent as given. Content-Type belongs here when `body` is not empty.
  std::string body;     // Raw bytes (JSON or form-encoded). Empty means no body.
  // True when the body carries secrets (client secret, JWT assertion, PFX material): nothing in
  // the transport or its callers may log or persist it. Bodies are never logged anyway; this flag
  // also tells recording fakes and debug tooling to keep their hands off.
  bool sensitive_body = false;

  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
  bool operator==(const HttpRequest&) const = default;
};

// One HTTP response, whatever its status.
struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;

  // Case-insensitive header lookup ("Retry-After" finds "retry-after").
  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
  bool operator==(const HttpResponse&) const = default;
};

// Prints method and URL (never the body) / status and headers, for test failure messages.
std::ostream& operator<<(std::ostream& os, const HttpRequest& request);
std::ostream& operator<<(std::ostream& os, const HttpResponse& response);

// Sends HTTP requests. Implementations are thread-safe: many workers may Send concurrently.
class HttpTransport {
 public:
  HttpTransport() = default;
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;
  virtual ~HttpTransport() = default;

  // Sends `request` and waits for the whole response, at most `timeout` in total (connect, TLS,
  // upload, wait and download together).
  //
  // Any HTTP status, 4xx and 5xx included, is a successful Send. Failures:
  //   kUnavailable      the request was provably not delivered: DNS failure, connection refused,
  //                     TLS handshake or certificate failure, timeout before the request was
  //                     written. Safe to resend for every method.
  //   kUnknownOutcome   the request (or part of it) was written, then the connection was lost or
  //                     the timeout expired before a complete response: the server may have acted
  //                     on it. A write must not be blindly resent; a GET may.
  //   kInvalidArgument  the request itself is unacceptable (bad URL, http:// to a non-loopback
  //                     host, unsupported method). Never retried.
  // Error messages name the method and host and never include headers or the body.
  virtual Result<HttpResponse> Send(const HttpRequest& request, Duration timeout) = 0;
};

struct TransportOptions {
  // PEM file with extra trusted CA certificates, ADDED to the system trust store (for a TLS
  // inspecting proxy or the sandbox's self-signed CA). Empty: system store only.
  std::string extra_ca_file;
  // Size of cpprestsdk's process-wide thread pool. It can be set once per process, before the first
  // cpprest use; later transports with a different value log a warning and share the first pool.
  size_t thread_pool_size = 4;
  // Optional forward proxy, "http://proxy.example:3128" (https is tunnelled with CONNECT). Empty:
  // direct connections (environment variables such as https_proxy are NOT consulted).
  std::string proxy_url;
  // Sent as User-Agent.
  std::string user_agent = "certdeploy/0.1";
  // Upper bound on a response body; larger responses fail with kUnavailable (GET) or
  // kUnknownOutcome (writes), since the request was delivered.
  size_t max_response_bytes = 64 * 1024 * 1024;
};

// Creates the production transport (cpprestsdk http_client over Boost.Asio and OpenSSL 3).
//
// Security contract:
//   - TLS certificate and host-name verification are always on; TLS 1.2 is the minimum.
//   - `http://` URLs are refused (kInvalidArgument, before any network access) unless the host is
//     loopback (127.0.0.0/8, ::1, localhost), so a bearer token is never sent in clear text.
//   - Non-idempotent requests (POST, PATCH, DELETE, PUT) always use a fresh connection: cpprestsdk
//     silently resends a request when a pooled keep-alive connection turns out to be closed, which
//     would duplicate a write whose response was lost. Reads reuse pooled connections.
// Errors: kInvalidArgument when `extra_ca_file` cannot be read or holds no certificate, or when
// `proxy_url` is not an absolute http(s) URL.
Result<std::unique_ptr<HttpTransport>> NewCpprestTransport(const TransportOptions& options);

// True for "localhost", any 127.0.0.0/8 address and ::1 (with or without brackets).
bool IsLoopbackHost(std::string_view host);

}  // namespace certdeploy::graph
