// The plain-HTTP server over real loopback sockets (port 0): round trips, keep-alive, limits,
// timeouts, the connection cap, faults and the graceful drain. Timeouts are configured in the
// hundreds of milliseconds; the tests only assert that the connection gets closed, never timings
// beyond generous upper bounds.

#include "http/server.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/support/status_matchers.h"
#include "tests/support/http_test_client.h"

namespace certdeploy::http {
namespace {

using ::certdeploy::http::testing::Eventually;
using ::certdeploy::http::testing::RawResponse;
using ::certdeploy::http::testing::TestClient;
using ::certdeploy::testing::IsOk;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Optional;

// Echoes what it saw: "<method> <path> <body>".
ServerResponse Echo(const ServerRequest& r) {
  return ServerResponse::Text(200, r.method + " " + r.path + " " + r.body);
}

std::unique_ptr<Server> StartOrDie(ServerOptions options, Handler handler) {
  auto server = Server::Start(options, std::move(handler));
  EXPECT_THAT(server, IsOk());
  return server.ok() ? std::move(*server) : nullptr;
}

std::string Get(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + extra_headers + "\r\n";
}

std::string Post(const std::string& target, const std::string& body) {
  return "POST " + target +
         " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

TEST(HttpServerTest, KeepAliveGetThenPostOnOneConnection) {
  auto server = StartOrDie({}, Echo);
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  EXPECT_EQ(server->url(), "http://127.0.0.1:" + std::to_string(server->port()));

  auto client = TestClient::Connect(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send(Get("/a")));
  std::optional<RawResponse> first = client->ReadResponse();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "GET /a ");
  EXPECT_EQ(first->Header("server"), "certdeploy");
  EXPECT_EQ(first->Header("content-length"), "7");
  EXPECT_EQ(first->Header("content-type"), "text/plain; charset=utf-8");
  EXPECT_NE(first->Header("connection"), "close");

  ASSERT_TRUE(client->Send(Post("/b", "hello")));
  std::optional<RawResponse> second = client->ReadResponse();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->body, "POST /b hello");

  ServerStats stats = server->stats();
  EXPECT_EQ(stats.connections_accepted, 1u);
  EXPECT_EQ(stats.requests, 2u);
}

TEST(HttpServerTest, ListensOnLocalhostAndIpv6Loopback) {
  ServerOptions options;
  options.listen = "localhost:0";
  auto local = StartOrDie(options, Echo);
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->url(), "http://localhost:" + std::to_string(local->port()));
  auto client = TestClient::Connect(local->port());  // localhost is 127.0.0.1.
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send(Get("/")));
  EXPECT_TRUE(client->ReadResponse().has_value());

  options.listen = "[::1]:0";
  auto v6 = Server::Start(options, Echo);
  if (!v6.ok() && v6.status().code() == StatusCode::kUnavailable) {
    GTEST_SKIP() << "no IPv6 loopback here: " << v6.status();
  }
  ASSERT_THAT(v6, IsOk());
  EXPECT_EQ((*v6)->url(), "http://[::1]:" + std::to_string((*v6)->port()));
}

TEST(HttpServerTest, PassesDecodedRequestToHandler) {
  std::mutex mu;
  ServerRequest seen;
  auto server = StartOrDie({}, [&](const ServerRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    seen = r;
    return ServerResponse::Json(200, "{}");
  });
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send(
      Get("/users/a%20b%2Bc?%24filter=name+eq+%27x%27&%24top=5", "X-Custom-Header: Value\r\n")));
  ASSERT_TRUE(client->ReadResponse().has_value());

  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/users/a%20b%2Bc?%24filter=name+eq+%27x%27&%24top=5");
  EXPECT_EQ(seen.path, "/users/a b+c");
  EXPECT_EQ(seen.query, "%24filter=name+eq+%27x%27&%24top=5");
  EXPECT_THAT(seen.QueryParam("$filter"), Optional(std::string("name eq 'x'")));
  EXPECT_THAT(seen.QueryParam("$top"), Optional(std::string("5")));
  EXPECT_THAT(seen.Header("X-CUSTOM-HEADER"), Optional(std::string("Value")));
  EXPECT_EQ(seen.headers.count("x-custom-header"), 1u);
  EXPECT_THAT(seen.peer, HasSubstr("127.0.0.1:"));
  EXPECT_EQ(seen.client_cert_subject, "");
}

