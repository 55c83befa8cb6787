// store/internal/postgres_job_store.h: the JobStore on a PostgreSQL database shared by replicas.
//
// Every replica opens its own PostgresJobStore on the same database; all of them serve API
// reads and writes. Work is claimed with FOR UPDATE SKIP LOCKED, so replicas never hand out the
// same item, and only the dispatcher (the holder of a session advisory lock on a dedicated
// connection) is meant to claim at all. When the dispatcher's session ends (its process died,
// the network dropped, or it released the role) the lock is free for the next replica's
// TryBecomeDispatcher. Durability is PostgreSQL's: a COMMIT returns after the WAL is flushed
// (synchronous_commit = on, the default).
//
// Thread-safe: one main connection serialized by SqlJobStore::mu_ (reconnected on the next call
// after it drops; the call that saw the drop fails with Unavailable), and one dispatcher
// connection under its own mutex.

#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/internal/pq.h"
#include "store/internal/sql_job_store.h"

namespace certdeploy::store::internal {

class PostgresJobStore final : public SqlJobStore {
 public:
  // pg_try_advisory_lock key of the dispatcher role ("certdisp" in ASCII).
  static constexpr int64_t kDispatcherLockKey = 0x6365727464697370;
  // The dispatcher connection's application_name is this prefix plus the owner, so
  // pg_stat_activity shows which replica dispatches.
  static constexpr char kDispatcherApplicationName[] = "certdeploy-dispatcher:";

  struct Options {
    // Test only: migrations appended after the built-in ones (versions continue from them).
    std::vector<Migration> extra_migrations;
    // Test only: StoreOptions::migration_delay.
    Duration migration_delay = Duration::zero();
  };

  // Connects to `url` (libpq conninfo: postgresql://... or key=value) and migrates the schema.
  // Unavailable if the server cannot be reached.
  static Result<std::unique_ptr<PostgresJobStore>> Open(const std::string& url, Clock& clock,
                                                        Options options);
  static Result<std::unique_ptr<PostgresJobStore>> Open(const std::string& url, Clock& clock) {
    return Open(url, clock, Options());
  }
  // Gives up the dispatcher role (an explicit unlock, so a waiting replica can take over at
  // once) and closes both connections.
  ~PostgresJobStore() override;

  // JobStore:
  Result<bool> TryBecomeDispatcher(std::string_view owner) override LOCKS_EXCLUDED(dispatcher_mu_);
  bool StillDispatcher() override LOCKS_EXCLUDED(dispatcher_mu_);
  Status ReleaseDispatcher() override LOCKS_EXCLUDED(dispatcher_mu_);

 protected:
  // SqlJobStore:
  Result<std::vector<SqlRow>> Query(std::string_view sql, std::span<const SqlParam> params) override
      REQUIRES(mu_);
  Status Begin() override REQUIRES(mu_);
  Status Commit() override REQUIRES(mu_);
  void Rollback() override REQUIRES(mu_);

 private:
  PostgresJobStore(std::string url, std::unique_ptr<pq::Connection> conn, Clock& clock);

  const std::string url_;  // Constant after construction.

  // The main connection (SqlJobStore::mu_).
  std::unique_ptr<pq::Connection> conn_ GUARDED_BY(mu_);
  bool in_transaction_ GUARDED_BY(mu_) = false;

  // Never held together with mu_.
  Mutex dispatcher_mu_;
  // Holds the advisory lock while this store is the dispatcher; null otherwise.
  std::unique_ptr<pq::Connection> dispatcher_conn_ GUARDED_BY(dispatcher_mu_);
};

}  // namespace certdeploy::store::internal
