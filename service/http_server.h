// service/http_server.h: the HTTP(S) server under the daemon's REST API and the sandbox tenant.
//
// Built on Boost.Beast + OpenSSL (never cpprestsdk's listener): bounded header and body sizes
// (413/431 before a body is buffered whole), read/write/TLS-handshake timeouts, a connection cap,
// accept back-off on EMFILE, TLS 1.2+ only, optional client certificates, and a graceful drain.
// Handlers run on a worker pool, never on the I/O threads, so a slow handler cannot stall I/O.
//
//   HttpServerOptions options;
//   options.listen = "127.0.0.1:0";
//   auto server = HttpServer::Start(options, [](const ServerRequest& r) {
//     return ServerResponse::Json(200, R"({"ok":true})");
//   });
//   std::cout << (*server)->url() << "\n";   // "http://127.0.0.1:41234"
//   ...
//   (*server)->Stop();

#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace certdeploy::service {

// Header names are stored lower-cased.
using HeaderMap = std::multimap<std::string, std::string>;

struct ServerRequest {
  std::string method;   // "GET", "POST", ...
  std::string target;   // Raw request target: path plus optional "?query", percent-encoded.
  std::string path;     // Decoded path without the query.
  std::string query;    // Raw query string without '?', "" if none.
  HeaderMap headers;    // Lower-cased names.
  std::string body;
  std::string peer;     // "ip:port" of the client.
  std::string client_cert_subject;  // Verified client certificate subject, "" if none.

  // First value of header `name` (case-insensitive), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
  // Decoded value of query parameter `name` ("$filter", "$top", ...), or nullopt.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct ServerResponse {
  int status = 200;
  HeaderMap headers;  // Content-Type among them; Content-Length is set by the server.
  std::string body;
  // Close the connection without sending anything (the sandbox's "lost response" fault).
  bool drop_connection = false;

  static ServerResponse Json(int status, std::string body);
  static ServerResponse Text(int status, std::string body);
  // application/problem+json with type/title/status/detail.
  static ServerResponse Problem(int status, std::string_view title, std::string_view detail);
};

using Handler = std::function<ServerResponse(const ServerRequest&)>;

struct TlsOptions {
  std::string cert_file;       // PEM certificate chain.
  std::string key_file;        // PEM private key.
  std::string client_ca_file;  // If set, clients must present a certificate from this CA.
};

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free port.
  std::optional<TlsOptions> tls;       // Plain HTTP only when absent, and then only on loopback
                                       // unless allow_plain_non_loopback (tests never set it).
  bool allow_plain_non_loopback = false;
  size_t body_limit = 1 << 20;         // Bytes; larger bodies get 413 before being buffered.
  size_t header_limit = 16 * 1024;     // Bytes; larger headers get 431.
  std::chrono::milliseconds read_timeout{10000};       // Whole request, including slow bodies.
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds idle_timeout{30000};       // Keep-alive between requests.
  std::chrono::milliseconds drain_timeout{10000};      // Stop(): wait this long for in-flight.
  size_t max_connections = 1024;
  int io_threads = 2;
  int handler_threads = 8;
};

// Counters for /metrics. Monotonic.
struct HttpServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // Over max_connections.
  uint64_t requests = 0;
  uint64_t rejected_too_large = 0;    // 413 and 431.
  uint64_t bad_requests = 0;          // Unparseable HTTP.
  uint64_t timeouts = 0;
  uint64_t tls_handshake_failures = 0;
};

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, starts the I/O and handler threads, and returns once the socket is listening.
  // InvalidArgument for a bad address or TLS files; Unavailable if the port cannot be bound;
  // FailedPrecondition for plain HTTP on a non-loopback address.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   Handler handler);

  // "http://127.0.0.1:PORT" or "https://...": the bound address with the real port.
  virtual std::string url() const = 0;
  virtual int port() const = 0;
  virtual HttpServerStats stats() const = 0;

  // Stops accepting, lets in-flight requests finish (up to drain_timeout), closes idle
  // connections and joins all threads. Idempotent; also called by the destructor.
  virtual void Stop() = 0;

 protected:
  HttpServer() = default;
};

}  // namespace certdeploy::service
