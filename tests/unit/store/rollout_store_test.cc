// Rollout records on both backends (schema version 3): the times of every wave kept across
// transitions and reopening, invalid rows counted apart from failed deployments, and the
// rollouts' Idempotency-Key records.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/internal/store_schema.h"
#include "tests/unit/store/store_fixture.h"

namespace certdeploy::store {
namespace {

using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using std::chrono::minutes;
using ::testing::ElementsAre;

class RolloutStoreTest : public StoreFixture, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override { SetUpBackend(GetParam()); }
};

INSTANTIATE_TEST_SUITE_P(Backends, RolloutStoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

TEST_P(RolloutStoreTest, EveryWaveKeepsItsTimesAcrossPauseResumeAndReopen) {
  const SystemTime t0 = clock_.Now();
  const SystemTime t1 = t0 + minutes(10), t2 = t0 + minutes(70), t3 = t0 + minutes(90);
  {
    ASSERT_OK_AND_ASSIGN(auto store, Open());
    ASSERT_THAT(store->CreateRollout(MakeRollout("r"), {}), IsOk());
    EXPECT_TRUE(ValueOr(store->GetRollout("r")).wave_times.empty());
    using S = RolloutStatus;
    ASSERT_THAT(store->UpdateRollout("r", {.expected_status = S::kScheduled,
                                           .status = S::kRunning,
                                           .wave = {{1, t0, std::nullopt}}}),
                IsOk());
    ASSERT_THAT(store->UpdateRollout("r", {.expected_status = S::kRunning,
                                           .status = S::kPaused,
                                           .wave = {{1, t0, t1}}}),
                IsOk());
    // Pause and resume carry no wave update: the times stay.
    ASSERT_THAT(store->UpdateRollout("r", {.expected_status = S::kPaused, .status = S::kRunning}),
                IsOk());
    ASSERT_THAT(store->UpdateRollout("r", {.expected_status = S::kRunning,
                                           .status = S::kRunning,
                                           .wave = {{2, t2, std::nullopt}}}),
                IsOk());
    ASSERT_OK_AND_ASSIGN(Rollout r, store->UpdateRollout("r", {.expected_status = S::kRunning,
                                                               .status = S::kRunning,
                                                               .wave = {{2, t2, t3}}}));
    EXPECT_THAT(r.wave_times, ElementsAre(WaveTimes{t0, t1}, WaveTimes{t2, t3}));
  }
  ASSERT_OK_AND_ASSIGN(auto reopened, Open());
  ASSERT_OK_AND_ASSIGN(Rollout r, reopened->GetRollout("r"));
  EXPECT_EQ(r.current_wave, 2);
  EXPECT_THAT(r.wave_times, ElementsAre(WaveTimes{t0, t1}, WaveTimes{t2, t3}));
  EXPECT_THAT(ValueOr(reopened->ListRollouts({}, 10)).at(0).wave_times,
              ElementsAre(WaveTimes{t0, t1}, WaveTimes{t2, t3}));
}

TEST_P(RolloutStoreTest, ARolloutStoredBeforeVersion3ShowsItsCurrentWaveTimes) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  const SystemTime t0 = clock_.Now();
  ASSERT_THAT(store->CreateRollout(MakeRollout("old"), {}), IsOk());
  // As a version-2 row reads after the migration: wave 2 current, no history column.
  ASSERT_THAT(store->ExecuteForTest("UPDATE rollouts SET current_wave = 2, wave_started_at = " +
                                    std::to_string(internal::ToEpochMs(t0)) +
                                    ", wave_times = '' WHERE id = 'old'"),
              IsOk());
  ASSERT_OK_AND_ASSIGN(Rollout r, store->GetRollout("old"));
  EXPECT_THAT(r.wave_times, ElementsAre(WaveTimes{}, WaveTimes{t0, std::nullopt}));
  ASSERT_THAT(store->ExecuteForTest("UPDATE rollouts SET wave_times = 'x/y' WHERE id = 'old'"),
              IsOk());
  EXPECT_THAT(store->GetRollout("old"), StatusIs(StatusCode::kDataLoss));
}

TEST_P(RolloutStoreTest, InvalidRowsAreCountedApartFromFailedDeployments) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  std::vector<WorkItem> items = {RolloutItem("ok", "r", 1, 2), RolloutItem("bad", "r", 1, 3),
                                 RolloutItem("gone", "r", 2, 4)};
  items[1].status = ItemStatus::kFailed;
  items[1].step = std::string(kInvalidStep);
  items[1].error_code = "pfx-not-deployable";
  ASSERT_THAT(store->CreateRollout(MakeRollout("r"), items), IsOk());
  ASSERT_THAT(store->ClaimNext({.owner = "me", .filter = {.rollout_id = "r"}, .limit = 5}), IsOk());
  ASSERT_THAT(store->Checkpoint({.id = "ok", .owner = "me", .status = ItemStatus::kSucceeded}),
              IsOk());
  ASSERT_THAT(store->Checkpoint({.id = "gone",
                                 .owner = "me",
                                 .status = ItemStatus::kFailed,
                                 .step = "create-sent",
                                 .error_code = "BadRequest"}),
              IsOk());

