// OpenJobStore: picks the backend from the store URL's scheme.

#include <string>

#include "store/internal/postgres_job_store.h"
#include "store/internal/sqlite_job_store.h"
#include "store/job_store.h"

namespace certdeploy::store {

Result<std::unique_ptr<JobStore>> OpenJobStore(std::string_view url, Clock& clock,
                                               const StoreOptions& options) {
  if (url.starts_with("sqlite:")) {
    const std::string path(url.substr(std::string_view("sqlite:").size()));
    if (path.empty()) return InvalidArgumentError("store URL 'sqlite:' needs a file path");
    internal::SqliteJobStore::Options sqlite;
    sqlite.migration_delay = options.migration_delay;
    Result<std::unique_ptr<internal::SqliteJobStore>> store =
        internal::SqliteJobStore::Open(path, clock, std::move(sqlite));
    if (!store.ok()) return store.status();
    return std::unique_ptr<JobStore>(std::move(*store));
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    internal::PostgresJobStore::Options postgres;
    postgres.migration_delay = options.migration_delay;
    Result<std::unique_ptr<internal::PostgresJobStore>> store =
        internal::PostgresJobStore::Open(std::string(url), clock, std::move(postgres));
    if (!store.ok()) return store.status();
    return std::unique_ptr<JobStore>(std::move(*store));
  }
  // Only the scheme is echoed: the rest of a URL may carry a password.
  return InvalidArgumentError("unsupported store URL scheme '" +
                              std::string(url.substr(0, url.find(':'))) +
                              "' (use sqlite:PATH or postgresql://...)");
}

}  // namespace certdeploy::store