TEST(HttpServerTest, OversizedContentLengthGets413WithoutSendingBody) {
  std::atomic<int> calls{0};
  ServerOptions options;
  options.body_limit = 1024;
  auto server = StartOrDie(options, [&](const ServerRequest& r) {
    ++calls;
    return Echo(r);
  });
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send(
      "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 104857600\r\n\r\n"));  // 100 MiB.
  std::optional<RawResponse> response = client->ReadResponse(milliseconds(3000));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->Header("content-type"), "application/problem+json");
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_THAT(response->body, HasSubstr("\"status\":413"));
  EXPECT_TRUE(client->WaitForClose());
  EXPECT_EQ(calls.load(), 0);
  EXPECT_EQ(server->stats().rejected_too_large, 1u);
}

TEST(HttpServerTest, OversizedChunkedBodyGets413) {
  ServerOptions options;
  options.body_limit = 1024;
  auto server = StartOrDie(options, Echo);
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  std::string chunk(2000, 'x');
  ASSERT_TRUE(
      client->Send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "7d0\r\n" +
                   chunk + "\r\n0\r\n\r\n"));
  std::optional<RawResponse> response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(client->WaitForClose());
}

TEST(HttpServerTest, ChunkedBodyWithinLimitIsAssembled) {
  auto server = StartOrDie({}, Echo);
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(
      client->Send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  std::optional<RawResponse> response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "POST /c abcde");
}

TEST(HttpServerTest, HugeHeaderGets431) {
  ServerOptions options;
  options.header_limit = 1024;
  auto server = StartOrDie(options, Echo);
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send(Get("/", "X-Big: " + std::string(4096, 'a') + "\r\n")));
  std::optional<RawResponse> response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 431);
  EXPECT_TRUE(client->WaitForClose());
  EXPECT_EQ(server->stats().rejected_too_large, 1u);
}

TEST(HttpServerTest, HeaderLimitHoldsWhenTheWholeHeaderArrivesInOneWrite) {
  ServerOptions options;  // header_limit 16 KiB
  auto server = StartOrDie(options, Echo);
  ASSERT_NE(server, nullptr);
  std::string fields;
  for (int i = 0; i < 300; ++i) fields += "X-H" + std::to_string(i) + ": " + std::string(90, 'v') + "\r\n";
  ASSERT_GT(fields.size(), options.header_limit);
  ASSERT_LT(fields.size(), 2 * options.header_limit);  // What Beast alone lets through.
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send(Get("/", fields)));  // One write.
  std::optional<RawResponse> response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 431);
  // Just under the limit is served.
  auto ok = TestClient::Connect(server->port());
  const size_t cut = fields.find("X-H150:");  // 150 whole fields, about 14.9 KB.
  ASSERT_TRUE(ok->Send(Get("/", fields.substr(0, cut))));
  std::optional<RawResponse> served = ok->ReadResponse();
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ(served->status, 200);
}

TEST(HttpServerTest, OversizedTrailerGets431InsteadOfADroppedConnection) {
  auto server = StartOrDie({}, Echo);
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  const std::string request =
      "POST /t HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
      "X-Trailer: " + std::string(70 * 1024, 'a') + "\r\n\r\n";
  client->Send(request);  // The server may answer and close before it has read everything.
  std::optional<RawResponse> response = client->ReadResponse();
  ASSERT_TRUE(response.has_value()) << "the connection was dropped without an answer";
  EXPECT_EQ(response->status, 431);
  // The server is still serving.
  auto next = TestClient::Connect(server->port());
  ASSERT_TRUE(next->Send(Get("/after")));
  std::optional<RawResponse> after = next->ReadResponse();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->status, 200);
}

TEST(HttpServerTest, TrailerFieldsCountTowardTheHeaderLimit) {
  ServerOptions options;
  options.header_limit = 4096;
  auto server = StartOrDie(options, Echo);
  ASSERT_NE(server, nullptr);
  auto chunked = [](const std::string& header_pad, const std::string& trailer_pad) {
    return "POST /t HTTP/1.1\r\nHost: t\r\nX-Pad: " + header_pad +
           "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: " + trailer_pad +
           "\r\n\r\n";
  };
  // Each part alone is under 4096 bytes; together they are not.
  auto over = TestClient::Connect(server->port());
  over->Send(chunked(std::string(2500, 'h'), std::string(2500, 't')));
  std::optional<RawResponse> refused = over->ReadResponse();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 431);
  auto under = TestClient::Connect(server->port());
  ASSERT_TRUE(under->Send(chunked(std::string(1000, 'h'), std::string(1000, 't'))));
  std::optional<RawResponse> served = under->ReadResponse();
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ(served->status, 200);
  EXPECT_EQ(served->body, "POST /t hello");
}

