// GraphClient retry loop on a fake transport and FakeClock: exact delays and request sequences.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "graph/graph_client.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_http_transport.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/graph/graph_test_util.h"

namespace certdeploy::graph {
namespace {

using certdeploy::testing::FakeClock;
using certdeploy::testing::FakeHttpTransport;
using certdeploy::testing::IsOk;
using certdeploy::testing::Response;
using certdeploy::testing::StatusIs;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kPath[] = "/deviceManagement/deviceConfigurations";
constexpr char kUrl[] = "https://graph.test/beta/deviceManagement/deviceConfigurations";

class GraphClientRetryTest : public ::testing::Test {
 protected:
  std::unique_ptr<GraphClient> MakeClient(RetryPolicy policy = RetryPolicy()) {
    GraphClientOptions options;
    options.graph_url = "https://graph.test";
    options.retry = policy;
    return NewGraphClient(options, http_, tokens_, budget_, clock_, random_);
  }

  FakeClock clock_;
  FakeHttpTransport http_;
  testing::FakeTokenSource tokens_;
  testing::FixedRandom random_{0.5};
  WriteBudget budget_{WriteBudgetOptions{}, clock_};
};

TEST_F(GraphClientRetryTest, HonorsRetryAfterThenSucceeds) {
  http_.Enqueue(Response(429).WithHeader("Retry-After", "7"))
      .Enqueue(Response(200, R"({"value":[]})"));
  auto client = MakeClient();
  Result<GraphResponse> r = client->Get(kPath);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body["value"], nlohmann::json::array());
  EXPECT_THAT(clock_.sleeps(), ElementsAre(seconds(7)));
  ASSERT_EQ(http_.requests().size(), 2u);
  EXPECT_EQ(http_.requests()[1].url, kUrl);
  EXPECT_EQ(budget_.Stats().throttled, 1u);
}

TEST_F(GraphClientRetryTest, MillisecondRetryAfterIsMilliseconds) {
  http_.Enqueue(Response(429).WithHeader("x-ms-retry-after-ms", "1500")).Enqueue(Response(200));
  ASSERT_THAT(MakeClient()->Get(kPath), IsOk());
  EXPECT_THAT(clock_.sleeps(), ElementsAre(milliseconds(1500)));
}

TEST_F(GraphClientRetryTest, RetryAfterHttpDate) {
  http_
      .Enqueue(Response(503)
                   .WithHeader("Date", "Thu, 01 Jan 2026 00:00:00 GMT")
                   .WithHeader("Retry-After", "Thu, 01 Jan 2026 00:00:12 GMT"))
      .Enqueue(Response(200));
  ASSERT_THAT(MakeClient()->Get(kPath), IsOk());
  EXPECT_THAT(clock_.sleeps(), ElementsAre(seconds(12)));
}

TEST_F(GraphClientRetryTest, ResendsAWriteAfter503) {
  http_.Enqueue(Response(503)).Enqueue(Response(201, R"({"id":"p1"})"));
  Result<GraphResponse> r = MakeClient()->Post(kPath, {{"displayName", "x"}});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->body["id"], "p1");
  EXPECT_THAT(clock_.sleeps(), ElementsAre(milliseconds(500)));  // backoff: 0.5 * 1 s
  auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body, requests[1].body);
  EXPECT_EQ(budget_.Stats().writes_granted, 2u);  // Every resend draws a write slot.
}

