// http/internal/session.cc: one HTTP/1.1 connection, plain or TLS, on Boost.Beast.
//
// The only translation unit that includes Beast. A session runs on its own strand and goes
//   [TLS handshake] -> wait for the first byte of a request (idle timeout, or read timeout for
//   the first request) -> read the header -> 413/431/400 or [100 Continue] -> read the body ->
//   run the handler on the worker pool -> write the response -> keep-alive or close.
// The read deadline is set once when the request starts and covers header and body together, so
// a slow drip (slowloris) cannot stretch a request past read_timeout.

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "base/log.h"
#include "base/secret.h"
#include "base/strings.h"
#include "http/server.h"
#include "http/internal/server_core.h"
#include "http/internal/util.h"

namespace certdeploy::http::internal {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

constexpr size_t kReadChunk = 16 * 1024;  // Also the flat_buffer reservation (see build notes).
constexpr size_t kLingerBytes = 1 << 20;  // Discarded after an error response before closing.
constexpr std::chrono::milliseconds kMaxLinger{1000};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

std::string ToStd(beast::string_view s) { return std::string(s.data(), s.size()); }

std::string EndpointText(const tcp::endpoint& ep) {
  std::string addr = ep.address().to_string();
  if (ep.address().is_v6()) addr = "[" + addr + "]";
  return addr + ":" + std::to_string(ep.port());
}

// The subject in RFC 2253 form ("CN=alice,O=Contoso"), or "" on failure.
std::string SubjectOf(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return "";
  std::string out;
  if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    if (len > 0) out.assign(data, static_cast<size_t>(len));
  }
  BIO_free(bio);
  return out;
}

// Fills `out` from a parsed request, moving the body. False when the target is not a valid
// origin-form path (absolute-form, "*", bad escape, NUL).
bool ToServerRequest(Request& msg, ServerRequest& out) {
  out.method = ToStd(msg.method_string());
  out.target = ToStd(msg.target());
  std::string_view target = out.target;
  size_t q = target.find('?');
  std::optional<std::string> path = DecodeRequestPath(target.substr(0, q));
  if (!path) return false;
  out.path = std::move(*path);
  out.query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
  for (const auto& field : msg) {
    out.headers.emplace(AsciiToLower(ToStd(field.name_string())), ToStd(field.value()));
  }
  out.body = std::move(msg.body());
  return true;
}

// The size of the request line and every field (header and trailer) as sent.
size_t FieldBytes(const Request& msg) {
  size_t n = msg.method_string().size() + msg.target().size() + 12;  // " HTTP/1.1\r\n"
  for (const auto& field : msg) n += field.name_string().size() + field.value().size() + 4;
  return n + 2;
}

bool IsValidResponse(const ServerResponse& r) {
  if (r.status < 200 || r.status > 599) return false;
  for (const auto& [name, value] : r.headers) {
    if (name.empty() || name.find_first_of(": \t") != std::string::npos ||
        !IsSafeHeaderText(name) || !IsSafeHeaderText(value)) {
      return false;
    }
  }
  return true;
}

enum class State { kHandshake, kWaiting, kReading, kHandling, kWriting, kClosing, kClosed };

template <bool kTls>
class Session final : public SessionBase {
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

 public:
  Session(std::shared_ptr<ServerCore> core, tcp::socket&& socket, std::string peer,
          std::string client)
      : core_(std::move(core)),
        opts_(core_->options),
        stream_(MakeStream(*core_, std::move(socket))),
        executor_(stream_.get_executor()),
        peer_(std::move(peer)),
        client_(std::move(client)),
        // Bounded: the unparsed bytes of a header or a trailer must fit (larger: 431). This is
        // what keeps a trailer field from reaching Beast's 64 KiB field size, which throws.
        buffer_(opts_.header_limit + kReadChunk) {
    buffer_.reserve(kReadChunk);
  }
  ~Session() override { core_->RemoveConnection(id_, client_); }

  void Start(uint64_t id) {
    id_ = id;
    net::dispatch(executor_, [self = Self()] { self->Begin(); });
  }

  // SessionBase
  void RequestStop() override {
    net::post(executor_, [self = Self()] {
      self->stop_requested_ = true;
      if (self->state_ == State::kWaiting || self->state_ == State::kHandshake) self->Close();
    });
  }
  void ForceClose() override {
    net::post(executor_, [self = Self()] { self->Close(); });
  }

