// The JobStore suite: every StoreTest case runs on SQLite (a temporary folder) and on PostgreSQL
// (a fresh database per case on the cluster named by CERTDEPLOY_TEST_PG_URL, e.g. from
// scripts/pg_test_cluster.sh; skipped when that is unset). Time is a FakeClock throughout.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "base/status_macros.h"
#include "store/internal/postgres_job_store.h"
#include "store/internal/pq.h"
#include "store/internal/sqlite_job_store.h"
#include "store/job_store.h"
#include "tests/support/fake_clock.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/store/store_fixture.h"

namespace certdeploy::store {
namespace {

using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using internal::Migration;
using internal::SqlJobStore;
using internal::SqlRow;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

class StoreTest : public StoreFixture, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override { SetUpBackend(GetParam()); }
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

// ---- Migrations ----

// The newest schema version this binary knows.
int Latest() { return internal::SchemaMigrations(internal::Dialect::kSqlite).back().version; }

TEST_P(StoreTest, MigratesEmptyDatabaseAndReopensIdempotently) {
  const std::string applied_at = std::to_string(internal::ToEpochMs(clock_.Now()));
  {
    ASSERT_OK_AND_ASSIGN(auto store, Open());
    EXPECT_THAT(store->SchemaVersion(), IsOk());
    EXPECT_EQ(store->SchemaVersion().value_or(-1), Latest());
    EXPECT_EQ(Latest(), 3);
  }
  clock_.Advance(minutes(60));
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_OK_AND_ASSIGN(std::vector<SqlRow> rows,
                       store->ExecuteForTest("SELECT version, applied_at FROM schema_migrations ORDER BY version"));
  // Each applied once, at the first open.
  EXPECT_THAT(rows, ElementsAre(SqlRow{"1", applied_at}, SqlRow{"2", applied_at},
                                SqlRow{"3", applied_at}));
}

TEST_P(StoreTest, FailedMigrationLeavesPreviousVersionAndReopeningFinishesIt) {
  { ASSERT_OK_AND_ASSIGN(auto store, Open()); }
  const Migration broken{
      Latest() + 1,
      "test: broken",
      {"CREATE TABLE test_extra (x INTEGER)", "INSERT INTO no_such_table VALUES (1)"}};
  EXPECT_THAT(Open({broken}), StatusIs(StatusCode::kInternal,
                                         HasSubstr("schema migration " +
                                                   std::to_string(Latest() + 1))));
  {
    ASSERT_OK_AND_ASSIGN(auto store, Open());
    EXPECT_EQ(store->SchemaVersion().value_or(-1), Latest());
    // The CREATE TABLE that ran before the failure was rolled back with it.
    EXPECT_THAT(store->ExecuteForTest("SELECT COUNT(*) FROM test_extra"), Not(IsOk()));
  }
  const Migration fixed{
      Latest() + 1,
      "test: fixed",
      {"CREATE TABLE test_extra (x INTEGER)", "INSERT INTO test_extra VALUES (7)"}};
  {
    ASSERT_OK_AND_ASSIGN(auto store, Open({fixed}));
    EXPECT_EQ(store->SchemaVersion().value_or(-1), Latest() + 1);
    EXPECT_THAT(ValueOr(store->ExecuteForTest("SELECT x FROM test_extra")),
                ElementsAre(SqlRow{"7"}));
  }
  // A binary that knows only the built-in versions refuses the newer database.
  EXPECT_THAT(Open(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("newer")));
}

// ---- Items ----

TEST_P(StoreTest, CreatesAndGetsItems) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  WorkItem a = Enrollment("a");
  a.idempotency_key = "key-a";
  a.request_sha256 = std::string(64, 'd');
  WorkItem b = Enrollment("b");
  b.pfx_blob = std::vector<uint8_t>{};  // Empty, not null.
  WorkItem c = Enrollment("c");
  c.pfx_blob.reset();
  const WorkItem items[] = {a, b, c};
  ASSERT_THAT(store->CreateItems(items), IsOk());

