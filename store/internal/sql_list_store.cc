// The paged lists operators read (JobStore::ListItems, ListRolloutPage, ListAuditPage): keyset
// paging, so a page costs the same wherever it starts and rows added meanwhile never shift it.

#include <string>
#include <vector>

#include "base/status_macros.h"
#include "store/internal/sql_job_store.h"

namespace certdeploy::store::internal {
namespace {

constexpr int kMaxPageLimit = 1000;

Status CheckLimit(int limit, std::string_view what) {
  if (limit < 1 || limit > kMaxPageLimit) {
    return InvalidArgumentError(std::string(what) + " limit must be 1.." +
                                std::to_string(kMaxPageLimit));
  }
  return OkStatus();
}

// " AND (rows after `after`)" in the order created_at DESC, manifest_line ASC, id ASC. The two
// directions rule out a row-value comparison, so it is spelt out.
std::string AfterSql(const PagePosition& after, std::vector<SqlParam>& params,
                     bool with_line) {
  params.push_back(SqlParam::Int(ToEpochMs(after.created_at)));
  const std::string at = Placeholder(params.size());
  params.push_back(SqlParam::Text(after.id));
  const std::string id = Placeholder(params.size());
  std::string tie = "id > " + id;
  if (with_line) {
    params.push_back(SqlParam::Int(after.manifest_line));
    const std::string line = Placeholder(params.size());
    tie = "manifest_line > " + line + " OR (manifest_line = " + line + " AND " + tie + ")";
  }
  return " AND (created_at < " + at + " OR (created_at = " + at + " AND (" + tie + ")))";
}

}  // namespace

Result<std::vector<WorkItem>> SqlJobStore::ListItems(const ItemPageQuery& query) {
  RETURN_IF_ERROR(CheckLimit(query.limit, "ListItems"));
  std::vector<SqlParam> params;
  std::string where = FilterSql(query.filter, params);
  if (query.status) {
    params.push_back(SqlParam::Text(ItemStatusName(*query.status)));
    where += " AND status = " + Placeholder(params.size());
  }
  if (query.after) where += AfterSql(*query.after, params, /*with_line=*/true);
  params.push_back(SqlParam::Int(query.limit));
  const std::string sql = std::string("SELECT ") + kItemColumns + " FROM work_items WHERE 1 = 1" +
                          where + " ORDER BY created_at DESC, manifest_line, id LIMIT " +
                          Placeholder(params.size());
  std::vector<SqlRow> rows;
  {
    MutexLock lock(mu_);
    ASSIGN_OR_RETURN(rows, Query(sql, params));
  }
  ASSIGN_OR_RETURN(std::vector<WorkItem> items, DecodeAll(rows, &ItemFromRow));
  for (WorkItem& item : items) {  // Lists are for reading: no key material leaves here.
    item.pfx_blob.reset();
    item.sealed_password.clear();
  }
  return items;
}

Result<std::vector<Rollout>> SqlJobStore::ListRolloutPage(const RolloutPageQuery& query) {
  RETURN_IF_ERROR(CheckLimit(query.limit, "ListRolloutPage"));
  std::vector<SqlParam> params;
  std::string where;
  if (!query.statuses.empty()) {
    where = " AND status IN (";
    for (size_t i = 0; i < query.statuses.size(); ++i) {
      params.push_back(SqlParam::Text(RolloutStatusName(query.statuses[i])));
      where += (i == 0 ? "" : ", ") + Placeholder(params.size());
    }
    where += ")";
  }
  if (query.after) where += AfterSql(*query.after, params, /*with_line=*/false);
  params.push_back(SqlParam::Int(query.limit));
  const std::string sql = std::string("SELECT ") + kRolloutColumns + " FROM rollouts WHERE 1 = 1" +
                          where + " ORDER BY created_at DESC, id LIMIT " +
                          Placeholder(params.size());
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(std::vector<SqlRow> rows, Query(sql, params));
  return DecodeAll(rows, &RolloutFromRow);
}

Result<std::vector<AuditRecord>> SqlJobStore::ListAuditPage(const AuditPageQuery& query) {
  RETURN_IF_ERROR(CheckLimit(query.limit, "ListAuditPage"));
  std::vector<SqlParam> params;
  std::string where;
  if (query.since) {
    params.push_back(SqlParam::Int(ToEpochMs(*query.since)));
    where += " AND at >= " + Placeholder(params.size());
  }
  if (query.before_id) {
    params.push_back(SqlParam::Int(*query.before_id));
    where += " AND id < " + Placeholder(params.size());
  }
  params.push_back(SqlParam::Int(query.limit));
  const std::string sql = std::string("SELECT ") + kAuditColumns + " FROM audit_log WHERE 1 = 1" +
                          where + " ORDER BY id DESC LIMIT " + Placeholder(params.size());
  MutexLock lock(mu_);
  ASSIGN_OR_RETURN(std::vector<SqlRow> rows, Query(sql, params));
  return DecodeAll(rows, &AuditFromRow);
}

}  // namespace certdeploy::store::internal
