// tests/support/temp_sqlite_store.h: a fresh SQLite job store in a folder of its own, removed
// with it, for tests of the store's users (scheduler, webhooks) on a FakeClock.
//
//   FakeClock clock_;
//   TempSqliteStore store_{clock_};   // after the clock: it must outlive the store
//   void SetUp() override { ASSERT_THAT(store_.status(), IsOk()); }
//   ... store_->CreateRollout(...), Scheduler scheduler(*store_, clock_) ...

#pragma once

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "store/job_store.h"

namespace certdeploy::testing {

class TempSqliteStore {
 public:
  explicit TempSqliteStore(Clock& clock)
      : dir_(std::filesystem::temp_directory_path() /
             ("cd_store_" + std::to_string(std::random_device{}()))) {
    std::filesystem::create_directories(dir_);
    Result<std::unique_ptr<store::JobStore>> store =
        store::OpenJobStore("sqlite:" + (dir_ / "s.db").string(), clock);
    if (store.ok()) {
      store_ = std::move(*store);
    } else {
      status_ = store.status();
    }
  }
  ~TempSqliteStore() {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TempSqliteStore(const TempSqliteStore&) = delete;
  TempSqliteStore& operator=(const TempSqliteStore&) = delete;

  // Whether the store opened; the accessors below require it.
  const Status& status() const { return status_; }
  store::JobStore& operator*() const { return *store_; }
  store::JobStore* operator->() const { return store_.get(); }

 private:
  std::filesystem::path dir_;
  Status status_;
  std::unique_ptr<store::JobStore> store_;
};

}  // namespace certdeploy::testing
