#include "store/internal/sqlite_job_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "base/log.h"
#include "base/status_macros.h"

namespace certdeploy::store::internal {
namespace {

constexpr int kBusyTimeoutMs = 5000;
// Beyond this many distinct statements (multi-row INSERTs of varying sizes) the cache restarts.
constexpr size_t kMaxCachedStatements = 128;

// Maps an SQLite result code onto a StatusCode. sqlite3_errmsg names tables and columns, never
// bound values.
Status SqliteError(sqlite3* db, int rc) {
  const std::string message = std::string("sqlite: ") + sqlite3_errmsg(db);
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return AlreadyExistsError(message);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_TRIGGER:
      return FailedPreconditionError(message);
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
      return InvalidArgumentError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return UnavailableError(message);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return PermissionDeniedError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(message);
    default:
      return InternalError(message);
  }
}

Status ErrnoStatus(int error, const std::string& what) {
  const std::string message = what + ": " + std::strerror(error);
  if (error == ENOENT || error == ENOTDIR) return NotFoundError(message);
  if (error == EACCES || error == EPERM || error == EROFS) return PermissionDeniedError(message);
  return UnavailableError(message);
}

}  // namespace

SqliteJobStore::SqliteJobStore(std::string path, sqlite3* db, int lock_fd, Clock& clock)
    : SqlJobStore(Dialect::kSqlite, clock), path_(std::move(path)), db_(db), lock_fd_(lock_fd) {}

SqliteJobStore::~SqliteJobStore() {
  for (auto& [sql, prepared] : statements_) sqlite3_finalize(prepared.stmt);
  // The last connection to close checkpoints the WAL into the database and removes it.
  sqlite3_close_v2(db_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // Releases the flock.
}

Result<std::unique_ptr<SqliteJobStore>> SqliteJobStore::Open(const std::string& path, Clock& clock,
                                                             Options options) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) {
    return InvalidArgumentError("the SQLite store needs a file path, got '" + path + "'");
  }
  int lock_fd = -1;
  if (options.exclusive_process_lock) {
    const std::string lock_path = path + ".lock";
    lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) return ErrnoStatus(errno, "cannot create " + lock_path);
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      ::close(lock_fd);
      if (error == EWOULDBLOCK) {
        return FailedPreconditionError("another certdeploy serve holds " + path);
      }
      return ErrnoStatus(error, "cannot lock " + lock_path);
    }
  }
  // Create the file ourselves so that it starts out private (0600) whatever the umask.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    if (lock_fd >= 0) ::close(lock_fd);
    return ErrnoStatus(error, "cannot open " + path);
  }
  ::close(fd);
  sqlite3* db = nullptr;
  // NOMUTEX: this class serializes its connection itself.
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status status = db ? SqliteError(db, rc) : ResourceExhaustedError("sqlite: out of memory");
    sqlite3_close_v2(db);
    if (lock_fd >= 0) ::close(lock_fd);
    return status.WithContext("opening " + path);
  }
  std::unique_ptr<SqliteJobStore> store(new SqliteJobStore(path, db, lock_fd, clock));
  RETURN_IF_ERROR(store->Configure().WithContext("opening " + path));
  RETURN_IF_ERROR(store->Migrate(options.extra_migrations, options.migration_delay).WithContext("migrating " + path));
  return store;
}

Status SqliteJobStore::Configure() {
  MutexLock lock(mu_);
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  ASSIGN_OR_RETURN(std::vector<SqlRow> mode, Query("PRAGMA journal_mode = WAL", {}));
  if (mode.empty() || mode[0].empty() || mode[0][0] != "wal") {
    return FailedPreconditionError("cannot switch " + path_ + " to WAL mode");
  }
  for (const char* pragma :
       {"PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON", "PRAGMA secure_delete = ON"}) {
    RETURN_IF_ERROR(Query(pragma, {}).status());
  }
  return OkStatus();
}

Result<const SqliteJobStore::Prepared*> SqliteJobStore::Prepare(std::string_view sql) {
  std::string key(sql);
  if (auto it = statements_.find(key); it != statements_.end()) return &it->second;
  if (statements_.size() >= kMaxCachedStatements) {
    for (auto& [text, prepared] : statements_) sqlite3_finalize(prepared.stmt);
    statements_.clear();
  }
  Prepared prepared;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &prepared.stmt, &tail);
  if (rc != SQLITE_OK) return SqliteError(db_, rc);
  if (prepared.stmt == nullptr) return InternalError("sqlite: empty statement");
  if (std::string_view(tail, sql.data() + sql.size() - tail).find_first_not_of(" \n\t;") !=
      std::string_view::npos) {
    sqlite3_finalize(prepared.stmt);
    return InternalError("sqlite: one statement at a time");
  }
  // Parameters are named "$1".."$n"; the same name may appear more than once (one slot).
  const int count = sqlite3_bind_parameter_count(prepared.stmt);
  for (int i = 1; i <= count; ++i) {
    const char* name = sqlite3_bind_parameter_name(prepared.stmt, i);
    size_t number = 0;
    if (name == nullptr || name[0] != '$' ||
        std::from_chars(name + 1, name + std::strlen(name), number).ec != std::errc()) {
      sqlite3_finalize(prepared.stmt);
      return InternalError("sqlite: parameters must be written $1..$n");
    }
    prepared.param_numbers.push_back(number);
  }
  return &statements_.emplace(std::move(key), std::move(prepared)).first->second;
}

