// store/job_store.h: the daemon's durable state: work items, rollouts, audit, leadership.
//
// Everything `certdeploy serve` must not lose when it is killed lives behind JobStore: the work
// items (one per user certificate to deploy, from an enrollment or a rollout manifest line) with
// their checkpoints and leases, the rollouts and their wave progress, offboardings, the CA
// certificates deployed, the webhook outbox, and the append-only audit log. Two implementations share one schema (docs/store-schema.md): SQLite, the embedded default
// (one process at a time), and PostgreSQL (several replicas; one dispatcher elected by an advisory
// lock).
//
// At rest an item holds the PFX bytes (protected by their own password) and that password only as
// ciphertext sealed to the Intune connector key (pkcs::SealPassword). The store never receives a
// plaintext password, and nothing it returns in an error message comes from a secret field.
//
// Typical dispatcher loop:
//
//   auto store = OpenJobStore(config.store, RealClock());          // migrates the schema
//   if (!store.ok()) return store.status();
//   if (*(*store)->TryBecomeDispatcher(me)) {
//     ASSIGN_OR_RETURN(auto items, (*store)->ClaimNext({.owner = me, .lease = minutes(5)}));
//     for (WorkItem& item : items) {
//       ... deploy, calling Checkpoint({.id = item.id, .owner = me, .status = kRunning,
//                                       .step = "create-sent", .lease = minutes(5)}) ...
//     }
//   }

#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/status.h"
#include "store/job.h"

namespace certdeploy::store {

// All methods are thread-safe. Every write is durable when it returns OK (committed and synced by
// the database). Errors: Unavailable when the database cannot be reached or is busy (retry);
// DataLoss when stored data cannot be decoded; Internal for anything unexpected.
class JobStore {
 public:
  virtual ~JobStore() = default;
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // ---- Work items ----

  // Inserts all items in one transaction (all or nothing); created_at/updated_at come from the
  // clock, lease fields are cleared, the rest is stored as given (normally status kQueued,
  // attempts 0). InvalidArgument for an empty id or a kind/rollout_id mismatch; AlreadyExists
  // if an id or an idempotency key is taken (nothing is inserted); FailedPrecondition if a
  // rollout_id names no rollout.
  virtual Status CreateItems(std::span<const WorkItem> items) = 0;
  // NotFound if there is no such item.
  virtual Result<WorkItem> GetItem(std::string_view id) = 0;
  // The item created with this Idempotency-Key; NotFound if none. The REST API keeps its
  // idempotency records here: the key and request_sha256 live on the item (docs/store-schema.md).
  virtual Result<WorkItem> FindByIdempotencyKey(std::string_view key) = 0;
  // Atomically claims up to `limit` items matching the filter that are queued, or running with
  // an expired lease (lease_expires_at <= Now()): each becomes running, leased to `owner` until
  // Now() + lease, with attempts + 1. Oldest first (created_at, wave, manifest line, id). Two
  // concurrent claimers, in this process or another, never get the same item. Empty when none.
  virtual Result<std::vector<WorkItem>> ClaimNext(const ClaimRequest& request) = 0;
  // Records progress. For a running item `owner` must hold its lease (an expired lease still
  // counts until someone else claims the item); for a queued item `owner` must be empty.
  // Aborted when that does not hold (the lease was lost: stop working on the item); NotFound if
  // there is no such item; InvalidArgument for a running update without a positive lease.
  virtual Status Checkpoint(const CheckpointUpdate& update) = 0;
  // Every item running under a lease of `owner` goes back to the queue at once (lease cleared,
  // error_code "handed-back" with `reason`), for a process that must stop before its work is
  // done. Returns how many. A later Checkpoint by `owner` on such an item is refused (Aborted),
  // as for any lost lease, and the next claim reads Graph before resending anything.
  virtual Result<int> HandBackLeases(std::string_view owner, std::string_view reason) = 0;
  // Counts by status and up to `max_failures` failed items, for a rollout, a wave or the queue.
  // The counts and the failures are read separately and may be a moment apart.
  virtual Result<ItemSummary> SummarizeItems(const ItemFilter& filter, int max_failures) = 0;

