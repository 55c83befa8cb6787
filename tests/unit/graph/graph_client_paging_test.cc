// GraphClient::ListAll (@odata.nextLink) and GraphClient::Batch ($batch) on a fake transport.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
using nlohmann::json;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kBase[] = "https://graph.test/beta/deviceManagement/userPfxCertificates";

class GraphClientPagingTest : public ::testing::Test {
 protected:
  std::unique_ptr<GraphClient> MakeClient(int max_rounds = 5) {
    GraphClientOptions options;
    options.graph_url = "https://graph.test";
    options.max_batch_retry_rounds = max_rounds;
    return NewGraphClient(options, http_, tokens_, budget_, clock_, random_);
  }

  static std::string Page(json value, const std::string& next = "") {
    json page = {{"value", std::move(value)}};
    if (!next.empty()) page["@odata.nextLink"] = next;
    return page.dump();
  }

  FakeClock clock_;
  FakeHttpTransport http_;
  testing::FakeTokenSource tokens_;
  testing::FixedRandom random_{0.5};
  WriteBudget budget_{WriteBudgetOptions{}, clock_};
};

TEST_F(GraphClientPagingTest, FollowsNextLinksAcrossAnEmptyPage) {
  const std::string next1 = std::string(kBase) + "?$skiptoken=A%27B";
  const std::string next2 = std::string(kBase) + "?$skiptoken=C";
  http_.Enqueue(Response(200, Page({{{"id", "1"}}, {{"id", "2"}}}, next1)))
      .Enqueue(Response(200, Page(json::array(), next2)))
      .Enqueue(Response(200, Page({{{"id", "3"}}})));
  Result<std::vector<json>> items = MakeClient()->ListAll("/deviceManagement/userPfxCertificates");
  ASSERT_THAT(items, IsOk());
  std::vector<std::string> ids;
  for (const json& item : *items) ids.push_back(item["id"]);
  EXPECT_THAT(ids, ElementsAre("1", "2", "3"));
  std::vector<std::string> urls;
  for (const HttpRequest& r : http_.requests()) urls.push_back(r.url);
  EXPECT_THAT(urls, ElementsAre(kBase, next1, next2));  // nextLinks are used verbatim.
}

TEST_F(GraphClientPagingTest, StopsOnANextLinkLoop) {
  const std::string next1 = std::string(kBase) + "?$skiptoken=1";
  const std::string next2 = std::string(kBase) + "?$skiptoken=2";
  http_.Enqueue(Response(200, Page({1}, next1)))
      .Enqueue(Response(200, Page({2}, next2)))
      .Enqueue(Response(200, Page({3}, next1)).WithHeader("request-id", "rid-loop"));
  EXPECT_THAT(MakeClient()->ListAll("/deviceManagement/userPfxCertificates"),
              StatusIs(StatusCode::kInternal, HasSubstr("rid-loop")));
  EXPECT_EQ(http_.requests().size(), 3u);
}

TEST_F(GraphClientPagingTest, StopsWhenANextLinkPointsAtTheFirstPage) {
  http_.Enqueue(Response(200, Page({1}, kBase)));
  EXPECT_THAT(MakeClient()->ListAll("/deviceManagement/userPfxCertificates"),
              StatusIs(StatusCode::kInternal, HasSubstr("already read")));
}

TEST_F(GraphClientPagingTest, RefusesANextLinkToAnotherHost) {
  http_.Enqueue(Response(200, Page({1}, "https://attacker.test/beta/x?$skiptoken=1")));
  EXPECT_THAT(MakeClient()->ListAll("/deviceManagement/userPfxCertificates"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("attacker.test")));
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(GraphClientPagingTest, RejectsAPageWithoutValue) {
  http_.Enqueue(Response(200, R"({"id":"x"})"));
  EXPECT_THAT(MakeClient()->ListAll("/deviceManagement/userPfxCertificates"),
              StatusIs(StatusCode::kInternal, HasSubstr("not a collection")));
}

TEST_F(GraphClientPagingTest, PropagatesPageErrors) {
  http_.Enqueue(Response(200, Page({1}, std::string(kBase) + "?$skiptoken=1")))
      .Enqueue(Response(403, R"({"error":{"code":"Forbidden","message":"no"}})"));
  EXPECT_THAT(MakeClient()->ListAll("/deviceManagement/userPfxCertificates"),
              StatusIs(StatusCode::kPermissionDenied));
}

// Answers every $batch item 200 with {"echo": id}, except ids listed in `throttle` the first
// `times` times they are seen, which get 429 with Retry-After `retry_after`.
struct BatchServer {
  std::map<std::string, int> throttle;  // id -> remaining 429s
  std::string retry_after = "5";
  std::vector<size_t> batch_sizes;
  std::vector<std::vector<std::string>> batch_ids;

  Result<HttpResponse> operator()(const HttpRequest& request) {
    json body = json::parse(request.body);
    json responses = json::array();
    batch_sizes.push_back(body["requests"].size());
    batch_ids.emplace_back();
    for (const json& item : body["requests"]) {
      const std::string id = item["id"];
      batch_ids.back().push_back(id);
      if (throttle[id] > 0) {
        --throttle[id];
        responses.push_back({{"id", id},
                             {"status", 429},
                             {"headers", {{"Retry-After", retry_after}}},
                             {"body", {{"error", {{"code", "TooManyRequests"}}}}}});
      } else {
        responses.push_back({{"id", id}, {"status", 200}, {"body", {{"echo", id}}}});
      }
    }
    HttpResponse response;
    response.status = 200;
    response.body = json{{"responses", responses}}.dump();
    return response;
  }
};

std::vector<BatchItem> Items(int n, const std::string& method = "GET") {
  std::vector<BatchItem> items;
  for (int i = 0; i < n; ++i) {
    items.push_back({std::to_string(i), method, "/users/u" + std::to_string(i), std::nullopt});
  }
  return items;
}

TEST_F(GraphClientPagingTest, BatchSplitsIntoChunksOfTwenty) {
  auto server = std::make_shared<BatchServer>();
  http_.SetHandler([server](const HttpRequest& r) { return (*server)(r); });
  Result<std::vector<BatchItemResult>> results = MakeClient()->Batch(Items(45));
  ASSERT_THAT(results, IsOk());
  EXPECT_THAT(server->batch_sizes, ElementsAre(20u, 20u, 5u));
  ASSERT_EQ(results->size(), 45u);
  for (int i = 0; i < 45; ++i) {
    const BatchItemResult& r = (*results)[static_cast<size_t>(i)];
    EXPECT_EQ(r.id, std::to_string(i));
    EXPECT_EQ(r.http_status, 200);
    EXPECT_THAT(r.status, IsOk());
    EXPECT_EQ(r.body["echo"], std::to_string(i));
  }
  auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].url, "https://graph.test/beta/$batch");
  EXPECT_EQ(json::parse(requests[0].body)["requests"][0],
            (json{{"id", "0"}, {"method", "GET"}, {"url", "/users/u0"}}));
  EXPECT_EQ(budget_.Stats().requests_granted, 45u);  // One slot per item, not per envelope.
}

