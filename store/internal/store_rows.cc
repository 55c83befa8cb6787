// Encoding and decoding of the job store's rows, shared by both backends (store_schema.h).

#include <charconv>
#include <utility>

#include "base/strings.h"
#include "store/internal/store_schema.h"

namespace certdeploy::store::internal {
namespace {

// Reads one row column by column, remembering the first decoding error.
class RowReader {
 public:
  RowReader(const SqlRow& row, std::string_view table, const char* columns)
      : row_(row), table_(table), columns_(columns) {}

  const SqlValue& Next() {
    static const SqlValue kNull;
    if (next_ >= row_.size()) {
      Fail("missing column");
      ++next_;
      return kNull;
    }
    return row_[next_++];
  }
  std::string Text() { return Next().value_or(""); }
  std::optional<std::string> OptText() { return Next(); }
  std::optional<int64_t> OptInt() {
    const SqlValue& v = Next();
    if (!v) return std::nullopt;
    int64_t out = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (ec != std::errc() || end != v->data() + v->size()) Fail("not an integer");
    return out;
  }
  int64_t Int() {
    std::optional<int64_t> v = OptInt();
    if (!v) Fail("unexpected NULL");
    return v.value_or(0);
  }
  SystemTime Time() { return FromEpochMs(Int()); }
  std::optional<SystemTime> OptTime() {
    std::optional<int64_t> v = OptInt();
    return v ? std::optional<SystemTime>(FromEpochMs(*v)) : std::nullopt;
  }
  std::optional<std::vector<uint8_t>> OptBlob() {
    const SqlValue& v = Next();
    if (!v) return std::nullopt;
    return std::vector<uint8_t>(v->begin(), v->end());
  }
  template <typename E>
  E Enum(std::optional<E> (*parse)(std::string_view)) {
    std::optional<E> e = parse(Text());
    if (!e) Fail("unknown value");
    return e.value_or(E{});
  }

  Status status() const { return status_; }

 private:
  void Fail(std::string_view why) {
    if (!status_.ok()) return;
    status_ = DataLossError("stored " + std::string(table_) + "." + ColumnName(next_ - 1) + ": " +
                            std::string(why));
  }
  std::string ColumnName(size_t index) const {
    std::string_view all(columns_);
    for (size_t i = 0; i < index; ++i) {
      size_t comma = all.find(',');
      if (comma == std::string_view::npos) return "#" + std::to_string(index);
      all.remove_prefix(comma + 1);
    }
    all.remove_prefix(std::min(all.find_first_not_of(' '), all.size()));
    return std::string(all.substr(0, all.find(',')));
  }

  const SqlRow& row_;
  std::string_view table_;
  const char* columns_;
  size_t next_ = 0;
  Status status_;
};

}  // namespace

std::string EncodeWaveTimes(const std::vector<WaveTimes>& times) {
  auto one = [](const std::optional<SystemTime>& t) {
    return t ? std::to_string(ToEpochMs(*t)) : std::string("-");
  };
  std::vector<std::string> words;
  for (const WaveTimes& w : times) words.push_back(one(w.started_at) + "/" + one(w.finished_at));
  return JoinWords(words);
}

Result<std::vector<WaveTimes>> DecodeWaveTimes(std::string_view text) {
  auto one = [](std::string_view part, std::optional<SystemTime>& out) {
    if (part == "-") return true;
    int64_t ms = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), ms);
    if (ec != std::errc() || end != part.data() + part.size()) return false;
    out = FromEpochMs(ms);
    return true;
  };
  std::vector<WaveTimes> out;
  for (const std::string& word : SplitWords(text)) {
    const size_t slash = word.find('/');
    WaveTimes w;
    if (slash == std::string::npos || !one(std::string_view(word).substr(0, slash), w.started_at) ||
        !one(std::string_view(word).substr(slash + 1), w.finished_at)) {
      return DataLossError("stored rollouts.wave_times: not a list of start/end times");
    }
    out.push_back(w);
  }
  return out;
}

std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    if (end > pos) out.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

int64_t ToEpochMs(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SystemTime FromEpochMs(int64_t ms) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::milliseconds(ms)));
}

