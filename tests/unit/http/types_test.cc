// Pure parts of the HTTP server: request-target decoding, query parameters, header lookup,
// listen-address parsing and the response factories. No sockets.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "http/server.h"
#include "http/internal/util.h"
#include "tests/support/status_matchers.h"

namespace certdeploy::http {
namespace {

using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Optional;

TEST(PercentDecodeTest, DecodesEscapesAndPlusOnlyWhenAsked) {
  EXPECT_THAT(::certdeploy::PercentDecode("a%20b%2Fc%2f", false), Optional(std::string("a b/c/")));
  EXPECT_THAT(::certdeploy::PercentDecode("a+b", false), Optional(std::string("a+b")));
  EXPECT_THAT(::certdeploy::PercentDecode("a+b%2B", true), Optional(std::string("a b+")));
  EXPECT_THAT(::certdeploy::PercentDecode("%C3%A9", true), Optional(std::string("\xC3\xA9")));
}

TEST(PercentDecodeTest, RejectsTruncatedOrNonHexEscapes) {
  EXPECT_EQ(::certdeploy::PercentDecode("abc%", false), std::nullopt);
  EXPECT_EQ(::certdeploy::PercentDecode("abc%4", false), std::nullopt);
  EXPECT_EQ(::certdeploy::PercentDecode("%zz", false), std::nullopt);
  EXPECT_EQ(::certdeploy::PercentDecode("%g0", true), std::nullopt);
}

TEST(DecodeRequestPathTest, RequiresLeadingSlashAndRejectsNul) {
  EXPECT_THAT(internal::DecodeRequestPath("/users/a%20b"), Optional(std::string("/users/a b")));
  EXPECT_THAT(internal::DecodeRequestPath("/a+b"), Optional(std::string("/a+b")));
  EXPECT_EQ(internal::DecodeRequestPath("users"), std::nullopt);
  EXPECT_EQ(internal::DecodeRequestPath(""), std::nullopt);
  EXPECT_EQ(internal::DecodeRequestPath("http://host/x"), std::nullopt);
  EXPECT_EQ(internal::DecodeRequestPath("/a%00b"), std::nullopt);
  EXPECT_EQ(internal::DecodeRequestPath("/a%zz"), std::nullopt);
}

TEST(ServerRequestTest, QueryParamDecodesPlusAndEscapes) {
  ServerRequest r;
  r.query = "%24filter=displayName+eq+%27a%26b%27&%24top=5&flag&empty=&dup=1&dup=2&bad=%zz";
  EXPECT_THAT(r.QueryParam("$filter"), Optional(std::string("displayName eq 'a&b'")));
  EXPECT_THAT(r.QueryParam("$top"), Optional(std::string("5")));
  EXPECT_THAT(r.QueryParam("flag"), Optional(std::string("")));
  EXPECT_THAT(r.QueryParam("empty"), Optional(std::string("")));
  EXPECT_THAT(r.QueryParam("dup"), Optional(std::string("1")));
  EXPECT_EQ(r.QueryParam("bad"), std::nullopt);
  EXPECT_EQ(r.QueryParam("missing"), std::nullopt);
  EXPECT_EQ(r.QueryParam("top"), std::nullopt);
}

TEST(ServerRequestTest, HeaderLookupIsCaseInsensitive) {
  ServerRequest r;
  r.headers.emplace("content-type", "application/json");
  EXPECT_THAT(r.Header("Content-Type"), Optional(std::string("application/json")));
  EXPECT_THAT(r.Header("content-type"), Optional(std::string("application/json")));
  EXPECT_EQ(r.Header("authorization"), std::nullopt);
}

TEST(ServerResponseTest, FactoriesSetContentType) {
  ServerResponse json = ServerResponse::Json(201, R"({"id":"1"})");
  EXPECT_EQ(json.status, 201);
  EXPECT_EQ(json.body, R"({"id":"1"})");
  EXPECT_EQ(json.headers.find("content-type")->second, "application/json");
  ServerResponse text = ServerResponse::Text(200, "ok");
  EXPECT_EQ(text.headers.find("content-type")->second, "text/plain; charset=utf-8");
  EXPECT_FALSE(text.drop_connection);
}

TEST(ServerResponseTest, ProblemIsEscapedProblemJson) {
  ServerResponse p = ServerResponse::Problem(422, "Unprocessable \"Entity\"", "line1\nbad\xFF");
  EXPECT_EQ(p.status, 422);
  EXPECT_EQ(p.headers.find("content-type")->second, "application/problem+json");
  nlohmann::json body = nlohmann::json::parse(p.body);  // Throws (fails the test) if invalid.
  EXPECT_EQ(body["type"], "about:blank");
  EXPECT_EQ(body["title"], "Unprocessable \"Entity\"");
  EXPECT_EQ(body["status"], 422);
  EXPECT_THAT(body["detail"].get<std::string>(), HasSubstr("line1\nbad"));
}

TEST(SplitListenAddressTest, AcceptsIpv4Ipv6AndLocalhost) {
  auto v4 = internal::SplitListenAddress("127.0.0.1:8443");
  ASSERT_THAT(v4, IsOk());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8443);
  EXPECT_FALSE(v4->bracketed);
  auto v6 = internal::SplitListenAddress("[::1]:0");
  ASSERT_THAT(v6, IsOk());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_TRUE(v6->bracketed);
  auto local = internal::SplitListenAddress("localhost:65535");
  ASSERT_THAT(local, IsOk());
  EXPECT_EQ(local->host, "localhost");
  EXPECT_EQ(local->port, 65535);
}

TEST(SplitListenAddressTest, RejectsMalformedAddresses) {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:65536", "1.2.3.4:x",
                          "::1:80", "[::1]", "[::1:80", "[::1]80", "host:-1", "host:80 "}) {
    EXPECT_THAT(internal::SplitListenAddress(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(HttpServerStartTest, RejectsBadAddressesAndOptions) {
  auto handler = [](const ServerRequest&) { return ServerResponse::Text(200, "x"); };
  ServerOptions options;
  options.listen = "not-an-ip:0";
  EXPECT_THAT(Server::Start(options, handler), StatusIs(StatusCode::kInvalidArgument));
  options.listen = "[127.0.0.1]:0";
  EXPECT_THAT(Server::Start(options, handler), StatusIs(StatusCode::kInvalidArgument));
  options.listen = "127.0.0.1:0";
  options.handler_threads = 0;
  EXPECT_THAT(Server::Start(options, handler), StatusIs(StatusCode::kInvalidArgument));
  options.handler_threads = 1;
  EXPECT_THAT(Server::Start(options, nullptr), StatusIs(StatusCode::kInvalidArgument));
}

TEST(HttpServerStartTest, RefusesPlainHttpOnNonLoopback) {
  auto handler = [](const ServerRequest&) { return ServerResponse::Text(200, "x"); };
  ServerOptions options;
  for (const char* listen : {"0.0.0.0:0", "[::]:0", "192.0.2.1:0"}) {
    options.listen = listen;
    EXPECT_THAT(Server::Start(options, handler),
                StatusIs(StatusCode::kFailedPrecondition, HasSubstr("TLS")))
        << listen;
  }
}

}  // namespace
}  // namespace certdeploy::http