  // One page of the items matching `query`, ordered as PagePosition says, without their PFX bytes
  // and sealed password (pfx_blob null, sealed_password empty): what operators look at.
  // InvalidArgument for a limit outside 1..1000.
  virtual Result<std::vector<WorkItem>> ListItems(const ItemPageQuery& query) = 0;

  // ---- Rollouts ----

  // Inserts the rollout and its items in one transaction (items may be empty; each must have
  // kind kRollout and rollout_id == rollout.id). Errors as for CreateItems.
  virtual Status CreateRollout(const Rollout& rollout, std::span<const WorkItem> items) = 0;
  // NotFound if there is no such rollout.
  virtual Result<Rollout> GetRollout(std::string_view id) = 0;
  // The rollout created with this Idempotency-Key; NotFound if none.
  virtual Result<Rollout> FindRolloutByIdempotencyKey(std::string_view key) = 0;
  // Rollouts in any of `statuses` (all when empty), oldest first, at most `limit`.
  virtual Result<std::vector<Rollout>> ListRollouts(std::span<const RolloutStatus> statuses,
                                                    int limit) = 0;
  // One page of the rollouts in any of query.statuses, newest first (PagePosition).
  // InvalidArgument for a limit outside 1..1000.
  virtual Result<std::vector<Rollout>> ListRolloutPage(const RolloutPageQuery& query) = 0;
  // Compare-and-set: applies `update` only if the rollout's status is still
  // update.expected_status, and returns the rollout as stored afterwards. Aborted (naming the
  // actual status) if it is not, so concurrent pause/resume/cancel cannot overwrite each other;
  // NotFound if there is no such rollout.
  virtual Result<Rollout> UpdateRollout(std::string_view id, const RolloutUpdate& update) = 0;

  // ---- Audit (append-only: the schema refuses UPDATE and DELETE) ----

  // Appends `record` (its id and at are assigned) and returns the new id.
  virtual Result<int64_t> AppendAudit(const AuditRecord& record) = 0;
  // The newest `limit` records, newest first.
  virtual Result<std::vector<AuditRecord>> ListAudit(int limit) = 0;

  // One page of audit records, newest first (AuditPageQuery). InvalidArgument for a limit
  // outside 1..1000.
  virtual Result<std::vector<AuditRecord>> ListAuditPage(const AuditPageQuery& query) = 0;

  // ---- Offboardings ----

  // Inserts `offboarding` as given (normally status kQueued, attempts 0; lease fields cleared)
  // and, in the same transaction, cancels the user's queued work items (only those whose
  // thumbprint it names, when it names any: error_code "offboarded") and appends `audit`.
  // Returns it as stored, with cancelled_items set. InvalidArgument for an empty id or UPN;
  // AlreadyExists if the id or the idempotency key is taken.
  virtual Result<Offboarding> CreateOffboarding(const Offboarding& offboarding,
                                                const AuditRecord& audit) = 0;
  // NotFound if there is none.
  virtual Result<Offboarding> GetOffboarding(std::string_view id) = 0;
  virtual Result<Offboarding> FindOffboardingByIdempotencyKey(std::string_view key) = 0;
  // Claims up to `limit` offboardings that are queued, or running with an expired lease, as
  // ClaimNext does for items (oldest first, attempts + 1). While a user has an offboarding
  // queued or running, ClaimNext leaves that user's queued items where they are.
  virtual Result<std::vector<Offboarding>> ClaimOffboardings(std::string_view owner,
                                                             Duration lease, int limit) = 0;
  // Applies `update` if `owner` holds the lease (Aborted otherwise; NotFound if none); any status
  // but kRunning ends the lease.
  virtual Status UpdateOffboarding(const OffboardingUpdate& update) = 0;
  // Cancels, as CreateOffboarding does, the user's queued items created up to the
  // offboarding's creation (an item running then and handed back since), and adds them to its
  // cancelled_items; later ones (a rehire) stay queued. Returns how many. `offboarding` must be
  // running under its lease_owner (Aborted otherwise).
  virtual Result<int> CancelQueuedItemsOf(const Offboarding& offboarding) = 0;

  // ---- CA certificates deployed (drift repair restores their profiles) ----

