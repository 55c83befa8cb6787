#include "store/internal/postgres_job_store.h"

#include "base/status_macros.h"

namespace certdeploy::store::internal {
namespace {

pq::Param ToPq(const SqlParam& p) {
  switch (p.type) {
    case SqlParam::Type::kInt:
      return {pq::Param::kInt8, p.value};
    case SqlParam::Type::kBlob:
      return {pq::Param::kBytea, p.value};
    case SqlParam::Type::kText:
      break;
  }
  return {pq::Param::kText, p.value};
}

}  // namespace

PostgresJobStore::PostgresJobStore(std::string url, std::unique_ptr<pq::Connection> conn,
                                   Clock& clock)
    : SqlJobStore(Dialect::kPostgres, clock), url_(std::move(url)), conn_(std::move(conn)) {}

PostgresJobStore::~PostgresJobStore() { (void)ReleaseDispatcher(); }

Result<std::unique_ptr<PostgresJobStore>> PostgresJobStore::Open(const std::string& url,
                                                                 Clock& clock, Options options) {
  ASSIGN_OR_RETURN(std::unique_ptr<pq::Connection> conn,
                   pq::Connection::Open(url, {{"application_name", "certdeploy"}}));
  std::unique_ptr<PostgresJobStore> store(new PostgresJobStore(url, std::move(conn), clock));
  RETURN_IF_ERROR(store->Migrate(options.extra_migrations, options.migration_delay).WithContext("migrating the store"));
  return store;
}

// ---- SqlJobStore hooks ----

Result<std::vector<SqlRow>> PostgresJobStore::Query(std::string_view sql,
                                                    std::span<const SqlParam> params) {
  // Reconnect between transactions only: inside one the session's state is gone with it.
  if (!in_transaction_ && !conn_->Healthy()) RETURN_IF_ERROR(conn_->Reset());
  std::vector<pq::Param> converted;
  converted.reserve(params.size());
  for (const SqlParam& p : params) converted.push_back(ToPq(p));
  return conn_->Execute(sql, converted);
}

Status PostgresJobStore::Begin() {
  if (!conn_->Healthy()) RETURN_IF_ERROR(conn_->Reset());
  RETURN_IF_ERROR(conn_->Execute("BEGIN").status());
  in_transaction_ = true;
  return OkStatus();
}

Status PostgresJobStore::Commit() {
  in_transaction_ = false;
  return conn_->Execute("COMMIT").status();
}

void PostgresJobStore::Rollback() {
  in_transaction_ = false;
  (void)conn_->Execute("ROLLBACK");  // Fails harmlessly if the connection is gone.
}

// ---- JobStore: the dispatcher election ----

Result<bool> PostgresJobStore::TryBecomeDispatcher(std::string_view owner) {
  MutexLock lock(dispatcher_mu_);
  if (dispatcher_conn_ != nullptr) {
    if (dispatcher_conn_->Execute("SELECT 1").ok()) return true;
    dispatcher_conn_.reset();  // The session, and the lock with it, is gone.
  }
  std::string application_name = kDispatcherApplicationName + std::string(owner);
  application_name.resize(std::min<size_t>(application_name.size(), 63));  // NAMEDATALEN - 1
  // TCP keepalives make a dead peer's session end (and free the lock) within about a minute.
  ASSIGN_OR_RETURN(std::unique_ptr<pq::Connection> conn,
                   pq::Connection::Open(url_, {{"application_name", application_name},
                                               {"keepalives", "1"},
                                               {"keepalives_idle", "30"},
                                               {"keepalives_interval", "10"},
                                               {"keepalives_count", "3"}}));
  const pq::Param key{pq::Param::kInt8, std::to_string(kDispatcherLockKey)};
  ASSIGN_OR_RETURN(std::vector<pq::Row> rows,
                   conn->Execute("SELECT pg_try_advisory_lock($1)", {&key, 1}));
  if (rows.size() != 1 || rows[0].size() != 1 || !rows[0][0]) {
    return InternalError("postgresql: unexpected answer to pg_try_advisory_lock");
  }
  if (*rows[0][0] != "t") return false;
  dispatcher_conn_ = std::move(conn);
  return true;
}

bool PostgresJobStore::StillDispatcher() {
  MutexLock lock(dispatcher_mu_);
  if (dispatcher_conn_ == nullptr) return false;
  if (dispatcher_conn_->Execute("SELECT 1").ok()) return true;
  dispatcher_conn_.reset();
  return false;
}

Status PostgresJobStore::ReleaseDispatcher() {
  MutexLock lock(dispatcher_mu_);
  if (dispatcher_conn_ == nullptr) return OkStatus();
  // Unlock explicitly: closing alone frees the lock only once the server notices, a moment later.
  const pq::Param key{pq::Param::kInt8, std::to_string(kDispatcherLockKey)};
  Status status = dispatcher_conn_->Execute("SELECT pg_advisory_unlock($1)", {&key, 1}).status();
  dispatcher_conn_.reset();
  return status;
}

}  // namespace certdeploy::store::internal
