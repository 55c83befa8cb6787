#include "base/clock.h"

#include <gtest/gtest.h>

#include <set>

#include "base/random.h"
#include "base/time_format.h"
#include "tests/support/fake_clock.h"

namespace certdeploy {
namespace {

using namespace std::chrono_literals;

TEST(FakeClockTest, SleepAdvancesAndIsRecorded) {
  testing::FakeClock clock;
  SystemTime t0 = clock.Now();
  SteadyTime s0 = clock.SteadyNow();
  clock.SleepFor(7s);
  clock.SleepFor(250ms);
  EXPECT_EQ(clock.Now() - t0, 7250ms);
  EXPECT_EQ(clock.SteadyNow() - s0, 7250ms);
  EXPECT_EQ(clock.sleeps(), (std::vector<Duration>{7s, 250ms}));
}

TEST(FakeClockTest, AdvanceDoesNotRecordSleep) {
  testing::FakeClock clock;
  clock.Advance(24h);
  EXPECT_TRUE(clock.sleeps().empty());
  EXPECT_EQ(FormatRfc3339Utc(clock.Now()), "2026-01-02T00:00:00Z");
}

TEST(ClockTest, Rfc3339UsesUtcAndZ) {
  EXPECT_EQ(FormatRfc3339Utc(SystemTime(std::chrono::seconds(0))), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Utc(SystemTime(std::chrono::seconds(1767225600) + 999ms)),
            "2026-01-01T00:00:00Z");
}

TEST(ClockTest, RealClockMovesForward) {
  SteadyTime a = RealClock().SteadyNow();
  SteadyTime b = RealClock().SteadyNow();
  EXPECT_LE(a, b);
}

class CountingRandom : public Random {
 public:
  uint64_t Next() override { return next_++ * 0x9E3779B97F4A7C15ULL; }

 private:
  uint64_t next_ = 1;
};

TEST(RandomTest, GuidsAreVersion4AndDistinct) {
  CountingRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    std::string g = NewGuid(random);
    ASSERT_EQ(g.size(), 36u);
    EXPECT_EQ(g[14], '4') << g;
    EXPECT_NE(std::string("89ab").find(g[19]), std::string::npos) << g;
    seen.insert(g);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_NE(NewGuid(RealRandom()), NewGuid(RealRandom()));
}

TEST(RandomTest, NextDoubleInUnitInterval) {
  CountingRandom random;
  for (int i = 0; i < 1000; ++i) {
    double d = random.NextDouble();
    EXPECT_GE(d, 0.0);
    EXPECT_LT(d, 1.0);
  }
}

}  // namespace
}  // namespace certdeploy
