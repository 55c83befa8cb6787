// http/internal/server.cc: Server::Start, the TLS context, the accept loop and the
// graceful drain. Connection handling lives in session.cc (the only Beast translation unit).

#include "http/server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <optional>
#include <string>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

#include "base/log.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "http/internal/server_core.h"
#include "http/internal/util.h"

namespace certdeploy::http {
namespace internal {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

// ---- ServerCore ----------------------------------------------------------------------------

ServerResponse ServerCore::Invoke(const ServerRequest& request) const {
  // The exception text is not logged nor returned: it may quote the request body (a JSON parse
  // error does), and bodies can carry passwords.
  try {
    return handler(request);
  } catch (const std::exception& e) {
    CD_LOG_ERROR("http: handler threw {} for {} {}", typeid(e).name(), ForLog(request.method, 16),
                 ForLog(request.path));
  } catch (...) {
    CD_LOG_ERROR("http: handler threw a non-std exception for {} {}", ForLog(request.method, 16),
                 ForLog(request.path));
  }
  return ServerResponse::Problem(500, "Internal Server Error",
                                 "The server failed to handle the request.");
}

bool ServerCore::TryAddConnection(const std::string& client) {
  std::lock_guard<std::mutex> lock(mu);
  if (open_connections >= options.max_connections) return false;
  size_t& mine = open_by_client[client];
  if (mine >= options.max_connections_per_client) {
    if (mine == 0) open_by_client.erase(client);
    return false;
  }
  ++mine;
  ++open_connections;
  return true;
}

uint64_t ServerCore::Register(const std::shared_ptr<SessionBase>& session) {
  std::lock_guard<std::mutex> lock(mu);
  uint64_t id = next_session_id++;
  sessions.emplace(id, session);
  return id;
}

void ServerCore::RemoveConnection(uint64_t id, const std::string& client) {
  {
    std::lock_guard<std::mutex> lock(mu);
    sessions.erase(id);
    --open_connections;
    auto it = open_by_client.find(client);
    if (it != open_by_client.end() && --it->second == 0) open_by_client.erase(it);
  }
  cv.notify_all();
}

bool ServerCore::WaitForNoConnections(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu);
  return cv.wait_until(lock, deadline, [this] { return open_connections == 0; });
}

namespace {

constexpr std::chrono::milliseconds kAcceptBackoff{100};

// TLS 1.2 suites: forward-secret AEAD only. TLS 1.3 keeps OpenSSL's defaults (all AEAD).
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Never prompt on the terminal for an encrypted key file: fail instead.
int RefusePassphrase(char*, int, int, void*) { return 0; }

std::string DrainOpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Result<std::unique_ptr<ssl::context>> BuildTlsContext(const TlsOptions& tls) {
  std::unique_ptr<ssl::context> ctx;
  try {
    ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  } catch (const boost::system::system_error& e) {
    return InternalError(std::string("cannot create the TLS context: ") + e.what());
  }
  SSL_CTX* native = ctx->native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(
      native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return InternalError("cannot set the TLS cipher list: " + DrainOpenSslErrors());
  }
  SSL_CTX_set_default_passwd_cb(native, &RefusePassphrase);

  if (SSL_CTX_use_certificate_chain_file(native, tls.cert_file.c_str()) != 1) {
    return InvalidArgumentError("TLS certificate file '" + tls.cert_file +
                                "' could not be loaded: " + DrainOpenSslErrors());
  }
  if (SSL_CTX_use_PrivateKey_file(native, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return InvalidArgumentError("TLS key file '" + tls.key_file +
                                  "' does not match certificate file '" + tls.cert_file + "'");
    }
    return InvalidArgumentError(
        "TLS key file '" + tls.key_file +
        "' could not be loaded (unencrypted PEM expected): " + DrainOpenSslErrors());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("TLS key file '" + tls.key_file +
                                "' does not match certificate file '" + tls.cert_file + "'");
  }
  if (!tls.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(native, tls.client_ca_file.c_str(), nullptr) != 1) {
      return InvalidArgumentError("TLS client CA file '" + tls.client_ca_file +
                                  "' could not be loaded: " + DrainOpenSslErrors());
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr) {
      return InvalidArgumentError("TLS client CA file '" + tls.client_ca_file +
                                  "' holds no certificate: " + DrainOpenSslErrors());
    }
    SSL_CTX_set_client_CA_list(native, names);  // Takes ownership.
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    static constexpr unsigned char kSessionContext[] = "certdeploy";
    SSL_CTX_set_session_id_context(native, kSessionContext, sizeof(kSessionContext) - 1);
  }
  return ctx;
}

Status ValidateOptions(const ServerOptions& o) {
  if (o.io_threads < 1 || o.handler_threads < 1) {
    return InvalidArgumentError("io_threads and handler_threads must be at least 1");
  }
  if (o.max_connections < 1 || o.max_connections_per_client < 1 || o.body_limit < 1 ||
      o.header_limit < 1) {
    return InvalidArgumentError(
        "max_connections, max_connections_per_client, body_limit and header_limit must be "
        "positive");
  }
  if (o.header_limit > kMaxHeaderLimit) {
    return InvalidArgumentError("header_limit may be at most " + std::to_string(kMaxHeaderLimit) +
                                " bytes");
  }
  for (auto t : {o.read_timeout, o.write_timeout, o.handshake_timeout, o.idle_timeout}) {
    if (t.count() <= 0) return InvalidArgumentError("HTTP server timeouts must be positive");
  }
  if (o.drain_timeout.count() < 0) return InvalidArgumentError("drain_timeout is negative");
  return OkStatus();
}

class ServerImpl final : public Server {
 public:
  ServerImpl(std::shared_ptr<ServerCore> core, std::string url_prefix)
      : core_(std::move(core)),
        url_prefix_(std::move(url_prefix)),
        ioc_(core_->options.io_threads),
        accept_strand_(net::make_strand(ioc_)),
        acceptor_(accept_strand_),
        backoff_timer_(accept_strand_) {}