  for (WorkItem expected : items) {
    expected.created_at = expected.updated_at = clock_.Now();
    EXPECT_THAT(store->GetItem(expected.id), IsOk());
    EXPECT_EQ(store->GetItem(expected.id).value_or(WorkItem{}), expected) << expected.id;
  }
  EXPECT_THAT(store->GetItem("nope"), StatusIs(StatusCode::kNotFound, HasSubstr("nope")));
}

TEST_P(StoreTest, CreateItemsValidatesAndIsAllOrNothing) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  EXPECT_THAT(store->CreateItems({{Enrollment("")}}), StatusIs(StatusCode::kInvalidArgument));
  WorkItem orphan = Enrollment("orphan");
  orphan.kind = ItemKind::kRollout;
  EXPECT_THAT(store->CreateItems({{orphan}}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store->CreateItems({{RolloutItem("x", "no-such-rollout", 1, 1)}}),
              StatusIs(StatusCode::kFailedPrecondition));

  const WorkItem batch[] = {Enrollment("a"), Enrollment("b"), Enrollment("a")};
  EXPECT_THAT(store->CreateItems(batch), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(store->GetItem("a"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store->GetItem("b"), StatusIs(StatusCode::kNotFound));
}

TEST_P(StoreTest, CreatesFiveThousandRolloutItemsInOneTransaction) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  std::vector<WorkItem> items;
  for (int i = 0; i < 5000; ++i) {
    items.push_back(RolloutItem("r1-" + std::to_string(i), "r1", 1 + i / 1000, i + 2));
  }
  ASSERT_THAT(store->CreateRollout(MakeRollout("r1"), items), IsOk());
  ASSERT_OK_AND_ASSIGN(ItemSummary summary, store->SummarizeItems({.rollout_id = "r1"}, 0));
  EXPECT_EQ(summary.queued, 5000);
  EXPECT_EQ(summary.total(), 5000);

  // A collision in the very last row undoes the rollout and the 4 999 rows before it.
  for (WorkItem& item : items) {
    item.id = "r2-" + item.id;
    item.rollout_id = "r2";
  }
  items.back().id = items.front().id;
  EXPECT_THAT(store->CreateRollout(MakeRollout("r2"), items), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(store->GetRollout("r2"), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(store->SummarizeItems({}, 0).value_or(ItemSummary{}).total(), 5000);
}

TEST_P(StoreTest, IdempotencyKeyIsUnique) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  WorkItem first = Enrollment("first");
  first.idempotency_key = "key-1";
  first.request_sha256 = std::string(64, 'e');
  ASSERT_THAT(store->CreateItems({{first}}), IsOk());
  WorkItem second = Enrollment("second");
  second.idempotency_key = "key-1";
  EXPECT_THAT(store->CreateItems({{second}}), StatusIs(StatusCode::kAlreadyExists));

  ASSERT_OK_AND_ASSIGN(WorkItem found, store->FindByIdempotencyKey("key-1"));
  EXPECT_EQ(found.id, "first");
  EXPECT_EQ(found.request_sha256, std::string(64, 'e'));
  EXPECT_THAT(store->FindByIdempotencyKey("key-2"), StatusIs(StatusCode::kNotFound));
}

// ---- Claims and leases ----

TEST_P(StoreTest, ConcurrentClaimersNeverShareAnItem) {
  constexpr int kItems = 200;
  constexpr int kWorkers = 4;
  std::vector<std::unique_ptr<SqlJobStore>> stores;
  for (int w = 0; w < kWorkers; ++w) {
    ASSERT_OK_AND_ASSIGN(auto store, OpenPeer());
    stores.push_back(std::move(store));
  }
  std::vector<WorkItem> items;
  for (int i = 0; i < kItems; ++i) items.push_back(Enrollment("item-" + std::to_string(i)));
  ASSERT_THAT(stores[0]->CreateItems(items), IsOk());

  std::vector<std::vector<std::string>> claimed(kWorkers);
  std::vector<Status> errors(kWorkers);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      const ClaimRequest request{.owner = "worker-" + std::to_string(w), .limit = 3};
      for (;;) {
        Result<std::vector<WorkItem>> got = stores[w]->ClaimNext(request);
        if (!got.ok()) {
          errors[w] = got.status();
          return;
        }
        if (got->empty()) return;
        for (const WorkItem& item : *got) claimed[w].push_back(item.id);
      }
    });
  }
  for (std::thread& t : threads) t.join();

  std::multiset<std::string> all;
  for (int w = 0; w < kWorkers; ++w) {
    EXPECT_THAT(errors[w], IsOk()) << "worker " << w;
    all.insert(claimed[w].begin(), claimed[w].end());
    for (const std::string& id : claimed[w]) {
      EXPECT_EQ(stores[0]->GetItem(id)->lease_owner, "worker-" + std::to_string(w)) << id;
    }
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kItems));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), static_cast<size_t>(kItems));
}

