// service/dispatcher.h: running queued work items against Graph.
//
// Only the elected dispatcher (JobStore::TryBecomeDispatcher) calls RunOnce. One call claims a
// batch of items under a lease (enrollments first, then the current wave of each running
// rollout) and deploys them with the deploy/ planner and executor, sharing the tenant's write
// budget:
//   1. decode each item's stored PFX envelope (dispatcher_item.h)          step "planning"
//   2. read the tenant (profiles, assignments, the users' records) and plan
//   3. create the missing trusted-root / imported-PFX profiles and assign   step
//   "ensuring-profiles"
//      them; if that fails nothing is imported and the batch is handed back
//   4. import the records (PFX bytes from the store, the password sealed     step "importing"
//      at enrollment time), then record each item's outcome                step "verified"/"failed"
// Every step is a checkpoint, and checkpoints renew the lease while the batch runs.
//
// Crash safety: after kill -9 the items stay running until their lease expires, then any
// dispatcher reclaims them and starts again at step 1. Step 2 reads Graph first, so a record
// that was created before the crash shows up as present and the item succeeds without a second
// create: never a duplicate record. The executor also reads before resending any write whose
// outcome was unknown.
//
// Outcomes: succeeded (PFX bytes released unless retain_pfx_after_success); failed for problems
// of the item itself (Graph 400, unknown user, a changed connector key, corrupt stored data) or
// after max_attempts claims for unclear ones; handed back to the queue (status queued) for
// tenant-wide or transient problems (throttling, outages, credentials, a shutdown) so that
// nothing is lost. Each final outcome appends an audit record (no secrets).

#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "config/config.h"
#include "graph/graph_client.h"
#include "service/metrics.h"
#include "store/job_store.h"

namespace certdeploy::deploy {
struct ExecutionReport;
struct ExecutorOptions;
struct ItemResult;
struct Plan;
}  // namespace certdeploy::deploy

namespace certdeploy::service {

struct PlannedItem;  // service/internal/dispatcher_item.h
class Notifier;     // service/internal/notifier.h

struct DispatcherOptions {
  std::string owner;  // Lease owner: this replica. Required.
  Duration lease = std::chrono::minutes(2);
  int batch_size = 25;  // Items claimed (and planned) together.
  bool retain_pfx_after_success = false;
  int max_attempts = 10;  // Claims before an unclear failure (kInternal, ...) becomes final.
  // The connector key items must have been sealed to (its fingerprint); items sealed to another
  // key fail, since the connector could not decrypt their password.
  std::string connector_key_fingerprint;
  // Webhooks: an enrollment that ends failed enqueues enrollment.failed in the same checkpoint.
  // Null: no notifications. Must outlive the dispatcher.
  const Notifier* notifier = nullptr;
};

// What one RunOnce did.
struct DispatchResult {
  int claimed = 0;
  int succeeded = 0;
  int failed = 0;
  int cancelled = 0;
  int handed_back = 0;  // Returned to the queue (transient problem, pause, shutdown).
  int lost = 0;         // The lease was taken over by another dispatcher meanwhile.
  // True when the batch finished something (so more work may be waiting).
  bool progressed() const { return succeeded + failed + cancelled > 0; }
};

class Dispatcher {
 public:
  // All references must outlive the dispatcher. `metrics` may be null.
  Dispatcher(store::JobStore& store, graph::GraphClient& graph, const config::Config& config, Clock& clock,
             Metrics* metrics, DispatcherOptions options);
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Claims and runs one batch (see the file comment). Returns claimed == 0 when there is nothing
  // to do. Errors only for store failures while claiming; everything after a claim ends in a
  // checkpoint per item.
  Result<DispatchResult> RunOnce();

  // Makes a running batch wind down: imports not sent yet are handed back instead of sent, and
  // RunOnce claims nothing more. Thread-safe; irreversible.
  void RequestStop() { stop_.store(true); }

 private:
  struct Entry;
  struct Batch;

  Result<std::vector<store::WorkItem>> Claim(std::optional<store::Rollout>& rollout);
  void Process(Batch& batch, DispatchResult& result);
  // Steps 2 to 4 of the file comment for the entries still owned; afterwards every entry is
  // recorded or handed back. RunPlan's parts follow, in the order it calls them.
  void RunPlan(Batch& batch, DispatchResult& result);
  // The planner's view of each owned entry (line = index + 1); entries whose purpose does not
  // parse are failed.
  std::vector<PlannedItem> PlannedItems(Batch& batch, DispatchResult& result);
  // Reads the tenant (step 2) and plans `planned` against it.
  Result<deploy::Plan> PlanAgainstTenant(const std::vector<PlannedItem>& planned);
  // The executor options from the config, with lease renewal on progress.
  deploy::ExecutorOptions ExecutorOptionsFor(Batch& batch);
  // Renews the lease of every owned entry when a third of it has passed since the last renewal.
  void RenewLeasesIfDue(Batch& batch);
  // Step 3. False when a profile write failed and the whole batch was handed back.
  bool EnsureProfiles(Batch& batch, const deploy::Plan& profiles,
                      const deploy::ExecutorOptions& options, DispatchResult& result);
  // Step 4: imports the records with the batch's PFX bytes and sealed passwords.
  deploy::ExecutionReport Import(Batch& batch, const deploy::Plan& imports,
                                 deploy::ExecutorOptions options);
  // Records each entry's outcome from the import report; RecordImportOutcome does one entry
  // (`r` is null when the executor reported nothing for it).
  void RecordImportOutcomes(Batch& batch, const deploy::Plan& imports,
                            const deploy::ExecutionReport& report, DispatchResult& result);
  void RecordImportOutcome(Entry& e, const deploy::ItemResult* r, DispatchResult& result);
  // Records one final or hand-back outcome for `e`.
  void Succeed(Entry& e, bool reconciled, DispatchResult& result);
  // Checkpoints `e` out of this dispatcher's hands with `status`/`step` and the error of `why`,
  // and `audit` and `notify` in the same transaction. False (counted as lost) when the store
  // refused, e.g. the lease was taken over.
  bool Release(Entry& e, store::ItemStatus status, const char* step, const Status& why,
               std::optional<store::AuditRecord> audit, DispatchResult& result,
               std::vector<store::Notification> notify = {});
  // enrollment.failed for `e` failing with `why` (empty for rollout items or without webhooks).
  std::vector<store::Notification> FailureNotifications(const Entry& e, const Status& why) const;
  void Finish(Entry& e, const Status& why, DispatchResult& result);
  void HandBack(Entry& e, const Status& why, DispatchResult& result);
  void HandBackAll(Batch& batch, const Status& why, DispatchResult& result);
  // Checkpoints every still-owned entry as running at `step` (renewing the lease).
  void CheckpointAll(Batch& batch, const std::string& step);
  // The audit record of an outcome of `e`.
  static store::AuditRecord AuditOf(const Entry& e, const std::string& outcome,
                             const std::string& request_id);

  store::JobStore& store_;
  graph::GraphClient& graph_;
  const config::Config& config_;
  Clock& clock_;
  Metrics* metrics_;
  const DispatcherOptions options_;
  std::atomic<bool> stop_{false};
};

}  // namespace certdeploy::service