Result<std::vector<SqlRow>> SqliteJobStore::Query(std::string_view sql,
                                                  std::span<const SqlParam> params) {
  ASSIGN_OR_RETURN(const Prepared* prepared, Prepare(sql));
  sqlite3_stmt* stmt = prepared->stmt;
  // Always leave the statement reset (releasing its read snapshot) and unbound.
  struct Cleanup {
    sqlite3_stmt* stmt;
    ~Cleanup() {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    }
  } cleanup{stmt};

  for (size_t slot = 0; slot < prepared->param_numbers.size(); ++slot) {
    const size_t number = prepared->param_numbers[slot];
    if (number < 1 || number > params.size()) {
      return InternalError("sqlite: statement parameter without a value");
    }
    const SqlParam& p = params[number - 1];
    const int i = static_cast<int>(slot) + 1;
    int rc = SQLITE_OK;
    if (!p.value) {
      rc = sqlite3_bind_null(stmt, i);
    } else if (p.type == SqlParam::Type::kInt) {
      int64_t v = 0;
      std::from_chars(p.value->data(), p.value->data() + p.value->size(), v);
      rc = sqlite3_bind_int64(stmt, i, v);
    } else if (p.type == SqlParam::Type::kBlob) {
      // Parameters outlive the statement's execution, so SQLite need not copy them.
      rc = p.value->empty()
               ? sqlite3_bind_zeroblob(stmt, i, 0)
               : sqlite3_bind_blob64(stmt, i, p.value->data(), p.value->size(), SQLITE_STATIC);
    } else {
      rc = sqlite3_bind_text64(stmt, i, p.value->data(), p.value->size(), SQLITE_STATIC,
                               SQLITE_UTF8);
    }
    if (rc != SQLITE_OK) return SqliteError(db_, rc);
  }

  std::vector<SqlRow> rows;
  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return SqliteError(db_, rc);
    const int columns = sqlite3_column_count(stmt);
    SqlRow row;
    row.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      const int type = sqlite3_column_type(stmt, c);
      if (type == SQLITE_NULL) {
        row.emplace_back(std::nullopt);
      } else if (type == SQLITE_BLOB) {
        const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, c));
        const int size = sqlite3_column_bytes(stmt, c);
        row.emplace_back(data ? std::string(data, size) : std::string());
      } else {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        const int size = sqlite3_column_bytes(stmt, c);
        row.emplace_back(text ? std::string(text, size) : std::string());
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Status SqliteJobStore::Begin() { return Query("BEGIN IMMEDIATE", {}).status(); }

Status SqliteJobStore::Commit() { return Query("COMMIT", {}).status(); }

void SqliteJobStore::Rollback() {
  // Some errors (disk full, I/O) already rolled back; then ROLLBACK fails harmlessly.
  (void)Query("ROLLBACK", {});
}

void SqliteJobStore::AfterPfxReleased() {
  wal_holds_released_ = true;
  Housekeeping();
}

void SqliteJobStore::Housekeeping() {
  if (!wal_holds_released_) return;
  const SteadyTime now = clock().SteadyNow();
  if (now - last_wal_truncate_ < kWalTruncateInterval) return;
  last_wal_truncate_ = now;
  wal_holds_released_ = !TruncateWal();
}

bool SqliteJobStore::TruncateWal() {
  // Copies every frame into the database (where secure_delete zeroed the freed pages) and cuts
  // the log to zero bytes. One process owns the file, so no reader can hold the log back.
  Result<std::vector<SqlRow>> result = Query("PRAGMA wal_checkpoint(TRUNCATE)", {});
  if (!result.ok()) {
    CD_LOG_WARN("store: truncating the write-ahead log after a PFX release failed: {}",
                result.status());
    return false;
  }
  if (!result->empty() && !result->front().empty() && result->front()[0].value_or("0") != "0") {
    CD_LOG_WARN("store: the write-ahead log could not be truncated (busy); trying again later");
    return false;
  }
  return true;
}

// ---- JobStore: the dispatcher election ----

Result<bool> SqliteJobStore::TryBecomeDispatcher(std::string_view /*owner*/) {
  dispatcher_ = true;
  return true;
}

bool SqliteJobStore::StillDispatcher() { return dispatcher_; }

Status SqliteJobStore::ReleaseDispatcher() {
  dispatcher_ = false;
  return OkStatus();
}

}  // namespace certdeploy::store::internal
