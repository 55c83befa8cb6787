// store/internal/sql_job_store.h: the JobStore logic both SQL backends share.
//
// SqlJobStore implements every JobStore method except the dispatcher election with SQL that is
// the same in SQLite and PostgreSQL (parameters are written $1, $2, ... in both), plus the
// migration runner. A backend supplies a connection through four hooks (Query, Begin, Commit,
// Rollback) and the election. The few dialect differences (FOR UPDATE SKIP LOCKED, the
// migration lock) are chosen by `dialect()`.

#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "store/internal/store_schema.h"
#include "store/job_store.h"

namespace certdeploy::store::internal {

class SqlJobStore : public JobStore {
 public:
  ~SqlJobStore() override = default;

  // JobStore: each takes mu_ for the whole operation.
  Status CreateItems(std::span<const WorkItem> items) override LOCKS_EXCLUDED(mu_);
  Result<WorkItem> GetItem(std::string_view id) override LOCKS_EXCLUDED(mu_);
  Result<WorkItem> FindByIdempotencyKey(std::string_view key) override LOCKS_EXCLUDED(mu_);
  Result<std::vector<WorkItem>> ClaimNext(const ClaimRequest& request) override LOCKS_EXCLUDED(mu_);
  Status Checkpoint(const CheckpointUpdate& update) override LOCKS_EXCLUDED(mu_);
  Result<int> HandBackLeases(std::string_view owner, std::string_view reason) override
      LOCKS_EXCLUDED(mu_);
  Result<ItemSummary> SummarizeItems(const ItemFilter& filter, int max_failures) override
      LOCKS_EXCLUDED(mu_);
  Status CreateRollout(const Rollout& rollout, std::span<const WorkItem> items) override
      LOCKS_EXCLUDED(mu_);
  Result<Rollout> GetRollout(std::string_view id) override LOCKS_EXCLUDED(mu_);
  Result<Rollout> FindRolloutByIdempotencyKey(std::string_view key) override
      LOCKS_EXCLUDED(mu_);
  Result<std::vector<Rollout>> ListRollouts(std::span<const RolloutStatus> statuses,
                                            int limit) override LOCKS_EXCLUDED(mu_);
  Result<Rollout> UpdateRollout(std::string_view id, const RolloutUpdate& update) override
      LOCKS_EXCLUDED(mu_);
  Result<int64_t> AppendAudit(const AuditRecord& record) override LOCKS_EXCLUDED(mu_);
  Result<std::vector<AuditRecord>> ListAudit(int limit) override LOCKS_EXCLUDED(mu_);
  // Paged lists for operators: sql_list_store.cc.
  Result<std::vector<WorkItem>> ListItems(const ItemPageQuery& query) override LOCKS_EXCLUDED(mu_);
  Result<std::vector<Rollout>> ListRolloutPage(const RolloutPageQuery& query) override
      LOCKS_EXCLUDED(mu_);
  Result<std::vector<AuditRecord>> ListAuditPage(const AuditPageQuery& query) override
      LOCKS_EXCLUDED(mu_);
  // Offboardings, deployed CAs and the outbox: sql_lifecycle_store.cc.
  Result<Offboarding> CreateOffboarding(const Offboarding& offboarding,
                                        const AuditRecord& audit) override LOCKS_EXCLUDED(mu_);
  Result<Offboarding> GetOffboarding(std::string_view id) override LOCKS_EXCLUDED(mu_);
  Result<Offboarding> FindOffboardingByIdempotencyKey(std::string_view key) override
      LOCKS_EXCLUDED(mu_);
  Result<std::vector<Offboarding>> ClaimOffboardings(std::string_view owner, Duration lease,
                                                     int limit) override LOCKS_EXCLUDED(mu_);
  Status UpdateOffboarding(const OffboardingUpdate& update) override LOCKS_EXCLUDED(mu_);
  Result<int> CancelQueuedItemsOf(const Offboarding& offboarding) override LOCKS_EXCLUDED(mu_);
  Status RecordDeployedCas(std::span<const DeployedCa> cas) override LOCKS_EXCLUDED(mu_);
  Result<std::vector<DeployedCa>> ListDeployedCas() override LOCKS_EXCLUDED(mu_);
  Result<std::vector<std::string>> ListDeployedPurposes() override LOCKS_EXCLUDED(mu_);
  Status EnqueueNotifications(std::span<const Notification> notifications) override
      LOCKS_EXCLUDED(mu_);
  Result<std::vector<Notification>> DueNotifications(int limit) override LOCKS_EXCLUDED(mu_);
  Status RecordDeliveryAttempt(int64_t id, NotificationStatus status, SystemTime retry_at,
                               std::string_view error) override LOCKS_EXCLUDED(mu_);
  Result<std::vector<Notification>> ListNotifications(int limit) override LOCKS_EXCLUDED(mu_);

