#include "store/internal/pq.h"

#include <libpq-fe.h>

#include "base/strings.h"

namespace certdeploy::store::internal::pq {
namespace {

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// libpq's messages end in a newline.
std::string ErrorText(const PGconn* conn) {
  return std::string(TrimAsciiWhitespace(PQerrorMessage(conn)));
}

// libpq's connection errors may quote parts of the connection string; make sure a password in
// it never reaches a Status.
std::string Redact(std::string message, const std::string& conninfo) {
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
  if (options == nullptr) return message;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) != "password" || o->val == nullptr || *o->val == '\0') {
      continue;
    }
    message = ReplaceAll(std::move(message), o->val, "***");
  }
  PQconninfoFree(options);
  return message;
}

// Maps an error onto a StatusCode by SQLSTATE class. Uses the primary message only: DETAIL may
// quote the offending row's values.
Status ErrorStatus(PGconn* conn, const PGresult* result) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message =
      "postgresql: " + (primary ? std::string(primary) : ErrorText(conn));
  if (state == nullptr || PQstatus(conn) != CONNECTION_OK) return UnavailableError(message);
  const std::string_view code(state);
  message += " [SQLSTATE " + std::string(code) + "]";
  if (code == "23505") return AlreadyExistsError(message);               // unique_violation
  if (code == "23503") return FailedPreconditionError(message);          // foreign_key_violation
  if (code.starts_with("23")) return InvalidArgumentError(message);      // other constraints
  if (code == "P0001") return FailedPreconditionError(message);          // RAISE in our triggers
  if (code == "40001" || code == "40P01") return AbortedError(message);  // serialization, deadlock
  if (code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") ||
      code == "55P03") {
    return UnavailableError(message);  // connection, resources, shutdown, lock not available
  }
  return InternalError(message);
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(
    const std::string& conninfo,
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  // Keywords before "dbname" are defaults the URI may override; those after it win.
  std::vector<const char*> keys = {"connect_timeout", "dbname"};
  std::vector<const char*> values = {"10", conninfo.c_str()};
  for (const auto& [key, value] : overrides) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return ResourceExhaustedError("postgresql: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = Redact(ErrorText(conn), conninfo);
    PQfinish(conn);
    return UnavailableError("connecting to PostgreSQL: " + message);
  }
  // Silence NOTICEs ("relation ... already exists, skipping"), which libpq prints to stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn, conninfo));
}

Connection::~Connection() { PQfinish(conn_); }

Result<std::vector<Row>> Connection::Execute(std::string_view sql, std::span<const Param> params) {
  std::vector<Oid> types;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  for (const Param& p : params) {
    types.push_back(p.type);
    values.push_back(p.value ? p.value->c_str() : nullptr);
    lengths.push_back(p.value ? static_cast<int>(p.value->size()) : 0);
    formats.push_back(p.type == Param::kBytea ? 1 : 0);  // bytea travels as raw bytes.
  }
  const std::string text(sql);
  ResultPtr result(PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), types.data(),
                                values.data(), lengths.data(), formats.data(),
                                /*resultFormat=*/0));
  const ExecStatusType state = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (state != PGRES_COMMAND_OK && state != PGRES_TUPLES_OK) {
    return ErrorStatus(conn_, result.get());
  }
  std::vector<Row> rows;
  const int row_count = PQntuples(result.get());
  const int column_count = PQnfields(result.get());
  rows.reserve(row_count);
  for (int r = 0; r < row_count; ++r) {
    Row row;
    row.reserve(column_count);
    for (int c = 0; c < column_count; ++c) {
      if (PQgetisnull(result.get(), r, c)) {
        row.emplace_back(std::nullopt);
      } else if (PQftype(result.get(), c) == Param::kBytea) {
        size_t size = 0;
        unsigned char* bytes = PQunescapeBytea(
            reinterpret_cast<const unsigned char*>(PQgetvalue(result.get(), r, c)), &size);
        if (bytes == nullptr) return ResourceExhaustedError("postgresql: out of memory");
        row.emplace_back(std::string(reinterpret_cast<const char*>(bytes), size));
        PQfreemem(bytes);
      } else {
        row.emplace_back(
            std::string(PQgetvalue(result.get(), r, c), PQgetlength(result.get(), r, c)));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

bool Connection::Healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

Status Connection::Reset() {
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    return UnavailableError("reconnecting to PostgreSQL: " +
                            Redact(ErrorText(conn_), conninfo_));
  }
  return OkStatus();
}

int Connection::BackendPid() const { return PQbackendPID(conn_); }

}  // namespace certdeploy::store::internal::pq
