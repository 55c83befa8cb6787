// http/server.h: the HTTP(S) server under the daemon's REST API and the sandbox tenant.
//
// Built on Boost.Beast + OpenSSL (never cpprestsdk's listener): bounded header and body sizes
// (413/431 before a body is buffered whole), read/write/TLS-handshake timeouts, a connection cap,
// accept back-off on EMFILE, TLS 1.2+ only, optional client certificates, and a graceful drain.
// Handlers run on a worker pool, never on the I/O threads, so a slow handler cannot stall I/O.
//
//   ServerOptions options;
//   options.listen = "127.0.0.1:0";
//   auto server = Server::Start(options, [](const ServerRequest& r) {
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

namespace certdeploy::http {

// Header names are stored lower-cased.
using HeaderMap = std::multimap<std::string, std::string>;

struct ServerRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // Raw request target: path plus optional "?query", percent-encoded.
  std::string path;    // Decoded path without the query.
  std::string query;   // Raw query string without '?', "" if none.
  HeaderMap headers;   // Lower-cased names.
  std::string body;
  std::string peer;  // "ip:port" of the client ("[v6]:port" for IPv6).
  // Verified client certificate subject in RFC 2253 form ("CN=alice,O=Contoso"); "" unless
  // TlsOptions::client_ca_file is set (then every request has one).
  std::string client_cert_subject;

  // First value of header `name` (case-insensitive), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
  // Decoded value ('+' and %XX) of the first query parameter `name` ("$filter", "$top", ...);
  // "" for a bare "name" or "name="; nullopt when absent.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct ServerResponse {
  int status = 200;
  // Content-Type among them. Content-Length, Transfer-Encoding, Connection and Server are set
  // by the server (values given here are ignored). A status outside 200..599 or a header with
  // CR/LF becomes a 500.
  HeaderMap headers;
  std::string body;
  // Close the connection without sending anything (the sandbox's "lost response" fault).
  bool drop_connection = false;

  static ServerResponse Json(int status, std::string body);
  static ServerResponse Text(int status, std::string body);
  // application/problem+json with type/title/status/detail.
  static ServerResponse Problem(int status, std::string_view title, std::string_view detail);
};

// Called on a worker thread, concurrently for different requests. A thrown exception becomes a
// 500 problem response; its message is neither sent nor logged (it may quote a secret body).
using Handler = std::function<ServerResponse(const ServerRequest&)>;

struct TlsOptions {
  std::string cert_file;       // PEM certificate chain.
  std::string key_file;        // PEM private key.
  std::string client_ca_file;  // If set, clients must present a certificate from this CA.
  // Loaded once by Start(): TLS 1.2 minimum, forward-secret AEAD suites, no compression or
  // renegotiation. The key must be unencrypted PEM (protect it with file permissions).
};

// The largest ServerOptions::header_limit: Beast keeps field offsets in 16 bits, so no header
// field may reach 64 KiB, and the connection's read buffer (header_limit plus one 16 KiB read)
// must stay below that.
inline constexpr size_t kMaxHeaderLimit = 48 * 1024;

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free port.
  std::optional<TlsOptions> tls;       // Plain HTTP only when absent, and then only on loopback
                                       // unless allow_plain_non_loopback (tests never set it).
  bool allow_plain_non_loopback = false;
  size_t body_limit = 1 << 20;      // Bytes; larger bodies get 413 before being buffered.
  // Bytes of the request line and header fields, and separately of a chunked body's trailer
  // fields (each counted with the header); larger gets 431, however the bytes arrive. At most
  // kMaxHeaderLimit.
  size_t header_limit = 16 * 1024;
  // Whole request, header and body together, from its first byte (slow drips are cut). Also how
  // long a new connection may stay silent before its first request.
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds idle_timeout{30000};   // Keep-alive between requests.
  std::chrono::milliseconds drain_timeout{10000};  // Stop(): wait this long for in-flight.
  size_t max_connections = 1024;  // Further connections are accepted and closed at once.
  // Open connections from one client address (IPv4, or IPv6 address) at a time; further ones
  // from it are accepted and closed at once, so that one client cannot take every slot.
  size_t max_connections_per_client = 128;
  int io_threads = 2;             // Sockets, TLS and HTTP parsing only.
  int handler_threads = 8;        // Handlers run here; a slow handler never stalls I/O.
};

// Counters for /metrics. Monotonic.
struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // Over max_connections or max_connections_per_client.
  uint64_t requests = 0;              // Requests passed to the handler.
  uint64_t rejected_too_large = 0;    // 413 and 431.
  uint64_t bad_requests = 0;          // 400: unparseable HTTP or an invalid request path.
  uint64_t timeouts = 0;              // Read/write/handshake (not keep-alive idle) timeouts.
  uint64_t tls_handshake_failures = 0;
};

class Server {
 public:
  virtual ~Server() = default;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, starts the I/O and handler threads, and returns once the socket is listening.
  // InvalidArgument for a bad address or TLS files; Unavailable if the port cannot be bound;
  // FailedPrecondition for plain HTTP on a non-loopback address.
  static Result<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                                   Handler handler);

  // "http://127.0.0.1:PORT" or "https://...": the listen host as given ("localhost", "[::1]")
  // with the real port.
  virtual std::string url() const = 0;
  virtual int port() const = 0;
  virtual ServerStats stats() const = 0;

  // Stops accepting, lets in-flight requests finish (up to drain_timeout), closes idle
  // connections and joins all threads. Idempotent; also called by the destructor. A handler
  // still running at the deadline cannot be interrupted: Stop() waits for it to return and
  // drops its response. Must not be called from inside a handler.
  virtual void Stop() = 0;

 protected:
  Server() = default;
};

}  // namespace certdeploy::http
