// The fault knobs of the reliability campaign: 429s injected at random whatever the write budget
// (throttle_rate) and latency spikes (spike_rate + spike_latency). Deterministic: a seeded
// generator and a FakeClock that records every sleep.

#include <algorithm>
#include <set>

#include "tests/unit/sandbox/sandbox_test_support.h"

namespace certdeploy::sandbox::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kConfigs[] = "/beta/deviceManagement/deviceConfigurations";

class InjectedFaultsTest : public SandboxTest {
 protected:
  // The sleeps recorded since `from` (an index into clock_.sleeps()).
  std::vector<Duration> SleepsSince(size_t from) {
    std::vector<Duration> all = clock_.sleeps();
    return std::vector<Duration>(all.begin() + static_cast<std::ptrdiff_t>(from), all.end());
  }
};

TEST_F(InjectedFaultsTest, ThrottleRateOneRefusesEveryGraphCallWithShortRetryAfter) {
  options_.throttle_rate = 1.0;
  options_.write_limit = 0;  // Unlimited: the 429s cannot come from the budget.
  options_.request_limit = 0;
  Start();  // The token request is never throttled.
  ASSERT_FALSE(token_.empty());
  std::set<std::string> retry_afters;
  for (int i = 0; i < 20; ++i) {
    ServerResponse r = Call(i % 2 ? "GET" : "POST", kConfigs, i % 2 ? json() : RootBody());
    ASSERT_EQ(r.status, 429) << r.body;
    EXPECT_EQ(BodyOf(r)["error"]["code"], "TooManyRequests");
    retry_afters.insert(HeaderOf(r, "retry-after"));
  }
  EXPECT_EQ(retry_afters, (std::set<std::string>{"1", "2"}));
  EXPECT_TRUE(tenant_->State()["deviceConfigurations"].empty()) << "nothing applied";
  SandboxStats stats = Stats();
  EXPECT_EQ(stats.injected_throttles, 20u);
  EXPECT_EQ(stats.throttled, 20u);
  EXPECT_EQ(stats.requests_by_status[429], 20u);
  EXPECT_EQ(stats.writes, 0u) << "an injected 429 takes no budget slot";
  EXPECT_EQ(stats.max_write_attempts_per_window, 0);
  EXPECT_EQ(stats.injected_failures, 0u);
}

TEST_F(InjectedFaultsTest, RetryAfterNeverExceedsACompressedWindow) {
  options_.throttle_rate = 1.0;
  options_.window = seconds(1);
  Start();
  for (int i = 0; i < 10; ++i) {
    ServerResponse r = Call("GET", kConfigs);
    ASSERT_EQ(r.status, 429);
    EXPECT_EQ(HeaderOf(r, "retry-after"), "1");
  }
}

TEST_F(InjectedFaultsTest, ThrottleRateHitsAboutItsShareAndSparesTheRest) {
  options_.throttle_rate = 0.25;
  options_.write_limit = 0;
  options_.request_limit = 0;
  Start();
  int throttled = 0, ok = 0;
  for (int i = 0; i < 400; ++i) {
    ServerResponse r = Call("GET", kConfigs);
    throttled += r.status == 429;
    ok += r.status == 200;
  }
  EXPECT_EQ(throttled + ok, 400);
  EXPECT_GT(throttled, 60);  // 100 expected; the generator is seeded, so this is exact per run.
  EXPECT_LT(throttled, 140);
  EXPECT_EQ(Stats().injected_throttles, static_cast<uint64_t>(throttled));
  EXPECT_EQ(Stats().throttled, static_cast<uint64_t>(throttled));
}

TEST_F(InjectedFaultsTest, BatchItemsAreThrottledOneByOne) {
  options_.throttle_rate = 1.0;
  Start();
  json batch = {
      {"requests",
       {{{"id", "1"}, {"method", "GET"}, {"url", "/deviceManagement/deviceConfigurations"}},
        {{"id", "2"},
         {"method", "POST"},
         {"url", "/deviceManagement/deviceConfigurations"},
         {"headers", {{"Content-Type", "application/json"}}},
         {"body", RootBody()}}}}};
  // The envelope itself is not throttled (it is not budgeted either): its items are.
  ServerResponse r = Call("POST", "/beta/$batch", batch);
  ASSERT_EQ(r.status, 200) << r.body;
  json responses = BodyOf(r)["responses"];
  ASSERT_EQ(responses.size(), 2u);
  for (const json& item : responses) {
    EXPECT_EQ(item["status"], 429);
    const std::string retry_after = item["headers"].value("Retry-After", "");
    EXPECT_TRUE(retry_after == "1" || retry_after == "2") << retry_after;
  }
  EXPECT_TRUE(tenant_->State()["deviceConfigurations"].empty());
  EXPECT_EQ(Stats().injected_throttles, 2u);
  EXPECT_EQ(Stats().throttled, 2u);
}