 private:
  static Stream MakeStream(ServerCore& core, tcp::socket&& socket) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *core.tls_context);
    } else {
      return Stream(std::move(socket));
    }
  }

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  void Begin() {
    if constexpr (kTls) {
      state_ = State::kHandshake;
      Tcp().expires_after(opts_.handshake_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = Self()](error_code ec) { self->OnHandshake(ec); });
    } else {
      WaitForRequest();
    }
  }

  void OnHandshake(error_code ec) {
    if (state_ == State::kClosed) return;
    if (ec) {
      ++core_->stats.tls_handshake_failures;
      if (ec == beast::error::timeout) ++core_->stats.timeouts;
      CD_LOG_DEBUG("http: TLS handshake with {} failed: {}", peer_, ec.message());
      return Close();
    }
    if constexpr (kTls) {
      if (core_->client_cert_required) {
        SSL* native = stream_.native_handle();
        X509* cert = SSL_get0_peer_certificate(native);
        if (cert != nullptr && SSL_get_verify_result(native) == X509_V_OK) {
          client_subject_ = SubjectOf(cert);
        }
      }
    }
    WaitForRequest();
  }

  // Waits for the first byte of the next request, or parses pipelined bytes already buffered.
  void WaitForRequest() {
    if (stop_requested_ || core_->stopping) return CloseAfterResponse();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(opts_.header_limit));
    parser_->body_limit(static_cast<std::uint64_t>(opts_.body_limit));
    version_ = 11;
    head_ = false;
    if (buffer_.size() > 0) return ReadHeader();
    state_ = State::kWaiting;
    Tcp().expires_after(first_request_ ? opts_.read_timeout : opts_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadChunk), [self = Self()](error_code ec, size_t n) {
      self->OnFirstBytes(ec, n);
    });
  }

  void OnFirstBytes(error_code ec, size_t n) {
    if (state_ == State::kClosed) return;
    if (ec) {
      // An idle keep-alive connection expiring is routine; a silent new connection is not.
      if (ec == beast::error::timeout && first_request_) ++core_->stats.timeouts;
      return Close();
    }
    buffer_.commit(n);
    ReadHeader();
  }

  void ReadHeader() {
    state_ = State::kReading;
    Tcp().expires_after(opts_.read_timeout);  // Covers header and body together.
    http::async_read_header(stream_, buffer_, *parser_, [self = Self()](error_code ec, size_t n) {
      self->OnHeader(ec, n);
    });
  }

  // `n`: the bytes the parser took for the request line and header fields. Beast's own limit
  // lets up to twice header_limit through when they arrive at once; this check does not.
  void OnHeader(error_code ec, size_t n) {
    if (state_ == State::kClosed) return;
    if (ec) return OnReadError(ec);
    if (n > opts_.header_limit) return OnReadError(http::error::header_limit);
    const Request& msg = parser_->get();
    version_ = msg.version() == 10 ? 10 : 11;
    head_ = msg.method() == http::verb::head;
    auto expect = msg.find(http::field::expect);
    if (expect != msg.end() && !parser_->is_done() && msg.version() >= 11 &&
        beast::iequals(expect->value(), "100-continue")) {
      // The write shares the read deadline set in ReadHeader.
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = Self()](error_code wec, size_t) {
                         if (self->state_ == State::kClosed) return;
                         if (wec) return self->Close();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return Dispatch();
    http::async_read(stream_, buffer_, *parser_, [self = Self()](error_code ec, size_t) {
      if (self->state_ == State::kClosed) return;
      if (ec) return self->OnReadError(ec);
      self->Dispatch();
    });
  }

  void OnReadError(error_code ec) {
    if (ec == http::error::body_limit) {
      ++core_->stats.rejected_too_large;
      return SendError(413, "Payload Too Large",
                       "The request body exceeds " + std::to_string(opts_.body_limit) + " bytes.");
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      ++core_->stats.rejected_too_large;
      return SendError(431, "Request Header Fields Too Large",
                       "The request header (or a chunked body's trailer) exceeds " +
                           std::to_string(opts_.header_limit) + " bytes.");
    }
    if (ec == beast::error::timeout) {
      ++core_->stats.timeouts;
      return Close();  // Beast already closed the socket.
    }
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      ++core_->stats.bad_requests;
      return SendError(400, "Bad Request", "The request is not valid HTTP/1.1.");
    }
    Close();  // The peer went away (EOF, reset, TLS truncation).
  }

  void Dispatch() {
    Request& msg = parser_->get();
    // Trailer fields join the header fields; together they are held to header_limit too.
    if (FieldBytes(msg) > opts_.header_limit) return OnReadError(http::error::header_limit);
    request_keep_alive_ = msg.keep_alive();
    ServerRequest request;
    if (!ToServerRequest(msg, request)) {
      ++core_->stats.bad_requests;
      return SendError(400, "Bad Request", "The request target is not a valid path.");
    }
    parser_.reset();
    request.peer = peer_;
    request.client_cert_subject = client_subject_;
    ++core_->stats.requests;
    state_ = State::kHandling;
    // The handler runs on the worker pool; its response comes back to this session's strand.
    net::post(*core_->handler_pool, [self = Self(), request = std::move(request)]() mutable {
      ServerResponse response = self->core_->Invoke(request);
      // Bodies may carry a PFX password (POST /v1/enrollments): wipe the copy handlers saw.
      SecureWipe(request.body.data(), request.body.size());
      net::post(self->executor_, [self, response = std::move(response)]() mutable {
        self->OnHandled(std::move(response));
      });
    });
  }

  void OnHandled(ServerResponse response) {
    if (state_ == State::kClosed) return;
    if (response.drop_connection) return Close();
    bool close = !request_keep_alive_ || stop_requested_ || core_->stopping;
    WriteResponse(std::move(response), close);
  }

  void SendError(int status, std::string_view title, const std::string& detail) {
    request_keep_alive_ = false;
    WriteResponse(ServerResponse::Problem(status, title, detail), /*close=*/true);
  }

  void WriteResponse(ServerResponse r, bool close) {
    if (!IsValidResponse(r)) {
      CD_LOG_ERROR("http: handler returned an invalid response (status {})", r.status);
      r = ServerResponse::Problem(500, "Internal Server Error",
                                  "The server produced an invalid response.");
    }
    response_.emplace();
    Response& res = *response_;
    res.version(version_);
    res.result(static_cast<unsigned>(r.status));
    for (const auto& [name, value] : r.headers) {
      std::string lower = AsciiToLower(name);
      if (lower == "content-length" || lower == "transfer-encoding" || lower == "connection" ||
          lower == "server") {
        continue;  // Framing headers belong to the server.
      }
      res.insert(name, value);
    }
    res.set(http::field::server, "certdeploy");
    if (r.status == 204 || r.status == 304) {
      // No body and no Content-Length for these.
    } else if (head_) {
      res.content_length(r.body.size());
    } else {
      res.body() = std::move(r.body);
      res.content_length(res.body().size());
    }
    res.keep_alive(!close);
    if (close) res.set(http::field::connection, "close");

    state_ = State::kWriting;
    close_after_write_ = close;
    Tcp().expires_after(opts_.write_timeout);
    http::async_write(stream_, res, [self = Self()](error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(error_code ec) {
    if (state_ == State::kClosed) return;
    response_.reset();
    if (ec) {
      if (ec == beast::error::timeout) ++core_->stats.timeouts;
      return Close();
    }
    if (close_after_write_) return CloseAfterResponse();
    first_request_ = false;
    WaitForRequest();
  }

  // Orderly close after a final response: TLS close_notify, or for plain TCP a half-close and
  // a bounded read-and-discard so that unread request bytes do not turn the FIN into an RST
  // that could destroy the response before the client reads it.
  void CloseAfterResponse() {
    state_ = State::kClosing;
    Tcp().expires_after(std::min<std::chrono::milliseconds>(kMaxLinger, opts_.write_timeout));
    if constexpr (kTls) {
      stream_.async_shutdown([self = Self()](error_code) { self->Close(); });
    } else {
      error_code ignored;
      Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
      buffer_.clear();
      lingered_ = 0;
      DiscardInput();
    }
  }

  void DiscardInput() {
    stream_.async_read_some(buffer_.prepare(kReadChunk), [self = Self()](error_code ec, size_t n) {
      if (self->state_ == State::kClosed) return;
      self->lingered_ += n;
      if (ec || self->lingered_ > kLingerBytes) return self->Close();
      self->DiscardInput();
    });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Tcp().close();
  }

  const std::shared_ptr<ServerCore> core_;
  const ServerOptions& opts_;  // Owned by core_.
  Stream stream_;
  const net::any_io_executor executor_;  // The connection's strand.
  const std::string peer_;
  const std::string client_;  // The peer's address without the port.
  uint64_t id_ = 0;

  // Everything below is used only on the strand.
  State state_ = State::kWaiting;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<Response> response_;
  std::string client_subject_;
  unsigned version_ = 11;
  bool head_ = false;
  bool request_keep_alive_ = false;
  bool first_request_ = true;
  bool close_after_write_ = false;
  bool stop_requested_ = false;
  size_t lingered_ = 0;
};

template <bool kTls>
void StartTyped(const std::shared_ptr<ServerCore>& core, tcp::socket socket, std::string peer,
                std::string client) {
  auto session = std::make_shared<Session<kTls>>(core, std::move(socket), std::move(peer),
                                                 std::move(client));
  session->Start(core->Register(session));
}

}  // namespace

void StartSession(const std::shared_ptr<ServerCore>& core, tcp::socket socket,
                  std::string client) {
  error_code ec;
  tcp::endpoint remote = socket.remote_endpoint(ec);
  std::string peer = ec ? std::string("unknown") : EndpointText(remote);
  try {
    if (core->tls_context) {
      StartTyped<true>(core, std::move(socket), std::move(peer), client);
    } else {
      StartTyped<false>(core, std::move(socket), std::move(peer), client);
    }
  } catch (const std::exception& e) {
    // Only SSL_new failing (out of memory) gets here; the session never existed.
    CD_LOG_ERROR("http: cannot start a session: {}", e.what());
    core->RemoveConnection(0, client);
  }
}

}  // namespace certdeploy::http::internal
