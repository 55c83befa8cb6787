// The write/request budget (429 + Retry-After), latency, injected 503s and drop-after-commit.

#include "sandbox/internal/budget.h"

#include <thread>

#include "tests/unit/sandbox/sandbox_test_support.h"

namespace certdeploy::sandbox::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kConfigs[] = "/beta/deviceManagement/deviceConfigurations";

TEST(SlidingWindowTest, AdmitsUpToTheLimitPerWindow) {
  internal::SlidingWindow window(3, seconds(10));
  SteadyTime t0{std::chrono::hours(1)};
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(window.WaitTime(t0 + seconds(i)), Duration::zero());
    window.Admit(t0 + seconds(i));
  }
  // The oldest event (t0) leaves the window (t - 10 s, t] at t0 + 10 s.
  EXPECT_EQ(window.WaitTime(t0 + seconds(4)), seconds(6));
  EXPECT_EQ(window.WaitTime(t0 + milliseconds(9999)), milliseconds(1));
  EXPECT_EQ(window.WaitTime(t0 + seconds(10)), Duration::zero());
  window.Admit(t0 + seconds(10));
  EXPECT_EQ(window.max_in_window(), 3);
}

TEST(SlidingWindowTest, UnlimitedStillMeasures) {
  internal::SlidingWindow window(0, seconds(2));
  SteadyTime t0{std::chrono::hours(1)};
  for (int i = 0; i < 5; ++i) window.Admit(t0 + milliseconds(100 * i));
  window.Admit(t0 + seconds(5));
  EXPECT_EQ(window.max_in_window(), 5);
}

TEST(BudgetTest, RetryAfterIsCeilingSecondsAndNothingIsAdmittedWhenThrottled) {
  internal::Budget budget(/*request_limit=*/0, /*write_limit=*/2, seconds(20));
  SteadyTime t0{std::chrono::hours(1)};
  EXPECT_FALSE(budget.TryAdmit(t0, true).has_value());
  EXPECT_FALSE(budget.TryAdmit(t0 + milliseconds(500), true).has_value());
  EXPECT_FALSE(budget.TryAdmit(t0 + seconds(1), false).has_value());  // Reads still pass.
  auto retry = budget.TryAdmit(t0 + milliseconds(1500), true);
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(*retry, 19);  // 18.5 s until t0 leaves the window, rounded up.
  EXPECT_FALSE(budget.TryAdmit(t0 + seconds(20), true).has_value());
  EXPECT_EQ(budget.max_writes_in_window(), 2);
}

class FaultsTest : public SandboxTest {};

TEST_F(FaultsTest, WriteLimitAnswers429ThenPassesOnceTheWindowMoves) {
  options_.write_limit = 3;
  options_.window = seconds(20);
  Start();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Call("POST", kConfigs, RootBody()).status, 201);
  clock_.Advance(seconds(5));
  ServerResponse throttled = Call("POST", kConfigs, RootBody());
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(HeaderOf(throttled, "retry-after"), "15");
  json error = BodyOf(throttled)["error"];
  EXPECT_EQ(error["code"], "TooManyRequests");
  EXPECT_EQ(error["innerError"]["status"], "429");
  EXPECT_EQ(Call("GET", kConfigs).status, 200);  // Reads are not writes.
  EXPECT_EQ(tenant_->State()["deviceConfigurations"].size(), 3u);

  clock_.Advance(seconds(15));
  EXPECT_EQ(Call("POST", kConfigs, RootBody()).status, 201);
  SandboxStats stats = Stats();
  EXPECT_EQ(stats.throttled, 1u);
  EXPECT_EQ(stats.writes, 4u);
  EXPECT_EQ(stats.max_writes_per_window, 3);
  EXPECT_EQ(stats.max_write_attempts_per_window, 4);  // The throttled one was sent, too.
  EXPECT_EQ(stats.requests_by_status[429], 1u);
}

TEST_F(FaultsTest, RequestLimitCountsReads) {
  options_.request_limit = 2;
  Start();
  EXPECT_EQ(Call("GET", kConfigs).status, 200);
  EXPECT_EQ(Call("GET", kConfigs).status, 200);
  ServerResponse r = Call("GET", kConfigs);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(HeaderOf(r, "retry-after"), "20");
}

TEST_F(FaultsTest, InjectedFailuresApplyNothing) {
  options_.fail_rate = 1.0;
  Start();
  for (int i = 0; i < 6; ++i) {
    ServerResponse r = Call("POST", kConfigs, RootBody());
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(BodyOf(r)["error"]["code"], "ServiceUnavailable");
  }
  EXPECT_TRUE(tenant_->State()["deviceConfigurations"].empty());
  EXPECT_EQ(Stats().injected_failures, 6u);
}