  // The highest applied schema version (0 for an empty database).
  Result<int> SchemaVersion() LOCKS_EXCLUDED(mu_);
  // Runs one statement outside any store operation (tests inspect and tamper with the schema).
  Result<std::vector<SqlRow>> ExecuteForTest(std::string_view sql,
                                             std::span<const SqlParam> params = {})
      LOCKS_EXCLUDED(mu_);

 protected:
  SqlJobStore(Dialect dialect, Clock& clock) : dialect_(dialect), clock_(clock) {}

  // Applies the built-in migrations followed by `extra` (test-only; versions must continue the
  // built-in sequence), each in its own write transaction. Called once by the backend's factory.
  // `pause` (StoreOptions::migration_delay) is slept inside each migration's transaction, after
  // its statements and before its schema_migrations row.
  Status Migrate(std::span<const Migration> extra, Duration pause) LOCKS_EXCLUDED(mu_);

  // Backend hooks, always called with mu_ held. (Overrides repeat REQUIRES(mu_): Clang checks an
  // override's body against its own annotations, not the base declaration's.)
  // Runs one statement; parameters are referenced as $1..$n in `sql`.
  virtual Result<std::vector<SqlRow>> Query(std::string_view sql, std::span<const SqlParam> params)
      REQUIRES(mu_) = 0;
  // Starts a write transaction that serializes with every other writer (SQLite: BEGIN
  // IMMEDIATE; PostgreSQL: BEGIN, with row locks doing the rest).
  virtual Status Begin() REQUIRES(mu_) = 0;
  virtual Status Commit() REQUIRES(mu_) = 0;
  virtual void Rollback() REQUIRES(mu_) = 0;
  // Called (mu_ held) after a committed transaction set some pfx_blob to NULL. A backend whose
  // files may still hold the old bytes outside the table (SQLite's write-ahead log) removes them
  // here or soon after, in Housekeeping. Best effort: a failure is logged, never returned (the
  // release itself is committed).
  virtual void AfterPfxReleased() REQUIRES(mu_) {}
  // Called (mu_ held) at the start of every ClaimNext, which the dispatcher calls at least once
  // per poll interval, busy or idle.
  virtual void Housekeeping() REQUIRES(mu_) {}

  Dialect dialect() const { return dialect_; }
  Clock& clock() { return clock_; }

  // Serializes use of the backend's main connection: backends guard their connection state
  // with it (GUARDED_BY(mu_)).
  Mutex mu_;

 private:
  // Inserts one audit row and returns its id. REQUIRES: inside a transaction.
  Result<int64_t> InsertAuditLocked(const AuditRecord& record) REQUIRES(mu_);
  // Inserts the notifications (a known dedupe_key is skipped). REQUIRES: inside a transaction.
  Status InsertNotificationsLocked(std::span<const Notification> notifications) REQUIRES(mu_);
  // Runs `body` inside Begin/Commit; rolls back if anything fails. `body` runs with mu_ held:
  // annotate it [&]() REQUIRES(mu_) -> Status { ... }.
  template <typename Body>
  Status InTransaction(Body&& body) REQUIRES(mu_) {
    Status begun = Begin();
    if (!begun.ok()) return begun;
    Status status = body();
    if (status.ok()) status = Commit();
    if (!status.ok()) Rollback();
    return status;
  }
  Status InsertItemsLocked(std::span<const WorkItem> items, int64_t now_ms) REQUIRES(mu_);
  Status ApplyMigrationLocked(const Migration& migration, int latest_known, Duration pause)
      REQUIRES(mu_);
  Result<int> SchemaVersionLocked() REQUIRES(mu_);
  Result<WorkItem> GetItemWhere(std::string_view column, std::string_view value)
      LOCKS_EXCLUDED(mu_);
  Result<Offboarding> GetOffboardingWhere(std::string_view column, std::string_view value)
      LOCKS_EXCLUDED(mu_);
  Result<Rollout> GetRolloutWhere(std::string_view column, std::string_view value)
      LOCKS_EXCLUDED(mu_);
  // Cancels the queued items of `offboarding`'s user (those with a thumbprint it names, when it
  // names any) created at or before `created_up_to_ms`. REQUIRES: inside a transaction.
  Result<int> CancelQueuedItemsLocked(const Offboarding& offboarding, int64_t created_up_to_ms,
                                      int64_t now_ms) REQUIRES(mu_);

  const Dialect dialect_;
  Clock& clock_;
};

}  // namespace certdeploy::store::internal