TEST(HttpServerTest, HeaderLimitAboveTheParserMaximumIsRefused) {
  ServerOptions options;
  options.header_limit = kMaxHeaderLimit + 1;
  EXPECT_EQ(Server::Start(options, Echo).status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpServerTest, GarbageAndBadPathsGet400AndClose) {
  auto server = StartOrDie({}, Echo);
  ASSERT_NE(server, nullptr);
  for (std::string bad : {std::string("GARBAGE\x01 nonsense\r\n\r\n"),
                          std::string("GET /a%00b HTTP/1.1\r\nHost: t\r\n\r\n"),
                          std::string("GET /a%zz HTTP/1.1\r\nHost: t\r\n\r\n"),
                          std::string("GET http://evil/x HTTP/1.1\r\nHost: t\r\n\r\n"),
                          std::string("POST / HTTP/1.1\r\nContent-Length: 1\r\n"
                                      "Content-Length: 2\r\n\r\nab")}) {
    auto client = TestClient::Connect(server->port());
    ASSERT_TRUE(client->Send(bad));
    std::optional<RawResponse> response = client->ReadResponse();
    ASSERT_TRUE(response.has_value()) << bad;
    EXPECT_EQ(response->status, 400) << bad;
    EXPECT_EQ(response->Header("connection"), "close");
    EXPECT_TRUE(client->WaitForClose()) << bad;
  }
  EXPECT_EQ(server->stats().bad_requests, 5u);
  EXPECT_EQ(server->stats().requests, 0u);
}

TEST(HttpServerTest, ExpectContinueGets100BeforeBody) {
  auto server = StartOrDie({}, Echo);
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send(
      "POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  std::optional<RawResponse> interim = client->ReadResponse();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client->Send("body"));
  std::optional<RawResponse> response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "POST /e body");
}

TEST(HttpServerTest, HeadAndHttp10) {
  auto server = StartOrDie({}, Echo);
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::optional<RawResponse> head = client->ReadResponse(milliseconds(5000), /*head=*/true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->Header("content-length"), "8");           // "HEAD /h "
  ASSERT_TRUE(client->Send("GET /next HTTP/1.0\r\n\r\n"));  // HTTP/1.0: not kept alive.
  std::optional<RawResponse> next = client->ReadResponse();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "GET /next ");  // Proves HEAD sent no body bytes.
  EXPECT_EQ(next->Header("connection"), "close");
  EXPECT_TRUE(client->WaitForClose());
}

TEST(HttpServerTest, IdleKeepAliveConnectionIsClosed) {
  ServerOptions options;
  options.idle_timeout = milliseconds(200);
  options.read_timeout = milliseconds(20000);  // So only the idle timeout can close it.
  auto server = StartOrDie(options, Echo);
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send(Get("/")));
  ASSERT_TRUE(client->ReadResponse().has_value());
  EXPECT_TRUE(client->WaitForClose(milliseconds(5000)));
}

TEST(HttpServerTest, SlowDripBodyIsCutByReadTimeout) {
  ServerOptions options;
  options.read_timeout = milliseconds(300);
  options.idle_timeout = milliseconds(20000);
  auto server = StartOrDie(options, Echo);
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send("POST /s HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n"));
  // One byte every 50 ms keeps every single read short, but the whole request is too slow.
  bool closed = false;
  for (int i = 0; i < 60 && !closed; ++i) {
    closed = !client->Send("x") || client->WaitForClose(milliseconds(50));
  }
  EXPECT_TRUE(closed);
  EXPECT_EQ(client->pending(), "");  // No response for a request that never completed.
  EXPECT_TRUE(Eventually([&] { return server->stats().timeouts == 1; }));
}