TEST_F(GraphClientRetryTest, GatewayTimeoutOnAPostIsAnUnknownOutcome) {
  http_.Enqueue(Response(504).WithHeader("request-id", "rid-504")).Enqueue(Response(201));
  Result<GraphResponse> r = MakeClient()->Post(kPath, {{"displayName", "x"}});
  EXPECT_THAT(r, StatusIs(StatusCode::kUnknownOutcome, HasSubstr("rid-504")));
  ASSERT_NE(r.status().details(), nullptr);
  EXPECT_EQ(r.status().details()->http_status, 504);
  EXPECT_EQ(http_.requests().size(), 1u);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(GraphClientRetryTest, GatewayTimeoutOnAGetIsRetried) {
  http_.Enqueue(Response(504)).Enqueue(Response(200));
  EXPECT_THAT(MakeClient()->Get(kPath), IsOk());
  EXPECT_EQ(http_.requests().size(), 2u);
}

TEST_F(GraphClientRetryTest, LostResponseToAPostIsNotResent) {
  http_.EnqueueError(UnknownOutcomeError("connection reset after the request was written"))
      .Enqueue(Response(201));
  Result<GraphResponse> r = MakeClient()->Post(kPath, {{"displayName", "x"}});
  EXPECT_THAT(r, StatusIs(StatusCode::kUnknownOutcome, HasSubstr("read the current state")));
  EXPECT_EQ(http_.requests().size(), 1u);
  EXPECT_EQ(http_.remaining(), 1u);
}

TEST_F(GraphClientRetryTest, LostResponseToADeleteIsNotResent) {
  http_.EnqueueError(UnknownOutcomeError("timeout after write")).Enqueue(Response(204));
  EXPECT_THAT(MakeClient()->Delete(std::string(kPath) + "/p1"),
              StatusIs(StatusCode::kUnknownOutcome));
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(GraphClientRetryTest, LostResponseToAGetIsResent) {
  http_.EnqueueError(UnknownOutcomeError("timeout after write")).Enqueue(Response(200));
  EXPECT_THAT(MakeClient()->Get(kPath), IsOk());
  EXPECT_EQ(http_.requests().size(), 2u);
  EXPECT_THAT(clock_.sleeps(), ElementsAre(milliseconds(500)));
}

TEST_F(GraphClientRetryTest, UndeliveredWriteIsResent) {
  http_.EnqueueError(UnavailableError("connection refused")).Enqueue(Response(201));
  EXPECT_THAT(MakeClient()->Post(kPath, nlohmann::json::object()), IsOk());
  EXPECT_EQ(http_.requests().size(), 2u);
}

TEST_F(GraphClientRetryTest, GivesUpAfterMaxAttemptsNamingTheRequestId) {
  for (int i = 1; i <= 6; ++i) {
    http_.Enqueue(Response(503, R"({"error":{"code":"ServiceUnavailable","message":"busy"}})")
                      .WithHeader("request-id", "rid-" + std::to_string(i)));
  }
  Result<GraphResponse> r = MakeClient()->Get(kPath);
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable, HasSubstr("rid-6")));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("gave up after 6 attempts"));
  ASSERT_NE(r.status().details(), nullptr);
  EXPECT_EQ(r.status().details()->request_id, "rid-6");
  EXPECT_EQ(r.status().details()->service_code, "ServiceUnavailable");
  EXPECT_EQ(http_.requests().size(), 6u);
  EXPECT_THAT(clock_.sleeps(),
              ElementsAre(milliseconds(500), seconds(1), seconds(2), seconds(4), seconds(8)));
}

TEST_F(GraphClientRetryTest, ThrottledUntilAttemptsRunOutIsResourceExhausted) {
  RetryPolicy policy;
  policy.max_attempts = 2;
  http_.Enqueue(Response(429).WithHeader("Retry-After", "1"))
      .Enqueue(Response(429).WithHeader("Retry-After", "3").WithHeader("request-id", "rid-t"));
  Result<GraphResponse> r = MakeClient(policy)->Post(kPath, nlohmann::json::object());
  EXPECT_THAT(r, StatusIs(StatusCode::kResourceExhausted, HasSubstr("rid-t")));
  ASSERT_NE(r.status().details(), nullptr);
  EXPECT_EQ(r.status().details()->retry_after, milliseconds(3000));
  // The final 429 still pauses every writer of the tenant for its Retry-After.
  budget_.Acquire(/*is_write=*/true);
  EXPECT_THAT(clock_.sleeps(), ElementsAre(seconds(1), seconds(3)));
}

TEST_F(GraphClientRetryTest, TotalDeadlineStopsRetries) {
  RetryPolicy policy;
  policy.total_deadline = seconds(10);
  http_.Enqueue(Response(429).WithHeader("Retry-After", "7"))
      .Enqueue(Response(429).WithHeader("Retry-After", "7").WithHeader("request-id", "rid-d"))
      .Enqueue(Response(200));
  Result<GraphResponse> r = MakeClient(policy)->Get(kPath);
  EXPECT_THAT(r, StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("rid-d")));
  EXPECT_EQ(http_.requests().size(), 2u);
  EXPECT_THAT(clock_.sleeps(), ElementsAre(seconds(7)));
}

TEST_F(GraphClientRetryTest, PerAttemptTimeoutIsCappedByTheDeadline) {
  RetryPolicy policy;
  policy.total_deadline = seconds(40);
  http_.Enqueue(Response(429).WithHeader("Retry-After", "25")).Enqueue(Response(200));
  ASSERT_THAT(MakeClient(policy)->Get(kPath), IsOk());
  EXPECT_THAT(http_.timeouts(), ElementsAre(seconds(30), seconds(15)));
}

