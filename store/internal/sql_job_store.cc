#include "store/internal/sql_job_store.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "base/log.h"
#include "base/status_macros.h"

namespace certdeploy::store::internal {
namespace {

// Rows per multi-row INSERT: 100 x 25 parameters stays far below both engines' limits
// (SQLite 32766, PostgreSQL 65535) while cutting round trips a hundredfold.
constexpr size_t kInsertChunkRows = 100;
constexpr int kMaxClaimLimit = 1000;
// pg_advisory_xact_lock key taken by every migration transaction ("certmigr"), so replicas
// starting at the same time apply each migration once.
constexpr int64_t kMigrationLockKey = 0x636572746d696772;

Status ValidateItem(const WorkItem& item) {
  if (item.id.empty()) return InvalidArgumentError("work item without an id");
  const bool has_rollout = item.rollout_id.has_value() && !item.rollout_id->empty();
  if ((item.kind == ItemKind::kRollout) != has_rollout) {
    return InvalidArgumentError("work item " + item.id +
                                ": rollout items need a rollout_id, enrollments none");
  }
  if (item.idempotency_key && item.idempotency_key->empty()) {
    return InvalidArgumentError("work item " + item.id + ": empty idempotency key");
  }
  return OkStatus();
}

}  // namespace

// ---- Migrations ----

Status SqlJobStore::Migrate(std::span<const Migration> extra, Duration pause) {
  std::vector<Migration> all = SchemaMigrations(dialect_);
  all.insert(all.end(), extra.begin(), extra.end());
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].version != static_cast<int>(i) + 1) {
      return InternalError("schema migrations must be numbered 1..N in order");
    }
  }
  MutexLock lock(mu_);
  for (const Migration& migration : all) {
    RETURN_IF_ERROR(ApplyMigrationLocked(migration, all.back().version, pause));
  }
  return OkStatus();
}

Status SqlJobStore::ApplyMigrationLocked(const Migration& migration, int latest_known,
                                         Duration pause) {
  return InTransaction([&]() REQUIRES(mu_) -> Status {
    if (dialect_ == Dialect::kPostgres) {
      RETURN_IF_ERROR(
          Query("SELECT pg_advisory_xact_lock($1)", One(SqlParam::Int(kMigrationLockKey)))
              .status());
    }
    const std::string create_table =
        std::string(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "applied_at ") +
        (dialect_ == Dialect::kSqlite ? "INTEGER" : "BIGINT") + " NOT NULL)";
    RETURN_IF_ERROR(Query(create_table, {}).status());
    ASSIGN_OR_RETURN(int current, SchemaVersionLocked());
    if (current > latest_known) {
      return FailedPreconditionError("the store's schema version " + std::to_string(current) +
                                     " is newer than this certdeploy knows (" +
                                     std::to_string(latest_known) + "); upgrade certdeploy");
    }
    if (current >= migration.version) return OkStatus();  // Already applied.
    const std::string context = "schema migration " + std::to_string(migration.version) + " (" +
                                migration.description + ")";
    for (const std::string& sql : migration.statements) {
      Status status = Query(sql, {}).status();
      if (!status.ok()) return status.WithContext(context);
    }
    if (pause > Duration::zero()) {
      CD_LOG_WARN("{}: diagnostic pause of {} ms inside the migration transaction",
                  context, std::chrono::duration_cast<std::chrono::milliseconds>(pause).count());
      clock_.SleepFor(pause);
    }
    const SqlParam params[] = {SqlParam::Int(migration.version),
                               SqlParam::Int(ToEpochMs(clock_.Now()))};
    return Query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", params)
        .status()
        .WithContext(context);
  });
}

