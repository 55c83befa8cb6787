// store/internal/store_schema.h: the one logical schema both JobStore backends share.
//
// The migrations are written once with a few dialect tokens ({BLOB}, {BIGINT}, {ID_PK}) that a
// small per-dialect map fills in; statements that exist in one dialect only (triggers) are
// chosen by dialect. Rows cross the backend boundary as SqlParam (in) and SqlRow (out) so that
// encoding and decoding of items, rollouts and audit records is shared too. The format is
// documented in docs/store-schema.md; change both together.

#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "store/job_store.h"

namespace certdeploy::store::internal {

enum class Dialect { kSqlite, kPostgres };

// A schema version: its statements run in one transaction together with the INSERT into
// schema_migrations, so a crash leaves the database before or after it, never half-way.
struct Migration {
  int version = 0;
  std::string description;
  std::vector<std::string> statements;
};

// The migrations of this binary for `dialect`, versions 1..N in order.
std::vector<Migration> SchemaMigrations(Dialect dialect);

// A bound parameter. Nulls keep a type so PostgreSQL can type them.
struct SqlParam {
  enum class Type { kText, kInt, kBlob };
  Type type = Type::kText;
  std::optional<std::string> value;  // Text, decimal integer or raw bytes; nullopt is NULL.

  static SqlParam Text(std::string_view v) { return {Type::kText, std::string(v)}; }
  static SqlParam Int(int64_t v) { return {Type::kInt, std::to_string(v)}; }
  static SqlParam Blob(std::span<const uint8_t> v) {
    return {Type::kBlob, std::string(v.begin(), v.end())};
  }
  static SqlParam OptText(const std::optional<std::string>& v) { return {Type::kText, v}; }
  static SqlParam NullInt() { return {Type::kInt, std::nullopt}; }
  static SqlParam NullBlob() { return {Type::kBlob, std::nullopt}; }
};

// A result row: each column as text (integers in decimal) or raw bytes (blobs); nullopt is NULL.
using SqlValue = std::optional<std::string>;
using SqlRow = std::vector<SqlValue>;

// Times are stored as integer milliseconds since the Unix epoch (UTC).
int64_t ToEpochMs(SystemTime t);
SystemTime FromEpochMs(int64_t ms);

// Column lists, in the order the *FromRow functions expect.
extern const char kItemColumns[];
extern const char kRolloutColumns[];
extern const char kAuditColumns[];
extern const char kFailureColumns[];
extern const char kOffboardingColumns[];
extern const char kDeployedCaColumns[];
extern const char kNotificationColumns[];
inline constexpr int kItemColumnCount = 25;

// The parameters for one INSERT of `item` in kItemColumns order, with the given timestamps and
// cleared lease fields.
std::vector<SqlParam> ItemInsertParams(const WorkItem& item, int64_t now_ms);

// Decoders: DataLoss naming the table and column when a value cannot be decoded.
Result<WorkItem> ItemFromRow(const SqlRow& row);
Result<Rollout> RolloutFromRow(const SqlRow& row);
Result<AuditRecord> AuditFromRow(const SqlRow& row);
Result<ItemFailure> FailureFromRow(const SqlRow& row);
Result<Offboarding> OffboardingFromRow(const SqlRow& row);
Result<DeployedCa> DeployedCaFromRow(const SqlRow& row);
Result<Notification> NotificationFromRow(const SqlRow& row);

// Thumbprint lists are stored as one space-separated text column.
std::string JoinWords(const std::vector<std::string>& words);
std::vector<std::string> SplitWords(std::string_view text);
Result<int64_t> IntFromValue(const SqlValue& value, std::string_view what);

// rollouts.wave_times: one "<started>/<finished>" word per wave, each epoch milliseconds or "-"
// when unset, e.g. "1700000000000/1700000360000 1700007560000/-". DataLoss when malformed.
std::string EncodeWaveTimes(const std::vector<WaveTimes>& times);
Result<std::vector<WaveTimes>> DecodeWaveTimes(std::string_view text);

// Decodes every row with `decode`; the first error wins.
template <typename T>
Result<std::vector<T>> DecodeAll(const std::vector<SqlRow>& rows,
                                 Result<T> (*decode)(const SqlRow&)) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (const SqlRow& row : rows) {
    Result<T> value = decode(row);
    if (!value.ok()) return value.status();
    out.push_back(std::move(*value));
  }
  return out;
}

// "$n", and "$first, $first+1, ..." for `count` parameters: both engines' parameter syntax.
inline std::string Placeholder(size_t n) { return "$" + std::to_string(n); }
inline std::string Placeholders(size_t first, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += (i ? ", " : "") + Placeholder(first + i);
  return out;
}

// Appends " AND <column> = $n" for each set field of `filter`, pushing the values on `params`.
std::string FilterSql(const ItemFilter& filter, std::vector<SqlParam>& params);

// One parameter as a span, and a duration in whole milliseconds.
inline std::span<const SqlParam> One(const SqlParam& p) { return std::span<const SqlParam>(&p, 1); }
inline int64_t Ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace certdeploy::store::internal