TEST(HttpServerTest, ConnectionsOverTheCapAreClosed) {
  ServerOptions options;
  options.max_connections = 2;
  auto server = StartOrDie(options, Echo);
  ASSERT_NE(server, nullptr);
  auto a = TestClient::Connect(server->port());
  auto b = TestClient::Connect(server->port());
  ASSERT_TRUE(a->Send(Get("/a")));  // Make sure both are accepted before the third.
  ASSERT_TRUE(a->ReadResponse().has_value());
  ASSERT_TRUE(b->Send(Get("/b")));
  ASSERT_TRUE(b->ReadResponse().has_value());

  auto c = TestClient::Connect(server->port());
  ASSERT_NE(c, nullptr);  // The kernel completes the handshake; the server then closes it.
  EXPECT_TRUE(c->WaitForClose());
  EXPECT_EQ(c->pending(), "");
  EXPECT_TRUE(Eventually([&] { return server->stats().connections_rejected == 1; }));

  // Freeing a slot lets a new connection in.
  a.reset();
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    auto d = TestClient::Connect(server->port());
    served = d->Send(Get("/d")) && d->ReadResponse(milliseconds(200)).has_value();
  }
  EXPECT_TRUE(served);
}

// A TCP socket bound to `address` (a loopback address other than 127.0.0.1), not connected.
int SocketFrom(const char* address) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, address, &local.sin_addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)), 0);
  return fd;
}

TEST(HttpServerTest, OneClientCannotTakeEveryConnectionSlot) {
  ServerOptions options;
  options.max_connections = 10;
  options.max_connections_per_client = 2;
  auto server = StartOrDie(options, Echo);
  ASSERT_NE(server, nullptr);
  auto a = TestClient::Connect(server->port());
  auto b = TestClient::Connect(server->port());
  ASSERT_TRUE(a->Send(Get("/a")) && a->ReadResponse().has_value());
  ASSERT_TRUE(b->Send(Get("/b")) && b->ReadResponse().has_value());
  auto c = TestClient::Connect(server->port());  // A third from 127.0.0.1: closed at once.
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->WaitForClose());
  EXPECT_TRUE(Eventually([&] { return server->stats().connections_rejected == 1; }));
  // Another address is served meanwhile.
  auto other = TestClient::Connect(server->port(), SocketFrom("127.0.0.2"));
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->Send(Get("/other")));
  std::optional<RawResponse> served = other->ReadResponse();
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ(served->status, 200);
  // Closing one of the first client's connections gives it its slot back.
  a.reset();
  bool again = false;
  for (int i = 0; i < 50 && !again; ++i) {
    auto d = TestClient::Connect(server->port());
    again = d->Send(Get("/d")) && d->ReadResponse(milliseconds(200)).has_value();
  }
  EXPECT_TRUE(again);
}

TEST(HttpServerTest, AcceptBacksOffOnEmfileAndRecovers) {
  auto server = StartOrDie({}, Echo);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  // Client sockets exist before the limit drops, so only the server's accept() needs a new fd.
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) fds.push_back(::socket(AF_INET, SOCK_STREAM, 0));
  int lowest_free = ::fcntl(0, F_DUPFD, 0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(lowest_free);  // No new descriptor can be created.
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);

  std::vector<std::unique_ptr<TestClient>> clients;
  for (int fd : fds) {
    clients.push_back(TestClient::Connect(port, fd));  // Completes in the backlog.
    if (clients.back() != nullptr) clients.back()->Send(Get("/emfile"));
  }
  // While accept() fails with EMFILE the server must wait between retries, not spin.
  rusage before{}, after{};
  ::getrusage(RUSAGE_SELF, &before);
  std::this_thread::sleep_for(milliseconds(300));
  ::getrusage(RUSAGE_SELF, &after);
  uint64_t accepted_while_exhausted = server->stats().connections_accepted;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  // accept() really failed meanwhile. (Not "== 0": a descriptor freed elsewhere in the process,
  // or a stray connection from another process reusing the port, could let one through.)
  EXPECT_LT(accepted_while_exhausted, fds.size());
  auto cpu = [](const rusage& u) {
    return std::chrono::seconds(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           std::chrono::microseconds(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  };
  EXPECT_LT(cpu(after) - cpu(before), milliseconds(150));

  // Once descriptors are available again the waiting connections are served.
  for (auto& client : clients) {
    ASSERT_NE(client, nullptr);
    std::optional<RawResponse> response = client->ReadResponse(milliseconds(3000));
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->body, "GET /emfile ");
  }
}

