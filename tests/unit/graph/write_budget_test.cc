// WriteBudget on a FakeClock: budgets are asserted over every sliding window of grant times.

#include "graph/write_budget.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tests/support/fake_clock.h"

namespace certdeploy::graph {
namespace {

using certdeploy::testing::FakeClock;
using std::chrono::seconds;

// The largest number of `times` (sorted) inside any half-open window [t, t + window).
size_t MaxInAnyWindow(const std::vector<SteadyTime>& times, Duration window) {
  size_t best = 0;
  for (size_t i = 0, j = 0; i < times.size(); ++i) {
    while (j < times.size() && times[j] < times[i] + window) ++j;
    best = std::max(best, j - i);
  }
  return best;
}

TEST(WriteBudgetTest, SequentialWritesNeverExceedTheBudgetInAnyWindow) {
  FakeClock clock;
  WriteBudget budget(WriteBudgetOptions{}, clock);  // 100 writes / 20 s
  const SteadyTime start = clock.SteadyNow();
  std::vector<SteadyTime> grants;
  for (int i = 0; i < 250; ++i) {
    budget.Acquire(/*is_write=*/true);
    grants.push_back(clock.SteadyNow());
  }
  EXPECT_EQ(MaxInAnyWindow(grants, seconds(20)), 100u);
  // 100 at t=0, 100 at t=20 s, 50 at t=40 s.
  EXPECT_EQ(clock.SteadyNow() - start, seconds(40));
  EXPECT_EQ(std::count(grants.begin(), grants.end(), start), 100);
  EXPECT_THAT(clock.sleeps(), ::testing::ElementsAre(seconds(20), seconds(20)));
  WriteBudgetStats stats = budget.Stats();
  EXPECT_EQ(stats.writes_granted, 250u);
  EXPECT_EQ(stats.requests_granted, 250u);
  EXPECT_EQ(stats.time_waiting, seconds(40));
}

TEST(WriteBudgetTest, SpreadOutWritesWaitOnlyForTheOldestToLeaveTheWindow) {
  FakeClock clock;
  WriteBudget budget(WriteBudgetOptions{.max_writes = 3, .write_window = seconds(10)}, clock);
  std::vector<SteadyTime> grants;
  for (int i = 0; i < 3; ++i) {
    budget.Acquire(true);
    grants.push_back(clock.SteadyNow());
    clock.Advance(seconds(2));  // Grants at 0, 2, 4; now 6.
  }
  budget.Acquire(true);  // The grant at 0 leaves the window at 10: wait 4 s.
  grants.push_back(clock.SteadyNow());
  EXPECT_THAT(clock.sleeps(), ::testing::ElementsAre(seconds(4)));
  EXPECT_LE(MaxInAnyWindow(grants, seconds(10)), 3u);
}

TEST(WriteBudgetTest, ReadsDoNotUseTheWriteBudget) {
  FakeClock clock;
  WriteBudget budget(WriteBudgetOptions{.max_writes = 2, .max_requests = 5}, clock);
  budget.Acquire(true);
  budget.Acquire(true);
  budget.Acquire(false);
  budget.Acquire(false);
  budget.Acquire(false);
  EXPECT_TRUE(clock.sleeps().empty());  // 2 writes + 3 reads fit.
  budget.Acquire(false);               // The sixth request of any kind waits for the window.
  EXPECT_THAT(clock.sleeps(), ::testing::ElementsAre(seconds(20)));
}

TEST(WriteBudgetTest, WritesCountAgainstTheRequestBudget) {
  FakeClock clock;
  WriteBudget budget(WriteBudgetOptions{.max_writes = 10, .max_requests = 2}, clock);
  budget.Acquire(true);
  budget.Acquire(true);
  budget.Acquire(false);
  EXPECT_THAT(clock.sleeps(), ::testing::ElementsAre(seconds(20)));
}

TEST(WriteBudgetTest, PauseUntilDelaysWritersButNotReaders) {
  FakeClock clock;
  WriteBudget budget(WriteBudgetOptions{}, clock);
  budget.PauseUntil(clock.SteadyNow() + seconds(7), /*writes_only=*/true);
  budget.Acquire(false);
  EXPECT_TRUE(clock.sleeps().empty());
  budget.Acquire(true);
  EXPECT_THAT(clock.sleeps(), ::testing::ElementsAre(seconds(7)));
  budget.Acquire(true);  // The pause is over.
  EXPECT_EQ(clock.sleeps().size(), 1u);
}

TEST(WriteBudgetTest, PauseOfAllRequestsHoldsReadersAndNeverShortens) {
  FakeClock clock;
  WriteBudget budget(WriteBudgetOptions{}, clock);
  budget.PauseUntil(clock.SteadyNow() + seconds(9), /*writes_only=*/false);
  budget.PauseUntil(clock.SteadyNow() + seconds(3), /*writes_only=*/false);
  budget.Acquire(false);
  EXPECT_THAT(clock.sleeps(), ::testing::ElementsAre(seconds(9)));
}

TEST(WriteBudgetTest, WindowPaddingWidensTheWindow) {
  FakeClock clock;
  WriteBudget budget(
      WriteBudgetOptions{
          .max_writes = 1, .write_window = seconds(20), .window_padding = seconds(1)},
      clock);
  budget.Acquire(true);
  budget.Acquire(true);
  EXPECT_THAT(clock.sleeps(), ::testing::ElementsAre(seconds(21)));
}

TEST(WriteBudgetTest, CountsResponsesAndErrors) {
  FakeClock clock;
  WriteBudget budget(WriteBudgetOptions{}, clock);
  budget.RecordResponse(200);
  budget.RecordResponse(200);
  budget.RecordResponse(429);
  budget.RecordTransportError();
  WriteBudgetStats stats = budget.Stats();
  EXPECT_THAT(stats.responses_by_status,
              ::testing::ElementsAre(::testing::Pair(200, 2u), ::testing::Pair(429, 1u)));
  EXPECT_EQ(stats.throttled, 1u);
  EXPECT_EQ(stats.transport_errors, 1u);
}

}  // namespace
}  // namespace certdeploy::graph
