// service/scheduler.h: moving rollouts through their waves on the clock.
//
// The scheduler owns no thread and never waits: the daemon loop calls RunDue() (and sleeps until
// NextDue() or a poll interval); tests call it after FakeClock::Advance(). All state lives in the
// JobStore and every transition is a compare-and-set (JobStore::UpdateRollout), so two replicas,
// or a replica and an operator's pause, can never apply conflicting transitions.
//
// A rollout's life:
//   scheduled --(startAt + waves[0].after)--> running, wave 1 started
//   running, wave k: when none of its items is queued or running the wave is finished; if more
//     than haltOnFailurePercent of its items failed the rollout is paused, otherwise wave k+1
//     starts once waves[k].after has passed since wave k finished. After the last wave the
//     rollout ends: failed if any deployment failed, else succeeded. Rows refused at intake
//     (store::ItemSummary::invalid) count toward neither the halt nor the outcome.
//   Each transition is audited and logged at info (a halt at warn).
//   A dry-run rollout runs no wave: it ends succeeded at its start time.
// The dispatcher only claims items of the current, started and unfinished wave of a running
// rollout (see dispatcher.h).
//
//   Scheduler scheduler(store, clock);
//   clock.Advance(std::chrono::hours(2));
//   ASSERT_THAT(scheduler.RunDue(), IsOk());

#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "store/job_store.h"

namespace certdeploy::service {

class Notifier;  // service/internal/notifier.h

class Scheduler {
 public:
  // `store`, `clock` and `notifier` (nullable: no webhooks) must outlive the scheduler. A rollout
  // that ends (succeeded or failed) enqueues rollout.finished in the same update.
  Scheduler(store::JobStore& store, Clock& clock, const Notifier* notifier = nullptr)
      : store_(store), clock_(clock), notifier_(notifier) {}
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Applies every transition that is due now (see the file comment), repeatedly for a rollout
  // until it rests (an empty wave finishes at once). Returns the number of transitions made. A
  // transition lost to a concurrent one (Aborted) is skipped, not an error; store failures are
  // returned (the rest is retried by the next call).
  Result<int> RunDue();

  // The earliest instant at which RunDue() has work because a start time or a wave delay
  // passes; nullopt when no such delay is pending. Waves waiting for items to finish are not
  // time-driven and do not count.
  Result<std::optional<SystemTime>> NextDue();

 private:
  // One transition of `rollout` if due; true if one was made.
  Result<bool> Step(const store::Rollout& rollout);
  Result<bool> Start(const store::Rollout& rollout, Duration first_delay);
  Result<bool> Advance(const store::Rollout& rollout, Duration next_delay, bool last_wave);
  Result<bool> Finish(const store::Rollout& rollout);
  void Audit(const store::Rollout& rollout, std::string action, std::string outcome);

  store::JobStore& store_;
  Clock& clock_;
  const Notifier* notifier_;
};

// rollout.finished for `rollout` ending in `status` (none without a notifier). `summary`, when
// given, adds the item counts.
std::vector<store::Notification> RolloutFinished(const Notifier* notifier,
                                                 const store::Rollout& rollout,
                                                 store::RolloutStatus status,
                                                 const store::ItemSummary* summary);

// When the rollout's next wave starts by the clock (GET /v1/rollouts/{id} "nextWaveAt"):
// startAt + waves[0].after while scheduled; once wave k of a running rollout finished, its end +
// waves[k].after (past instants mean "at the next pass"). nullopt otherwise: while a wave's items
// run (the next one's time depends on when they end), while paused, after the last wave, and
// for an ended rollout.
std::optional<SystemTime> NextWaveAt(const store::Rollout& rollout);

// Operator actions behind POST /v1/rollouts/{id}/pause|resume|cancel. Each reads the rollout and
// applies a compare-and-set: Aborted when it changed meanwhile (the caller may retry),
// FailedPrecondition "rollout is <status>" when the action does not apply to its status,
// NotFound when there is no such rollout. They are idempotent: a rollout already in the state
// asked for (pause a paused one, resume a scheduled or running one, cancel a cancelled one) is
// returned unchanged (`*changed`, when given, says whether anything changed; a repeated cancel
// still marks queued items left by a cancel that failed half-way). Each change is logged at info.
//   pause:  scheduled|running -> paused (items already claimed finish; no new ones start)
//   resume: paused -> running (or scheduled if no wave has started yet)
//   cancel: scheduled|running|paused -> cancelled, then every queued item of the rollout is
//           marked cancelled (claimed under `owner`, then checkpointed); items a dispatcher is
//           running finish and are not undone. With a `notifier`, rollout.finished (status
//           cancelled) is enqueued with the change.
Result<store::Rollout> PauseRollout(store::JobStore& store, std::string_view id,
                                    bool* changed = nullptr);
Result<store::Rollout> ResumeRollout(store::JobStore& store, std::string_view id,
                                     bool* changed = nullptr);
Result<store::Rollout> CancelRollout(store::JobStore& store, std::string_view id,
                                     std::string_view owner, const Notifier* notifier = nullptr,
                                     bool* changed = nullptr);

}  // namespace certdeploy::service
