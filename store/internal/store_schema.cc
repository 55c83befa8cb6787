#include "store/internal/store_schema.h"

#include <map>
#include <utility>

#include "base/strings.h"

namespace certdeploy::store {

namespace {

constexpr std::pair<ItemKind, std::string_view> kKindNames[] = {
    {ItemKind::kEnrollment, "enrollment"}, {ItemKind::kRollout, "rollout"}};
constexpr std::pair<ItemStatus, std::string_view> kItemStatusNames[] = {
    {ItemStatus::kQueued, "queued"},
    {ItemStatus::kRunning, "running"},
    {ItemStatus::kSucceeded, "succeeded"},
    {ItemStatus::kFailed, "failed"},
    {ItemStatus::kCancelled, "cancelled"}};
constexpr std::pair<RolloutStatus, std::string_view> kRolloutStatusNames[] = {
    {RolloutStatus::kScheduled, "scheduled"}, {RolloutStatus::kRunning, "running"},
    {RolloutStatus::kPaused, "paused"},       {RolloutStatus::kSucceeded, "succeeded"},
    {RolloutStatus::kFailed, "failed"},       {RolloutStatus::kCancelled, "cancelled"}};
constexpr std::pair<OffboardingStatus, std::string_view> kOffboardingStatusNames[] = {
    {OffboardingStatus::kQueued, "queued"},
    {OffboardingStatus::kRunning, "running"},
    {OffboardingStatus::kSucceeded, "succeeded"},
    {OffboardingStatus::kFailed, "failed"}};
constexpr std::pair<NotificationStatus, std::string_view> kNotificationStatusNames[] = {
    {NotificationStatus::kPending, "pending"},
    {NotificationStatus::kDelivered, "delivered"},
    {NotificationStatus::kDead, "dead"}};

template <typename E, size_t N>
std::string_view NameOf(const std::pair<E, std::string_view> (&table)[N], E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "unknown";
}

template <typename E, size_t N>
std::optional<E> Parse(const std::pair<E, std::string_view> (&table)[N], std::string_view name) {
  for (const auto& [e, n] : table) {
    if (n == name) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ItemKindName(ItemKind kind) { return NameOf(kKindNames, kind); }
std::string_view ItemStatusName(ItemStatus status) { return NameOf(kItemStatusNames, status); }
std::string_view RolloutStatusName(RolloutStatus status) {
  return NameOf(kRolloutStatusNames, status);
}
std::optional<ItemKind> ParseItemKind(std::string_view name) { return Parse(kKindNames, name); }
std::optional<ItemStatus> ParseItemStatus(std::string_view name) {
  return Parse(kItemStatusNames, name);
}
std::optional<RolloutStatus> ParseRolloutStatus(std::string_view name) {
  return Parse(kRolloutStatusNames, name);
}
std::string_view OffboardingStatusName(OffboardingStatus status) {
  return NameOf(kOffboardingStatusNames, status);
}
std::optional<OffboardingStatus> ParseOffboardingStatus(std::string_view name) {
  return Parse(kOffboardingStatusNames, name);
}
std::string_view NotificationStatusName(NotificationStatus status) {
  return NameOf(kNotificationStatusNames, status);
}
std::optional<NotificationStatus> ParseNotificationStatus(std::string_view name) {
  return Parse(kNotificationStatusNames, name);
}

namespace internal {
namespace {

// Version 1: the initial schema. Never edit a released migration: add a new one.
const char* const kV1Tables[] = {
    R"(CREATE TABLE rollouts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  manifest_path TEXT NOT NULL,
  start_at {BIGINT} NOT NULL,
  waves TEXT NOT NULL,
  halt_on_failure_percent INTEGER NOT NULL,
  dry_run INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
  status TEXT NOT NULL
    CHECK (status IN ('scheduled', 'running', 'paused', 'succeeded', 'failed', 'cancelled')),
  current_wave INTEGER NOT NULL,
  wave_started_at {BIGINT},
  wave_finished_at {BIGINT},
  created_at {BIGINT} NOT NULL,
  updated_at {BIGINT} NOT NULL))",
    R"(CREATE TABLE work_items (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('enrollment', 'rollout')),
  rollout_id TEXT REFERENCES rollouts (id),
  wave INTEGER NOT NULL,
  manifest_line INTEGER NOT NULL,
  user_principal_name TEXT NOT NULL,
  intended_purpose TEXT NOT NULL,
  thumbprint TEXT NOT NULL,
  pfx_sha256 TEXT NOT NULL,
  pfx_blob {BLOB},
  sealed_password TEXT NOT NULL,
  padding_scheme TEXT NOT NULL,
  connector_key_fingerprint TEXT NOT NULL,
  status TEXT NOT NULL
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  step TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  request_id TEXT NOT NULL,
  idempotency_key TEXT UNIQUE,
  request_sha256 TEXT NOT NULL,
  created_at {BIGINT} NOT NULL,
  updated_at {BIGINT} NOT NULL,
  lease_owner TEXT NOT NULL,
  lease_expires_at {BIGINT},
  CHECK ((kind = 'rollout') = (rollout_id IS NOT NULL))))",
    "CREATE INDEX work_items_by_status ON work_items (status, created_at)",
    "CREATE INDEX work_items_by_rollout ON work_items (rollout_id, wave, status)",
    R"(CREATE TABLE audit_log (
  id {ID_PK},
  at {BIGINT} NOT NULL,
  api_key_name TEXT NOT NULL,
  action TEXT NOT NULL,
  user_principal_name TEXT NOT NULL,
  thumbprint TEXT NOT NULL,
  outcome TEXT NOT NULL,
  request_ids TEXT NOT NULL,
  detail TEXT NOT NULL))",
};

