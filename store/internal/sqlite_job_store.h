// store/internal/sqlite_job_store.h: the embedded JobStore on one SQLite file.
//
// One process at a time: Open takes an exclusive flock on "<path>.lock" for the store's
// lifetime, so a second `certdeploy serve` on the same file fails fast instead of racing. The
// database runs in WAL mode with synchronous=FULL (every commit is fsynced to the WAL before it
// returns: "durable when it returns" holds across power loss, and batching many rows into one
// transaction keeps that to one fsync per batch), a 5 s busy timeout, foreign keys on, and
// secure_delete on so released PFX bytes are overwritten rather than left in free pages. The
// file and its lock are created mode 0600 (the WAL and SHM files inherit the mode).
//
// Thread-safe: one connection, serialized by SqlJobStore::mu_.

#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/internal/sql_job_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace certdeploy::store::internal {

class SqliteJobStore final : public SqlJobStore {
 public:
  struct Options {
    // Take the exclusive "<path>.lock". Production always does; tests turn it off to open
    // several handles on one file, as separate processes would, and exercise SQLite's locking.
    bool exclusive_process_lock = true;
    // Test only: migrations appended after the built-in ones (versions continue from them).
    std::vector<Migration> extra_migrations;
    // Test only: StoreOptions::migration_delay.
    Duration migration_delay = Duration::zero();
  };

  // Opens or creates the database at `path` (a file path; its folder must exist) and migrates
  // it. FailedPrecondition "another certdeploy serve holds <path>" if the lock is taken;
  // NotFound if the folder does not exist; PermissionDenied if it cannot be written; DataLoss if
  // the file is not a SQLite database.
  static Result<std::unique_ptr<SqliteJobStore>> Open(const std::string& path, Clock& clock,
                                                      Options options);
  static Result<std::unique_ptr<SqliteJobStore>> Open(const std::string& path, Clock& clock) {
    return Open(path, clock, Options());
  }
  ~SqliteJobStore() override;

  // JobStore: always the dispatcher, since no other process can open the file.
  Result<bool> TryBecomeDispatcher(std::string_view owner) override;
  bool StillDispatcher() override;
  Status ReleaseDispatcher() override;

 protected:
  // SqlJobStore:
  Result<std::vector<SqlRow>> Query(std::string_view sql, std::span<const SqlParam> params) override
      REQUIRES(mu_);
  Status Begin() override REQUIRES(mu_);
  Status Commit() override REQUIRES(mu_);
  void Rollback() override REQUIRES(mu_);
  // Truncate the write-ahead log, whose frames would otherwise keep released PFX bytes until
  // they are overwritten (secure_delete only zeroes pages in the database file): at once, or
  // when the last truncation is less than kWalTruncateInterval old, at the first Housekeeping
  // after that. (A truncation costs a few fsyncs under the store's lock; at most one per
  // interval keeps intake latency flat during a rollout.)
  void AfterPfxReleased() override REQUIRES(mu_);
  void Housekeeping() override REQUIRES(mu_);

 private:
  SqliteJobStore(std::string path, sqlite3* db, int lock_fd, Clock& clock);
  // A prepared statement and, for each of its parameter slots, the n of the "$n" it stands for
  // (looked up once: sqlite3_bind_parameter_name is a linear scan).
  struct Prepared {
    sqlite3_stmt* stmt = nullptr;
    std::vector<size_t> param_numbers;
  };

  Status Configure() LOCKS_EXCLUDED(mu_);
  // The cached statement for `sql`, prepared on first use.
  Result<const Prepared*> Prepare(std::string_view sql) REQUIRES(mu_);
  // PRAGMA wal_checkpoint(TRUNCATE); false (logged) if it failed or could not finish.
  bool TruncateWal() REQUIRES(mu_);

  static constexpr Duration kWalTruncateInterval = std::chrono::seconds(1);

  // Constant after construction.
  const std::string path_;
  // The connection, opened SQLITE_OPEN_NOMUTEX: every use must hold mu_. The pointer itself never
  // changes; GUARDED_BY makes the analysis check each use of it (the destructor is exempt).
  sqlite3* const db_ GUARDED_BY(mu_);
  const int lock_fd_;  // -1 without the process lock.

  std::atomic<bool> dispatcher_{false};

  // Prepared statements by SQL text.
  std::unordered_map<std::string, Prepared> statements_ GUARDED_BY(mu_);
  // Released PFX bytes may still be in the write-ahead log; when it was last truncated.
  bool wal_holds_released_ GUARDED_BY(mu_) = false;
  SteadyTime last_wal_truncate_ GUARDED_BY(mu_) = {};
};

}  // namespace certdeploy::store::internal
