// Rollout scheduling on a FakeClock over a real (SQLite) job store: waves, delays, the failure
// halt, pause/resume/cancel. No sleeps: time moves only through FakeClock::Advance.

#include "service/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "service/internal/notifier.h"
#include "service/internal/scheduler_waves.h"
#include "tests/support/fake_clock.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_sqlite_store.h"

namespace certdeploy::service {
namespace {

using ::certdeploy::testing::FakeClock;
using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using ::certdeploy::testing::TempSqliteStore;
using std::chrono::hours;
using std::chrono::minutes;

// A Result<T> that is OK and whose value matches `m`.
MATCHER_P(Holds, m, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status().ToString();
    return false;
  }
  return ::testing::ExplainMatchResult(m, *arg, result_listener);
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(store_.status(), IsOk()); }

  // A rollout of `count` items starting at `start` with `waves`; the last `invalid` items are
  // rows refused at intake, as the API stores them.
  std::string Create(int count, const std::vector<Wave>& waves, SystemTime start,
                     int halt_percent = 5, bool dry_run = false, int invalid = 0) {
    store::Rollout r;
    r.id = "r" + std::to_string(++next_);
    r.name = "test";
    r.manifest_path = "/inbox/m.csv";
    r.start_at = start;
    r.waves_json = WavesToJson(waves);
    r.halt_on_failure_percent = halt_percent;
    r.dry_run = dry_run;
    std::vector<store::WorkItem> items;
    const std::vector<int> wave_of = AssignWaves(count, waves);
    for (int i = 0; i < count; ++i) {
      store::WorkItem item;
      item.id = r.id + "-i" + std::to_string(i);
      item.kind = store::ItemKind::kRollout;
      item.rollout_id = r.id;
      item.wave = wave_of[static_cast<size_t>(i)];
      item.manifest_line = i + 2;
      item.user_principal_name = "u" + std::to_string(i) + "@contoso.com";
      item.sealed_password = "sealed";
      if (i >= count - invalid) {
        item.status = store::ItemStatus::kFailed;
        item.step = std::string(store::kInvalidStep);
        item.error_code = "pfx-not-deployable";
      }
      items.push_back(item);
    }
    EXPECT_THAT(store_->CreateRollout(r, items), IsOk());
    return r.id;
  }

  // Plays the dispatcher: finishes every queued item of `wave`, the first `failures` as failed.
  int Complete(const std::string& id, int wave, int failures = 0) {
    store::ClaimRequest claim;
    claim.owner = "test-dispatcher";
    claim.filter.rollout_id = id;
    claim.filter.wave = wave;
    claim.limit = 1000;
    Result<std::vector<store::WorkItem>> items = store_->ClaimNext(claim);
    EXPECT_THAT(items.status(), IsOk());
    int n = 0;
    for (const store::WorkItem& item : *items) {
      store::CheckpointUpdate c;
      c.id = item.id;
      c.owner = claim.owner;
      c.status = n < failures ? store::ItemStatus::kFailed : store::ItemStatus::kSucceeded;
      c.error_code = n < failures ? "BadRequest" : "";
      EXPECT_THAT(store_->Checkpoint(c), IsOk());
      ++n;
    }
    return n;
  }

  store::Rollout Get(const std::string& id) {
    Result<store::Rollout> r = store_->GetRollout(id);
    EXPECT_THAT(r.status(), IsOk());
    return r.ok() ? *r : store::Rollout{};
  }

  FakeClock clock_;
  TempSqliteStore store_{clock_};
  int next_ = 0;
};

