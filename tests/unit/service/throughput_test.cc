// ThroughputHistory (one sample per budget window, bounded to the span) and the findings read
// back from an item's stored summary for the operators' lists.

#include "service/internal/throughput.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "service/internal/dispatcher_item.h"

namespace certdeploy::service {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

graph::WriteBudgetStats Granted(uint64_t writes, uint64_t requests) {
  graph::WriteBudgetStats s;
  s.writes_granted = writes;
  s.requests_granted = requests;
  return s;
}

TEST(ThroughputHistoryTest, OneSamplePerWindowWithTheDeltasAndQueueDepth) {
  ThroughputHistory history(seconds(20), hours(1));
  const SystemTime t0 = SystemTime(std::chrono::seconds(1'800'000'000));
  int depth_reads = 0;
  auto depth = [&]() -> int64_t { return 40 - 10 * depth_reads++; };
  EXPECT_FALSE(history.Sample(t0, Granted(500, 900), depth)) << "the first call is the baseline";
  EXPECT_FALSE(history.Sample(t0 + seconds(19), Granted(560, 990), depth));
  EXPECT_EQ(depth_reads, 0) << "the store is asked only when a sample is taken";
  EXPECT_TRUE(history.Sample(t0 + seconds(20), Granted(580, 1000), depth));
  EXPECT_TRUE(history.Sample(t0 + seconds(50), Granted(600, 1100), depth));
  std::vector<ThroughputSample> samples = history.Samples();
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].at, t0 + seconds(20));
  EXPECT_EQ(samples[0].length, seconds(20));
  EXPECT_EQ(samples[0].writes, 80u);
  EXPECT_EQ(samples[0].requests, 100u);
  EXPECT_EQ(samples[0].queue_depth, 40);
  EXPECT_EQ(samples[1].length, seconds(30)) << "a busy loop makes a longer interval";
  EXPECT_EQ(samples[1].writes, 20u);
  EXPECT_EQ(samples[1].queue_depth, 30);
}

TEST(ThroughputHistoryTest, KeepsOnlyTheLastHour) {
  ThroughputHistory history(seconds(20), hours(1));
  SystemTime t = SystemTime(std::chrono::seconds(1'800'000'000));
  uint64_t writes = 0;
  history.Sample(t, Granted(0, 0), {});
  for (int i = 0; i < 500; ++i) {
    t += seconds(20);
    writes += 3;
    history.Sample(t, Granted(writes, writes), {});
  }
  std::vector<ThroughputSample> samples = history.Samples();
  ASSERT_EQ(samples.size(), 180u);
  EXPECT_EQ(samples.back().at, t);
  EXPECT_GT(samples.front().at, t - hours(1));
  EXPECT_EQ(samples.front().writes, 3u);
}

TEST(FindingSummaryTest, ReadsBackWhatSummarizeFindingsWrote) {
  std::vector<pkcs::Finding> findings = {
      {"email-mismatch", pkcs::Severity::kError, "alice@contoso.com is not in the certificate"},
      {"chain-incomplete", pkcs::Severity::kError, "issuer missing; re-export with the chain"},
      {"expires-soon", pkcs::Severity::kWarning, "in 3 days"}};
  std::vector<pkcs::Finding> back = ParseFindingSummary(SummarizeFindings(findings));
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].code, "email-mismatch");
  EXPECT_EQ(back[0].message, "alice@contoso.com is not in the certificate");
  EXPECT_EQ(back[1].message, "issuer missing; re-export with the chain") << "'; ' inside a message";
  EXPECT_EQ(back[2].code, "expires-soon");
  EXPECT_TRUE(ParseFindingSummary("Graph said: Bad Request").empty());
  EXPECT_TRUE(ParseFindingSummary("").empty());
  EXPECT_EQ(ParseFindingSummary("weak-key: 1024 bits; ...").size(), 1u);
}

}  // namespace
}  // namespace certdeploy::service