TEST_F(GraphClientPagingTest, BatchResendsThrottledItemsAfterTheirRetryAfter) {
  auto server = std::make_shared<BatchServer>();
  server->throttle = {{"3", 1}, {"7", 1}};
  http_.SetHandler([server](const HttpRequest& r) { return (*server)(r); });
  Result<std::vector<BatchItemResult>> results = MakeClient()->Batch(Items(10, "PATCH"));
  ASSERT_THAT(results, IsOk());
  ASSERT_EQ(server->batch_ids.size(), 2u);
  EXPECT_THAT(server->batch_ids[1], ElementsAre("3", "7"));
  EXPECT_THAT(clock_.sleeps(), ElementsAre(seconds(5)));
  for (const BatchItemResult& r : *results) {
    EXPECT_EQ(r.http_status, 200) << r.id;
    EXPECT_THAT(r.status, IsOk());
  }
  EXPECT_EQ(budget_.Stats().writes_granted, 12u);
  EXPECT_EQ(budget_.Stats().throttled, 2u);
}

TEST_F(GraphClientPagingTest, BatchGivesUpOnItemsStillThrottledAfterTheLastRound) {
  auto server = std::make_shared<BatchServer>();
  server->throttle = {{"1", 100}};
  server->retry_after = "2";
  http_.SetHandler([server](const HttpRequest& r) { return (*server)(r); });
  Result<std::vector<BatchItemResult>> results = MakeClient(/*max_rounds=*/2)->Batch(Items(3));
  ASSERT_THAT(results, IsOk());
  EXPECT_EQ(server->batch_ids.size(), 3u);  // The first batch and two retry rounds.
  EXPECT_THAT(clock_.sleeps(), ElementsAre(seconds(2), seconds(2)));
  EXPECT_EQ((*results)[1].http_status, 429);
  EXPECT_THAT((*results)[1].status, StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT((*results)[0].status, IsOk());
}

TEST_F(GraphClientPagingTest, BatchMapsItemErrors) {
  http_.SetHandler([](const HttpRequest&) -> Result<HttpResponse> {
    HttpResponse r;
    r.status = 200;
    r.body = R"({"responses":[{"id":"0","status":404,"body":{"error":{)"
             R"("code":"Request_ResourceNotFound","message":"no user",)"
             R"("innerError":{"request-id":"rid-item"}}}}]})";
    return r;
  });
  Result<std::vector<BatchItemResult>> results = MakeClient()->Batch(Items(2));
  ASSERT_THAT(results, IsOk());
  EXPECT_THAT((*results)[0].status, StatusIs(StatusCode::kNotFound, HasSubstr("rid-item")));
  // Item 1 was not mentioned at all: a read, so an internal error (not an unknown outcome).
  EXPECT_EQ((*results)[1].http_status, 0);
  EXPECT_THAT((*results)[1].status, StatusIs(StatusCode::kInternal));
}

TEST_F(GraphClientPagingTest, BatchRejectsBadItems) {
  auto client = MakeClient();
  std::vector<BatchItem> duplicate = Items(2);
  duplicate[1].id = "0";
  EXPECT_THAT(client->Batch(duplicate), StatusIs(StatusCode::kInvalidArgument));
  std::vector<BatchItem> absolute = Items(1);
  absolute[0].url = "https://graph.test/beta/users";
  EXPECT_THAT(client->Batch(absolute), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(GraphClientPagingTest, BatchWithWritesIsNotResentOnUnknownOutcome) {
  http_.EnqueueError(UnknownOutcomeError("connection lost after write"));
  EXPECT_THAT(MakeClient()->Batch(Items(2, "POST")), StatusIs(StatusCode::kUnknownOutcome));
  EXPECT_EQ(http_.requests().size(), 1u);
}

}  // namespace
}  // namespace certdeploy::graph
