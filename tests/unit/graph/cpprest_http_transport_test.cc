// The real cpprest transport: security refusals without any network, and a few loopback exchanges
// with a tiny blocking raw-socket peer (port 0, 127.0.0.1 only).

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "graph/http_transport.h"
#include "tests/support/status_matchers.h"

// Debian's libcpprest is built with CPPREST_NO_SSL_LEAK_SUPPRESS: OpenSSL keeps per-thread state
// (about 1 KB per pool thread, bounded by the pool size) that LeakSanitizer reports after a TLS
// handshake on a cpprest thread (build-notes.md section 4, "Leaks and memory errors"). Only this
// binary is affected, and only allocations made under libcpprest frames are suppressed (which
// needs the slow unwinder: libcrypto has no frame pointers).
extern "C" const char* __lsan_default_suppressions() { return "leak:libcpprest.so\n"; }
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }

namespace certdeploy::graph {
namespace {

using certdeploy::testing::IsOk;
using certdeploy::testing::StatusIs;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<HttpTransport> Transport() {
  Result<std::unique_ptr<HttpTransport>> t = NewCpprestTransport(TransportOptions{});
  EXPECT_THAT(t, IsOk());
  return std::move(t).value();
}

TEST(CpprestTransportTest, RefusesPlainHttpToNonLoopbackHosts) {
  auto transport = Transport();
  for (const char* url : {"http://graph.microsoft.com/beta/users", "http://10.0.0.1/token",
                          "http://127.0.0.1.example.com/x", "http://[::2]/x"}) {
    HttpRequest request{"GET", url, {{"Authorization", "Bearer t"}}, "", false};
    EXPECT_THAT(transport->Send(request, seconds(1)),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("refusing plain http://")))
        << url;
  }
  HttpRequest relative{"GET", "/beta/users", {}, "", false};
  EXPECT_THAT(transport->Send(relative, seconds(1)), StatusIs(StatusCode::kInvalidArgument));
}

TEST(CpprestTransportTest, RecognizesLoopbackHosts) {
  for (const char* host : {"localhost", "LOCALHOST", "127.0.0.1", "127.255.0.9", "::1", "[::1]"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"128.0.0.1", "10.0.0.1", "::2", "localhost.example", "", "127.0.0"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(CpprestTransportTest, RejectsAnUnusableExtraCaFile) {
  TransportOptions options;
  options.extra_ca_file = "/nonexistent/ca.pem";
  EXPECT_THAT(NewCpprestTransport(options), StatusIs(StatusCode::kInvalidArgument));
  const std::string path = ::testing::TempDir() + "/graph_not_a_ca.pem";
  std::ofstream(path) << "hello";
  options.extra_ca_file = path;
  EXPECT_THAT(NewCpprestTransport(options),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no PEM certificate")));
  std::filesystem::remove(path);
}

// Accepts one connection on 127.0.0.1:0, reads one request, then answers, closes, or hangs.
class LoopbackPeer {
 public:
  // kGarbageFirst writes `response` right after accepting, without reading anything.
  enum class Mode { kRespond, kCloseAfterRequest, kHang, kGarbageFirst };

  LoopbackPeer(Mode mode, std::string response = "") : mode_(mode), response_(std::move(response)) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listener_, 4);
    socklen_t len = sizeof(addr);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackPeer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    close(listener_);
  }

  std::string Url(const std::string& path, const std::string& scheme = "http") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string request() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, seconds(10), [this] { return got_request_; });
    return request_;
  }

 private:
  void Serve() {
    pollfd p{listener_, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) return;
    int fd = accept(listener_, nullptr, nullptr);
    if (mode_ == Mode::kGarbageFirst) {
      ssize_t ignored = write(fd, response_.data(), response_.size());
      (void)ignored;
    }
    std::string data;
    char buf[4096];
    size_t need = std::string::npos;
    while (need == std::string::npos || data.size() < need) {
      pollfd q{fd, POLLIN, 0};
      if (poll(&q, 1, 10000) != 1) break;
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
      size_t end = data.find("\r\n\r\n");
      if (end != std::string::npos && need == std::string::npos) {
        // cpprest writes "Name:value" without a space.
        size_t length = 0;
        size_t cl = data.find("\r\nContent-Length:");
        if (cl != std::string::npos && cl < end) length = std::stoul(data.substr(cl + 17));
        need = end + 4 + length;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      request_ = data;
      got_request_ = true;
    }
    cv_.notify_all();
    if (mode_ == Mode::kRespond) {
      ssize_t ignored = write(fd, response_.data(), response_.size());
      (void)ignored;
    } else if (mode_ == Mode::kHang) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_; });
    }
    close(fd);
  }

  const Mode mode_;
  const std::string response_;
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool got_request_ = false;
  std::string request_;
};

