// tests/support/faulty_job_store.h: a JobStore that fails or stalls chosen calls, so that store
// failures can be tested in-process, without SIGKILL (leveldb's ErrorEnv / SpecialEnv idea).
//
//   std::unique_ptr<store::JobStore> real = ...;
//   FaultyJobStore store(*real);
//   store.FailNext(FaultyJobStore::Call::kCheckpoint, UnavailableError("disk busy"));
//   // The next Checkpoint returns that error without reaching `real`; later ones go through.
//
// Thread-safe: the daemon's threads may call it while a test arms faults.

#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>

#include "base/status.h"
#include "store/job_store.h"

namespace certdeploy::testing {

class FaultyJobStore final : public store::JobStoreWrapper {
 public:
  enum class Call {
    kCreateItems,
    kGetItem,
    kFindByIdempotencyKey,
    kClaimNext,
    kCheckpoint,
    kSummarizeItems,
    kCreateRollout,
    kGetRollout,
    kListRollouts,
    kUpdateRollout,
    kAppendAudit,
    kListAudit,
    kTryBecomeDispatcher,
  };

  explicit FaultyJobStore(store::JobStore& target) : JobStoreWrapper(target) {}

  // The next `times` calls of `call` that arrive after `skip` more have gone through return
  // `error` without reaching the target. Faults queue up in the order they were armed.
  void FailNext(Call call, Status error, int times = 1, int skip = 0);
  // From now on, every Checkpoint for which `which` returns true fails with `error` (the store
  // cannot record, say, final outcomes). Replaces an earlier filter; nullptr removes it.
  void FailCheckpointsIf(std::function<bool(const store::CheckpointUpdate&)> which, Status error);
  // From now on, calls of `call` wait (before reaching the target) until Resume(call): a
  // stalled database. WaitUntilStalled returns once `n` calls are waiting.
  void Stall(Call call);
  void Resume(Call call);
  void WaitUntilStalled(Call call, int n = 1);
  // How many calls of `call` arrived, failed or not.
  int Calls(Call call) const;

  // store::JobStore:
  Status CreateItems(std::span<const store::WorkItem> items) override;
  Result<store::WorkItem> GetItem(std::string_view id) override;
  Result<store::WorkItem> FindByIdempotencyKey(std::string_view key) override;
  Result<std::vector<store::WorkItem>> ClaimNext(const store::ClaimRequest& request) override;
  Status Checkpoint(const store::CheckpointUpdate& update) override;
  Result<store::ItemSummary> SummarizeItems(const store::ItemFilter& filter,
                                            int max_failures) override;
  Status CreateRollout(const store::Rollout& rollout,
                       std::span<const store::WorkItem> items) override;
  Result<store::Rollout> GetRollout(std::string_view id) override;
  Result<std::vector<store::Rollout>> ListRollouts(std::span<const store::RolloutStatus> statuses,
                                                   int limit) override;
  Result<store::Rollout> UpdateRollout(std::string_view id,
                                       const store::RolloutUpdate& update) override;
  Result<int64_t> AppendAudit(const store::AuditRecord& record) override;
  Result<std::vector<store::AuditRecord>> ListAudit(int limit) override;
  Result<bool> TryBecomeDispatcher(std::string_view owner) override;

 private:
  struct Fault {
    int skip = 0;
    Status error;
  };
  // Counts the call, waits while it is stalled, and returns the armed fault (OK: go through).
  Status Enter(Call call);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<Call, std::deque<Fault>> faults_;  // Guarded by mu_.
  std::map<Call, int> calls_;                 // Guarded by mu_.
  std::map<Call, bool> stalled_;              // Guarded by mu_.
  std::map<Call, int> waiting_;               // Guarded by mu_.
  std::function<bool(const store::CheckpointUpdate&)> checkpoint_filter_;  // Guarded by mu_.
  Status checkpoint_error_;                                                // Guarded by mu_.
};

}  // namespace certdeploy::testing