  // Remembers each certificate not yet known (by thumbprint); known ones are left as they are.
  virtual Status RecordDeployedCas(std::span<const DeployedCa> cas) = 0;
  // All of them, oldest first.
  virtual Result<std::vector<DeployedCa>> ListDeployedCas() = 0;
  // The intended purposes of the work items that succeeded (each once, sorted): the imported-PFX
  // profiles drift repair keeps.
  virtual Result<std::vector<std::string>> ListDeployedPurposes() = 0;

  // ---- Webhook outbox ----

  // Enqueues each notification (status pending, due now); one whose dedupe_key was enqueued
  // before (whatever became of it) is dropped without error.
  virtual Status EnqueueNotifications(std::span<const Notification> notifications) = 0;
  // Pending notifications due at Now(), oldest first, at most `limit`.
  virtual Result<std::vector<Notification>> DueNotifications(int limit) = 0;
  // Records one delivery attempt (attempts + 1): kDelivered, kDead, or kPending again with the
  // next attempt at `retry_at`. NotFound if there is no such notification.
  virtual Status RecordDeliveryAttempt(int64_t id, NotificationStatus status, SystemTime retry_at,
                                       std::string_view error) = 0;
  // The newest `limit` notifications, newest first (operators, tests).
  virtual Result<std::vector<Notification>> ListNotifications(int limit) = 0;

  // ---- Dispatcher election (only the dispatcher claims and runs Graph work) ----

  // Tries to become the one dispatcher among the processes sharing this database; true if this
  // store is (or already was) the dispatcher. SQLite: always true (the file lock already makes
  // this process the only one). PostgreSQL: a session advisory lock on a dedicated connection;
  // false while another replica holds it, which lasts until that replica releases it, closes
  // its store, or dies (its session ends). `owner` names this replica in pg_stat_activity.
  virtual Result<bool> TryBecomeDispatcher(std::string_view owner) = 0;
  // Whether this store is still the dispatcher. PostgreSQL: checks the dedicated connection
  // with a round trip; if it dropped, the role is lost (another replica may take it) and this
  // returns false until TryBecomeDispatcher succeeds again. Leases fence any work in flight.
  virtual bool StillDispatcher() = 0;
  // Gives the role up (no-op if not held). Destroying the store also gives it up.
  virtual Status ReleaseDispatcher() = 0;

 protected:
  JobStore() = default;
};

// Forwards every call to another JobStore (leveldb's EnvWrapper idea), so that a decorator (a
// store that fails or stalls chosen calls in tests, one that counts calls) overrides only what it
// cares about. `target` must outlive the wrapper.
class JobStoreWrapper : public JobStore {
 public:
  explicit JobStoreWrapper(JobStore& target) : target_(target) {}
  JobStore& target() const { return target_; }

