#include "tests/support/faulty_job_store.h"

namespace certdeploy::testing {

using store::WorkItem;

void FaultyJobStore::FailNext(Call call, Status error, int times, int skip) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < times; ++i) {
    faults_[call].push_back(Fault{i == 0 ? skip : 0, error});
  }
}

void FaultyJobStore::FailCheckpointsIf(std::function<bool(const store::CheckpointUpdate&)> which,
                                       Status error) {
  std::lock_guard<std::mutex> lock(mu_);
  checkpoint_filter_ = std::move(which);
  checkpoint_error_ = std::move(error);
}

void FaultyJobStore::Stall(Call call) {
  std::lock_guard<std::mutex> lock(mu_);
  stalled_[call] = true;
}

void FaultyJobStore::Resume(Call call) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stalled_[call] = false;
  }
  cv_.notify_all();
}

void FaultyJobStore::WaitUntilStalled(Call call, int n) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return waiting_[call] >= n; });
}

int FaultyJobStore::Calls(Call call) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = calls_.find(call);
  return it == calls_.end() ? 0 : it->second;
}

Status FaultyJobStore::Enter(Call call) {
  std::unique_lock<std::mutex> lock(mu_);
  ++calls_[call];
  if (stalled_[call]) {
    ++waiting_[call];
    cv_.notify_all();
    cv_.wait(lock, [&] { return !stalled_[call]; });
    --waiting_[call];
  }
  std::deque<Fault>& queue = faults_[call];
  if (queue.empty()) return OkStatus();
  if (queue.front().skip > 0) {
    --queue.front().skip;
    return OkStatus();
  }
  Status error = queue.front().error;
  queue.pop_front();
  return error;
}

// Each override: the armed fault, else the target.
#define CERTDEPLOY_FAULTY_FORWARD(call, expr) \
  if (Status fault = Enter(Call::call); !fault.ok()) return fault; \
  return expr

Status FaultyJobStore::CreateItems(std::span<const WorkItem> items) {
  CERTDEPLOY_FAULTY_FORWARD(kCreateItems, JobStoreWrapper::CreateItems(items));
}
Result<WorkItem> FaultyJobStore::GetItem(std::string_view id) {
  CERTDEPLOY_FAULTY_FORWARD(kGetItem, JobStoreWrapper::GetItem(id));
}
Result<WorkItem> FaultyJobStore::FindByIdempotencyKey(std::string_view key) {
  CERTDEPLOY_FAULTY_FORWARD(kFindByIdempotencyKey, JobStoreWrapper::FindByIdempotencyKey(key));
}
Result<std::vector<WorkItem>> FaultyJobStore::ClaimNext(const store::ClaimRequest& request) {
  CERTDEPLOY_FAULTY_FORWARD(kClaimNext, JobStoreWrapper::ClaimNext(request));
}
Status FaultyJobStore::Checkpoint(const store::CheckpointUpdate& update) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (checkpoint_filter_ && checkpoint_filter_(update)) {
      ++calls_[Call::kCheckpoint];
      return checkpoint_error_;
    }
  }
  CERTDEPLOY_FAULTY_FORWARD(kCheckpoint, JobStoreWrapper::Checkpoint(update));
}
Result<store::ItemSummary> FaultyJobStore::SummarizeItems(const store::ItemFilter& filter,
                                                          int max_failures) {
  CERTDEPLOY_FAULTY_FORWARD(kSummarizeItems, JobStoreWrapper::SummarizeItems(filter, max_failures));
}
Status FaultyJobStore::CreateRollout(const store::Rollout& rollout,
                                     std::span<const WorkItem> items) {
  CERTDEPLOY_FAULTY_FORWARD(kCreateRollout, JobStoreWrapper::CreateRollout(rollout, items));
}
Result<store::Rollout> FaultyJobStore::GetRollout(std::string_view id) {
  CERTDEPLOY_FAULTY_FORWARD(kGetRollout, JobStoreWrapper::GetRollout(id));
}
Result<std::vector<store::Rollout>> FaultyJobStore::ListRollouts(
    std::span<const store::RolloutStatus> statuses, int limit) {
  CERTDEPLOY_FAULTY_FORWARD(kListRollouts, JobStoreWrapper::ListRollouts(statuses, limit));
}
Result<store::Rollout> FaultyJobStore::UpdateRollout(std::string_view id,
                                                     const store::RolloutUpdate& update) {
  CERTDEPLOY_FAULTY_FORWARD(kUpdateRollout, JobStoreWrapper::UpdateRollout(id, update));
}
Result<int64_t> FaultyJobStore::AppendAudit(const store::AuditRecord& record) {
  CERTDEPLOY_FAULTY_FORWARD(kAppendAudit, JobStoreWrapper::AppendAudit(record));
}
Result<std::vector<store::AuditRecord>> FaultyJobStore::ListAudit(int limit) {
  CERTDEPLOY_FAULTY_FORWARD(kListAudit, JobStoreWrapper::ListAudit(limit));
}
Result<bool> FaultyJobStore::TryBecomeDispatcher(std::string_view owner) {
  CERTDEPLOY_FAULTY_FORWARD(kTryBecomeDispatcher, JobStoreWrapper::TryBecomeDispatcher(owner));
}

#undef CERTDEPLOY_FAULTY_FORWARD

}  // namespace certdeploy::testing