TEST_P(StoreTest, ExpiredLeaseIsReclaimableAndFencesTheOldOwner) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_THAT(store->CreateItems({{Enrollment("a")}}), IsOk());
  ASSERT_OK_AND_ASSIGN(auto first, store->ClaimNext({.owner = "alpha", .lease = minutes(5)}));
  ASSERT_THAT(first, SizeIs(1));
  EXPECT_EQ(first[0].status, ItemStatus::kRunning);
  EXPECT_EQ(first[0].attempts, 1);
  EXPECT_EQ(first[0].lease_expires_at, clock_.Now() + minutes(5));

  const ClaimRequest beta{.owner = "beta", .lease = minutes(5)};
  EXPECT_THAT(Ids(ValueOr(store->ClaimNext(beta))), IsEmpty());
  clock_.Advance(minutes(4));
  // Renewing the lease at 4 min moves its end to 9 min.
  ASSERT_THAT(store->Checkpoint({.id = "a", .owner = "alpha", .step = "sealed"}), IsOk());
  clock_.Advance(minutes(4));
  EXPECT_THAT(Ids(ValueOr(store->ClaimNext(beta))), IsEmpty());
  clock_.Advance(minutes(1));
  ASSERT_OK_AND_ASSIGN(auto second, store->ClaimNext(beta));
  ASSERT_THAT(second, SizeIs(1));
  EXPECT_EQ(second[0].lease_owner, "beta");
  EXPECT_EQ(second[0].attempts, 2);
  EXPECT_EQ(second[0].step, "sealed");  // The checkpoint survives the change of hands.

  EXPECT_THAT(store->Checkpoint({.id = "a", .owner = "alpha", .status = ItemStatus::kSucceeded}),
              StatusIs(StatusCode::kAborted, HasSubstr("leased to beta")));
  EXPECT_THAT(store->Checkpoint({.id = "a", .owner = "beta", .status = ItemStatus::kSucceeded}),
              IsOk());
}

TEST_P(StoreTest, HandBackLeasesQueuesAnOwnersItemsAtOnceAndFencesIt) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_THAT(store->CreateItems({{Enrollment("a"), Enrollment("b"), Enrollment("c")}}), IsOk());
  ASSERT_OK_AND_ASSIGN(auto mine,
                       store->ClaimNext({.owner = "alpha", .lease = minutes(5), .limit = 2}));
  ASSERT_THAT(mine, SizeIs(2));
  ASSERT_OK_AND_ASSIGN(auto theirs, store->ClaimNext({.owner = "beta", .lease = minutes(5)}));
  ASSERT_THAT(theirs, SizeIs(1));

  ASSERT_OK_AND_ASSIGN(int handed, store->HandBackLeases("alpha", "shutdown deadline passed"));
  EXPECT_EQ(handed, 2);
  for (const WorkItem& item : mine) {
    ASSERT_OK_AND_ASSIGN(WorkItem now, store->GetItem(item.id));
    EXPECT_EQ(now.status, ItemStatus::kQueued);
    EXPECT_EQ(now.lease_owner, "");
    EXPECT_EQ(now.error_code, "handed-back");
    EXPECT_EQ(now.error_message, "shutdown deadline passed");
    // The old owner's late write is refused.
    EXPECT_THAT(store->Checkpoint({.id = item.id, .owner = "alpha",
                                   .status = ItemStatus::kSucceeded}),
                StatusIs(StatusCode::kAborted));
  }
  ASSERT_OK_AND_ASSIGN(WorkItem other, store->GetItem(theirs[0].id));
  EXPECT_EQ(other.status, ItemStatus::kRunning) << "another owner's lease is untouched";
  // Claimable again at once, without waiting for the lease.
  ASSERT_OK_AND_ASSIGN(auto again, store->ClaimNext({.owner = "gamma", .lease = minutes(5),
                                                     .limit = 5}));
  EXPECT_THAT(again, SizeIs(2));
  EXPECT_THAT(store->HandBackLeases("", "x"), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StoreTest, ClaimNextHonoursFilterAndOrder) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_THAT(store->CreateItems({{Enrollment("e1")}}), IsOk());
  clock_.Advance(seconds(1));
  const WorkItem items[] = {RolloutItem("w2-l1", "r", 2, 1), RolloutItem("w1-l3", "r", 1, 3),
                            RolloutItem("w1-l2", "r", 1, 2)};
  ASSERT_THAT(store->CreateRollout(MakeRollout("r"), items), IsOk());

  ClaimRequest request{.owner = "me", .filter = {.rollout_id = "r", .wave = 1}, .limit = 10};
  EXPECT_THAT(Ids(ValueOr(store->ClaimNext(request))), ElementsAre("w1-l2", "w1-l3"));
  request.filter = {.kind = ItemKind::kEnrollment};
  EXPECT_THAT(Ids(ValueOr(store->ClaimNext(request))), ElementsAre("e1"));
  request.filter = {};
  EXPECT_THAT(Ids(ValueOr(store->ClaimNext(request))), ElementsAre("w2-l1"));
  EXPECT_THAT(store->ClaimNext({.owner = ""}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store->ClaimNext({.owner = "me", .limit = 0}),
              StatusIs(StatusCode::kInvalidArgument));
}

