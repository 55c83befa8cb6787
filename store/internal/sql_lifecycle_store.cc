// SqlJobStore: offboardings, the CA certificates deployed, and the webhook outbox (schema v2).

#include <algorithm>
#include <utility>

#include "base/status_macros.h"
#include "store/internal/sql_job_store.h"

namespace certdeploy::store::internal {
namespace {

constexpr int kMaxListLimit = 1000;

}  // namespace

// ---- Offboardings ----

Result<Offboarding> SqlJobStore::CreateOffboarding(const Offboarding& offboarding,
                                                   const AuditRecord& audit) {
  if (offboarding.id.empty()) return InvalidArgumentError("offboarding without an id");
  if (offboarding.user_principal_name.empty()) {
    return InvalidArgumentError("offboarding " + offboarding.id + " without a user");
  }
  if (offboarding.idempotency_key && offboarding.idempotency_key->empty()) {
    return InvalidArgumentError("offboarding " + offboarding.id + ": empty idempotency key");
  }
  MutexLock lock(mu_);
  const int64_t now = ToEpochMs(clock().Now());
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(InTransaction([&]() REQUIRES(mu_) -> Status {
    ASSIGN_OR_RETURN(const int cancelled, CancelQueuedItemsLocked(offboarding, now, now));
    const SqlParam params[] = {
        SqlParam::Text(offboarding.id),
        SqlParam::Text(offboarding.user_principal_name),
        SqlParam::Text(JoinWords(offboarding.thumbprints)),
        SqlParam::Text(OffboardingStatusName(offboarding.status)),
        SqlParam::Text(offboarding.step),
        SqlParam::Int(offboarding.attempts),
        SqlParam::Text(JoinWords(offboarding.removed)),
        SqlParam::Int(cancelled),
        SqlParam::Text(offboarding.error_code),
        SqlParam::Text(offboarding.error_message),
        SqlParam::Text(offboarding.request_ids),
        SqlParam::Text(offboarding.api_key_name),
        SqlParam::OptText(offboarding.idempotency_key),
        SqlParam::Text(offboarding.request_sha256),
        SqlParam::Int(now),
        SqlParam::Int(now),
        SqlParam::Text(""),
        SqlParam::NullInt(),
    };
    ASSIGN_OR_RETURN(
        rows, Query(std::string("INSERT INTO offboardings (") + kOffboardingColumns + ") VALUES (" +
                        Placeholders(1, std::size(params)) + ") RETURNING " + kOffboardingColumns,
                    params));
    AuditRecord record = audit;
    if (cancelled > 0) {
      record.detail += (record.detail.empty() ? "" : "; ") + std::string("cancelled ") +
                       std::to_string(cancelled) + " queued item(s)";
    }
    return InsertAuditLocked(record).status();
  }));
  if (rows.size() != 1) return InternalError("offboarding insert returned no row");
  return OffboardingFromRow(rows[0]);
}

Result<int> SqlJobStore::CancelQueuedItemsLocked(const Offboarding& offboarding,
                                                 int64_t created_up_to_ms, int64_t now_ms) {
  std::vector<SqlParam> params = {SqlParam::Text(offboarding.user_principal_name),
                                  SqlParam::Text("cancelled by offboarding " + offboarding.id),
                                  SqlParam::Int(now_ms), SqlParam::Int(created_up_to_ms)};
  std::string only;
  if (!offboarding.thumbprints.empty()) {
    for (const std::string& t : offboarding.thumbprints) params.push_back(SqlParam::Text(t));
    only = " AND thumbprint IN (" + Placeholders(5, offboarding.thumbprints.size()) + ")";
  }
  ASSIGN_OR_RETURN(std::vector<SqlRow> cancelled,
                   Query("UPDATE work_items SET status = 'cancelled', error_code = 'offboarded', "
                         "error_message = $2, updated_at = $3 WHERE "
                         "LOWER(user_principal_name) = LOWER($1) AND status = 'queued' AND "
                         "created_at <= $4" +
                             only + " RETURNING id",
                         params));
  return static_cast<int>(cancelled.size());
}

Result<int> SqlJobStore::CancelQueuedItemsOf(const Offboarding& offboarding) {
  if (offboarding.id.empty() || offboarding.lease_owner.empty()) {
    return InvalidArgumentError("CancelQueuedItemsOf needs the offboarding's id and lease owner");
  }
  MutexLock lock(mu_);
  const int64_t now = ToEpochMs(clock().Now());
  int cancelled = 0;
  RETURN_IF_ERROR(InTransaction([&]() REQUIRES(mu_) -> Status {
    ASSIGN_OR_RETURN(cancelled,
                     CancelQueuedItemsLocked(offboarding, ToEpochMs(offboarding.created_at), now));
    const SqlParam params[] = {SqlParam::Text(offboarding.id),
                               SqlParam::Text(offboarding.lease_owner), SqlParam::Int(cancelled)};
    ASSIGN_OR_RETURN(std::vector<SqlRow> updated,
                     Query("UPDATE offboardings SET cancelled_items = cancelled_items + $3 "
                           "WHERE id = $1 AND status = 'running' AND lease_owner = $2 RETURNING id",
                           params));
    if (updated.empty()) {
      return AbortedError("offboarding " + offboarding.id + " is not running under '" +
                          offboarding.lease_owner + "'");
    }
    return OkStatus();
  }));
  return cancelled;
}

Result<Offboarding> SqlJobStore::GetOffboardingWhere(std::string_view column,
                                                     std::string_view value) {
  std::vector<SqlRow> rows;
  {
    MutexLock lock(mu_);
    ASSIGN_OR_RETURN(rows, Query(std::string("SELECT ") + kOffboardingColumns +
                                     " FROM offboardings WHERE " + std::string(column) + " = $1",
                                 One(SqlParam::Text(value))));
  }
  if (rows.empty()) return NotFoundError("no offboarding with this " + std::string(column));
  return OffboardingFromRow(rows[0]);
}

Result<Offboarding> SqlJobStore::GetOffboarding(std::string_view id) {
  Result<Offboarding> found = GetOffboardingWhere("id", id);
  if (found.status().code() == StatusCode::kNotFound) {
    return NotFoundError("no offboarding " + std::string(id));
  }
  return found;
}

Result<Offboarding> SqlJobStore::FindOffboardingByIdempotencyKey(std::string_view key) {
  return GetOffboardingWhere("idempotency_key", key);
}

Result<std::vector<Offboarding>> SqlJobStore::ClaimOffboardings(std::string_view owner,
                                                                Duration lease, int limit) {
  if (owner.empty()) return InvalidArgumentError("ClaimOffboardings needs an owner");
  if (lease <= Duration::zero()) return InvalidArgumentError("ClaimOffboardings needs a lease");
  if (limit < 1 || limit > kMaxListLimit) {
    return InvalidArgumentError("ClaimOffboardings limit must be 1.." +
                                std::to_string(kMaxListLimit));
  }
  MutexLock lock(mu_);
  const int64_t now = ToEpochMs(clock().Now());
  const SqlParam params[] = {SqlParam::Text(owner), SqlParam::Int(now + Ms(lease)),
                             SqlParam::Int(now), SqlParam::Int(limit)};
  const std::string sql =
      std::string(
          "UPDATE offboardings SET status = 'running', lease_owner = $1, lease_expires_at = $2, "
          "attempts = attempts + 1, updated_at = $3 WHERE id IN (SELECT id FROM offboardings "
          "WHERE status = 'queued' OR (status = 'running' AND lease_expires_at <= $3) "
          "ORDER BY created_at, id LIMIT $4") +
      (dialect() == Dialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "") + ") RETURNING " +
      kOffboardingColumns;
  std::vector<SqlRow> rows;
  RETURN_IF_ERROR(InTransaction([&]() REQUIRES(mu_) -> Status {
    ASSIGN_OR_RETURN(rows, Query(sql, params));
    return OkStatus();
  }));
  ASSIGN_OR_RETURN(std::vector<Offboarding> out, DecodeAll(rows, &OffboardingFromRow));
  std::sort(out.begin(), out.end(), [](const Offboarding& a, const Offboarding& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
  });
  return out;
}

Status SqlJobStore::UpdateOffboarding(const OffboardingUpdate& update) {
  if (update.id.empty() || update.owner.empty()) {
    return InvalidArgumentError("UpdateOffboarding needs the id and the lease owner");
  }
  const bool running = update.status == OffboardingStatus::kRunning;
  if (running && update.lease <= Duration::zero()) {
    return InvalidArgumentError("a running offboarding update needs a lease");
  }
  MutexLock lock(mu_);
  const int64_t now = ToEpochMs(clock().Now());
  const SqlParam params[] = {
      SqlParam::Text(update.id),
      SqlParam::Text(update.owner),
      SqlParam::Text(OffboardingStatusName(update.status)),
      SqlParam::Text(update.step),
      SqlParam::Text(JoinWords(update.removed)),
      SqlParam::Text(update.error_code),
      SqlParam::Text(update.error_message),
      SqlParam::Text(update.request_ids),
      SqlParam::Text(running ? update.owner : ""),
      running ? SqlParam::Int(now + Ms(update.lease)) : SqlParam::NullInt(),
      SqlParam::Int(now),
      SqlParam::Int(update.counts_as_attempt ? 0 : 1),
  };
  return InTransaction([&]() REQUIRES(mu_) -> Status {
    ASSIGN_OR_RETURN(
        std::vector<SqlRow> updated,
        Query("UPDATE offboardings SET status = $3, step = $4, removed = $5, error_code = $6, "
              "error_message = $7, request_ids = $8, lease_owner = $9, lease_expires_at = $10, "
              "updated_at = $11, attempts = attempts - $12 WHERE id = $1 AND "
              "status = 'running' AND lease_owner = $2 RETURNING id",
              params));
    if (!updated.empty()) {
      if (update.audit) RETURN_IF_ERROR(InsertAuditLocked(*update.audit).status());
      return InsertNotificationsLocked(update.notify);
    }
    ASSIGN_OR_RETURN(
        std::vector<SqlRow> rows,
        Query("SELECT status, lease_owner FROM offboardings WHERE id = $1", One(params[0])));
    if (rows.empty()) return NotFoundError("no offboarding " + update.id);
    return AbortedError("offboarding " + update.id + " is " + rows[0][0].value_or("?") +
                        "; update by '" + update.owner + "' refused");
  });
}

// ---- CA certificates deployed ----

Status SqlJobStore::RecordDeployedCas(std::span<const DeployedCa> cas) {
  for (const DeployedCa& ca : cas) {
    if (ca.thumbprint.empty() || ca.der_base64.empty()) {
      return InvalidArgumentError("a deployed CA certificate needs its thumbprint and DER");
    }
  }
  if (cas.empty()) return OkStatus();
  MutexLock lock(mu_);
  const int64_t now = ToEpochMs(clock().Now());
  return InTransaction([&]() REQUIRES(mu_) -> Status {
    for (const DeployedCa& ca : cas) {
      const SqlParam params[] = {SqlParam::Text(ca.thumbprint), SqlParam::Text(ca.der_base64),
                                 SqlParam::Int(ca.root ? 1 : 0),
                                 SqlParam::Int(ca.self_signed ? 1 : 0), SqlParam::Int(now)};
      RETURN_IF_ERROR(Query(std::string("INSERT INTO deployed_cas (") + kDeployedCaColumns +
                                ") VALUES ($1, $2, $3, $4, $5) ON CONFLICT (thumbprint) DO NOTHING",
                            params)
                          .status());
    }
    return OkStatus();
  });
}

Result<std::vector<DeployedCa>> SqlJobStore::ListDeployedCas() {
  std::vector<SqlRow> rows;
  {
    MutexLock lock(mu_);
    ASSIGN_OR_RETURN(rows, Query(std::string("SELECT ") + kDeployedCaColumns +
                                     " FROM deployed_cas ORDER BY first_deployed_at, thumbprint",
                                 {}));
  }
  return DecodeAll(rows, &DeployedCaFromRow);
}

Result<std::vector<std::string>> SqlJobStore::ListDeployedPurposes() {
  std::vector<SqlRow> rows;
  {
    MutexLock lock(mu_);
    ASSIGN_OR_RETURN(rows, Query("SELECT DISTINCT intended_purpose FROM work_items WHERE "
                                 "status = 'succeeded' ORDER BY intended_purpose",
                                 {}));
  }
  std::vector<std::string> out;
  for (const SqlRow& row : rows) {
    if (row.empty() || !row[0]) return DataLossError("stored work_items.intended_purpose: NULL");
    out.push_back(*row[0]);
  }
  return out;
}

// ---- Webhook outbox ----

Status SqlJobStore::InsertNotificationsLocked(std::span<const Notification> notifications) {
  const int64_t now = ToEpochMs(clock().Now());
  for (const Notification& n : notifications) {
    const SqlParam params[] = {SqlParam::Text(n.event), SqlParam::OptText(n.dedupe_key),
                               SqlParam::Text(n.url),   SqlParam::Text(n.secret_env),
                               SqlParam::Text(n.body),  SqlParam::Int(now),
                               SqlParam::Int(now)};
    RETURN_IF_ERROR(
        Query("INSERT INTO notifications (event, dedupe_key, url, secret_env, body, status, "
              "attempts, next_attempt_at, last_error, created_at, updated_at) VALUES ($1, $2, "
              "$3, $4, $5, 'pending', 0, $6, '', $6, $7) ON CONFLICT (dedupe_key) DO NOTHING",
              params)
            .status()
            .WithContext("enqueueing a notification"));
  }
  return OkStatus();
}

Status SqlJobStore::EnqueueNotifications(std::span<const Notification> notifications) {
  for (const Notification& n : notifications) {
    if (n.event.empty() || n.url.empty()) {
      return InvalidArgumentError("a notification needs its event and receiver URL");
    }
    if (n.dedupe_key && n.dedupe_key->empty()) {
      return InvalidArgumentError("a notification's dedupe key must not be empty");
    }
  }
  if (notifications.empty()) return OkStatus();
  MutexLock lock(mu_);
  return InTransaction(
      [&]() REQUIRES(mu_) -> Status { return InsertNotificationsLocked(notifications); });
}

Result<std::vector<Notification>> SqlJobStore::DueNotifications(int limit) {
  if (limit < 1 || limit > kMaxListLimit) {
    return InvalidArgumentError("DueNotifications limit must be 1.." +
                                std::to_string(kMaxListLimit));
  }
  std::vector<SqlRow> rows;
  {
    MutexLock lock(mu_);
    const SqlParam params[] = {SqlParam::Int(ToEpochMs(clock().Now())), SqlParam::Int(limit)};
    ASSIGN_OR_RETURN(rows, Query(std::string("SELECT ") + kNotificationColumns +
                                     " FROM notifications WHERE status = 'pending' AND "
                                     "next_attempt_at <= $1 ORDER BY id LIMIT $2",
                                 params));
  }
  return DecodeAll(rows, &NotificationFromRow);
}

Status SqlJobStore::RecordDeliveryAttempt(int64_t id, NotificationStatus status,
                                          SystemTime retry_at, std::string_view error) {
  MutexLock lock(mu_);
  const SqlParam params[] = {SqlParam::Int(id), SqlParam::Text(NotificationStatusName(status)),
                             SqlParam::Int(ToEpochMs(retry_at)), SqlParam::Text(error),
                             SqlParam::Int(ToEpochMs(clock().Now()))};
  return InTransaction([&]() REQUIRES(mu_) -> Status {
    ASSIGN_OR_RETURN(std::vector<SqlRow> rows,
                     Query("UPDATE notifications SET status = $2, attempts = attempts + 1, "
                           "next_attempt_at = $3, last_error = $4, updated_at = $5 "
                           "WHERE id = $1 RETURNING id",
                           params));
    if (rows.empty()) return NotFoundError("no notification " + std::to_string(id));
    return OkStatus();
  });
}

Result<std::vector<Notification>> SqlJobStore::ListNotifications(int limit) {
  if (limit < 1) return InvalidArgumentError("ListNotifications limit must be >= 1");
  std::vector<SqlRow> rows;
  {
    MutexLock lock(mu_);
    ASSIGN_OR_RETURN(rows, Query(std::string("SELECT ") + kNotificationColumns +
                                     " FROM notifications ORDER BY id DESC LIMIT $1",
                                 One(SqlParam::Int(limit))));
  }
  return DecodeAll(rows, &NotificationFromRow);
}

}  // namespace certdeploy::store::internal