TEST_F(SchedulerTest, WavesStartOnlyAfterThePreviousFinishedAndItsDelayPassed) {
  const SystemTime t0 = clock_.Now();
  const std::string id =
      Create(10, {{10, Duration::zero()}, {50, hours(2)}, {100, hours(24)}}, t0 + hours(1));
  Scheduler scheduler(*store_, clock_);

  EXPECT_THAT(scheduler.RunDue(), Holds(0));
  EXPECT_EQ(Get(id).status, store::RolloutStatus::kScheduled);
  Result<std::optional<SystemTime>> due = scheduler.NextDue();
  ASSERT_THAT(due.status(), IsOk());
  EXPECT_EQ(*due, std::optional<SystemTime>(t0 + hours(1)));

  clock_.Advance(hours(1));
  EXPECT_THAT(scheduler.RunDue(), Holds(1));
  store::Rollout r = Get(id);
  EXPECT_EQ(r.status, store::RolloutStatus::kRunning);
  EXPECT_EQ(r.current_wave, 1);
  EXPECT_EQ(r.wave_started_at, std::optional<SystemTime>(clock_.Now()));

  // The wave has not finished: nothing moves however long we wait.
  clock_.Advance(hours(48));
  EXPECT_THAT(scheduler.RunDue(), Holds(0));
  EXPECT_EQ(Get(id).current_wave, 1);

  EXPECT_EQ(Complete(id, 1), 1);  // ceil(10 * 10%) = 1 item.
  EXPECT_THAT(scheduler.RunDue(), Holds(1));
  r = Get(id);
  EXPECT_EQ(r.current_wave, 1);
  ASSERT_TRUE(r.wave_finished_at.has_value());
  const SystemTime finished = *r.wave_finished_at;
  EXPECT_EQ(*scheduler.NextDue(), std::optional<SystemTime>(finished + hours(2)));

  clock_.Advance(hours(2) - minutes(1));
  EXPECT_THAT(scheduler.RunDue(), Holds(0));
  EXPECT_EQ(Get(id).current_wave, 1);
  clock_.Advance(minutes(1));
  EXPECT_THAT(scheduler.RunDue(), Holds(1));
  EXPECT_EQ(Get(id).current_wave, 2);
  EXPECT_FALSE(Get(id).wave_finished_at.has_value());

  EXPECT_EQ(Complete(id, 2), 4);  // Up to 50 %: items 2..5.
  EXPECT_THAT(scheduler.RunDue(), Holds(1));
  clock_.Advance(hours(23));
  EXPECT_THAT(scheduler.RunDue(), Holds(0));
  clock_.Advance(hours(1));
  EXPECT_THAT(scheduler.RunDue(), Holds(1));
  EXPECT_EQ(Get(id).current_wave, 3);

  EXPECT_EQ(Complete(id, 3), 5);
  // Finishing the last wave and the rollout happen in one call.
  EXPECT_THAT(scheduler.RunDue(), Holds(2));
  EXPECT_EQ(Get(id).status, store::RolloutStatus::kSucceeded);
  EXPECT_THAT(scheduler.NextDue(), Holds(std::optional<SystemTime>()));
}

TEST_F(SchedulerTest, AWaveFailingMoreThanTheThresholdPausesTheRollout) {
  const std::string id = Create(20, {{50, Duration::zero()}, {100, Duration::zero()}}, clock_.Now(),
                                /*halt_percent=*/5);
  Scheduler scheduler(*store_, clock_);
  ASSERT_THAT(scheduler.RunDue(), Holds(1));
  EXPECT_EQ(Complete(id, 1, /*failures=*/1), 10);  // 10 % > 5 %.
  EXPECT_THAT(scheduler.RunDue(), Holds(1));
  store::Rollout r = Get(id);
  EXPECT_EQ(r.status, store::RolloutStatus::kPaused);
  EXPECT_EQ(r.current_wave, 1);
  EXPECT_TRUE(r.wave_finished_at.has_value());

  // Paused: the next wave does not start.
  clock_.Advance(hours(5));
  EXPECT_THAT(scheduler.RunDue(), Holds(0));
  EXPECT_EQ(Get(id).current_wave, 1);

  // The operator resumes: the next wave starts, and the failure makes the rollout end failed.
  ASSERT_THAT(ResumeRollout(*store_, id).status(), IsOk());
  EXPECT_THAT(scheduler.RunDue(), Holds(1));
  EXPECT_EQ(Get(id).current_wave, 2);
  Complete(id, 2);
  EXPECT_THAT(scheduler.RunDue(), Holds(2));
  EXPECT_EQ(Get(id).status, store::RolloutStatus::kFailed);

  bool halted = false;
  Result<std::vector<store::AuditRecord>> audit = store_->ListAudit(50);
  ASSERT_THAT(audit.status(), IsOk());
  for (const store::AuditRecord& a : *audit) halted |= a.action == "rollout.halt";
  EXPECT_TRUE(halted);
}