std::vector<SqlParam> ItemInsertParams(const WorkItem& item, int64_t now_ms) {
  std::vector<SqlParam> p;
  p.reserve(kItemColumnCount);
  p.push_back(SqlParam::Text(item.id));
  p.push_back(SqlParam::Text(ItemKindName(item.kind)));
  p.push_back(SqlParam::OptText(item.rollout_id));
  p.push_back(SqlParam::Int(item.wave));
  p.push_back(SqlParam::Int(item.manifest_line));
  p.push_back(SqlParam::Text(item.user_principal_name));
  p.push_back(SqlParam::Text(item.intended_purpose));
  p.push_back(SqlParam::Text(item.thumbprint));
  p.push_back(SqlParam::Text(item.pfx_sha256));
  p.push_back(item.pfx_blob ? SqlParam::Blob(*item.pfx_blob) : SqlParam::NullBlob());
  p.push_back(SqlParam::Text(item.sealed_password));
  p.push_back(SqlParam::Text(item.padding_scheme));
  p.push_back(SqlParam::Text(item.connector_key_fingerprint));
  p.push_back(SqlParam::Text(ItemStatusName(item.status)));
  p.push_back(SqlParam::Text(item.step));
  p.push_back(SqlParam::Int(item.attempts));
  p.push_back(SqlParam::Text(item.error_code));
  p.push_back(SqlParam::Text(item.error_message));
  p.push_back(SqlParam::Text(item.request_id));
  p.push_back(SqlParam::OptText(item.idempotency_key));
  p.push_back(SqlParam::Text(item.request_sha256));
  p.push_back(SqlParam::Int(now_ms));  // created_at
  p.push_back(SqlParam::Int(now_ms));  // updated_at
  p.push_back(SqlParam::Text(""));     // lease_owner
  p.push_back(SqlParam::NullInt());    // lease_expires_at
  return p;
}

Result<WorkItem> ItemFromRow(const SqlRow& row) {
  RowReader r(row, "work_items", kItemColumns);
  WorkItem item;
  item.id = r.Text();
  item.kind = r.Enum(&ParseItemKind);
  item.rollout_id = r.OptText();
  item.wave = static_cast<int>(r.Int());
  item.manifest_line = static_cast<int>(r.Int());
  item.user_principal_name = r.Text();
  item.intended_purpose = r.Text();
  item.thumbprint = r.Text();
  item.pfx_sha256 = r.Text();
  item.pfx_blob = r.OptBlob();
  item.sealed_password = r.Text();
  item.padding_scheme = r.Text();
  item.connector_key_fingerprint = r.Text();
  item.status = r.Enum(&ParseItemStatus);
  item.step = r.Text();
  item.attempts = static_cast<int>(r.Int());
  item.error_code = r.Text();
  item.error_message = r.Text();
  item.request_id = r.Text();
  item.idempotency_key = r.OptText();
  item.request_sha256 = r.Text();
  item.created_at = r.Time();
  item.updated_at = r.Time();
  item.lease_owner = r.Text();
  item.lease_expires_at = r.OptTime();
  if (!r.status().ok()) return r.status();
  return item;
}

Result<Rollout> RolloutFromRow(const SqlRow& row) {
  RowReader r(row, "rollouts", kRolloutColumns);
  Rollout ro;
  ro.id = r.Text();
  ro.name = r.Text();
  ro.manifest_path = r.Text();
  ro.start_at = r.Time();
  ro.waves_json = r.Text();
  ro.halt_on_failure_percent = static_cast<int>(r.Int());
  ro.dry_run = r.Int() != 0;
  ro.status = r.Enum(&ParseRolloutStatus);
  ro.current_wave = static_cast<int>(r.Int());
  ro.wave_started_at = r.OptTime();
  ro.wave_finished_at = r.OptTime();
  ro.created_at = r.Time();
  ro.updated_at = r.Time();
  const std::string wave_times = r.Text();
  ro.idempotency_key = r.OptText();
  ro.request_sha256 = r.Text();
  if (!r.status().ok()) return r.status();
  Result<std::vector<WaveTimes>> times = DecodeWaveTimes(wave_times);
  if (!times.ok()) return times.status();
  ro.wave_times = std::move(*times);
  // The current wave's columns are authoritative (and all a version-2 row has).
  if (ro.current_wave >= 1) {
    ro.wave_times.resize(static_cast<size_t>(ro.current_wave));
    ro.wave_times.back() = {ro.wave_started_at, ro.wave_finished_at};
  } else {
    ro.wave_times.clear();
  }
  return ro;
}

