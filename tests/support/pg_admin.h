// tests/support/pg_admin.h: the PostgreSQL test cluster (CERTDEPLOY_TEST_PG_URL, started by
// scripts/test.sh) as the end-to-end tests use it: throwaway databases and ad-hoc queries.

#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace certdeploy::testing {

// The base URL of the test cluster, or "" when CERTDEPLOY_TEST_PG_URL is unset (the caller
// skips).
std::string PostgresTestUrl();

// Drops and creates database `name`_<pid> on the test cluster and returns its URL; "" when the
// cluster is not configured. Adds a test failure if the cluster cannot be reached.
std::string FreshPostgresDatabase(const std::string& name);

// Runs `sql` (no parameters) on `url` and returns its rows, each cell nullopt for NULL.
Result<std::vector<std::vector<std::optional<std::string>>>> PostgresQuery(const std::string& url,
                                                                          const std::string& sql);

}  // namespace certdeploy::testing
