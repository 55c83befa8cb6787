// What apply and plan show: the progress line (ETA from the write budget, Graph's waits), the
// closing note of plan, a failure's request-id. In-process, FakeClock, string streams.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "cli/internal/plan_apply_output.h"
#include "cli/internal/wait_notices.h"
#include "tests/support/fake_clock.h"

namespace certdeploy::cli {
namespace {

using ::certdeploy::testing::FakeClock;
using ::testing::HasSubstr;
using ::testing::Not;
using std::chrono::seconds;

deploy::ExecutionProgress Progress(int total, int succeeded, int failed = 0) {
  deploy::ExecutionProgress p;
  p.total = total;
  p.succeeded = succeeded;
  p.failed = failed;
  p.phase = "user PFX";
  return p;
}

TEST(ProgressEtaTest, TheWriteBudgetNotTheStartsBurstSetsTheEta) {
  // 5 writes/s (100 per 20 s). The first 100 went out in 0.44 s: 227/s. 1900 are left.
  FakeClock clock;
  const SteadyTime start = clock.SteadyNow();
  clock.Advance(std::chrono::milliseconds(440));
  ProgressLineInputs in;
  in.progress = Progress(2000, 100);
  in.elapsed = clock.SteadyNow() - start;
  in.budget_writes_per_second = 5.0;
  std::optional<Duration> eta =
      ProgressDisplay::EstimateRemaining(100, 1900, in.elapsed, in.budget_writes_per_second);
  ASSERT_TRUE(eta.has_value());
  EXPECT_EQ(std::chrono::duration_cast<seconds>(*eta), seconds(380));
  const std::string line = ProgressDisplay::Line(in);
  EXPECT_THAT(line, HasSubstr("100/2000 items  5.0/s  ETA 6:20  user PFX"));
  EXPECT_THAT(line, Not(HasSubstr("227")));
}

TEST(ProgressEtaTest, AGraphSlowerThanTheBudgetSetsTheEta) {
  // 100 items in 100 s (1/s) under a 5/s budget: Graph is the bottleneck.
  FakeClock clock;
  const SteadyTime start = clock.SteadyNow();
  clock.Advance(seconds(100));
  std::optional<Duration> eta =
      ProgressDisplay::EstimateRemaining(100, 50, clock.SteadyNow() - start, 5.0);
  ASSERT_TRUE(eta.has_value());
  EXPECT_EQ(std::chrono::duration_cast<seconds>(*eta), seconds(50));
}

TEST(ProgressEtaTest, BudgetAloneGivesAnEtaBeforeAnythingFinished) {
  EXPECT_EQ(ProgressDisplay::EstimateRemaining(0, 40, Duration::zero(), 2.0),
            std::optional<Duration>(seconds(20)));
  EXPECT_FALSE(
      ProgressDisplay::EstimateRemaining(0, 40, Duration::zero(), std::nullopt).has_value());
  EXPECT_EQ(ProgressDisplay::EstimateRemaining(40, 0, seconds(3), 2.0),
            std::optional<Duration>(Duration::zero()));
}

TEST(WaitNoticesTest, ARetryIsShownUntilItsWaitEndsCountingDown) {
  FakeClock clock;
  WaitNotices notices(clock);
  EXPECT_EQ(notices.Current(), "");
  notices.OnRetry({.what = "POST /x", .http_status = 503, .reason = "503, backoff", .retry = 2,
                   .max_retries = 5, .delay = seconds(4)});
  EXPECT_EQ(notices.Current(), "Graph 503, retry 2/5 in 4 s");
  clock.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(notices.Current(), "Graph 503, retry 2/5 in 3 s");
  clock.Advance(seconds(3));
  EXPECT_EQ(notices.Current(), "");
}

TEST(WaitNoticesTest, BudgetWaitsAndUnreachableGraphAreWorded) {
  FakeClock clock;
  WaitNotices notices(clock);
  notices.OnBudgetWait({.is_write = true, .wait = seconds(12)});
  EXPECT_EQ(notices.Current(), "waiting 12 s for the write budget");
  // A resend is news even during a longer budget wait.
  notices.OnRetry({.what = "GET /users", .http_status = 0, .reason = "unavailable", .retry = 1,
                   .max_retries = 5, .delay = seconds(1)});
  EXPECT_EQ(notices.Current(), "Graph unreachable, retry 1/5 in 1 s");
}

TEST(WaitNoticesTest, EchoWritesRetriesAsLinesUntilStopped) {
  FakeClock clock;
  WaitNotices notices(clock);
  std::ostringstream err;
  notices.EchoTo(&err, "certdeploy plan");
  notices.OnRetry({.what = "GET /users", .http_status = 429, .reason = "429", .retry = 1,
                   .max_retries = 5, .delay = seconds(2)});
  notices.OnBudgetWait({.is_write = false, .wait = seconds(1)});  // Pacing: not news.
  notices.EchoTo(nullptr, "");
  notices.OnRetry({.what = "GET /users", .http_status = 503, .reason = "503", .retry = 2,
                   .max_retries = 5, .delay = seconds(2)});
  EXPECT_EQ(err.str(), "certdeploy plan: Graph 429, retry 1/5 in 2 s\n");
}

TEST(ProgressLineTest, TheCurrentNoticeEndsTheLine) {
  ProgressLineInputs in;
  in.progress = Progress(10, 4);
  in.elapsed = seconds(4);
  in.budget_writes_per_second = 5.0;
  in.notice = "Graph 503, retry 2/5 in 4 s";
  EXPECT_THAT(ProgressDisplay::Line(in), ::testing::EndsWith("  Graph 503, retry 2/5 in 4 s"));
}

TEST(PlanClosingNoteTest, NothingToDoNeverSuggestsApply) {
  deploy::Plan empty;
  deploy::Action unchanged;
  unchanged.kind = deploy::ActionKind::kSkipUserPfx;
  empty.actions.push_back(unchanged);
  const std::string note = PlanClosingNote(empty, "c.yaml", "plan.json");
  EXPECT_THAT(note, HasSubstr("Nothing to do: the tenant already matches the manifest."));
  EXPECT_THAT(note, Not(HasSubstr("certdeploy apply")));

  deploy::Action invalid;
  invalid.kind = deploy::ActionKind::kInvalid;
  invalid.line = 3;
  empty.actions.push_back(invalid);
  EXPECT_THAT(PlanClosingNote(empty, "c.yaml", ""), HasSubstr("Nothing to apply"));
  EXPECT_THAT(PlanClosingNote(empty, "c.yaml", ""), Not(HasSubstr("certdeploy apply")));

  deploy::Plan work;
  deploy::Action import;
  import.kind = deploy::ActionKind::kImportUserPfx;
  work.actions.push_back(import);
  EXPECT_THAT(PlanClosingNote(work, "c.yaml", "plan.json"),
              HasSubstr("certdeploy apply --config c.yaml --plan plan.json"));
}

TEST(DescribeFailureTest, TheRequestIdShowsOnce) {
  StatusDetails d;
  d.http_status = 400;
  d.service_code = "BadRequest";
  d.request_id = "rid-42";
  deploy::ItemResult item;
  item.kind = deploy::ActionKind::kImportUserPfx;
  item.key = "pfx/a/t";
  item.ok = false;
  item.attempts = 1;
  item.status = Status(StatusCode::kInvalidArgument,
                       "POST /deviceManagement/userPfxCertificates: HTTP 400 BadRequest: An error "
                       "has occurred (request-id rid-42)",
                       d)
                    .WithContext("line 3");
  const std::string text = DescribeFailure(item);
  EXPECT_EQ(text.find("rid-42"), text.rfind("rid-42")) << text;
  EXPECT_THAT(text, HasSubstr("[invalid-argument, http 400, Graph BadRequest]"));
}

}  // namespace
}  // namespace certdeploy::cli