// ---- Checkpoints ----

TEST_P(StoreTest, CheckpointIsDurableAcrossReopen) {
  {
    ASSERT_OK_AND_ASSIGN(auto store, Open());
    ASSERT_THAT(store->CreateItems({{Enrollment("a")}}), IsOk());
    ASSERT_THAT(store->ClaimNext({.owner = "alpha"}), IsOk());
    clock_.Advance(seconds(3));
    ASSERT_THAT(store->Checkpoint({.id = "a",
                                   .owner = "alpha",
                                   .step = "create-sent",
                                   .request_id = "req-1",
                                   .lease = minutes(2)}),
                IsOk());
  }
  {
    ASSERT_OK_AND_ASSIGN(auto store, Open());
    ASSERT_OK_AND_ASSIGN(WorkItem item, store->GetItem("a"));
    EXPECT_EQ(item.status, ItemStatus::kRunning);
    EXPECT_EQ(item.step, "create-sent");
    EXPECT_EQ(item.request_id, "req-1");
    EXPECT_EQ(item.lease_owner, "alpha");
    EXPECT_EQ(item.lease_expires_at, clock_.Now() + minutes(2));
    EXPECT_EQ(item.updated_at, clock_.Now());
    ASSERT_THAT(store->Checkpoint({.id = "a",
                                   .owner = "alpha",
                                   .status = ItemStatus::kSucceeded,
                                   .step = "verified",
                                   .request_id = "req-2",
                                   .release_pfx = true}),
                IsOk());
  }
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_OK_AND_ASSIGN(WorkItem item, store->GetItem("a"));
  EXPECT_EQ(item.status, ItemStatus::kSucceeded);
  EXPECT_EQ(item.step, "verified");
  EXPECT_EQ(item.request_id, "req-2");
  EXPECT_EQ(item.pfx_blob, std::nullopt);
  EXPECT_EQ(item.lease_owner, "");
  EXPECT_EQ(item.lease_expires_at, std::nullopt);
  EXPECT_EQ(item.sealed_password, Enrollment("a").sealed_password);
}

TEST_P(StoreTest, ReleasePfxNullsTheBlobOnlyWhenAsked) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_THAT(store->CreateItems({{Enrollment("keep"), Enrollment("drop")}}), IsOk());
  ASSERT_THAT(store->ClaimNext({.owner = "me", .limit = 2}), IsOk());
  ASSERT_THAT(store->Checkpoint({.id = "keep", .owner = "me", .status = ItemStatus::kSucceeded}),
              IsOk());
  ASSERT_THAT(
      store->Checkpoint(
          {.id = "drop", .owner = "me", .status = ItemStatus::kSucceeded, .release_pfx = true}),
      IsOk());
  EXPECT_EQ(store->GetItem("keep")->pfx_blob, Enrollment("keep").pfx_blob);
  EXPECT_EQ(store->GetItem("drop")->pfx_blob, std::nullopt);
}

// An outcome and its audit record are one transaction: a refused checkpoint appends nothing.
TEST_P(StoreTest, CheckpointAppendsItsAuditRecordAtomically) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_THAT(store->CreateItems({{Enrollment("one")}}), IsOk());
  ASSERT_THAT(store->ClaimNext({.owner = "me"}), IsOk());
  AuditRecord audit{.action = "import", .user_principal_name = "one@contoso.example",
                    .outcome = "succeeded"};
  EXPECT_THAT(store->Checkpoint({.id = "one", .owner = "thief", .status = ItemStatus::kSucceeded,
                                 .audit = audit}),
              StatusIs(StatusCode::kAborted));
  ASSERT_OK_AND_ASSIGN(std::vector<AuditRecord> none, store->ListAudit(10));
  EXPECT_TRUE(none.empty());
  ASSERT_THAT(store->Checkpoint({.id = "one", .owner = "me", .status = ItemStatus::kSucceeded,
                                 .audit = audit}),
              IsOk());
  ASSERT_OK_AND_ASSIGN(std::vector<AuditRecord> one, store->ListAudit(10));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].outcome, "succeeded");
  EXPECT_EQ(one[0].at, clock_.Now());
}

