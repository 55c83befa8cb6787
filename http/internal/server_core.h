// http/internal/server_core.h: state shared by the listener (server.cc) and the
// connection sessions (session.cc).
//
// Only these two translation units include this header; it brings in Asio but not Beast, which
// stays confined to session.cc.

#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "http/server.h"

namespace certdeploy::http::internal {

// One accepted connection. All methods may be called from any thread; they post to the
// session's strand.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  // Graceful: closes the connection now if it is waiting for a request (or still in the TLS
  // handshake); otherwise lets the current request finish and answers it with
  // "Connection: close".
  virtual void RequestStop() = 0;
  // Closes the socket now, whatever the state (the drain deadline passed).
  virtual void ForceClose() = 0;
};

// Monotonic counters behind ServerStats.
struct AtomicStats {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_rejected{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> rejected_too_large{0};
  std::atomic<uint64_t> bad_requests{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> tls_handshake_failures{0};
};

// Shared by the server and every session (sessions hold a shared_ptr, so it outlives them).
struct ServerCore {
  ServerOptions options;
  Handler handler;
  // Null for plain HTTP. Built once in Start() and never modified afterwards.
  std::unique_ptr<boost::asio::ssl::context> tls_context;
  bool client_cert_required = false;
  // Owned by the server; valid while any session can still post to it (see ServerImpl).
  boost::asio::thread_pool* handler_pool = nullptr;

  AtomicStats stats;
  std::atomic<bool> stopping{false};       // Stop() began: no new requests on any connection.
  std::atomic<bool> force_closing{false};  // The drain deadline passed.

  // Runs the handler, turning exceptions into a 500 problem response. Called on a worker thread.
  ServerResponse Invoke(const ServerRequest& request) const;

  // Connection bookkeeping. TryAddConnection() reserves a slot for a connection from `client`
  // (its address without the port): false when at max_connections, or at
  // max_connections_per_client for that address. Register() records the session for Stop();
  // RemoveConnection() releases the slot.
  bool TryAddConnection(const std::string& client);
  uint64_t Register(const std::shared_ptr<SessionBase>& session);
  void RemoveConnection(uint64_t id, const std::string& client);
  // Calls fn on every live session.
  template <typename Fn>
  void ForEachSession(Fn fn) {
    std::vector<std::shared_ptr<SessionBase>> live;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& [id, weak] : sessions) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) fn(*s);
  }
  // Waits until no connection is open or `deadline` passes; true when none is open.
  bool WaitForNoConnections(std::chrono::steady_clock::time_point deadline);

  std::mutex mu;
  std::condition_variable cv;
  size_t open_connections = 0;                              // Guarded by mu.
  std::map<std::string, size_t> open_by_client;             // Guarded by mu.
  uint64_t next_session_id = 1;                             // Guarded by mu.
  std::map<uint64_t, std::weak_ptr<SessionBase>> sessions;  // Guarded by mu.
};

// Creates the plain or TLS session for an accepted socket (a slot was already reserved with
// TryAddConnection) and starts it on the socket's strand.
// `client` is the peer's address without the port (the key of open_by_client).
void StartSession(const std::shared_ptr<ServerCore>& core, boost::asio::ip::tcp::socket socket,
                  std::string client);

}  // namespace certdeploy::http::internal