TEST_F(FaultsTest, DropAfterCommitAppliesTheWriteAndLosesTheAnswer) {
  options_.drop_rate = 1.0;
  Start();
  ServerResponse r = Call("POST", kConfigs, RootBody());
  EXPECT_TRUE(r.drop_connection);
  EXPECT_EQ(tenant_->State()["deviceConfigurations"].size(), 1u);
  // Reads and refused writes are never dropped.
  EXPECT_FALSE(Call("GET", kConfigs).drop_connection);
  json bad = RootBody();
  bad["nope"] = 1;
  EXPECT_FALSE(Call("POST", kConfigs, bad).drop_connection);
  EXPECT_EQ(Stats().dropped, 1u);
  EXPECT_EQ(Stats().writes_applied, 1u);
}

TEST_F(FaultsTest, LatencyIsSleptOnTheClock) {
  options_.latency = milliseconds(250);
  Start();
  size_t before = clock_.sleeps().size();
  Call("GET", kConfigs);
  auto sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), before + 1);
  EXPECT_EQ(sleeps.back(), milliseconds(250));
}

TEST_F(FaultsTest, ResetClearsStateAndStats) {
  Start();
  ASSERT_EQ(Call("POST", kConfigs, RootBody()).status, 201);
  EXPECT_EQ(tenant_->Handle(MakeRequest("POST", "/_sandbox/reset")).status, 204);
  EXPECT_TRUE(tenant_->State()["deviceConfigurations"].empty());
  EXPECT_EQ(Stats().requests, 0u);
  json stats = BodyOf(tenant_->Handle(MakeRequest("GET", "/_sandbox/stats")));
  for (const char* key :
       {"requests", "requestsByStatus", "writes", "throttled", "rejections", "duplicates",
        "peakConcurrency", "maxWritesPerWindow", "dropped", "injectedFailures"}) {
    EXPECT_TRUE(stats.contains(key)) << key;
  }
  // The token survives a reset.
  EXPECT_EQ(Call("GET", kConfigs).status, 200);
}

TEST_F(FaultsTest, ConcurrentWritersAreAllApplied) {
  options_.write_limit = 0;  // Unlimited.
  Start();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 10; ++i) {
        json body = RootBody();
        body["displayName"] = "root " + std::to_string(t) + "/" + std::to_string(i);
        EXPECT_EQ(Call("POST", kConfigs, body).status, 201);
        EXPECT_EQ(Call("GET", kConfigs).status, 200);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(tenant_->State()["deviceConfigurations"].size(), 80u);
  SandboxStats stats = Stats();
  EXPECT_EQ(stats.writes_applied, 80u);
  EXPECT_EQ(stats.requests, 161u);  // 160 + the fixture's token request.
  EXPECT_GE(stats.peak_concurrency, 1);
  EXPECT_LE(stats.peak_concurrency, 8);
  EXPECT_EQ(stats.max_writes_per_window, 80);  // Measured even when unlimited.
}

TEST(SandboxOptionsTest, RefusesNonsense) {
  FakeClock clock;
  SeededRandom random{42};
  SandboxOptions options;
  options.page_size = 0;
  EXPECT_THAT(SandboxTenant::Create(options, clock, random),
              certdeploy::testing::StatusIs(StatusCode::kInvalidArgument));
  options.page_size = 10;
  options.fail_rate = 1.5;
  EXPECT_THAT(SandboxTenant::Create(options, clock, random),
              certdeploy::testing::StatusIs(StatusCode::kInvalidArgument));
  options.fail_rate = 0;
  options.connector_key_file = "/nonexistent/connector.key";
  EXPECT_FALSE(SandboxTenant::Create(options, clock, random).ok());
}

TEST_F(FaultsTest, DemoModeAcceptsAnySecretAndRefusesEveryPfxWithoutConnectorKey) {
  options_.connector_key_file.clear();
  options_.client_id.clear();
  options_.client_secret.reset();
  Start();  // Fetches a token with an arbitrary secret: nothing configured, so it is accepted.
  ASSERT_FALSE(token_.empty());
  ServerResponse r = Call("POST", "/beta/deviceManagement/userPfxCertificates",
                          PfxBody("alice.pfx", "alice@contoso.com"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Stats().rejections["connector: no key configured"], 1u);
}

}  // namespace
}  // namespace certdeploy::sandbox::testing