TEST(CpprestTransportTest, ExchangesOverLoopbackKeepingTheEncodedTarget) {
  LoopbackPeer peer(LoopbackPeer::Mode::kRespond,
                    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                    "request-id: rid-1\r\nContent-Length: 11\r\nConnection: close\r\n\r\n"
                    "{\"ok\":true}");
  const std::string target = "/beta/users/o%27neil@contoso.com?$filter=a%20eq%20%27o%27%27b%27";
  HttpRequest request{"GET",
                      peer.Url(target),
                      {{"Authorization", "Bearer tok"}, {"client-request-id", "c-1"}},
                      "",
                      false};
  Result<HttpResponse> response = Transport()->Send(request, seconds(10));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->status, 404);  // Any status is a successful Send.
  EXPECT_EQ(response->body, "{\"ok\":true}");
  EXPECT_EQ(response->Header("Request-Id"), "rid-1");
  const std::string received = peer.request();
  EXPECT_THAT(received, ::testing::StartsWith("GET " + target + " HTTP/1.1\r\n"));
  EXPECT_THAT(received, HasSubstr("\r\nAuthorization:Bearer tok\r\n"));
  EXPECT_THAT(received, HasSubstr("\r\nclient-request-id:c-1\r\n"));
}

TEST(CpprestTransportTest, SendsTheBodyWithItsContentType) {
  LoopbackPeer peer(LoopbackPeer::Mode::kRespond,
                    "HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  HttpRequest request{
      "POST", peer.Url("/beta/x"), {{"Content-Type", "application/json"}}, R"({"a":1})", true};
  Result<HttpResponse> response = Transport()->Send(request, seconds(10));
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(response->status, 201);
  const std::string received = peer.request();
  EXPECT_THAT(received, HasSubstr("\r\nContent-Type:application/json\r\n"));
  EXPECT_THAT(received, ::testing::EndsWith("\r\n\r\n{\"a\":1}"));
}

TEST(CpprestTransportTest, ConnectionRefusedIsUnavailable) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);  // Nobody listens on this port now.
  HttpRequest request{
      "POST", "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/x", {}, "{}", false};
  EXPECT_THAT(Transport()->Send(request, seconds(10)),
              StatusIs(StatusCode::kUnavailable, HasSubstr("not sent")));
}

TEST(CpprestTransportTest, ConnectionLostAfterTheRequestIsAnUnknownOutcome) {
  LoopbackPeer peer(LoopbackPeer::Mode::kCloseAfterRequest);
  HttpRequest request{
      "POST", peer.Url("/beta/x"), {{"Content-Type", "application/json"}}, "{}", false};
  EXPECT_THAT(Transport()->Send(request, seconds(10)),
              StatusIs(StatusCode::kUnknownOutcome, HasSubstr("outcome unknown")));
}

TEST(CpprestTransportTest, DeadlineAfterTheRequestIsAnUnknownOutcome) {
  LoopbackPeer peer(LoopbackPeer::Mode::kHang);
  HttpRequest request{
      "PATCH", peer.Url("/beta/x"), {{"Content-Type", "application/json"}}, "{}", false};
  EXPECT_THAT(Transport()->Send(request, std::chrono::milliseconds(300)),
              StatusIs(StatusCode::kUnknownOutcome));
}

TEST(CpprestTransportTest, TlsFailuresAreDecodedAndUnavailable) {
  // A plain-HTTP answer to a ClientHello: OpenSSL fails the handshake ("wrong version number"),
  // which cpprest reports only as a packed error code.
  LoopbackPeer peer(LoopbackPeer::Mode::kGarbageFirst,
                    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  HttpRequest request{"POST", peer.Url("/beta/x", "https"), {}, "{}", false};
  Result<HttpResponse> response = Transport()->Send(request, seconds(10));
  EXPECT_THAT(response, StatusIs(StatusCode::kUnavailable, HasSubstr("TLS: ")));
  EXPECT_THAT(std::string(response.status().message()), Not(HasSubstr("Unknown error")));
}

}  // namespace
}  // namespace certdeploy::graph
