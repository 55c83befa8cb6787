// store/internal/pq.h: a thin RAII wrapper over libpq (PostgreSQL's C client).
//
// Only parameterized statements (PQexecParams): values never become SQL text. Results come back
// in text format, with bytea columns decoded to raw bytes. Errors map SQLSTATE classes onto
// StatusCode and carry PostgreSQL's primary message and constraint name only, never parameter
// values (its DETAIL field may quote them) nor the connection string (it may hold a password).
//
// A Connection is not thread-safe: callers serialize its use.

#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/status.h"

struct pg_conn;

namespace certdeploy::store::internal::pq {

// A statement parameter. The type is a PostgreSQL type OID so NULLs are typed too.
struct Param {
  static constexpr uint32_t kInt8 = 20;
  static constexpr uint32_t kText = 25;
  static constexpr uint32_t kBytea = 17;

  uint32_t type = kText;
  std::optional<std::string> value;  // Text form, or raw bytes for kBytea; nullopt is NULL.
};

using Value = std::optional<std::string>;  // A result cell; nullopt is NULL.
using Row = std::vector<Value>;

class Connection {
 public:
  // Connects to `conninfo` (a postgresql:// URI or "key=value ..." string). `overrides` are
  // extra connection keywords that take precedence over the URI (e.g. application_name).
  // Unavailable if the server cannot be reached or refuses the login.
  static Result<std::unique_ptr<Connection>> Open(
      const std::string& conninfo,
      const std::vector<std::pair<std::string, std::string>>& overrides = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with parameters $1..$n and returns its rows (empty for commands).
  Result<std::vector<Row>> Execute(std::string_view sql, std::span<const Param> params = {});

  // Whether the connection is up (as far as libpq knows without a round trip).
  bool Healthy() const;
  // Reconnects with the original parameters. Unavailable if that fails.
  Status Reset();
  // The server process id of this session (for pg_stat_activity / tests).
  int BackendPid() const;

 private:
  Connection(pg_conn* conn, std::string conninfo) : conn_(conn), conninfo_(std::move(conninfo)) {}
  pg_conn* conn_;
  std::string conninfo_;  // Only to redact its password from reconnection errors.
};

}  // namespace certdeploy::store::internal::pq