const char* const kV1SqliteAppendOnly[] = {
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
};

const char* const kV1PostgresAppendOnly[] = {
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
};

// Version 2: offboardings, the CA certificates deployed (drift repair), the webhook outbox.
const char* const kV2Statements[] = {
    R"(CREATE TABLE offboardings (
  id TEXT PRIMARY KEY,
  user_principal_name TEXT NOT NULL,
  thumbprints TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  step TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  removed TEXT NOT NULL,
  cancelled_items INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  request_ids TEXT NOT NULL,
  api_key_name TEXT NOT NULL,
  idempotency_key TEXT UNIQUE,
  request_sha256 TEXT NOT NULL,
  created_at {BIGINT} NOT NULL,
  updated_at {BIGINT} NOT NULL,
  lease_owner TEXT NOT NULL,
  lease_expires_at {BIGINT}))",
    "CREATE INDEX offboardings_by_status ON offboardings (status, created_at)",
    "CREATE INDEX work_items_by_user ON work_items (user_principal_name, status)",
    R"(CREATE TABLE deployed_cas (
  thumbprint TEXT PRIMARY KEY,
  der TEXT NOT NULL,
  root INTEGER NOT NULL CHECK (root IN (0, 1)),
  self_signed INTEGER NOT NULL CHECK (self_signed IN (0, 1)),
  first_deployed_at {BIGINT} NOT NULL))",
    R"(CREATE TABLE notifications (
  id {ID_PK},
  event TEXT NOT NULL,
  dedupe_key TEXT UNIQUE,
  url TEXT NOT NULL,
  secret_env TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL,
  next_attempt_at {BIGINT} NOT NULL,
  last_error TEXT NOT NULL,
  created_at {BIGINT} NOT NULL,
  updated_at {BIGINT} NOT NULL))",
    "CREATE INDEX notifications_due ON notifications (status, next_attempt_at)",
};