  ASSERT_OK_AND_ASSIGN(ItemSummary all, store->SummarizeItems({.rollout_id = "r"}, 10));
  EXPECT_EQ(all.succeeded, 1);
  EXPECT_EQ(all.failed, 1);
  EXPECT_EQ(all.invalid, 1);
  EXPECT_EQ(all.total(), 3);
  ASSERT_EQ(all.failures.size(), 2u) << "the first failures list invalid rows too";
  EXPECT_EQ(all.failures[0].id, "bad");
  ASSERT_OK_AND_ASSIGN(ItemSummary wave1, store->SummarizeItems({.rollout_id = "r", .wave = 1}, 0));
  EXPECT_EQ(wave1.failed, 0);
  EXPECT_EQ(wave1.invalid, 1);
}

TEST_P(RolloutStoreTest, IdempotencyKeysAreUniqueAndFindTheirRollout) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  Rollout first = MakeRollout("r1");
  first.idempotency_key = "ops/key-1";
  first.request_sha256 = std::string(64, 'd');
  ASSERT_THAT(store->CreateRollout(first, {}), IsOk());
  ASSERT_THAT(store->CreateRollout(MakeRollout("r2"), {}), IsOk());  // No key: many may.
  ASSERT_THAT(store->CreateRollout(MakeRollout("r3"), {}), IsOk());
  Rollout again = MakeRollout("r4");
  again.idempotency_key = "ops/key-1";
  EXPECT_THAT(store->CreateRollout(again, {}), StatusIs(StatusCode::kAlreadyExists));

  ASSERT_OK_AND_ASSIGN(Rollout found, store->FindRolloutByIdempotencyKey("ops/key-1"));
  EXPECT_EQ(found.id, "r1");
  EXPECT_EQ(found.request_sha256, std::string(64, 'd'));
  EXPECT_THAT(store->FindRolloutByIdempotencyKey("ops/other"), StatusIs(StatusCode::kNotFound));
}

TEST(WaveTimesCodec, RoundTripsAndRefusesGarbage) {
  const SystemTime t(std::chrono::milliseconds(1767312000123));
  const std::vector<WaveTimes> times = {{t, t + minutes(1)}, {t + minutes(5), std::nullopt}, {}};
  const std::string text = internal::EncodeWaveTimes(times);
  EXPECT_EQ(text, "1767312000123/1767312060123 1767312300123/- -/-");
  EXPECT_EQ(internal::DecodeWaveTimes(text).value_or(std::vector<WaveTimes>{}), times);
  EXPECT_TRUE(internal::DecodeWaveTimes("").value_or(std::vector<WaveTimes>{{}}).empty());
  for (const char* bad : {"12", "1/2/3", "a/-", "-/1x"}) {
    EXPECT_THAT(internal::DecodeWaveTimes(bad), StatusIs(StatusCode::kDataLoss)) << bad;
  }
}

}  // namespace
}  // namespace certdeploy::store