TEST(HttpServerTest, DropConnectionClosesWithoutResponse) {
  auto server = StartOrDie({}, [](const ServerRequest&) {
    ServerResponse r = ServerResponse::Json(201, "{}");
    r.drop_connection = true;
    return r;
  });
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send(Post("/lost", "{}")));
  EXPECT_TRUE(client->WaitForClose());
  EXPECT_EQ(client->pending(), "");
  EXPECT_EQ(server->stats().requests, 1u);
}

TEST(HttpServerTest, HandlerExceptionBecomes500) {
  auto server = StartOrDie({}, [](const ServerRequest& r) -> ServerResponse {
    if (r.path == "/throw") throw std::runtime_error("secret-password-in-message");
    return Echo(r);
  });
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send(Get("/throw")));
  std::optional<RawResponse> response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->Header("content-type"), "application/problem+json");
  EXPECT_THAT(response->body, ::testing::Not(HasSubstr("secret-password")));
  ASSERT_TRUE(client->Send(Get("/ok")));  // The server and the connection survive.
  std::optional<RawResponse> next = client->ReadResponse();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->status, 200);
}

TEST(HttpServerTest, SlowHandlerDoesNotBlockIo) {
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 2;
  std::promise<void> fast_done;
  std::shared_future<void> fast_done_future = fast_done.get_future().share();
  auto server = StartOrDie(options, [&](const ServerRequest& r) {
    if (r.path == "/slow") {
      // Blocks until the other request was served: impossible if handlers ran on the I/O thread.
      bool ok = fast_done_future.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
      return ServerResponse::Text(ok ? 200 : 504, "slow");
    }
    return ServerResponse::Text(200, "fast");
  });
  ASSERT_NE(server, nullptr);
  auto slow = TestClient::Connect(server->port());
  ASSERT_TRUE(slow->Send(Get("/slow")));
  auto fast = TestClient::Connect(server->port());
  ASSERT_TRUE(fast->Send(Get("/fast")));
  std::optional<RawResponse> fast_response = fast->ReadResponse();
  ASSERT_TRUE(fast_response.has_value());
  fast_done.set_value();
  std::optional<RawResponse> slow_response = slow->ReadResponse();
  ASSERT_TRUE(slow_response.has_value());
  EXPECT_EQ(slow_response->status, 200);
}

TEST(HttpServerTest, StopDrainsInFlightRequestAndClosesIdleConnections) {
  ServerOptions options;
  options.drain_timeout = milliseconds(5000);
  std::promise<void> entered;
  auto server = StartOrDie(options, [&](const ServerRequest& r) {
    if (r.path == "/slow") {
      entered.set_value();
      std::this_thread::sleep_for(milliseconds(300));
    }
    return Echo(r);
  });
  ASSERT_NE(server, nullptr);
  int port = server->port();
  auto idle = TestClient::Connect(port);
  ASSERT_TRUE(idle->Send(Get("/warmup")));
  ASSERT_TRUE(idle->ReadResponse().has_value());

  auto busy = TestClient::Connect(port);
  ASSERT_TRUE(busy->Send(Get("/slow")));
  entered.get_future().wait();
  auto started = std::chrono::steady_clock::now();
  server->Stop();
  // Well under drain_timeout: the idle connection did not hold the drain up.
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(4000));

  std::optional<RawResponse> response = busy->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "GET /slow ");
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_TRUE(idle->WaitForClose(milliseconds(1000)));
  EXPECT_EQ(TestClient::Connect(port), nullptr);  // No longer listening.
  server->Stop();                                 // Idempotent.
}

TEST(HttpServerTest, StopClosesConnectionsStillBusyAtTheDrainDeadline) {
  ServerOptions options;
  options.drain_timeout = milliseconds(100);
  std::promise<void> entered;
  auto server = StartOrDie(options, [&](const ServerRequest&) {
    entered.set_value();
    std::this_thread::sleep_for(milliseconds(600));
    return ServerResponse::Text(200, "late");
  });
  ASSERT_NE(server, nullptr);
  auto busy = TestClient::Connect(server->port());
  ASSERT_TRUE(busy->Send(Get("/slow")));
  entered.get_future().wait();
  server->Stop();  // Returns once the running handler finished; its response is dropped.
  EXPECT_TRUE(busy->WaitForClose(milliseconds(1000)));
  EXPECT_EQ(busy->pending(), "");
}

}  // namespace
}  // namespace certdeploy::http