  ~ServerImpl() override { Stop(); }

  Status Listen(const tcp::endpoint& endpoint) {
    error_code ec;
    std::string where = core_->options.listen;
    if (acceptor_.open(endpoint.protocol(), ec); ec) {
      return UnavailableError("cannot open a socket for " + where + ": " + ec.message());
    }
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (endpoint.address().is_v6()) acceptor_.set_option(net::ip::v6_only(true), ec);
    if (acceptor_.bind(endpoint, ec); ec) {
      return UnavailableError("cannot bind " + where + ": " + ec.message());
    }
    if (acceptor_.listen(net::socket_base::max_listen_connections, ec); ec) {
      return UnavailableError("cannot listen on " + where + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint(ec).port();
    return OkStatus();
  }

  // Starts the handler pool, the I/O threads and the accept loop.
  void Run() {
    pool_ = std::make_unique<net::thread_pool>(core_->options.handler_threads);
    core_->handler_pool = pool_.get();
    work_.emplace(ioc_.get_executor());
    net::post(accept_strand_, [this] { DoAccept(); });
    for (int i = 0; i < core_->options.io_threads; ++i) {
      io_threads_.emplace_back([this] { RunIo(); });
    }
    CD_LOG_INFO("http: listening on {}", url());
  }

  // Server
  std::string url() const override { return url_prefix_ + ":" + std::to_string(port_); }
  int port() const override { return port_; }
  ServerStats stats() const override;
  void Stop() override;

 private:
  void RunIo();
  void DoAccept();
  void OnAccept(const error_code& ec, tcp::socket socket);

  const std::shared_ptr<ServerCore> core_;
  const std::string url_prefix_;  // "http://127.0.0.1"
  int port_ = 0;

  // Declaration order matters for destruction: the pool (whose queued tasks may hold sessions)
  // goes before the io_context that the sessions' sockets belong to.
  net::io_context ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  net::strand<net::io_context::executor_type> accept_strand_;
  tcp::acceptor acceptor_;           // Used only on accept_strand_.
  net::steady_timer backoff_timer_;  // Used only on accept_strand_.
  bool backing_off_ = false;         // Used only on accept_strand_.
  std::unique_ptr<net::thread_pool> pool_;
  std::vector<std::thread> io_threads_;

  std::mutex stop_mu_;
  bool stopped_ = false;  // Guarded by stop_mu_.
};

ServerStats ServerImpl::stats() const {
  const AtomicStats& s = core_->stats;
  ServerStats out;
  out.connections_accepted = s.connections_accepted.load();
  out.connections_rejected = s.connections_rejected.load();
  out.requests = s.requests.load();
  out.rejected_too_large = s.rejected_too_large.load();
  out.bad_requests = s.bad_requests.load();
  out.timeouts = s.timeouts.load();
  out.tls_handshake_failures = s.tls_handshake_failures.load();
  return out;
}

void ServerImpl::RunIo() {
  // Session code reports errors through error codes; anything thrown is a bug or bad_alloc.
  // Keep the thread serving rather than taking the process down.
  for (;;) {
    try {
      ioc_.run();
      return;
    } catch (const std::exception& e) {
      CD_LOG_ERROR("http: exception escaped an I/O handler: {}", e.what());
    }
  }
}

void ServerImpl::DoAccept() {
  if (core_->stopping || !acceptor_.is_open()) return;
  acceptor_.async_accept(net::make_strand(ioc_), [this](const error_code& ec, tcp::socket s) {
    OnAccept(ec, std::move(s));
  });
}

void ServerImpl::OnAccept(const error_code& ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || core_->stopping) return;
  if (ec) {
    if (ec == net::error::connection_aborted) {
      DoAccept();  // The peer gave up before we accepted it; nothing to back off from.
      return;
    }
    // EMFILE/ENFILE/ENOBUFS and anything unexpected: wait instead of spinning on the error.
    if (!backing_off_) {
      CD_LOG_WARN("http: accept failed ({}); retrying every {} ms", ec.message(),
                  kAcceptBackoff.count());
      backing_off_ = true;
    }
    backoff_timer_.expires_after(kAcceptBackoff);
    backoff_timer_.async_wait([this](const error_code& wait_ec) {
      if (!wait_ec) DoAccept();
    });
    return;
  }
  backing_off_ = false;
  error_code remote_ec;
  const tcp::endpoint remote = socket.remote_endpoint(remote_ec);
  std::string client = remote_ec ? std::string("unknown") : remote.address().to_string();
  if (!core_->TryAddConnection(client)) {
    ++core_->stats.connections_rejected;
    error_code ignored;
    socket.close(ignored);
  } else {
    ++core_->stats.connections_accepted;
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    StartSession(core_, std::move(socket), std::move(client));
  }
  DoAccept();
}

void ServerImpl::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  if (io_threads_.empty()) return;  // Never ran.

