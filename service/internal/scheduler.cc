// Rollout wave transitions (RunDue/NextDue) and the operator's pause/resume/cancel.

#include "service/scheduler.h"

#include <string>
#include <vector>

#include "base/log.h"
#include "base/status_macros.h"
#include "service/internal/notifier.h"
#include "service/internal/scheduler_waves.h"

namespace certdeploy::service {
namespace {

constexpr int kMaxRollouts = 1000;
constexpr int kMaxStepsPerRollout = 64;

// A transition lost to a concurrent one is not an error: the next RunDue re-reads.
Result<bool> Applied(const Result<store::Rollout>& r) {
  if (r.ok()) return true;
  if (r.status().code() == StatusCode::kAborted) return false;
  return r.status();
}

Status NotApplicable(const store::Rollout& r, std::string_view action) {
  return FailedPreconditionError("cannot " + std::string(action) + " rollout " + r.id + ": it is " +
                                 std::string(store::RolloutStatusName(r.status)));
}

// "3 succeeded, 1 failed, 2 invalid, 0 cancelled of 6": a rollout's or a wave's outcome.
std::string CountsText(const store::ItemSummary& s) {
  return std::to_string(s.succeeded) + " succeeded, " + std::to_string(s.failed) + " failed, " +
         std::to_string(s.invalid) + " invalid, " + std::to_string(s.cancelled) +
         " cancelled of " + std::to_string(s.total());
}

}  // namespace

std::vector<store::Notification> RolloutFinished(const Notifier* notifier,
                                                 const store::Rollout& rollout,
                                                 store::RolloutStatus status,
                                                 const store::ItemSummary* summary) {
  if (notifier == nullptr) return {};
  nlohmann::json data = {{"id", rollout.id},
                         {"name", rollout.name},
                         {"status", store::RolloutStatusName(status)},
                         {"dryRun", rollout.dry_run}};
  if (summary != nullptr) {
    data["counts"] = {{"succeeded", summary->succeeded},
                      {"failed", summary->failed},
                      {"invalid", summary->invalid},
                      {"cancelled", summary->cancelled},
                      {"total", summary->total()}};
  }
  // A rollout ends once (compare-and-set); the key makes sure of it.
  return notifier->For("rollout.finished", data, rollout.id);
}

Result<int> Scheduler::RunDue() {
  const store::RolloutStatus active[] = {store::RolloutStatus::kScheduled, store::RolloutStatus::kRunning};
  ASSIGN_OR_RETURN(std::vector<store::Rollout> rollouts, store_.ListRollouts(active, kMaxRollouts));
  int transitions = 0;
  Status first_error;
  for (const store::Rollout& listed : rollouts) {
    store::Rollout current = listed;
    for (int step = 0; step < kMaxStepsPerRollout; ++step) {
      Result<bool> moved = Step(current);
      if (!moved.ok()) {
        if (first_error.ok()) first_error = moved.status().WithContext("rollout " + current.id);
        break;
      }
      if (!*moved) break;
      ++transitions;
      Result<store::Rollout> reread = store_.GetRollout(current.id);
      if (!reread.ok()) break;
      current = std::move(*reread);
      if (current.status != store::RolloutStatus::kScheduled &&
          current.status != store::RolloutStatus::kRunning) {
        break;
      }
    }
  }
  if (!first_error.ok() && transitions == 0) return first_error;
  if (!first_error.ok()) CD_LOG_WARN("scheduler: {}", first_error);
  return transitions;
}

std::optional<SystemTime> NextWaveAt(const store::Rollout& r) {
  Result<std::vector<Wave>> waves = WavesFromJson(r.waves_json);
  if (!waves.ok()) return std::nullopt;
  auto plus = [](SystemTime t, Duration d) {
    return t + std::chrono::duration_cast<SystemTime::duration>(d);
  };
  if (r.status == store::RolloutStatus::kScheduled) return plus(r.start_at, waves->front().after);
  if (r.status == store::RolloutStatus::kRunning && r.wave_finished_at && r.current_wave >= 1 &&
      r.current_wave < static_cast<int>(waves->size())) {
    return plus(*r.wave_finished_at, (*waves)[static_cast<size_t>(r.current_wave)].after);
  }
  return std::nullopt;
}

Result<std::optional<SystemTime>> Scheduler::NextDue() {
  const store::RolloutStatus active[] = {store::RolloutStatus::kScheduled, store::RolloutStatus::kRunning};
  ASSIGN_OR_RETURN(std::vector<store::Rollout> rollouts, store_.ListRollouts(active, kMaxRollouts));
  std::optional<SystemTime> next;
  for (const store::Rollout& r : rollouts) {
    const std::optional<SystemTime> t = NextWaveAt(r);
    if (t && (!next || *t < *next)) next = t;
  }
  return next;
}

Result<bool> Scheduler::Step(const store::Rollout& r) {
  Result<std::vector<Wave>> waves = WavesFromJson(r.waves_json);
  if (!waves.ok()) return waves.status();
  const int count = static_cast<int>(waves->size());
  if (r.status == store::RolloutStatus::kScheduled) return Start(r, waves->front().after);
  if (r.status != store::RolloutStatus::kRunning) return false;
  if (r.current_wave < 1 || r.current_wave > count) {
    return DataLossError("current wave " + std::to_string(r.current_wave) + " is not in 1.." +
                         std::to_string(count));
  }
  const bool last = r.current_wave == count;
  const Duration next_delay =
      last ? Duration::zero() : (*waves)[static_cast<size_t>(r.current_wave)].after;
  return Advance(r, next_delay, last);
}

Result<bool> Scheduler::Start(const store::Rollout& r, Duration first_delay) {
  const SystemTime now = clock_.Now();
  if (now < r.start_at + std::chrono::duration_cast<SystemTime::duration>(first_delay)) {
    return false;
  }
  store::RolloutUpdate update;
  update.expected_status = store::RolloutStatus::kScheduled;
  if (r.dry_run) {
    update.status = store::RolloutStatus::kSucceeded;
    update.notify = RolloutFinished(notifier_, r, update.status, nullptr);
    ASSIGN_OR_RETURN(bool applied, Applied(store_.UpdateRollout(r.id, update)));
    if (applied) {
      Audit(r, "rollout.finish", "succeeded: dry run");
      CD_LOG_INFO("rollout {} finished: succeeded (dry run)", r.id);
    }
    return applied;
  }
  update.status = store::RolloutStatus::kRunning;
  update.wave = store::RolloutUpdate::Wave{1, now, std::nullopt};
  ASSIGN_OR_RETURN(bool applied, Applied(store_.UpdateRollout(r.id, update)));
  if (applied) {
    Audit(r, "rollout.wave-start", "wave 1");
    CD_LOG_INFO("rollout {} wave 1 started", r.id);
  }
  return applied;
}

Result<bool> Scheduler::Advance(const store::Rollout& r, Duration next_delay, bool last_wave) {
  const SystemTime now = clock_.Now();
  if (!r.wave_finished_at) {
    store::ItemFilter filter;
    filter.rollout_id = r.id;
    filter.wave = r.current_wave;
    ASSIGN_OR_RETURN(store::ItemSummary wave, store_.SummarizeItems(filter, 0));
    if (wave.queued + wave.running > 0) return false;
    // Rows refused at intake were known when the rollout was accepted: only deployments that
    // failed count toward the halt.
    const int64_t deployable = wave.total() - wave.invalid;
    const bool halt =
        deployable > 0 &&
        wave.failed * 100 > static_cast<int64_t>(r.halt_on_failure_percent) * deployable;
    store::RolloutUpdate update;
    update.expected_status = store::RolloutStatus::kRunning;
    update.status = halt ? store::RolloutStatus::kPaused : store::RolloutStatus::kRunning;
    update.wave = store::RolloutUpdate::Wave{r.current_wave, r.wave_started_at, now};
    ASSIGN_OR_RETURN(bool applied, Applied(store_.UpdateRollout(r.id, update)));
    if (applied) {
      const std::string counts = std::to_string(wave.failed) + " of " +
                                 std::to_string(deployable) + " failed";
      Audit(r, halt ? "rollout.halt" : "rollout.wave-finish",
            "wave " + std::to_string(r.current_wave) + ": " + counts);
      if (halt) {
        CD_LOG_WARN("rollout {} paused: wave {} {} (halt above {}%)", r.id, r.current_wave, counts,
                    r.halt_on_failure_percent);
      } else {
        CD_LOG_INFO("rollout {} wave {} finished: {}", r.id, r.current_wave, CountsText(wave));
      }
    }
    return applied;
  }
  if (last_wave) return Finish(r);
  if (now < *r.wave_finished_at + std::chrono::duration_cast<SystemTime::duration>(next_delay)) {
    return false;
  }
  store::RolloutUpdate update;
  update.expected_status = store::RolloutStatus::kRunning;
  update.status = store::RolloutStatus::kRunning;
  update.wave = store::RolloutUpdate::Wave{r.current_wave + 1, now, std::nullopt};
  ASSIGN_OR_RETURN(bool applied, Applied(store_.UpdateRollout(r.id, update)));
  if (applied) {
    Audit(r, "rollout.wave-start", "wave " + std::to_string(r.current_wave + 1));
    CD_LOG_INFO("rollout {} wave {} started", r.id, r.current_wave + 1);
  }
  return applied;
}

Result<bool> Scheduler::Finish(const store::Rollout& r) {
  store::ItemFilter filter;
  filter.rollout_id = r.id;
  ASSIGN_OR_RETURN(store::ItemSummary all, store_.SummarizeItems(filter, 0));
  store::RolloutUpdate update;
  update.expected_status = store::RolloutStatus::kRunning;
  update.status = all.failed > 0 ? store::RolloutStatus::kFailed : store::RolloutStatus::kSucceeded;
  update.notify = RolloutFinished(notifier_, r, update.status, &all);
  ASSIGN_OR_RETURN(bool applied, Applied(store_.UpdateRollout(r.id, update)));
  if (applied) {
    const std::string outcome =
        std::string(store::RolloutStatusName(update.status)) + ": " + CountsText(all);
    Audit(r, "rollout.finish", outcome);
    CD_LOG_INFO("rollout {} finished: {}", r.id, outcome);
  }
  return applied;
}

void Scheduler::Audit(const store::Rollout& r, std::string action, std::string outcome) {
  store::AuditRecord record;
  record.action = std::move(action);
  record.outcome = std::move(outcome);
  record.detail = "rollout " + r.id + " (" + r.name + ")";
  Result<int64_t> appended = store_.AppendAudit(record);
  if (!appended.ok()) CD_LOG_WARN("audit of rollout {}: {}", r.id, appended.status());
}

Result<store::Rollout> PauseRollout(store::JobStore& store, std::string_view id, bool* changed) {
  if (changed != nullptr) *changed = false;
  ASSIGN_OR_RETURN(store::Rollout r, store.GetRollout(id));
  if (r.status == store::RolloutStatus::kPaused) return r;  // Already where it was asked to be.
  if (r.status != store::RolloutStatus::kScheduled && r.status != store::RolloutStatus::kRunning) {
    return NotApplicable(r, "pause");
  }
  store::RolloutUpdate update;
  update.expected_status = r.status;
  update.status = store::RolloutStatus::kPaused;
  ASSIGN_OR_RETURN(store::Rollout paused, store.UpdateRollout(id, update));
  if (changed != nullptr) *changed = true;
  CD_LOG_INFO("rollout {} paused (was {})", paused.id, store::RolloutStatusName(r.status));
  return paused;
}

Result<store::Rollout> ResumeRollout(store::JobStore& store, std::string_view id, bool* changed) {
  if (changed != nullptr) *changed = false;
  ASSIGN_OR_RETURN(store::Rollout r, store.GetRollout(id));
  if (r.status == store::RolloutStatus::kScheduled || r.status == store::RolloutStatus::kRunning) {
    return r;  // Not paused: nothing to resume.
  }
  if (r.status != store::RolloutStatus::kPaused) return NotApplicable(r, "resume");
  store::RolloutUpdate update;
  update.expected_status = store::RolloutStatus::kPaused;
  update.status = r.current_wave == 0 ? store::RolloutStatus::kScheduled : store::RolloutStatus::kRunning;
  ASSIGN_OR_RETURN(store::Rollout resumed, store.UpdateRollout(id, update));
  if (changed != nullptr) *changed = true;
  CD_LOG_INFO("rollout {} resumed ({})", resumed.id, store::RolloutStatusName(resumed.status));
  return resumed;
}

Result<store::Rollout> CancelRollout(store::JobStore& store, std::string_view id,
                                     std::string_view owner, const Notifier* notifier,
                                     bool* changed) {
  if (changed != nullptr) *changed = false;
  ASSIGN_OR_RETURN(store::Rollout r, store.GetRollout(id));
  store::Rollout cancelled = r;
  if (r.status != store::RolloutStatus::kCancelled) {
    if (r.status != store::RolloutStatus::kScheduled &&
        r.status != store::RolloutStatus::kRunning && r.status != store::RolloutStatus::kPaused) {
      return NotApplicable(r, "cancel");
    }
    store::RolloutUpdate update;
    update.expected_status = r.status;
    update.status = store::RolloutStatus::kCancelled;
    update.notify = RolloutFinished(notifier, r, update.status, nullptr);
    ASSIGN_OR_RETURN(cancelled, store.UpdateRollout(id, update));
    if (changed != nullptr) *changed = true;
    CD_LOG_INFO("rollout {} cancelled (was {})", cancelled.id, store::RolloutStatusName(r.status));
  }
  // Also when it was cancelled already: a cancel that failed half-way may have left items queued.
  // Queued items will never run now: mark them, a page at a time.
  store::ClaimRequest claim;
  claim.owner = std::string(owner);
  claim.lease = std::chrono::minutes(1);
  claim.filter.rollout_id = std::string(id);
  claim.limit = 500;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<store::WorkItem> items, store.ClaimNext(claim));
    if (items.empty()) break;
    for (const store::WorkItem& item : items) {
      store::CheckpointUpdate c;
      c.id = item.id;
      c.owner = claim.owner;
      c.status = store::ItemStatus::kCancelled;
      c.step = "cancelled";
      c.error_code = "cancelled";
      c.error_message = "the rollout was cancelled before this item ran";
      Status s = store.Checkpoint(c);
      if (!s.ok() && s.code() != StatusCode::kAborted) return s;
    }
  }
  return cancelled;
}

}  // namespace certdeploy::service