Result<AuditRecord> AuditFromRow(const SqlRow& row) {
  RowReader r(row, "audit_log", kAuditColumns);
  AuditRecord a;
  a.id = r.Int();
  a.at = r.Time();
  a.api_key_name = r.Text();
  a.action = r.Text();
  a.user_principal_name = r.Text();
  a.thumbprint = r.Text();
  a.outcome = r.Text();
  a.request_ids = r.Text();
  a.detail = r.Text();
  if (!r.status().ok()) return r.status();
  return a;
}

Result<Offboarding> OffboardingFromRow(const SqlRow& row) {
  RowReader r(row, "offboardings", kOffboardingColumns);
  Offboarding o;
  o.id = r.Text();
  o.user_principal_name = r.Text();
  o.thumbprints = SplitWords(r.Text());
  o.status = r.Enum(&ParseOffboardingStatus);
  o.step = r.Text();
  o.attempts = static_cast<int>(r.Int());
  o.removed = SplitWords(r.Text());
  o.cancelled_items = static_cast<int>(r.Int());
  o.error_code = r.Text();
  o.error_message = r.Text();
  o.request_ids = r.Text();
  o.api_key_name = r.Text();
  o.idempotency_key = r.OptText();
  o.request_sha256 = r.Text();
  o.created_at = r.Time();
  o.updated_at = r.Time();
  o.lease_owner = r.Text();
  o.lease_expires_at = r.OptTime();
  if (!r.status().ok()) return r.status();
  return o;
}

Result<DeployedCa> DeployedCaFromRow(const SqlRow& row) {
  RowReader r(row, "deployed_cas", kDeployedCaColumns);
  DeployedCa ca;
  ca.thumbprint = r.Text();
  ca.der_base64 = r.Text();
  ca.root = r.Int() != 0;
  ca.self_signed = r.Int() != 0;
  ca.first_deployed_at = r.Time();
  if (!r.status().ok()) return r.status();
  return ca;
}

Result<Notification> NotificationFromRow(const SqlRow& row) {
  RowReader r(row, "notifications", kNotificationColumns);
  Notification n;
  n.id = r.Int();
  n.event = r.Text();
  n.dedupe_key = r.OptText();
  n.url = r.Text();
  n.secret_env = r.Text();
  n.body = r.Text();
  n.status = r.Enum(&ParseNotificationStatus);
  n.attempts = static_cast<int>(r.Int());
  n.next_attempt_at = r.Time();
  n.last_error = r.Text();
  n.created_at = r.Time();
  n.updated_at = r.Time();
  if (!r.status().ok()) return r.status();
  return n;
}

Result<ItemFailure> FailureFromRow(const SqlRow& row) {
  RowReader r(row, "work_items", kFailureColumns);
  ItemFailure f;
  f.id = r.Text();
  f.wave = static_cast<int>(r.Int());
  f.manifest_line = static_cast<int>(r.Int());
  f.user_principal_name = r.Text();
  f.thumbprint = r.Text();
  f.error_code = r.Text();
  f.error_message = r.Text();
  f.request_id = r.Text();
  f.attempts = static_cast<int>(r.Int());
  if (!r.status().ok()) return r.status();
  return f;
}

Result<int64_t> IntFromValue(const SqlValue& value, std::string_view what) {
  int64_t out = 0;
  if (!value) return DataLossError(std::string(what) + ": unexpected NULL");
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), out);
  if (ec != std::errc() || end != value->data() + value->size()) {
    return DataLossError(std::string(what) + ": not an integer");
  }
  return out;
}

// Appends " AND <column> = $n" for each set field of `filter`, pushing the values on `params`.
std::string FilterSql(const ItemFilter& filter, std::vector<SqlParam>& params) {
  std::string sql;
  auto add = [&](std::string_view column, SqlParam param) {
    params.push_back(std::move(param));
    sql += " AND " + std::string(column) + " = " + Placeholder(params.size());
  };
  if (filter.kind) add("kind", SqlParam::Text(ItemKindName(*filter.kind)));
  if (filter.rollout_id) add("rollout_id", SqlParam::Text(*filter.rollout_id));
  if (filter.wave) add("wave", SqlParam::Int(*filter.wave));
  if (filter.user_principal_name) {  // UPNs compare ignoring case, as Entra does.
    params.push_back(SqlParam::Text(*filter.user_principal_name));
    sql += " AND LOWER(user_principal_name) = LOWER(" + Placeholder(params.size()) + ")";
  }
  return sql;
}

}  // namespace certdeploy::store::internal