TEST_F(SchedulerTest, AFailureRateAtTheThresholdDoesNotHalt) {
  const std::string id = Create(10, {{100, Duration::zero()}}, clock_.Now(), /*halt=*/10);
  Scheduler scheduler(*store_, clock_);
  ASSERT_THAT(scheduler.RunDue(), Holds(1));
  Complete(id, 1, /*failures=*/1);  // Exactly 10 %.
  EXPECT_THAT(scheduler.RunDue(), Holds(2));
  EXPECT_EQ(Get(id).status, store::RolloutStatus::kFailed);  // Ended (with a failure), never paused.
}

TEST_F(SchedulerTest, PausedBeforeStartWaitsUntilResumed) {
  const std::string id = Create(3, {{100, Duration::zero()}}, clock_.Now() + hours(1));
  Scheduler scheduler(*store_, clock_);
  ASSERT_THAT(PauseRollout(*store_, id).status(), IsOk());
  clock_.Advance(hours(2));
  EXPECT_THAT(scheduler.RunDue(), Holds(0));
  EXPECT_EQ(Get(id).status, store::RolloutStatus::kPaused);
  Result<store::Rollout> resumed = ResumeRollout(*store_, id);
  ASSERT_THAT(resumed.status(), IsOk());
  EXPECT_EQ(resumed->status, store::RolloutStatus::kScheduled);  // No wave had started.
  EXPECT_THAT(scheduler.RunDue(), Holds(1));
  EXPECT_EQ(Get(id).status, store::RolloutStatus::kRunning);
}

TEST_F(SchedulerTest, PauseMidWaveKeepsTheWaveAndResumeContinuesIt) {
  const std::string id = Create(4, {{100, Duration::zero()}}, clock_.Now());
  Scheduler scheduler(*store_, clock_);
  ASSERT_THAT(scheduler.RunDue(), Holds(1));
  ASSERT_THAT(PauseRollout(*store_, id).status(), IsOk());
  // Pausing a paused rollout is not an error: it answers the state asked for.
  Result<store::Rollout> again = PauseRollout(*store_, id);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->status, store::RolloutStatus::kPaused);
  Complete(id, 1);  // Items already claimed before the pause still finish.
  EXPECT_THAT(scheduler.RunDue(), Holds(0));  // Paused rollouts are left alone.
  Result<store::Rollout> resumed = ResumeRollout(*store_, id);
  ASSERT_THAT(resumed.status(), IsOk());
  EXPECT_EQ(resumed->status, store::RolloutStatus::kRunning);
  EXPECT_EQ(resumed->current_wave, 1);
  EXPECT_THAT(scheduler.RunDue(), Holds(2));
  EXPECT_EQ(Get(id).status, store::RolloutStatus::kSucceeded);
}