Result<int> SqlJobStore::SchemaVersionLocked() {
  ASSIGN_OR_RETURN(std::vector<SqlRow> rows,
                   Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", {}));
  if (rows.size() != 1 || rows[0].size() != 1) return InternalError("schema version query");
  ASSIGN_OR_RETURN(int64_t version, IntFromValue(rows[0][0], "schema_migrations.version"));
  return static_cast<int>(version);
}

Result<int> SqlJobStore::SchemaVersion() {
  MutexLock lock(mu_);
  return SchemaVersionLocked();
}

Result<std::vector<SqlRow>> SqlJobStore::ExecuteForTest(std::string_view sql,
                                                        std::span<const SqlParam> params) {
  MutexLock lock(mu_);
  return Query(sql, params);
}

// ---- Work items ----

Status SqlJobStore::InsertItemsLocked(std::span<const WorkItem> items, int64_t now_ms) {
  std::vector<SqlParam> params;
  for (size_t start = 0; start < items.size(); start += kInsertChunkRows) {
    const size_t count = std::min(kInsertChunkRows, items.size() - start);
    params.clear();
    std::string sql = std::string("INSERT INTO work_items (") + kItemColumns + ") VALUES ";
    for (size_t i = 0; i < count; ++i) {
      sql += i == 0 ? "(" : ", (";
      std::vector<SqlParam> row = ItemInsertParams(items[start + i], now_ms);
      for (size_t c = 0; c < row.size(); ++c) {
        params.push_back(std::move(row[c]));
        sql += (c == 0 ? "" : ", ") + Placeholder(params.size());
      }
      sql += ")";
    }
    RETURN_IF_ERROR(Query(sql, params).status().WithContext("creating work items"));
  }
  return OkStatus();
}

Status SqlJobStore::CreateItems(std::span<const WorkItem> items) {
  for (const WorkItem& item : items) RETURN_IF_ERROR(ValidateItem(item));
  if (items.empty()) return OkStatus();
  MutexLock lock(mu_);
  const int64_t now = ToEpochMs(clock_.Now());
  return InTransaction([&]() REQUIRES(mu_) { return InsertItemsLocked(items, now); });
}

Result<WorkItem> SqlJobStore::GetItemWhere(std::string_view column, std::string_view value) {
  const std::string sql = std::string("SELECT ") + kItemColumns + " FROM work_items WHERE " +
                          std::string(column) + " = $1";
  std::vector<SqlRow> rows;
  {
    MutexLock lock(mu_);
    ASSIGN_OR_RETURN(rows, Query(sql, One(SqlParam::Text(value))));
  }
  if (rows.empty()) return NotFoundError("no work item with this " + std::string(column));
  return ItemFromRow(rows[0]);
}

Result<WorkItem> SqlJobStore::GetItem(std::string_view id) {
  Result<WorkItem> item = GetItemWhere("id", id);
  if (item.status().code() == StatusCode::kNotFound) {
    return NotFoundError("no work item " + std::string(id));
  }
  return item;
}

Result<WorkItem> SqlJobStore::FindByIdempotencyKey(std::string_view key) {
  return GetItemWhere("idempotency_key", key);
}

Result<std::vector<WorkItem>> SqlJobStore::ClaimNext(const ClaimRequest& request) {
  if (request.owner.empty()) return InvalidArgumentError("ClaimNext needs an owner");
  if (request.lease <= Duration::zero()) return InvalidArgumentError("ClaimNext needs a lease");
  if (request.limit < 1 || request.limit > kMaxClaimLimit) {
    return InvalidArgumentError("ClaimNext limit must be 1.." + std::to_string(kMaxClaimLimit));
  }
  MutexLock lock(mu_);
  Housekeeping();
  const int64_t now = ToEpochMs(clock_.Now());
  std::vector<SqlParam> params = {SqlParam::Text(request.owner),
                                  SqlParam::Int(now + Ms(request.lease)), SqlParam::Int(now),
                                  SqlParam::Int(request.limit)};
  const std::string filter = FilterSql(request.filter, params);
  // SQLite: the IMMEDIATE transaction excludes every other writer, so the SELECT and the UPDATE
  // see the same rows. PostgreSQL: rows a concurrent claimer has locked are skipped, and rows it
  // claimed and committed meanwhile fail the re-checked WHERE (READ COMMITTED).
  const std::string sql =
      std::string(
          "UPDATE work_items SET status = 'running', lease_owner = $1, lease_expires_at = $2, "
          "attempts = attempts + 1, updated_at = $3 WHERE id IN (SELECT id FROM work_items "
          "WHERE ((status = 'queued' AND NOT EXISTS (SELECT 1 FROM offboardings o WHERE "
          "o.status IN ('queued', 'running') AND LOWER(o.user_principal_name) = "
          "LOWER(work_items.user_principal_name))) OR "
          "(status = 'running' AND lease_expires_at <= $3))") +
      filter + " ORDER BY created_at, wave, manifest_line, id LIMIT $4" +
      (dialect_ == Dialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "") + ") RETURNING " +
      kItemColumns;
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(InTransaction([&]() REQUIRES(mu_) -> Status {
    ASSIGN_OR_RETURN(rows, Query(sql, params));
    return OkStatus();
  }));
  ASSIGN_OR_RETURN(std::vector<WorkItem> items, DecodeAll(rows, &ItemFromRow));
  std::sort(items.begin(), items.end(), [](const WorkItem& a, const WorkItem& b) {
    return std::tie(a.created_at, a.wave, a.manifest_line, a.id) <
           std::tie(b.created_at, b.wave, b.manifest_line, b.id);
  });
  return items;
}

Status SqlJobStore::Checkpoint(const CheckpointUpdate& update) {
  if (update.id.empty()) return InvalidArgumentError("Checkpoint needs an item id");
  const bool running = update.status == ItemStatus::kRunning;
  if (running && (update.owner.empty() || update.lease <= Duration::zero())) {
    return InvalidArgumentError("a running checkpoint needs the lease owner and a lease");
  }
  MutexLock lock(mu_);
  const int64_t now = ToEpochMs(clock_.Now());
  const SqlParam params[] = {
      SqlParam::Text(update.id),
      SqlParam::Text(update.owner),
      SqlParam::Text(ItemStatusName(update.status)),
      SqlParam::Text(update.step),
      SqlParam::Text(update.error_code),
      SqlParam::Text(update.error_message),
      SqlParam::Text(update.request_id),
      SqlParam::Text(running ? update.owner : ""),
      running ? SqlParam::Int(now + Ms(update.lease)) : SqlParam::NullInt(),
      SqlParam::Int(now),
  };
  const std::string sql =
      std::string(
          "UPDATE work_items SET status = $3, step = $4, error_code = $5, error_message = $6, "
          "request_id = $7, lease_owner = $8, lease_expires_at = $9, updated_at = $10") +
      (update.release_pfx ? ", pfx_blob = NULL" : "") +
      " WHERE id = $1 AND ((status = 'running' AND lease_owner = $2 AND $2 <> '') OR "
      "(status = 'queued' AND $2 = '')) RETURNING id";
  Status status = InTransaction([&]() REQUIRES(mu_) -> Status {
    ASSIGN_OR_RETURN(std::vector<SqlRow> updated, Query(sql, params));
    if (!updated.empty()) {
      if (update.audit) RETURN_IF_ERROR(InsertAuditLocked(*update.audit).status());
      return InsertNotificationsLocked(update.notify);
    }
    ASSIGN_OR_RETURN(
        std::vector<SqlRow> rows,
        Query("SELECT status, lease_owner FROM work_items WHERE id = $1", One(params[0])));
    if (rows.empty()) return NotFoundError("no work item " + update.id);
    std::string held = rows[0][1].value_or("");
    return AbortedError("work item " + update.id + " is " + rows[0][0].value_or("?") +
                        (held.empty() ? "" : " leased to " + held) + "; checkpoint by '" +
                        update.owner + "' refused");
  });
  if (status.ok() && update.release_pfx) AfterPfxReleased();
  return status;
}

Result<int> SqlJobStore::HandBackLeases(std::string_view owner, std::string_view reason) {
  if (owner.empty()) return InvalidArgumentError("HandBackLeases needs the lease owner");
  MutexLock lock(mu_);
  const SqlParam params[] = {SqlParam::Text(owner), SqlParam::Text(reason),
                             SqlParam::Int(ToEpochMs(clock_.Now()))};
  int count = 0;
  RETURN_IF_ERROR(InTransaction([&]() REQUIRES(mu_) -> Status {
    ASSIGN_OR_RETURN(
        std::vector<SqlRow> rows,
        Query("UPDATE work_items SET status = 'queued', lease_owner = '', "
              "lease_expires_at = NULL, error_code = 'handed-back', error_message = $2, "
              "updated_at = $3 WHERE status = 'running' AND lease_owner = $1 RETURNING id",
              params));
    count = static_cast<int>(rows.size());
    return OkStatus();
  }));
  return count;
}

Result<ItemSummary> SqlJobStore::SummarizeItems(const ItemFilter& filter, int max_failures) {
  if (max_failures < 0) return InvalidArgumentError("max_failures must be >= 0");
  std::vector<SqlParam> params;
  const std::string where = FilterSql(filter, params);
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(
      std::vector<SqlRow> counts,
      Query("SELECT status, CASE WHEN status = 'failed' AND step = '" +
                std::string(kInvalidStep) + "' THEN 1 ELSE 0 END AS invalid, COUNT(*) " +
                "FROM work_items WHERE 1 = 1" + where + " GROUP BY status, invalid",
            params));
  ItemSummary summary;
  for (const SqlRow& row : counts) {
    std::optional<ItemStatus> status = ParseItemStatus(row.at(0).value_or(""));
    ASSIGN_OR_RETURN(int64_t invalid, IntFromValue(row.at(1), "work item invalid flag"));
    ASSIGN_OR_RETURN(int64_t n, IntFromValue(row.at(2), "work item count"));
    if (!status) return DataLossError("stored work_items.status: unknown value");
    int64_t* slot[] = {&summary.queued, &summary.running, &summary.succeeded, &summary.failed,
                       &summary.cancelled};
    *(invalid != 0 ? &summary.invalid : slot[static_cast<int>(*status)]) = n;
  }
  if (max_failures == 0) return summary;
  params.push_back(SqlParam::Int(max_failures));
  ASSIGN_OR_RETURN(
      std::vector<SqlRow> rows,
      Query(std::string("SELECT ") + kFailureColumns + " FROM work_items WHERE status = 'failed'" +
                where + " ORDER BY wave, manifest_line, id LIMIT " + Placeholder(params.size()),
            params));
  ASSIGN_OR_RETURN(summary.failures, DecodeAll(rows, &FailureFromRow));
  return summary;
}

// ---- Rollouts ----

Status SqlJobStore::CreateRollout(const Rollout& rollout, std::span<const WorkItem> items) {
  if (rollout.id.empty()) return InvalidArgumentError("rollout without an id");
  if (rollout.halt_on_failure_percent < 0 || rollout.halt_on_failure_percent > 100) {
    return InvalidArgumentError("haltOnFailurePercent must be 0..100");
  }
  for (const WorkItem& item : items) {
    RETURN_IF_ERROR(ValidateItem(item));
    if (item.rollout_id != rollout.id) {
      return InvalidArgumentError("work item " + item.id + " belongs to another rollout");
    }
  }
  MutexLock lock(mu_);
  const int64_t now = ToEpochMs(clock_.Now());
  auto opt_time = [](const std::optional<SystemTime>& t) {
    return t ? SqlParam::Int(ToEpochMs(*t)) : SqlParam::NullInt();
  };
  const SqlParam params[] = {
      SqlParam::Text(rollout.id),
      SqlParam::Text(rollout.name),
      SqlParam::Text(rollout.manifest_path),
      SqlParam::Int(ToEpochMs(rollout.start_at)),
      SqlParam::Text(rollout.waves_json),
      SqlParam::Int(rollout.halt_on_failure_percent),
      SqlParam::Int(rollout.dry_run ? 1 : 0),
      SqlParam::Text(RolloutStatusName(rollout.status)),
      SqlParam::Int(rollout.current_wave),
      opt_time(rollout.wave_started_at),
      opt_time(rollout.wave_finished_at),
      SqlParam::Int(now),
      SqlParam::Int(now),
      SqlParam::Text(""),  // wave_times: kept by UpdateRollout.
      SqlParam::OptText(rollout.idempotency_key),
      SqlParam::Text(rollout.request_sha256),
  };
  const std::string sql = std::string("INSERT INTO rollouts (") + kRolloutColumns + ") VALUES (" +
                          Placeholders(1, std::size(params)) + ")";
  return InTransaction([&]() REQUIRES(mu_) -> Status {
    RETURN_IF_ERROR(Query(sql, params).status().WithContext("creating rollout " + rollout.id));
    return InsertItemsLocked(items, now);
  });
}

Result<Rollout> SqlJobStore::GetRollout(std::string_view id) {
  return GetRolloutWhere("id", id);
}

Result<Rollout> SqlJobStore::FindRolloutByIdempotencyKey(std::string_view key) {
  return GetRolloutWhere("idempotency_key", key);
}

Result<Rollout> SqlJobStore::GetRolloutWhere(std::string_view column, std::string_view value) {
  std::vector<SqlRow> rows;
  {
    MutexLock lock(mu_);
    ASSIGN_OR_RETURN(rows, Query(std::string("SELECT ") + kRolloutColumns +
                                     " FROM rollouts WHERE " + std::string(column) + " = $1",
                                 One(SqlParam::Text(value))));
  }
  if (rows.empty()) return NotFoundError("no rollout with that " + std::string(column));
  return RolloutFromRow(rows[0]);
}

Result<std::vector<Rollout>> SqlJobStore::ListRollouts(std::span<const RolloutStatus> statuses,
                                                       int limit) {
  if (limit < 1) return InvalidArgumentError("ListRollouts limit must be >= 1");
  std::vector<SqlParam> params;
  std::string where = " WHERE 1 = 1";
  if (!statuses.empty()) {
    where = " WHERE status IN (";
    for (RolloutStatus s : statuses) {
      params.push_back(SqlParam::Text(RolloutStatusName(s)));
      where += (params.size() == 1 ? "" : ", ") + Placeholder(params.size());
    }
    where += ")";
  }
  params.push_back(SqlParam::Int(limit));
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(std::vector<SqlRow> rows,
                   Query(std::string("SELECT ") + kRolloutColumns + " FROM rollouts" + where +
                             " ORDER BY created_at, id LIMIT " + Placeholder(params.size()),
                         params));
  return DecodeAll(rows, &RolloutFromRow);
}

Result<Rollout> SqlJobStore::UpdateRollout(std::string_view id, const RolloutUpdate& update) {
  std::vector<SqlParam> params = {
      SqlParam::Text(id), SqlParam::Text(RolloutStatusName(update.expected_status)),
      SqlParam::Text(RolloutStatusName(update.status)), SqlParam::Int(0)};
  std::string set = "status = $3, updated_at = $4";
  if (update.wave) {
    auto opt_time = [](const std::optional<SystemTime>& t) {
      return t ? SqlParam::Int(ToEpochMs(*t)) : SqlParam::NullInt();
    };
    params.push_back(SqlParam::Int(update.wave->current_wave));
    params.push_back(opt_time(update.wave->started_at));
    params.push_back(opt_time(update.wave->finished_at));
    params.push_back(SqlParam::Text(""));  // wave_times, filled in below.
    set += ", current_wave = $5, wave_started_at = $6, wave_finished_at = $7, wave_times = $8";
  }
  const std::string sql =
      "UPDATE rollouts SET " + set + " WHERE id = $1 AND status = $2 RETURNING " + kRolloutColumns;
  MutexLock lock(mu_);
  params[3] = SqlParam::Int(ToEpochMs(clock_.Now()));
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(InTransaction([&]() REQUIRES(mu_) -> Status {
    if (update.wave) {
      // The wave's times join the history of the earlier ones, read in this transaction. The
      // row is locked on PostgreSQL (READ COMMITTED: another replica's update must not be
      // overwritten with a stale list); SQLite's BEGIN IMMEDIATE already serializes writers.
      ASSIGN_OR_RETURN(
          std::vector<SqlRow> before,
          Query(std::string("SELECT ") + kRolloutColumns + " FROM rollouts WHERE id = $1" +
                    (dialect_ == Dialect::kPostgres ? " FOR UPDATE" : ""),
                One(params[0])));
      std::vector<WaveTimes> times;
      if (!before.empty()) {
        ASSIGN_OR_RETURN(Rollout current, RolloutFromRow(before[0]));
        times = std::move(current.wave_times);
      }
      const size_t wave = static_cast<size_t>(std::max(update.wave->current_wave, 0));
      times.resize(wave);
      if (wave > 0) times.back() = {update.wave->started_at, update.wave->finished_at};
      params[7] = SqlParam::Text(EncodeWaveTimes(times));
    }
    ASSIGN_OR_RETURN(rows, Query(sql, params));
    if (!rows.empty()) return InsertNotificationsLocked(update.notify);
    ASSIGN_OR_RETURN(std::vector<SqlRow> current,
                     Query("SELECT status FROM rollouts WHERE id = $1", One(params[0])));
    if (current.empty()) return NotFoundError("no rollout " + std::string(id));
    return AbortedError("rollout " + std::string(id) + " is " + current[0][0].value_or("?") +
                        ", not " + std::string(RolloutStatusName(update.expected_status)));
  }));
  return RolloutFromRow(rows.at(0));
}

// ---- Audit ----

Result<int64_t> SqlJobStore::InsertAuditLocked(const AuditRecord& record) {
  const SqlParam params[] = {
      SqlParam::Int(ToEpochMs(clock_.Now())), SqlParam::Text(record.api_key_name),
      SqlParam::Text(record.action),          SqlParam::Text(record.user_principal_name),
      SqlParam::Text(record.thumbprint),      SqlParam::Text(record.outcome),
      SqlParam::Text(record.request_ids),     SqlParam::Text(record.detail)};
  ASSIGN_OR_RETURN(std::vector<SqlRow> rows,
                   Query("INSERT INTO audit_log (at, api_key_name, action, "
                         "user_principal_name, thumbprint, outcome, request_ids, detail) "
                         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                         params));
  if (rows.size() != 1 || rows[0].empty()) return InternalError("audit insert returned no id");
  return IntFromValue(rows[0][0], "audit_log.id");
}

Result<int64_t> SqlJobStore::AppendAudit(const AuditRecord& record) {
  MutexLock lock(mu_);
  int64_t id = 0;
  RETURN_IF_ERROR(InTransaction([&]() REQUIRES(mu_) -> Status {
    ASSIGN_OR_RETURN(id, InsertAuditLocked(record));
    return OkStatus();
  }));
  return id;
}

Result<std::vector<AuditRecord>> SqlJobStore::ListAudit(int limit) {
  if (limit < 1) return InvalidArgumentError("ListAudit limit must be >= 1");
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(std::vector<SqlRow> rows, Query(std::string("SELECT ") + kAuditColumns +
                                                       " FROM audit_log ORDER BY id DESC LIMIT $1",
                                                   One(SqlParam::Int(limit))));
  return DecodeAll(rows, &AuditFromRow);
}

}  // namespace certdeploy::store::internal
