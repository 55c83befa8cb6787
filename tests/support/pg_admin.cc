#include "tests/support/pg_admin.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "base/status_macros.h"
// The tests reach the cluster through the store's own libpq wrapper rather than a second one.
#include "store/internal/pq.h"

namespace certdeploy::testing {

std::string PostgresTestUrl() {
  const char* base = std::getenv("CERTDEPLOY_TEST_PG_URL");
  return base == nullptr ? "" : std::string(base);
}

std::string FreshPostgresDatabase(const std::string& name) {
  const std::string base = PostgresTestUrl();
  if (base.empty()) return "";
  Result<std::unique_ptr<store::internal::pq::Connection>> admin =
      store::internal::pq::Connection::Open(base);
  if (!admin.ok()) {
    ADD_FAILURE() << admin.status();
    return "";
  }
  const std::string db = name + "_" + std::to_string(getpid());
  EXPECT_TRUE((*admin)->Execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)").ok());
  EXPECT_TRUE((*admin)->Execute("CREATE DATABASE " + db).ok());
  return base + (base.find('?') == std::string::npos ? "?" : "&") + "dbname=" + db;
}

Result<std::vector<std::vector<std::optional<std::string>>>> PostgresQuery(const std::string& url,
                                                                          const std::string& sql) {
  ASSIGN_OR_RETURN(std::unique_ptr<store::internal::pq::Connection> conn,
                   store::internal::pq::Connection::Open(url));
  return conn->Execute(sql);
}

}  // namespace certdeploy::testing