// Version 3: the start and end of every wave of a rollout, not only of the current one
// (EncodeWaveTimes; rollouts stored before keep no times for their earlier waves), and the
// rollouts' Idempotency-Key records. SQLite cannot add a UNIQUE column: a unique index does it
// (NULLs are distinct in both engines).
const char* const kV3Statements[] = {
    "ALTER TABLE rollouts ADD COLUMN wave_times TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE rollouts ADD COLUMN idempotency_key TEXT",
    "ALTER TABLE rollouts ADD COLUMN request_sha256 TEXT NOT NULL DEFAULT ''",
    "CREATE UNIQUE INDEX rollouts_by_idempotency_key ON rollouts (idempotency_key)",
};

// The dialect map: the only type names that differ between the engines.
std::string Render(std::string sql, Dialect dialect) {
  static const std::map<std::string, std::pair<std::string, std::string>> kTokens = {
      // token          SQLite                                PostgreSQL
      {"{BLOB}", {"BLOB", "BYTEA"}},
      {"{BIGINT}", {"INTEGER", "BIGINT"}},
      {"{ID_PK}",
       {"INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"}},
  };
  for (const auto& [token, names] : kTokens) {
    const std::string& name = dialect == Dialect::kSqlite ? names.first : names.second;
    sql = ReplaceAll(std::move(sql), token, name);
  }
  return sql;
}

}  // namespace

const char kItemColumns[] =
    "id, kind, rollout_id, wave, manifest_line, user_principal_name, intended_purpose, "
    "thumbprint, pfx_sha256, pfx_blob, sealed_password, padding_scheme, "
    "connector_key_fingerprint, status, step, attempts, error_code, error_message, request_id, "
    "idempotency_key, request_sha256, created_at, updated_at, lease_owner, lease_expires_at";
const char kRolloutColumns[] =
    "id, name, manifest_path, start_at, waves, halt_on_failure_percent, dry_run, status, "
    "current_wave, wave_started_at, wave_finished_at, created_at, updated_at, wave_times, "
    "idempotency_key, request_sha256";
const char kAuditColumns[] =
    "id, at, api_key_name, action, user_principal_name, thumbprint, outcome, request_ids, detail";
const char kOffboardingColumns[] =
    "id, user_principal_name, thumbprints, status, step, attempts, removed, cancelled_items, "
    "error_code, error_message, request_ids, api_key_name, idempotency_key, request_sha256, "
    "created_at, updated_at, lease_owner, lease_expires_at";
const char kDeployedCaColumns[] = "thumbprint, der, root, self_signed, first_deployed_at";
const char kNotificationColumns[] =
    "id, event, dedupe_key, url, secret_env, body, status, attempts, next_attempt_at, "
    "last_error, created_at, updated_at";
const char kFailureColumns[] =
    "id, wave, manifest_line, user_principal_name, thumbprint, error_code, error_message, "
    "request_id, attempts";

std::vector<Migration> SchemaMigrations(Dialect dialect) {
  Migration v1{1, "work items, rollouts, audit log", {}};
  for (const char* sql : kV1Tables) v1.statements.push_back(Render(sql, dialect));
  if (dialect == Dialect::kSqlite) {
    v1.statements.insert(v1.statements.end(), std::begin(kV1SqliteAppendOnly),
                         std::end(kV1SqliteAppendOnly));
  } else {
    v1.statements.insert(v1.statements.end(), std::begin(kV1PostgresAppendOnly),
                         std::end(kV1PostgresAppendOnly));
  }
  Migration v2{2, "offboardings, deployed CA certificates, webhook outbox", {}};
  for (const char* sql : kV2Statements) v2.statements.push_back(Render(sql, dialect));
  Migration v3{3, "start and end times of every rollout wave, rollout idempotency keys", {}};
  for (const char* sql : kV3Statements) v3.statements.push_back(Render(sql, dialect));
  return {std::move(v1), std::move(v2), std::move(v3)};
}

}  // namespace internal
}  // namespace certdeploy::store