TEST_F(InjectedFaultsTest, ZeroThrottleRateLeavesOnlyTheBudget) {
  options_.write_limit = 2;
  Start();
  EXPECT_EQ(Call("POST", kConfigs, RootBody()).status, 201);
  EXPECT_EQ(Call("POST", kConfigs, RootBody()).status, 201);
  EXPECT_EQ(Call("POST", kConfigs, RootBody()).status, 429);  // The budget's, not injected.
  EXPECT_EQ(Stats().injected_throttles, 0u);
  EXPECT_EQ(Stats().throttled, 1u);
}

TEST_F(InjectedFaultsTest, SpikeAddsItsLatencyOnTopOfTheBaseLatency) {
  options_.latency = milliseconds(50);
  options_.spike_rate = 1.0;
  options_.spike_latency = milliseconds(200);
  Start();  // The token response is spiked too: 1 spike.
  const size_t before = clock_.sleeps().size();
  EXPECT_EQ(Call("GET", kConfigs).status, 200);
  EXPECT_EQ(Call("POST", kConfigs, RootBody()).status, 201);
  EXPECT_EQ(SleepsSince(before), (std::vector<Duration>{milliseconds(250), milliseconds(250)}));
  EXPECT_EQ(Stats().latency_spikes, 3u);
}

TEST_F(InjectedFaultsTest, SpikeRateDelaysAboutItsShareOfResponses) {
  options_.spike_rate = 0.1;
  options_.spike_latency = milliseconds(200);
  Start();
  const size_t before = clock_.sleeps().size();
  const uint64_t spikes_before = Stats().latency_spikes;
  for (int i = 0; i < 500; ++i) ASSERT_EQ(Call("GET", kConfigs).status, 200);
  std::vector<Duration> sleeps = SleepsSince(before);
  ASSERT_EQ(sleeps.size(), 500u);
  const auto spiked = std::count(sleeps.begin(), sleeps.end(), milliseconds(200));
  const auto plain = std::count(sleeps.begin(), sleeps.end(), Duration::zero());
  EXPECT_EQ(spiked + plain, 500);
  EXPECT_GT(spiked, 25);  // 50 expected (seeded generator).
  EXPECT_LT(spiked, 75);
  EXPECT_EQ(Stats().latency_spikes - spikes_before, static_cast<uint64_t>(spiked));
}

TEST_F(InjectedFaultsTest, ASpikeRateWithoutASpikeLatencyCountsNothing) {
  options_.spike_rate = 1.0;
  Start();
  Call("GET", kConfigs);
  EXPECT_EQ(Stats().latency_spikes, 0u);
}

TEST_F(InjectedFaultsTest, StatsJsonShowsTheNewCountersAndResetClearsThem) {
  options_.throttle_rate = 1.0;
  options_.spike_rate = 1.0;
  options_.spike_latency = milliseconds(200);
  Start();
  Call("GET", kConfigs);
  json stats = BodyOf(tenant_->Handle(MakeRequest("GET", "/_sandbox/stats")));
  EXPECT_EQ(stats["injectedThrottles"], 1);
  EXPECT_EQ(stats["latencySpikes"], 2);  // The token response and the GET.
  EXPECT_EQ(stats["throttled"], 1);
  // Inspection endpoints are neither throttled nor delayed.
  const size_t sleeps = clock_.sleeps().size();
  EXPECT_EQ(tenant_->Handle(MakeRequest("POST", "/_sandbox/reset")).status, 204);
  EXPECT_EQ(clock_.sleeps().size(), sleeps);
  stats = BodyOf(tenant_->Handle(MakeRequest("GET", "/_sandbox/stats")));
  EXPECT_EQ(stats["injectedThrottles"], 0);
  EXPECT_EQ(stats["latencySpikes"], 0);
}

TEST(InjectedFaultsOptionsTest, RefusesRatesOutsideZeroToOneAndNegativeSpikes) {
  FakeClock clock;
  SeededRandom random{42};
  SandboxOptions options;
  options.throttle_rate = 1.5;
  EXPECT_THAT(SandboxTenant::Create(options, clock, random),
              certdeploy::testing::StatusIs(StatusCode::kInvalidArgument));
  options.throttle_rate = 0;
  options.spike_rate = -0.1;
  EXPECT_THAT(SandboxTenant::Create(options, clock, random),
              certdeploy::testing::StatusIs(StatusCode::kInvalidArgument));
  options.spike_rate = 0.5;
  options.spike_latency = milliseconds(-1);
  EXPECT_THAT(SandboxTenant::Create(options, clock, random),
              certdeploy::testing::StatusIs(StatusCode::kInvalidArgument));
  options.spike_latency = milliseconds(200);
  EXPECT_TRUE(SandboxTenant::Create(options, clock, random).ok());
}

}  // namespace
}  // namespace certdeploy::sandbox::testing
