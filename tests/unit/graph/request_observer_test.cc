// The RequestObserver hook: the client tells of each resend, the budget of each wait, before the
// wait starts (FakeClock, fake transport; no sleeping).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "graph/graph_client.h"
#include "graph/write_budget.h"
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
using std::chrono::seconds;

constexpr char kPath[] = "/deviceManagement/deviceConfigurations";

class RecordingObserver : public RequestObserver {
 public:
  explicit RecordingObserver(FakeClock& clock) : clock_(clock) {}
  void OnRetry(const RetryEvent& e) override {
    std::lock_guard<std::mutex> lock(mu_);
    retries.push_back(e);
    sleeps_before.push_back(clock_.sleeps().size());
  }
  void OnBudgetWait(const BudgetWaitEvent& e) override {
    std::lock_guard<std::mutex> lock(mu_);
    waits.push_back(e);
  }
  std::vector<RetryEvent> retries;
  std::vector<size_t> sleeps_before;  // Sleeps the clock had seen when told of each retry.
  std::vector<BudgetWaitEvent> waits;

 private:
  FakeClock& clock_;
  std::mutex mu_;
};

// A client on a fake transport whose retries `observer` hears.
class ObservedClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<GraphClient> MakeClient() {
    GraphClientOptions options;
    options.graph_url = "https://graph.test";
    options.retry.max_attempts = 6;
    options.observer = &observer;
    return NewGraphClient(options, http, tokens, budget, clock, random);
  }

  FakeClock clock;
  FakeHttpTransport http;
  testing::FakeTokenSource tokens;
  testing::FixedRandom random{0.5};
  WriteBudget budget{WriteBudgetOptions{}, clock};
  RecordingObserver observer{clock};
};

TEST_F(ObservedClientTest, EachResendIsToldWithStatusCountAndDelayBeforeItsWait) {
  auto client = MakeClient();

  http.Enqueue(Response(503).WithHeader("Retry-After", "4"))
      .Enqueue(Response(429).WithHeader("Retry-After", "2"))
      .Enqueue(Response(201, R"({"id":"p1"})"));
  ASSERT_THAT(client->Post(kPath, {{"displayName", "x"}}), IsOk());

  ASSERT_EQ(observer.retries.size(), 2u);
  EXPECT_EQ(observer.retries[0].http_status, 503);
  EXPECT_EQ(observer.retries[0].retry, 1);
  EXPECT_EQ(observer.retries[0].max_retries, 5);
  EXPECT_EQ(observer.retries[0].delay, seconds(4));
  EXPECT_EQ(observer.retries[0].what, std::string("POST ") + "/beta" + kPath);
  EXPECT_EQ(observer.retries[1].http_status, 429);
  EXPECT_EQ(observer.retries[1].retry, 2);
  EXPECT_EQ(observer.retries[1].delay, seconds(2));
  // Told before the client slept for it.
  EXPECT_EQ(observer.sleeps_before, (std::vector<size_t>{0, 1}));
  EXPECT_THAT(clock.sleeps(), ::testing::ElementsAre(seconds(4), seconds(2)));
}

TEST_F(ObservedClientTest, TransportFailureIsAResendWithoutStatus) {
  auto client = MakeClient();

  http.EnqueueError(UnavailableError("connection refused")).Enqueue(Response(200));
  ASSERT_THAT(client->Get(kPath), IsOk());
  ASSERT_EQ(observer.retries.size(), 1u);
  EXPECT_EQ(observer.retries[0].http_status, 0);
  EXPECT_EQ(observer.retries[0].retry, 1);
}

TEST(RequestObserverTest, BudgetWaitIsToldWithItsLength) {
  FakeClock clock;
  RecordingObserver observer(clock);
  WriteBudgetOptions options;
  options.max_writes = 2;
  options.write_window = seconds(20);
  options.observer = &observer;
  WriteBudget budget(options, clock);
  budget.Acquire(true);
  budget.Acquire(true);
  EXPECT_TRUE(observer.waits.empty());
  budget.Acquire(true);  // The third write waits for the first to leave the window.
  ASSERT_EQ(observer.waits.size(), 1u);
  EXPECT_TRUE(observer.waits[0].is_write);
  EXPECT_EQ(observer.waits[0].wait, seconds(20));
}

}  // namespace
}  // namespace certdeploy::graph