// SQLite: a released blob is overwritten in the database file (secure_delete) and, within the
// truncation interval, gone from the write-ahead log too, while the store stays open.
TEST_P(StoreTest, ReleasedPfxBytesLeaveTheSqliteFiles) {
  if (postgres()) GTEST_SKIP() << "SQLite files only";
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  const std::string probe = "released-pfx-probe-";
  WorkItem item = Enrollment("drop");
  item.pfx_blob.emplace();
  for (int i = 0; i < 200; ++i) item.pfx_blob->insert(item.pfx_blob->end(), probe.begin(), probe.end());
  ASSERT_THAT(store->CreateItems({{item}}), IsOk());
  ASSERT_THAT(store->ClaimNext({.owner = "me"}), IsOk());
  auto files_hold_probe = [&] {
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream in(path_ + suffix, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (bytes.find(probe) != std::string::npos) return true;
    }
    return false;
  };
  ASSERT_TRUE(files_hold_probe()) << "the probe is where a queued item's bytes belong";
  ASSERT_THAT(
      store->Checkpoint(
          {.id = "drop", .owner = "me", .status = ItemStatus::kSucceeded, .release_pfx = true}),
      IsOk());
  clock_.Advance(seconds(1));
  ASSERT_THAT(store->ClaimNext({.owner = "me"}), IsOk());  // The dispatcher's next poll.
  EXPECT_FALSE(files_hold_probe());
}

TEST_P(StoreTest, CheckpointRules) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_THAT(store->CreateItems({{Enrollment("queued"), Enrollment("leased")}}), IsOk());
  // Claims go oldest first, then by id: "leased" < "queued".
  ASSERT_THAT(store->ClaimNext({.owner = "alpha"}), IsOk());
  ASSERT_EQ(store->GetItem("leased")->lease_owner, "alpha");

  // A queued item is changed without an owner, e.g. cancelled before it ran.
  EXPECT_THAT(store->Checkpoint({.id = "queued", .status = ItemStatus::kCancelled}), IsOk());
  EXPECT_EQ(store->GetItem("queued")->status, ItemStatus::kCancelled);
  EXPECT_THAT(store->Checkpoint({.id = "queued", .status = ItemStatus::kFailed}),
              StatusIs(StatusCode::kAborted, HasSubstr("cancelled")));
  // A leased item only by its owner.
  EXPECT_THAT(store->Checkpoint({.id = "leased", .owner = "beta", .status = ItemStatus::kFailed}),
              StatusIs(StatusCode::kAborted));
  EXPECT_THAT(store->Checkpoint({.id = "leased", .status = ItemStatus::kFailed}),
              StatusIs(StatusCode::kAborted));
  EXPECT_THAT(store->Checkpoint({.id = "leased", .status = ItemStatus::kRunning}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store->Checkpoint({.id = "leased", .owner = "alpha", .lease = Duration::zero()}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store->Checkpoint({.id = "nope", .owner = "alpha"}), StatusIs(StatusCode::kNotFound));
  // Handing an item back makes it claimable at once.
  ASSERT_THAT(
      store->Checkpoint(
          {.id = "leased", .owner = "alpha", .status = ItemStatus::kQueued, .step = "sealed"}),
      IsOk());
  ASSERT_OK_AND_ASSIGN(auto again, store->ClaimNext({.owner = "beta"}));
  ASSERT_THAT(Ids(again), ElementsAre("leased"));
  EXPECT_EQ(again[0].attempts, 2);
}

TEST_P(StoreTest, SummarizesCountsAndFailures) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  std::vector<WorkItem> items;
  for (int line = 1; line <= 5; ++line) {
    items.push_back(RolloutItem("l" + std::to_string(line), "r", line <= 3 ? 1 : 2, line));
  }
  ASSERT_THAT(store->CreateRollout(MakeRollout("r"), items), IsOk());
  ASSERT_THAT(store->CreateItems({{Enrollment("e")}}), IsOk());
  ASSERT_THAT(store->ClaimNext({.owner = "me", .filter = {.wave = 1}, .limit = 3}), IsOk());
  ASSERT_THAT(store->Checkpoint({.id = "l1", .owner = "me", .status = ItemStatus::kSucceeded}),
              IsOk());
  for (const char* id : {"l3", "l2"}) {
    ASSERT_THAT(store->Checkpoint({.id = id,
                                   .owner = "me",
                                   .status = ItemStatus::kFailed,
                                   .error_code = "BadRequest",
                                   .error_message = "bad",
                                   .request_id = std::string("req-") + id}),
                IsOk());
  }

  ASSERT_OK_AND_ASSIGN(ItemSummary summary, store->SummarizeItems({.rollout_id = "r"}, 10));
  EXPECT_EQ(summary.queued, 2);
  EXPECT_EQ(summary.running, 0);
  EXPECT_EQ(summary.succeeded, 1);
  EXPECT_EQ(summary.failed, 2);
  ASSERT_THAT(summary.failures, SizeIs(2));
  EXPECT_EQ(summary.failures[0],
            (ItemFailure{"l2", 1, 2, "l2@contoso.example", std::string(40, 'a'), "BadRequest",
                         "bad", "req-l2", 1}));
  EXPECT_EQ(summary.failures[1].id, "l3");
  EXPECT_THAT(ValueOr(store->SummarizeItems({.rollout_id = "r"}, 1)).failures, SizeIs(1));
  EXPECT_EQ(ValueOr(store->SummarizeItems({.rollout_id = "r", .wave = 2}, 0)).queued, 2);
  EXPECT_EQ(ValueOr(store->SummarizeItems({.kind = ItemKind::kEnrollment}, 0)).total(), 1);
}

