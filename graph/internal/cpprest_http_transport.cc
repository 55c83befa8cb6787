// CpprestHttpTransport: HttpTransport over cpprestsdk's http_client (Boost.Asio + OpenSSL 3).
//
// The ONLY file of certdeploy that includes cpprest headers (each costs ~3.5 s of compile time and
// needs _TURN_OFF_PLATFORM_STRING to coexist with fmt; see build-notes.md). pplx tasks and
// http_exception never leave this file: every outcome becomes a Result.
//
// cpprest quirks handled here (build-notes.md section 3):
//   - Its timeout is an INACTIVITY timeout; a slow-drip peer could hold a request forever. The
//     total deadline is a cancellation token fired by the waiting thread.
//   - TLS failures arrive as http_exception with a packed OpenSSL error code in the generic
//     category ("Unknown error"); DescribeError decodes them.
//   - On a pooled keep-alive connection that the server closed, it silently resends the request.
//     Harmless for a GET, a duplicate for a POST whose response was lost: writes use a fresh
//     http_client (so a fresh connection) every time.
//   - The process-wide thread pool defaults to 40 threads (poor p99 on 2 cores); it is sized
//     once, before the first request.

#include <cpprest/http_client.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pplx/threadpool.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>

#include "base/log.h"
#include "base/mutex.h"
#include "base/strings.h"
#include "graph/http_transport.h"
#include "graph/internal/url.h"
#include "graph/retry_policy.h"

namespace certdeploy::graph {
namespace {

using web::http::http_request;
using web::http::http_response;
using web::http::client::http_client;
using web::http::client::http_client_config;

// Extra time given to cpprest to unwind after the deadline cancelled a request.
constexpr auto kCancelGrace = std::chrono::seconds(5);

// Shared between the waiting thread and the pplx continuations (which may outlive the wait).
struct SendState {
  Mutex mu;
  CondVar finished;
  bool done GUARDED_BY(mu) = false;
  Result<HttpResponse> result GUARDED_BY(mu) = InternalError("no result");
  std::atomic<bool> written{false};  // Request headers reached the socket.
  // Keeps a per-request client alive until completion. Set before the request starts.
  std::shared_ptr<http_client> client;

  void Finish(Result<HttpResponse> r) LOCKS_EXCLUDED(mu) {
    MutexLock lock(mu);
    result = std::move(r);
    done = true;
    finished.NotifyAll();
  }

  // Waits until Finish was called or `timeout` (real time) passed; returns `done`.
  bool AwaitDone(Duration timeout) REQUIRES(mu) {
    const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && finished.WaitUntil(mu, deadline)) {
    }
    return done;
  }
};

// Readable text for a cpprest error code: errno values and packed OpenSSL codes.
std::string DescribeError(int code) {
  const auto packed = static_cast<unsigned long>(code);
  if (ERR_GET_LIB(packed) != 0 && !ERR_SYSTEM_ERROR(packed)) {
    const char* reason = ERR_reason_error_string(packed);
    std::string text = std::string("TLS: ") + (reason ? reason : "unknown OpenSSL error");
    if (ERR_GET_LIB(packed) == ERR_LIB_SSL &&
        ERR_GET_REASON(packed) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
      text +=
          " (is the server certificate issued by a CA in the system store or in the "
          "configured extra CA file, and does it name this host?)";
    }
    return text;
  }
  return std::generic_category().message(code);
}

void InitThreadPoolOnce(size_t threads) {
  static std::once_flag once;
  static size_t first = 0;
  std::call_once(once, [threads] {
    first = threads;
    try {
      crossplat::threadpool::initialize_with_threads(threads);
    } catch (const std::exception& e) {
      CD_LOG_WARN("graph: cpprest thread pool already initialized elsewhere: {}", e.what());
    }
  });
  if (threads != first) {
    CD_LOG_WARN("graph: cpprest thread pool has {} threads; ignoring the request for {}", first,
                threads);
  }
}

class CpprestHttpTransport final : public HttpTransport {
 public:
  explicit CpprestHttpTransport(const TransportOptions& options) : options_(options) {}

  // HttpTransport:
  Result<HttpResponse> Send(const HttpRequest& request, Duration timeout) override {
    Result<internal::Url> url = internal::ParseUrl(request.url);
    if (!url.ok()) return url.status();
    const std::string what = request.method + " " + url->Origin() + std::string(url->Path());
    if (url->scheme == "http" && !IsLoopbackHost(url->host)) {
      return InvalidArgumentError(what +
                                  ": refusing plain http:// to a non-loopback host (the "
                                  "bearer token would travel in clear text); use https://");
    }
    if (timeout <= Duration::zero()) {
      return UnavailableError(what + ": no time left to send the request");
    }
    try {
      return SendOrThrow(request, *url, what, timeout);
    } catch (const std::exception& e) {
      // Synchronous failures (invalid URI, bad method) happen before anything is sent.
      return InvalidArgumentError(what + ": " + e.what());
    }
  }

 private:
  std::shared_ptr<http_client> MakeClient(const internal::Url& url, Duration timeout) const {
    http_client_config config;
    config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    config.set_validate_certificates(true);
    if (!options_.proxy_url.empty()) config.set_proxy(web::web_proxy(web::uri(options_.proxy_url)));
    const std::string ca_file = options_.extra_ca_file;
    config.set_ssl_context_callback([ca_file](boost::asio::ssl::context& context) {
      // cpprest already loaded the system store: the extra CA file is ADDED to it. Must not
      // throw anything but boost::system::system_error (cpprest would terminate).
      SSL_CTX* ctx = context.native_handle();
      if (!ca_file.empty() && SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
        ERR_clear_error();
      }
      SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    });
    return std::make_shared<http_client>(web::uri(url.Origin()), config);
  }

