// The JobStore test fixture shared by the store suites: a fresh SQLite file or PostgreSQL
// database per case (PostgreSQL skipped unless CERTDEPLOY_TEST_PG_URL is set), a FakeClock, and
// value builders.

#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/status_macros.h"
#include "store/internal/postgres_job_store.h"
#include "store/internal/pq.h"
#include "store/internal/sqlite_job_store.h"
#include "store/job_store.h"
#include "tests/support/fake_clock.h"
#include "tests/support/status_matchers.h"

namespace certdeploy::store {

#define ASSERT_OK_AND_ASSIGN(lhs, expr)                       \
  auto CERTDEPLOY_CONCAT_(result_, __LINE__) = (expr);        \
  ASSERT_THAT(CERTDEPLOY_CONCAT_(result_, __LINE__), ::certdeploy::testing::IsOk()); \
  lhs = std::move(CERTDEPLOY_CONCAT_(result_, __LINE__)).value()

enum class Backend { kSqlite, kPostgres };
inline void PrintTo(Backend backend, std::ostream* os) {
  *os << (backend == Backend::kSqlite ? "sqlite" : "postgres");
}

inline WorkItem Enrollment(const std::string& id) {
  WorkItem item;
  item.id = id;
  item.user_principal_name = id + "@contoso.example";
  item.intended_purpose = "smimeEncryption";
  item.thumbprint = std::string(40, 'a');
  item.pfx_sha256 = std::string(64, 'b');
  item.pfx_blob = std::vector<uint8_t>{0x30, 0x82, 0x00, 0xff, 0x00, 0x7f};  // NULs included.
  item.sealed_password = "c2VhbGVkLXBhc3N3b3Jk";
  item.padding_scheme = "oaepSha256";
  item.connector_key_fingerprint = std::string(64, 'c');
  return item;
}

inline WorkItem RolloutItem(const std::string& id, const std::string& rollout, int wave, int line) {
  WorkItem item = Enrollment(id);
  item.kind = ItemKind::kRollout;
  item.rollout_id = rollout;
  item.wave = wave;
  item.manifest_line = line;
  return item;
}

inline Rollout MakeRollout(const std::string& id) {
  Rollout r;
  r.id = id;
  r.name = "Saturday " + id;
  r.manifest_path = "inbox/" + id + ".csv";
  r.start_at = SystemTime(std::chrono::seconds(1767312000));
  r.waves_json = R"([{"percent":10},{"percent":100,"after":"PT2H"}])";
  return r;
}

// The value of `result`, or a default value after recording a test failure.
template <typename T>
T ValueOr(Result<T> result) {
  EXPECT_THAT(result, ::certdeploy::testing::IsOk());
  return result.ok() ? std::move(result).value() : T{};
}

inline std::vector<std::string> Ids(const std::vector<WorkItem>& items) {
  std::vector<std::string> ids;
  for (const WorkItem& item : items) ids.push_back(item.id);
  return ids;
}

template <typename T>
Result<std::unique_ptr<internal::SqlJobStore>> Upcast(Result<std::unique_ptr<T>> store) {
  if (!store.ok()) return store.status();
  return std::unique_ptr<internal::SqlJobStore>(std::move(store).value());
}

class StoreFixture : public ::testing::Test {
 protected:
  void SetUpBackend(Backend backend) {
    backend_ = backend;
    if (backend == Backend::kSqlite) {
      std::string tmpl = ::testing::TempDir() + "store_test.XXXXXX";
      ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      path_ = dir_ + "/state.db";
      return;
    }
    const char* url = std::getenv("CERTDEPLOY_TEST_PG_URL");
    if (url == nullptr || *url == '\0') {
      GTEST_SKIP() << "PostgreSQL cases need CERTDEPLOY_TEST_PG_URL "
                      "(run: export CERTDEPLOY_TEST_PG_URL=$(scripts/pg_test_cluster.sh start))";
    }
    ASSERT_OK_AND_ASSIGN(admin_, internal::pq::Connection::Open(url));
    static std::atomic<int> counter{0};
    db_name_ = "cdtest_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    ASSERT_THAT(admin_->Execute("DROP DATABASE IF EXISTS " + db_name_ + " WITH (FORCE)"), ::certdeploy::testing::IsOk());
    ASSERT_THAT(admin_->Execute("CREATE DATABASE " + db_name_), ::certdeploy::testing::IsOk());
    url_ = std::string(url) +
           (std::string_view(url).find('?') == std::string_view::npos ? "?" : "&") +
           "dbname=" + db_name_;
  }

  void TearDown() override {
    if (admin_) (void)admin_->Execute("DROP DATABASE IF EXISTS " + db_name_ + " WITH (FORCE)");
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  bool postgres() const { return backend_ == Backend::kPostgres; }

  // A handle as production opens it (SQLite: holding the process lock).
  Result<std::unique_ptr<internal::SqlJobStore>> Open(std::vector<internal::Migration> extra = {}) {
    if (postgres())
      return Upcast(internal::PostgresJobStore::Open(url_, clock_, {std::move(extra)}));
    return Upcast(internal::SqliteJobStore::Open(path_, clock_, {true, std::move(extra)}));
  }
  // Another handle that coexists with others on the same database, as another process would
  // (SQLite: without the process lock, so SQLite's own locking is what keeps them apart).
  Result<std::unique_ptr<internal::SqlJobStore>> OpenPeer() {
    if (postgres()) return Upcast(internal::PostgresJobStore::Open(url_, clock_));
    return Upcast(internal::SqliteJobStore::Open(path_, clock_, {false, {}}));
  }

  Backend backend_ = Backend::kSqlite;
  ::certdeploy::testing::FakeClock clock_;
  std::string dir_, path_;                           // SQLite.
  std::unique_ptr<internal::pq::Connection> admin_;  // PostgreSQL.
  std::string db_name_, url_;
};

}  // namespace certdeploy::store