TEST_F(SchedulerTest, CancelMarksQueuedItemsAndIsFinal) {
  const std::string id = Create(6, {{50, Duration::zero()}, {100, hours(1)}}, clock_.Now());
  Scheduler scheduler(*store_, clock_);
  ASSERT_THAT(scheduler.RunDue(), Holds(1));
  Complete(id, 1);
  Result<store::Rollout> cancelled = CancelRollout(*store_, id, "api");
  ASSERT_THAT(cancelled.status(), IsOk());
  EXPECT_EQ(cancelled->status, store::RolloutStatus::kCancelled);
  store::ItemFilter filter;
  filter.rollout_id = id;
  Result<store::ItemSummary> s = store_->SummarizeItems(filter, 10);
  ASSERT_THAT(s.status(), IsOk());
  EXPECT_EQ(s->succeeded, 3);
  EXPECT_EQ(s->cancelled, 3);
  EXPECT_EQ(s->queued, 0);
  clock_.Advance(hours(2));
  EXPECT_THAT(scheduler.RunDue(), Holds(0));
  EXPECT_THAT(ResumeRollout(*store_, id).status(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(PauseRollout(*store_, id).status(), StatusIs(StatusCode::kFailedPrecondition));
  Result<store::Rollout> again = CancelRollout(*store_, id, "api");  // Idempotent.
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->status, store::RolloutStatus::kCancelled);
  EXPECT_THAT(PauseRollout(*store_, "nope").status(), StatusIs(StatusCode::kNotFound));
}

TEST_F(SchedulerTest, TransitionsAreIdempotentAndImpossibleOnesAreRefused) {
  const std::string id = Create(2, {{100, Duration::zero()}}, clock_.Now());
  Scheduler scheduler(*store_, clock_);
  // Resume of a scheduled, then of a running rollout: nothing to do, the state is answered.
  EXPECT_EQ(ResumeRollout(*store_, id).value_or(store::Rollout{}).status,
            store::RolloutStatus::kScheduled);
  ASSERT_THAT(scheduler.RunDue(), Holds(1));
  const store::Rollout running = Get(id);
  EXPECT_EQ(ResumeRollout(*store_, id).value_or(store::Rollout{}), running) << "unchanged";
  Complete(id, 1);
  ASSERT_THAT(scheduler.RunDue(), Holds(2));
  ASSERT_EQ(Get(id).status, store::RolloutStatus::kSucceeded);
  for (auto* action : {&PauseRollout, &ResumeRollout}) {
    EXPECT_THAT((*action)(*store_, id, nullptr).status(),
                StatusIs(StatusCode::kFailedPrecondition, ::testing::HasSubstr("succeeded")));
  }
  EXPECT_THAT(CancelRollout(*store_, id, "api").status(),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(SchedulerTest, ARepeatedCancelFinishesTheSweepOfAHalfDoneOne) {
  const std::string id = Create(4, {{100, Duration::zero()}}, clock_.Now());
  // A cancel whose status change was stored but whose sweep of the queued items never ran.
  store::RolloutUpdate update;
  update.expected_status = store::RolloutStatus::kScheduled;
  update.status = store::RolloutStatus::kCancelled;
  ASSERT_THAT(store_->UpdateRollout(id, update).status(), IsOk());
  ASSERT_EQ(store_->SummarizeItems({.rollout_id = id}, 0).value_or(store::ItemSummary{}).queued, 4);

  bool changed = true;
  Result<store::Rollout> again = CancelRollout(*store_, id, "api", nullptr, &changed);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_FALSE(changed) << "the rollout was cancelled already";
  Result<store::ItemSummary> s = store_->SummarizeItems({.rollout_id = id}, 0);
  ASSERT_THAT(s.status(), IsOk());
  EXPECT_EQ(s->queued, 0);
  EXPECT_EQ(s->cancelled, 4);
}

TEST_F(SchedulerTest, TransitionsSayWhetherTheyChangedAnything) {
  const std::string id = Create(2, {{100, Duration::zero()}}, clock_.Now());
  bool changed = false;
  ASSERT_THAT(PauseRollout(*store_, id, &changed).status(), IsOk());
  EXPECT_TRUE(changed);
  ASSERT_THAT(PauseRollout(*store_, id, &changed).status(), IsOk());
  EXPECT_FALSE(changed);
  ASSERT_THAT(ResumeRollout(*store_, id, &changed).status(), IsOk());
  EXPECT_TRUE(changed);
  ASSERT_THAT(ResumeRollout(*store_, id, &changed).status(), IsOk());
  EXPECT_FALSE(changed);
  ASSERT_THAT(CancelRollout(*store_, id, "api", nullptr, &changed).status(), IsOk());
  EXPECT_TRUE(changed);
}

TEST_F(SchedulerTest, InvalidRowsNeitherHaltNorFailTheRollout) {
  // 4 rows, the last one refused at intake; it lands in wave 2 alone.
  const std::string id = Create(4, {{75, Duration::zero()}, {100, Duration::zero()}},
                                clock_.Now(), /*halt_percent=*/5, false, /*invalid=*/1);
  Scheduler scheduler(*store_, clock_);
  ASSERT_THAT(scheduler.RunDue(), Holds(1));
  EXPECT_EQ(Complete(id, 1), 3);
  // Wave 1 finishes, wave 2 (only the invalid row) starts and finishes, the rollout ends.
  EXPECT_THAT(scheduler.RunDue(), Holds(4));
  EXPECT_EQ(Get(id).status, store::RolloutStatus::kSucceeded);
  Result<store::ItemSummary> all = store_->SummarizeItems({.rollout_id = id}, 0);
  ASSERT_THAT(all.status(), IsOk());
  EXPECT_EQ(all->succeeded, 3);
  EXPECT_EQ(all->failed, 0);
  EXPECT_EQ(all->invalid, 1);

  // A deployment that fails still fails the rollout, invalid rows or not.
  const std::string failing = Create(4, {{100, Duration::zero()}}, clock_.Now(), 50, false, 1);
  ASSERT_THAT(scheduler.RunDue(), Holds(1));
  EXPECT_EQ(Complete(failing, 1, /*failures=*/1), 3);  // 1 of 3 deployable: 33 % < 50 %.
  EXPECT_THAT(scheduler.RunDue(), Holds(2));
  EXPECT_EQ(Get(failing).status, store::RolloutStatus::kFailed);
}

TEST_F(SchedulerTest, WavesKeepTheirTimesAcrossPauseAndResumeAndNextWaveAtIsShown) {
  const SystemTime t0 = clock_.Now();
  const std::string id = Create(4, {{50, Duration::zero()}, {100, hours(2)}}, t0 + hours(1));
  Scheduler scheduler(*store_, clock_);
  EXPECT_EQ(NextWaveAt(Get(id)), std::optional<SystemTime>(t0 + hours(1)));
  clock_.Advance(hours(1));
  ASSERT_THAT(scheduler.RunDue(), Holds(1));
  const SystemTime started1 = clock_.Now();
  EXPECT_EQ(NextWaveAt(Get(id)), std::nullopt) << "unknown while wave 1 runs";
  ASSERT_THAT(PauseRollout(*store_, id).status(), IsOk());
  EXPECT_EQ(NextWaveAt(Get(id)), std::nullopt) << "nothing starts while paused";
  clock_.Advance(minutes(10));
  Complete(id, 1);
  ASSERT_THAT(ResumeRollout(*store_, id).status(), IsOk());
  ASSERT_THAT(scheduler.RunDue(), Holds(1));  // Wave 1 finishes.
  const SystemTime finished1 = clock_.Now();
  EXPECT_EQ(NextWaveAt(Get(id)), std::optional<SystemTime>(finished1 + hours(2)));
  clock_.Advance(hours(2));
  ASSERT_THAT(scheduler.RunDue(), Holds(1));  // Wave 2 starts.
  ASSERT_THAT(PauseRollout(*store_, id).status(), IsOk());
  ASSERT_THAT(ResumeRollout(*store_, id).status(), IsOk());
  const store::Rollout r = Get(id);
  EXPECT_EQ(r.current_wave, 2);
  EXPECT_THAT(r.wave_times,
              ::testing::ElementsAre(store::WaveTimes{started1, finished1},
                                     store::WaveTimes{finished1 + hours(2), std::nullopt}));
  EXPECT_EQ(NextWaveAt(r), std::nullopt) << "no wave after the last";
}

TEST_F(SchedulerTest, DryRunRolloutEndsAtItsStartWithoutWaves) {
  const std::string id = Create(0, {{100, Duration::zero()}}, clock_.Now() + minutes(5), 5, true);
  Scheduler scheduler(*store_, clock_);
  EXPECT_THAT(scheduler.RunDue(), Holds(0));
  clock_.Advance(minutes(5));
  EXPECT_THAT(scheduler.RunDue(), Holds(1));
  store::Rollout r = Get(id);
  EXPECT_EQ(r.status, store::RolloutStatus::kSucceeded);
  EXPECT_EQ(r.current_wave, 0);
}

TEST_F(SchedulerTest, EmptyWavesPassStraightThrough) {
  // 2 items: wave 1 (10 %) gets one, wave 2 (20 %) none, wave 3 the other.
  const std::string id = Create(
      2, {{10, Duration::zero()}, {20, Duration::zero()}, {100, Duration::zero()}}, clock_.Now());
  Scheduler scheduler(*store_, clock_);
  ASSERT_THAT(scheduler.RunDue(), Holds(1));
  Complete(id, 1);
  // Wave 1 finishes, wave 2 starts and (empty) finishes, wave 3 starts.
  EXPECT_THAT(scheduler.RunDue(), Holds(4));
  EXPECT_EQ(Get(id).current_wave, 3);
}

TEST(WavesTest, IsoDurations) {
  EXPECT_THAT(ParseIsoDuration("PT2H"), Holds(Duration(hours(2))));
  EXPECT_THAT(ParseIsoDuration("P1D"), Holds(Duration(hours(24))));
  EXPECT_THAT(ParseIsoDuration("P1W"), Holds(Duration(hours(24 * 7))));
  EXPECT_THAT(ParseIsoDuration("P1DT2H30M"), Holds(Duration(hours(26) + minutes(30))));
  EXPECT_THAT(ParseIsoDuration("PT1.5S"), Holds(Duration(std::chrono::milliseconds(1500))));
  EXPECT_THAT(ParseIsoDuration("P0D"), Holds(Duration::zero()));
  for (const char* bad : {"", "P", "PT", "2H", "P1M", "P1Y", "PT2", "P1DT", "PT1H2H", "PT1M1H",
                          "P1.5D", "pt2h", "PT-1H"}) {
    EXPECT_THAT(ParseIsoDuration(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_EQ(FormatIsoDuration(hours(2)), "PT2H");
  EXPECT_EQ(FormatIsoDuration(hours(26) + minutes(30)), "P1DT2H30M");
  EXPECT_EQ(FormatIsoDuration(std::chrono::milliseconds(250)), "PT0.25S");
  EXPECT_EQ(FormatIsoDuration(Duration::zero()), "PT0S");
}

TEST(WavesTest, Rfc3339) {
  const SystemTime t = SystemTime(std::chrono::seconds(1795906800));  // 2026-11-28T23:00:00Z
  EXPECT_THAT(ParseApiTime("2026-11-28T23:00:00Z"), Holds(t));
  EXPECT_THAT(ParseApiTime("2026-11-29T00:00:00+01:00"), Holds(t));
  EXPECT_THAT(ParseApiTime("2026-11-28T23:00:00.500Z"), Holds(t + std::chrono::milliseconds(500)));
  EXPECT_THAT(ParseApiTime("2026-11-28 23:00:00z"), Holds(t));
  for (const char* bad : {"2026-11-28", "2026-11-28T23:00:00", "2026-02-30T00:00:00Z",
                          "2026-11-28T25:00:00Z", "2026-11-28T23:00:00Zjunk", "tomorrow",
                          "1969-12-31T23:59:59Z", "2201-01-01T00:00:00Z"}) {
    EXPECT_THAT(ParseApiTime(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(WavesTest, ParseAndAssign) {
  nlohmann::json waves = nlohmann::json::parse(
      R"([{"percent":10},{"percent":50,"after":"PT2H"},{"percent":100,"after":"P1D"}])");
  Result<std::vector<Wave>> parsed = ParseWaves(waves);
  ASSERT_THAT(parsed.status(), IsOk());
  EXPECT_THAT(*parsed, ::testing::ElementsAre(Wave{10, Duration::zero()}, Wave{50, hours(2)},
                                              Wave{100, hours(24)}));
  EXPECT_THAT(WavesFromJson(WavesToJson(*parsed)), Holds(*parsed));
  EXPECT_THAT(ParseWaves(nullptr), Holds(std::vector<Wave>{Wave{}}));
  EXPECT_THAT(AssignWaves(10, *parsed), ::testing::ElementsAre(1, 2, 2, 2, 2, 3, 3, 3, 3, 3));
  EXPECT_THAT(AssignWaves(3, *parsed), ::testing::ElementsAre(1, 2, 3));

  const char* bad[] = {R"([])",
                       R"([{"percent":50}])",
                       R"([{"percent":60},{"percent":50}])",
                       R"([{"percent":100,"after":"soon"}])",
                       R"([{"percent":100,"x":1}])",
                       R"([{"percent":"100"}])",
                       R"({"percent":100})"};
  for (const char* b : bad) {
    EXPECT_THAT(ParseWaves(nlohmann::json::parse(b)), StatusIs(StatusCode::kInvalidArgument)) << b;
  }
}

// The rollout.finished bodies in the outbox, oldest first.
std::vector<nlohmann::json> Finished(store::JobStore& store) {
  std::vector<nlohmann::json> out;
  Result<std::vector<store::Notification>> all = store.ListNotifications(100);
  EXPECT_THAT(all.status(), IsOk());
  for (auto it = all->rbegin(); it != all->rend(); ++it) {
    if (it->event == "rollout.finished") out.push_back(nlohmann::json::parse(it->body));
  }
  return out;
}

TEST_F(SchedulerTest, AnEndedRolloutEnqueuesRolloutFinishedWithItsCounts) {
  Notifier notifier({{"https://h.example/x", {"rollout.finished"}, "S", {30}}}, clock_);
  const std::string id = Create(4, {{100, Duration::zero()}}, clock_.Now());
  Scheduler scheduler(*store_, clock_, &notifier);
  EXPECT_THAT(scheduler.RunDue(), Holds(1));
  EXPECT_EQ(Complete(id, 1, /*failures=*/1), 4);
  EXPECT_TRUE(Finished(*store_).empty());  // Not before it ends.
  // With 1 of 4 failed (25 %) the wave halts the rollout: paused is not an end.
  EXPECT_THAT(scheduler.RunDue(), Holds(1));
  EXPECT_EQ(Get(id).status, store::RolloutStatus::kPaused);
  EXPECT_TRUE(Finished(*store_).empty());
  ASSERT_THAT(ResumeRollout(*store_, id).status(), IsOk());
  EXPECT_THAT(scheduler.RunDue(), Holds(1));
  EXPECT_EQ(Get(id).status, store::RolloutStatus::kFailed);
  EXPECT_THAT(scheduler.RunDue(), Holds(0));

  const std::vector<nlohmann::json> finished = Finished(*store_);
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_EQ(finished[0]["data"]["id"], id);
  EXPECT_EQ(finished[0]["data"]["name"], "test");
  EXPECT_EQ(finished[0]["data"]["status"], "failed");
  EXPECT_EQ(finished[0]["data"]["counts"]["succeeded"], 3);
  EXPECT_EQ(finished[0]["data"]["counts"]["failed"], 1);
  EXPECT_EQ(finished[0]["data"]["counts"]["invalid"], 0);
  EXPECT_EQ(finished[0]["data"]["counts"]["total"], 4);
}

TEST_F(SchedulerTest, DryRunAndCancelledRolloutsEnqueueRolloutFinishedToo) {
  Notifier notifier({{"https://h.example/x", {"rollout.finished"}, "S", {30}}}, clock_);
  const std::string dry = Create(1, {{100, Duration::zero()}}, clock_.Now(), 5, /*dry_run=*/true);
  Scheduler scheduler(*store_, clock_, &notifier);
  EXPECT_THAT(scheduler.RunDue(), Holds(1));
  const std::string cancelled = Create(2, {{100, Duration::zero()}}, clock_.Now() + hours(1));
  ASSERT_THAT(CancelRollout(*store_, cancelled, "api", &notifier).status(), IsOk());

  const std::vector<nlohmann::json> finished = Finished(*store_);
  ASSERT_EQ(finished.size(), 2u);
  EXPECT_EQ(finished[0]["data"]["id"], dry);
  EXPECT_EQ(finished[0]["data"]["status"], "succeeded");
  EXPECT_EQ(finished[0]["data"]["dryRun"], true);
  EXPECT_EQ(finished[1]["data"]["id"], cancelled);
  EXPECT_EQ(finished[1]["data"]["status"], "cancelled");
  // Without a notifier (no webhooks configured) nothing is enqueued.
  const std::string quiet = Create(1, {{100, Duration::zero()}}, clock_.Now() + hours(1));
  ASSERT_THAT(CancelRollout(*store_, quiet, "api").status(), IsOk());
  EXPECT_EQ(Finished(*store_).size(), 2u);
}

}  // namespace
}  // namespace certdeploy::service
