// OpenJobStore: picks the backend from the store URL's scheme.

#include <string>

#include "service/internal/postgres_job_store.h"
#include "service/internal/sqlite_job_store.h"
#include "service/job_store.h"

namespace certdeploy::service {

Result<std::unique_ptr<JobStore>> OpenJobStore(std::string_view url, Clock& clock) {
  if (url.starts_with("sqlite:")) {
    const std::string path(url.substr(std::string_view("sqlite:").size()));
    if (path.empty()) return InvalidArgumentError("store URL 'sqlite:' needs a file path");
    Result<std::unique_ptr<internal::SqliteJobStore>> store =
        internal::SqliteJobStore::Open(path, clock);
    if (!store.ok()) return store.status();
    return std::unique_ptr<JobStore>(std::move(*store));
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    Result<std::unique_ptr<internal::PostgresJobStore>> store =
        internal::PostgresJobStore::Open(std::string(url), clock);
    if (!store.ok()) return store.status();
    return std::unique_ptr<JobStore>(std::move(*store));
  }
  // Only the scheme is echoed: the rest of a URL may carry a password.
  return InvalidArgumentError("unsupported store URL scheme '" +
                              std::string(url.substr(0, url.find(':'))) +
                              "' (use sqlite:PATH or postgresql://...)");
}

}  // namespace certdeploy::service