  Status CreateItems(std::span<const WorkItem> items) override {
    return target_.CreateItems(items);
  }
  Result<WorkItem> GetItem(std::string_view id) override { return target_.GetItem(id); }
  Result<WorkItem> FindByIdempotencyKey(std::string_view key) override {
    return target_.FindByIdempotencyKey(key);
  }
  Result<std::vector<WorkItem>> ClaimNext(const ClaimRequest& request) override {
    return target_.ClaimNext(request);
  }
  Status Checkpoint(const CheckpointUpdate& update) override { return target_.Checkpoint(update); }
  Result<int> HandBackLeases(std::string_view owner, std::string_view reason) override {
    return target_.HandBackLeases(owner, reason);
  }
  Result<ItemSummary> SummarizeItems(const ItemFilter& filter, int max_failures) override {
    return target_.SummarizeItems(filter, max_failures);
  }
  Result<std::vector<WorkItem>> ListItems(const ItemPageQuery& query) override {
    return target_.ListItems(query);
  }
  Result<std::vector<Rollout>> ListRolloutPage(const RolloutPageQuery& query) override {
    return target_.ListRolloutPage(query);
  }
  Result<std::vector<AuditRecord>> ListAuditPage(const AuditPageQuery& query) override {
    return target_.ListAuditPage(query);
  }
  Status CreateRollout(const Rollout& rollout, std::span<const WorkItem> items) override {
    return target_.CreateRollout(rollout, items);
  }
  Result<Rollout> GetRollout(std::string_view id) override { return target_.GetRollout(id); }
  Result<Rollout> FindRolloutByIdempotencyKey(std::string_view key) override {
    return target_.FindRolloutByIdempotencyKey(key);
  }
  Result<std::vector<Rollout>> ListRollouts(std::span<const RolloutStatus> statuses,
                                            int limit) override {
    return target_.ListRollouts(statuses, limit);
  }
  Result<Rollout> UpdateRollout(std::string_view id, const RolloutUpdate& update) override {
    return target_.UpdateRollout(id, update);
  }
  Result<int64_t> AppendAudit(const AuditRecord& record) override {
    return target_.AppendAudit(record);
  }
  Result<std::vector<AuditRecord>> ListAudit(int limit) override {
    return target_.ListAudit(limit);
  }
  Result<Offboarding> CreateOffboarding(const Offboarding& offboarding,
                                        const AuditRecord& audit) override {
    return target_.CreateOffboarding(offboarding, audit);
  }
  Result<Offboarding> GetOffboarding(std::string_view id) override {
    return target_.GetOffboarding(id);
  }
  Result<Offboarding> FindOffboardingByIdempotencyKey(std::string_view key) override {
    return target_.FindOffboardingByIdempotencyKey(key);
  }
  Result<std::vector<Offboarding>> ClaimOffboardings(std::string_view owner, Duration lease,
                                                     int limit) override {
    return target_.ClaimOffboardings(owner, lease, limit);
  }
  Status UpdateOffboarding(const OffboardingUpdate& update) override {
    return target_.UpdateOffboarding(update);
  }
  Result<int> CancelQueuedItemsOf(const Offboarding& offboarding) override {
    return target_.CancelQueuedItemsOf(offboarding);
  }
  Status RecordDeployedCas(std::span<const DeployedCa> cas) override {
    return target_.RecordDeployedCas(cas);
  }
  Result<std::vector<DeployedCa>> ListDeployedCas() override { return target_.ListDeployedCas(); }
  Result<std::vector<std::string>> ListDeployedPurposes() override {
    return target_.ListDeployedPurposes();
  }
  Status EnqueueNotifications(std::span<const Notification> notifications) override {
    return target_.EnqueueNotifications(notifications);
  }
  Result<std::vector<Notification>> DueNotifications(int limit) override {
    return target_.DueNotifications(limit);
  }
  Status RecordDeliveryAttempt(int64_t id, NotificationStatus status, SystemTime retry_at,
                               std::string_view error) override {
    return target_.RecordDeliveryAttempt(id, status, retry_at, error);
  }
  Result<std::vector<Notification>> ListNotifications(int limit) override {
    return target_.ListNotifications(limit);
  }
  Result<bool> TryBecomeDispatcher(std::string_view owner) override {
    return target_.TryBecomeDispatcher(owner);
  }
  bool StillDispatcher() override { return target_.StillDispatcher(); }
  Status ReleaseDispatcher() override { return target_.ReleaseDispatcher(); }

 private:
  JobStore& target_;
};

// How OpenJobStore opens a store. The defaults are what production uses.
struct StoreOptions {
  // Test hook for crash tests (`certdeploy serve --diag-migration-delay-ms`): every migration
  // that runs pauses this long inside its transaction, after its statements and before its
  // schema_migrations row, so that a test can kill the process there. Zero: no pause.
  Duration migration_delay = Duration::zero();
};

// Opens (creating if needed) the store named by `url` and brings its schema up to date, each
// migration in its own transaction:
//   "sqlite:/var/lib/certdeploy/state.db"  SQLite file (a relative path is taken relative to the
//                                          working directory: callers resolve it first). Takes an
//                                          exclusive lock on "<path>.lock": FailedPrecondition
//                                          "another certdeploy serve holds <path>" if held.
//   "postgresql://..." / "postgres://..."  libpq connection URI, e.g.
//                                          "postgresql:///certdeploy?host=/run/postgresql".
// InvalidArgument for any other scheme; Unavailable if the database cannot be reached;
// FailedPrecondition if its schema is newer than this binary knows. `clock` must outlive the
// store. Error messages never include a password from the URL.
Result<std::unique_ptr<JobStore>> OpenJobStore(std::string_view url, Clock& clock,
                                               const StoreOptions& options = {});

}  // namespace certdeploy::store