// ---- Rollouts ----

TEST_P(StoreTest, RolloutStatusIsCompareAndSet) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_THAT(store->CreateRollout(MakeRollout("r1"), {}), IsOk());
  EXPECT_THAT(store->CreateRollout(MakeRollout("r1"), {}), StatusIs(StatusCode::kAlreadyExists));
  const SystemTime started = clock_.Now();
  clock_.Advance(seconds(1));

  ASSERT_OK_AND_ASSIGN(Rollout running,
                       store->UpdateRollout("r1", {.expected_status = RolloutStatus::kScheduled,
                                                   .status = RolloutStatus::kRunning,
                                                   .wave = {{1, started, std::nullopt}}}));
  EXPECT_EQ(running.status, RolloutStatus::kRunning);
  EXPECT_EQ(running.current_wave, 1);
  EXPECT_EQ(running.wave_started_at, started);
  EXPECT_EQ(running.updated_at, clock_.Now());
  EXPECT_THAT(store->UpdateRollout("r1", {.expected_status = RolloutStatus::kScheduled,
                                          .status = RolloutStatus::kCancelled}),
              StatusIs(StatusCode::kAborted, HasSubstr("running")));
  ASSERT_OK_AND_ASSIGN(Rollout paused,
                       store->UpdateRollout("r1", {.expected_status = RolloutStatus::kRunning,
                                                   .status = RolloutStatus::kPaused}));
  EXPECT_EQ(paused.current_wave, 1);  // Untouched without a wave update.
  EXPECT_EQ(paused.wave_started_at, started);
  EXPECT_EQ(store->GetRollout("r1").value_or(Rollout{}), paused);
  EXPECT_THAT(store->UpdateRollout("nope", {}), StatusIs(StatusCode::kNotFound));

  clock_.Advance(seconds(1));
  ASSERT_THAT(store->CreateRollout(MakeRollout("r2"), {}), IsOk());
  const RolloutStatus active[] = {RolloutStatus::kScheduled, RolloutStatus::kRunning};
  auto ids = [](const std::vector<Rollout>& rollouts) {
    std::vector<std::string> out;
    for (const Rollout& r : rollouts) out.push_back(r.id);
    return out;
  };
  EXPECT_THAT(ids(ValueOr(store->ListRollouts(active, 10))), ElementsAre("r2"));
  EXPECT_THAT(ids(ValueOr(store->ListRollouts({}, 10))), ElementsAre("r1", "r2"));
  EXPECT_THAT(ids(ValueOr(store->ListRollouts({}, 1))), ElementsAre("r1"));
}

TEST_P(StoreTest, ConcurrentRolloutTransitionsHaveOneWinner) {
  std::vector<std::unique_ptr<SqlJobStore>> stores;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto store, OpenPeer());
    stores.push_back(std::move(store));
  }
  Rollout rollout = MakeRollout("r");
  rollout.status = RolloutStatus::kRunning;
  ASSERT_THAT(stores[0]->CreateRollout(rollout, {}), IsOk());
  const RolloutStatus targets[] = {RolloutStatus::kPaused, RolloutStatus::kCancelled,
                                   RolloutStatus::kFailed};
  std::vector<Result<Rollout>> results(3, Result<Rollout>(InternalError("not run")));
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      results[i] = stores[i]->UpdateRollout(
          "r", {.expected_status = RolloutStatus::kRunning, .status = targets[i]});
    });
  }
  for (std::thread& t : threads) t.join();
  int winners = 0;
  for (int i = 0; i < 3; ++i) {
    if (results[i].ok()) {
      ++winners;
      EXPECT_EQ(stores[0]->GetRollout("r")->status, targets[i]);
    } else {
      EXPECT_THAT(results[i], StatusIs(StatusCode::kAborted));
    }
  }
  EXPECT_EQ(winners, 1);
}