  core_->stopping = true;
  net::post(accept_strand_, [this] {
    error_code ignored;
    acceptor_.close(ignored);
    backoff_timer_.cancel();
  });
  core_->ForEachSession([](SessionBase& s) { s.RequestStop(); });
  auto deadline = std::chrono::steady_clock::now() + core_->options.drain_timeout;
  if (!core_->WaitForNoConnections(deadline)) {
    CD_LOG_WARN("http: drain deadline passed; closing the remaining connections");
    core_->force_closing = true;
    core_->ForEachSession([](SessionBase& s) { s.ForceClose(); });
  }
  // Handlers already running finish (a thread cannot be interrupted); queued ones are dropped.
  pool_->stop();
  pool_->join();
  work_.reset();
  ioc_.stop();
  for (std::thread& t : io_threads_) t.join();
  CD_LOG_INFO("http: stopped {}", url());
}

}  // namespace
}  // namespace internal

Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                                      Handler handler) {
  namespace net = boost::asio;
  if (!handler) return InvalidArgumentError("Server::Start: the handler is empty");
  RETURN_IF_ERROR(internal::ValidateOptions(options));
  ASSIGN_OR_RETURN(internal::ListenAddress listen, internal::SplitListenAddress(options.listen));

  net::ip::address address;
  if (EqualsIgnoreCaseAscii(listen.host, "localhost")) {
    address = net::ip::address_v4::loopback();
  } else {
    boost::system::error_code ec;
    address = net::ip::make_address(listen.host, ec);
    if (ec || address.is_v6() != listen.bracketed) {
      return InvalidArgumentError("listen address '" + options.listen +
                                  "' needs an IPv4 address, [IPv6] address or localhost");
    }
  }
  if (!options.tls && !address.is_loopback() && !options.allow_plain_non_loopback) {
    return FailedPreconditionError("refusing plain HTTP on non-loopback address '" +
                                   options.listen + "': configure TLS");
  }

  auto core = std::make_shared<internal::ServerCore>();
  core->options = options;
  core->handler = std::move(handler);
  if (options.tls) {
    ASSIGN_OR_RETURN(core->tls_context, internal::BuildTlsContext(*options.tls));
    core->client_cert_required = !options.tls->client_ca_file.empty();
  }
  std::string url_prefix = std::string(options.tls ? "https://" : "http://") +
                           (listen.bracketed ? "[" + listen.host + "]" : listen.host);
  auto server = std::make_unique<internal::ServerImpl>(core, std::move(url_prefix));
  RETURN_IF_ERROR(server->Listen(net::ip::tcp::endpoint(address, listen.port)));
  server->Run();
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace certdeploy::http