TEST_F(GraphClientRetryTest, RefreshesTheTokenOnceOn401) {
  http_.Enqueue(Response(401)).Enqueue(Response(200));
  ASSERT_THAT(MakeClient()->Get(kPath), IsOk());
  EXPECT_EQ(tokens_.invalidations(), 1);
  auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer token-1");
  EXPECT_EQ(requests[1].Header("Authorization"), "Bearer token-2");
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(GraphClientRetryTest, Second401IsUnauthenticatedNamingTheRequestId) {
  http_.Enqueue(Response(401))
      .Enqueue(
          Response(401, R"({"error":{"code":"InvalidAuthenticationToken","message":"expired"}})")
              .WithHeader("request-id", "rid-401"));
  Result<GraphResponse> r = MakeClient()->Get(kPath);
  EXPECT_THAT(r, StatusIs(StatusCode::kUnauthenticated, HasSubstr("request-id rid-401")));
  EXPECT_EQ(tokens_.invalidations(), 1);
  EXPECT_EQ(http_.requests().size(), 2u);
}

TEST_F(GraphClientRetryTest, TokenErrorsAreReturnedWithoutSending) {
  tokens_.SetError(UnauthenticatedError("invalid_client: AADSTS7000215"));
  EXPECT_THAT(MakeClient()->Get(kPath), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(GraphClientRetryTest, FreshClientRequestIdPerAttempt) {
  http_.Enqueue(Response(503)).Enqueue(Response(503)).Enqueue(Response(200));
  ASSERT_THAT(MakeClient()->Get(kPath), IsOk());
  const std::regex guid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> ids;
  for (const HttpRequest& request : http_.requests()) {
    std::string id = request.Header("client-request-id").value_or("");
    EXPECT_TRUE(std::regex_match(id, guid)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 3u);
}

TEST_F(GraphClientRetryTest, SendsJsonWithTheStandardHeaders) {
  http_.Enqueue(Response(200)).Enqueue(Response(200));
  auto client = MakeClient();
  ASSERT_THAT(client->Patch(std::string(kPath) + "/p1", {{"displayName", "y"}}), IsOk());
  ASSERT_THAT(client->Get("/v1.0/users/a@contoso.com"), IsOk());
  auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "PATCH");
  EXPECT_EQ(requests[0].url, std::string(kUrl) + "/p1");
  EXPECT_EQ(requests[0].body, R"({"displayName":"y"})");
  EXPECT_EQ(requests[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(requests[0].Header("Accept"), "application/json");
  EXPECT_TRUE(requests[0].sensitive_body);
  EXPECT_EQ(requests[1].url, "https://graph.test/v1.0/users/a@contoso.com");
  EXPECT_EQ(requests[1].Header("Content-Type"), std::nullopt);
  EXPECT_EQ(requests[1].body, "");
}

TEST_F(GraphClientRetryTest, RefusesOtherOriginsAndUnencodedPaths) {
  auto client = MakeClient();
  EXPECT_THAT(client->Get("https://evil.test/beta/users"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("refusing")));
  EXPECT_THAT(client->Get("http://graph.test/beta/users"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(client->Get("/users?$filter=a eq 'b'"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(client->Get("users"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(GraphClientRetryTest, MapsGraphErrorsWithDetails) {
  http_.Enqueue(Response(404, R"({"error":{"code":"ResourceNotFound","message":"gone",)"
                              R"("innerError":{"request-id":"rid-inner"}}})"));
  Result<GraphResponse> r = MakeClient()->Get(std::string(kPath) + "/nope?$select=id");
  EXPECT_THAT(r, StatusIs(StatusCode::kNotFound,
                          "GET /beta/deviceManagement/deviceConfigurations/nope: HTTP 404 "
                          "ResourceNotFound: gone (request-id rid-inner)"));
  ASSERT_NE(r.status().details(), nullptr);
  EXPECT_EQ(*r.status().details(), (StatusDetails{.http_status = 404,
                                                  .service_code = "ResourceNotFound",
                                                  .request_id = "rid-inner",
                                                  .retry_after = std::nullopt}));
}

TEST_F(GraphClientRetryTest, CountsResponsesInTheWriteBudget) {
  http_.Enqueue(Response(503)).Enqueue(Response(200)).EnqueueError(UnavailableError("refused"));
  RetryPolicy policy;
  policy.max_attempts = 1;
  auto client = MakeClient(policy);
  EXPECT_THAT(client->Get(kPath), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(client->Get(kPath), IsOk());
  EXPECT_THAT(client->Get(kPath), StatusIs(StatusCode::kUnavailable));
  WriteBudgetStats stats = budget_.Stats();
  EXPECT_THAT(stats.responses_by_status,
              ElementsAre(::testing::Pair(200, 1u), ::testing::Pair(503, 1u)));
  EXPECT_EQ(stats.transport_errors, 1u);
  EXPECT_EQ(stats.requests_granted, 3u);
  EXPECT_EQ(stats.writes_granted, 0u);
}

}  // namespace
}  // namespace certdeploy::graph