// ---- Audit ----

TEST_P(StoreTest, AuditIsAppendOnlyAndListsNewestFirst) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  std::vector<int64_t> ids;
  for (const char* action : {"enroll", "import", "rollout.pause"}) {
    ASSERT_OK_AND_ASSIGN(int64_t id, store->AppendAudit({.api_key_name = "hr",
                                                         .action = action,
                                                         .user_principal_name = "a@contoso",
                                                         .thumbprint = "ab12",
                                                         .outcome = "succeeded",
                                                         .request_ids = "req-1 req-2"}));
    ids.push_back(id);
    clock_.Advance(seconds(1));
  }
  EXPECT_LT(ids[0], ids[1]);
  EXPECT_LT(ids[1], ids[2]);
  ASSERT_OK_AND_ASSIGN(auto records, store->ListAudit(2));
  ASSERT_THAT(records, SizeIs(2));
  EXPECT_EQ(records[0].action, "rollout.pause");
  EXPECT_EQ(records[0].id, ids[2]);
  EXPECT_EQ(records[0].at, clock_.Now() - seconds(1));
  EXPECT_EQ(records[0].request_ids, "req-1 req-2");
  EXPECT_EQ(records[1].action, "import");

  EXPECT_THAT(store->ExecuteForTest("UPDATE audit_log SET outcome = 'forged'"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("append-only")));
  EXPECT_THAT(store->ExecuteForTest("DELETE FROM audit_log"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("append-only")));
  EXPECT_THAT(ValueOr(store->ListAudit(10)), SizeIs(3));
}

// ---- Dispatcher election ----

TEST_P(StoreTest, OneStoreBecomesDispatcherAndCanStepDown) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  EXPECT_FALSE(store->StillDispatcher());
  EXPECT_THAT(store->TryBecomeDispatcher("replica-a"), IsOk());
  EXPECT_TRUE(store->TryBecomeDispatcher("replica-a").value_or(false));  // Idempotent.
  EXPECT_TRUE(store->StillDispatcher());
  EXPECT_THAT(store->ReleaseDispatcher(), IsOk());
  EXPECT_FALSE(store->StillDispatcher());
}

class PostgresStoreTest : public StoreFixture {
 protected:
  void SetUp() override { SetUpBackend(Backend::kPostgres); }
};

TEST_F(PostgresStoreTest, OnlyOneReplicaDispatchesAndClosingHandsOver) {
  ASSERT_OK_AND_ASSIGN(auto a, Open());
  ASSERT_OK_AND_ASSIGN(auto b, OpenPeer());
  EXPECT_TRUE(a->TryBecomeDispatcher("replica-a").value_or(false));
  EXPECT_FALSE(b->TryBecomeDispatcher("replica-b").value_or(true));
  EXPECT_FALSE(b->StillDispatcher());
  EXPECT_TRUE(a->StillDispatcher());
  a.reset();
  EXPECT_TRUE(b->TryBecomeDispatcher("replica-b").value_or(false));
}

TEST_F(PostgresStoreTest, DeadDispatcherSessionIsTakenOver) {
  ASSERT_OK_AND_ASSIGN(auto a, Open());
  ASSERT_OK_AND_ASSIGN(auto b, OpenPeer());
  ASSERT_TRUE(a->TryBecomeDispatcher("replica-a").value_or(false));
  // Kill the leader's session as a crash or network loss would; wait until it is gone.
  const internal::pq::Param params[] = {
      {internal::pq::Param::kText, db_name_},
      {internal::pq::Param::kText,
       std::string(internal::PostgresJobStore::kDispatcherApplicationName) + "replica-a"}};
  ASSERT_OK_AND_ASSIGN(auto killed, admin_->Execute("SELECT pg_terminate_backend(pid, 10000) "
                                                    "FROM pg_stat_activity WHERE datname = $1 "
                                                    "AND application_name = $2",
                                                    params));
  ASSERT_THAT(killed, ElementsAre(SqlRow{"t"}));
  EXPECT_TRUE(b->TryBecomeDispatcher("replica-b").value_or(false));
  EXPECT_FALSE(a->StillDispatcher());
  EXPECT_FALSE(a->TryBecomeDispatcher("replica-a").value_or(true));
  // The main connection is unaffected; API calls keep working on the old leader.
  EXPECT_THAT(a->ListAudit(1), IsOk());
}

// ---- SQLite only ----

class SqliteStoreTest : public StoreFixture {
 protected:
  void SetUp() override { SetUpBackend(Backend::kSqlite); }