  std::shared_ptr<http_client> PooledClient(const internal::Url& url, Duration timeout) {
    // One client per origin and timeout, so keep-alive connections are reused by reads.
    const std::string key =
        url.Origin() + "|" +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
    MutexLock lock(mu_);
    auto it = clients_.find(key);
    if (it != clients_.end()) return it->second;
    if (clients_.size() > 64) clients_.clear();  // Bounded: timeouts vary with the deadline.
    return clients_[key] = MakeClient(url, timeout);
  }

  Result<HttpResponse> SendOrThrow(const HttpRequest& request, const internal::Url& url,
                                   const std::string& what, Duration timeout) {
    auto state = std::make_shared<SendState>();
    // Timeouts are rounded to whole milliseconds so that the pool key stays small.
    const Duration rounded = std::chrono::ceil<std::chrono::milliseconds>(timeout);
    state->client =
        IsSafeToResend(request.method) ? PooledClient(url, rounded) : MakeClient(url, rounded);

    http_request message(request.method);
    message.set_request_uri(web::uri(url.path_and_query));
    std::string content_type = "application/octet-stream";
    for (const auto& [name, value] : request.headers) {
      if (EqualsIgnoreCaseAscii(name, "Content-Type")) content_type = value;
      message.headers().add(name, value);
    }
    if (!request.Header("User-Agent")) message.headers().add("User-Agent", options_.user_agent);
    if (!request.body.empty()) message.set_body(request.body, content_type);
    std::weak_ptr<SendState> weak = state;
    message.set_progress_handler(
        [weak](web::http::message_direction::direction direction, utility::size64_t) {
          if (direction != web::http::message_direction::upload) return;
          if (auto s = weak.lock()) s->written = true;
        });

    const size_t max_bytes = options_.max_response_bytes;
    auto response = std::make_shared<HttpResponse>();
    pplx::cancellation_token_source cancel;
    state->client->request(message, cancel.get_token())
        .then([response, max_bytes](http_response r) {
          response->status = r.status_code();
          for (const auto& [name, value] : r.headers()) response->headers.emplace_back(name, value);
          if (r.headers().content_length() > max_bytes) {
            throw web::http::http_exception("response body too large");
          }
          return r.extract_vector();
        })
        .then([state, response, max_bytes](pplx::task<std::vector<unsigned char>> body) {
          // Task-based continuation: every exception of the chain is observed here.
          try {
            std::vector<unsigned char> bytes = body.get();
            if (bytes.size() > max_bytes)
              throw web::http::http_exception("response body too large");
            response->body.assign(bytes.begin(), bytes.end());
            state->Finish(std::move(*response));
          } catch (const web::http::http_exception& e) {
            std::string text = e.what();
            if (e.error_code().value() != 0) text += ": " + DescribeError(e.error_code().value());
            state->Finish(UnavailableError(std::move(text)));
          } catch (const pplx::task_canceled&) {
            state->Finish(UnavailableError("cancelled at the deadline"));
          } catch (const std::exception& e) {
            state->Finish(UnavailableError(e.what()));
          }
        });

    MutexLock lock(state->mu);
    bool timed_out = false;
    if (!state->AwaitDone(timeout)) {
      timed_out = true;
      cancel.cancel();  // Closes the socket; the continuation then reports and finishes.
      state->AwaitDone(kCancelGrace);
    }
    if (state->done && state->result.ok()) return std::move(state->result);
    const bool written = state->written.load();
    std::string why =
        timed_out
            ? "no complete response within " +
                  std::to_string(
                      std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
                  " ms"
            : std::string(state->result.status().message());
    if (written) {
      return UnknownOutcomeError(what + ": request sent, then " + why +
                                 "; the server may have processed it (outcome unknown)");
    }
    return UnavailableError(what + ": request not sent: " + why);
  }

  // Constant after construction.
  const TransportOptions options_;

  Mutex mu_;
  std::map<std::string, std::shared_ptr<http_client>> clients_ GUARDED_BY(mu_);
};

// True when `path` holds at least one PEM certificate.
bool HasPemCertificate(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return false;
  X509* cert = PEM_read_X509(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  ERR_clear_error();
  if (cert == nullptr) return false;
  X509_free(cert);
  return true;
}

}  // namespace

Result<std::unique_ptr<HttpTransport>> NewCpprestTransport(const TransportOptions& options) {
  if (!options.extra_ca_file.empty() && !HasPemCertificate(options.extra_ca_file)) {
    return InvalidArgumentError("extra CA file " + options.extra_ca_file +
                                " cannot be read or holds no PEM certificate");
  }
  if (options.thread_pool_size == 0) {
    return InvalidArgumentError("thread pool size must be at least 1");
  }
  if (!options.proxy_url.empty()) {
    Result<internal::Url> proxy = internal::ParseUrl(options.proxy_url);
    if (!proxy.ok()) return proxy.status().WithContext("proxy URL");
  }
  InitThreadPoolOnce(options.thread_pool_size);  // Before any http_client exists.
  return std::unique_ptr<HttpTransport>(new CpprestHttpTransport(options));
}

}  // namespace certdeploy::graph