  std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // The database and its WAL, as a disk thief would read them.
  std::string FileBytes() { return ReadAll(path_) + ReadAll(path_ + "-wal"); }
};

TEST_F(SqliteStoreTest, SecondOpenerIsRefused) {
  ASSERT_OK_AND_ASSIGN(auto first, OpenJobStore("sqlite:" + path_, clock_));
  EXPECT_THAT(OpenJobStore("sqlite:" + path_, clock_),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("another certdeploy serve holds " + path_)));
  first.reset();
  EXPECT_THAT(OpenJobStore("sqlite:" + path_, clock_), IsOk());
}

TEST_F(SqliteStoreTest, FileIsPrivate) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// A stand-in for pkcs::SealPassword: the stored value is derived from the password but does not
// contain it. The plaintext itself is never handed to the store.
std::string FakeSeal(std::string_view password) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (char c : password) {
    const unsigned v = static_cast<unsigned char>(c) ^ 0xa5u;
    out += kAlphabet[v >> 2];
    out += kAlphabet[(v & 3u) << 4 | 7u];
  }
  return out;
}

TEST_F(SqliteStoreTest, PlaintextPasswordNeverReachesTheFile) {
  const std::string password = "Pl41ntext-Passw0rd-Only-In-Memory";
  const std::string sealed = FakeSeal(password);
  ASSERT_EQ(sealed.find(password), std::string::npos);
  {
    ASSERT_OK_AND_ASSIGN(auto store, Open());
    WorkItem item = Enrollment("a");
    item.sealed_password = sealed;
    ASSERT_THAT(store->CreateItems({{item}}), IsOk());
    ASSERT_THAT(store->ClaimNext({.owner = "me"}), IsOk());
    ASSERT_THAT(store->Checkpoint({.id = "a",
                                   .owner = "me",
                                   .status = ItemStatus::kFailed,
                                   .error_code = "BadRequest",
                                   .error_message = "rejected"}),
                IsOk());
    ASSERT_THAT(store->AppendAudit({.action = "enroll", .outcome = "failed"}), IsOk());
    const std::string live = FileBytes();
    EXPECT_NE(live.find(sealed), std::string::npos);  // The search does see stored text.
    EXPECT_EQ(live.find(password), std::string::npos);
  }
  const std::string closed = FileBytes();
  EXPECT_NE(closed.find(sealed), std::string::npos);
  EXPECT_EQ(closed.find(password), std::string::npos);
}

TEST_F(SqliteStoreTest, ReleasedPfxBytesAreOverwritten) {
  const std::string marker = "PFX-BYTES-MARKER-0123456789";
  WorkItem item = Enrollment("a");
  std::string blob;
  while (blob.size() < 20000) blob += marker;  // Spills into overflow pages.
  item.pfx_blob = std::vector<uint8_t>(blob.begin(), blob.end());
  {
    ASSERT_OK_AND_ASSIGN(auto store, Open());
    ASSERT_THAT(store->CreateItems({{item}}), IsOk());
  }
  ASSERT_NE(FileBytes().find(marker), std::string::npos);
  {
    ASSERT_OK_AND_ASSIGN(auto store, Open());
    ASSERT_THAT(store->ClaimNext({.owner = "me"}), IsOk());
    ASSERT_THAT(
        store->Checkpoint(
            {.id = "a", .owner = "me", .status = ItemStatus::kSucceeded, .release_pfx = true}),
        IsOk());
  }
  // Closing checkpoints the WAL; secure_delete zeroed the freed pages.
  EXPECT_EQ(FileBytes().find(marker), std::string::npos);
}

// ---- OpenJobStore ----

TEST(OpenJobStoreTest, RefusesUnknownSchemesAndBadPaths) {
  ::certdeploy::testing::FakeClock clock;
  EXPECT_THAT(OpenJobStore("mysql://db/certdeploy", clock),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("mysql")));
  EXPECT_THAT(OpenJobStore("sqlite:", clock), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(OpenJobStore("sqlite:/nonexistent-dir/state.db", clock),
              StatusIs(StatusCode::kNotFound, HasSubstr("/nonexistent-dir/state.db")));
}

TEST(OpenJobStoreTest, UnreachablePostgresIsUnavailableAndHidesThePassword) {
  ::certdeploy::testing::FakeClock clock;
  Result<std::unique_ptr<JobStore>> store =
      OpenJobStore("postgresql://certdeploy:S3cret-Pw@/certdeploy?host=/nonexistent-dir", clock);
  EXPECT_THAT(store, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(std::string(store.status().message()), Not(HasSubstr("S3cret-Pw")));
}

}  // namespace
}  // namespace certdeploy::store
