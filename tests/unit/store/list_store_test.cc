// The operators' paged lists on both backends: ListItems, ListRolloutPage, ListAuditPage
// (order, filters, keyset paging, limits, no key material in list rows).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/store/store_fixture.h"

namespace certdeploy::store {
namespace {

using ::certdeploy::testing::StatusIs;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class ListStoreTest : public StoreFixture, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override { SetUpBackend(GetParam()); }
};

INSTANTIATE_TEST_SUITE_P(Backends, ListStoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

PagePosition PositionOf(const WorkItem& item) {
  return {.created_at = item.created_at, .manifest_line = item.manifest_line, .id = item.id};
}

TEST_P(ListStoreTest, ItemsComeNewestFirstThenInManifestOrderAndPageWithoutGapsOrRepeats) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_THAT(store->CreateItems(std::vector<WorkItem>{Enrollment("e1")}),
              ::certdeploy::testing::IsOk());
  clock_.Advance(seconds(1));
  std::vector<WorkItem> items = {RolloutItem("r-c", "r1", 1, 4), RolloutItem("r-a", "r1", 1, 2),
                                 RolloutItem("r-b", "r1", 2, 3)};
  ASSERT_THAT(store->CreateRollout(MakeRollout("r1"), items), ::certdeploy::testing::IsOk());
  clock_.Advance(seconds(1));
  ASSERT_THAT(store->CreateItems(std::vector<WorkItem>{Enrollment("e2")}),
              ::certdeploy::testing::IsOk());

  std::vector<std::string> seen;
  ItemPageQuery query{.limit = 2};
  for (int page = 0; page < 5; ++page) {
    std::vector<WorkItem> rows = ValueOr(store->ListItems(query));
    for (const WorkItem& row : rows) {
      seen.push_back(row.id);
      EXPECT_FALSE(row.pfx_blob.has_value()) << row.id;
      EXPECT_TRUE(row.sealed_password.empty()) << row.id;
    }
    if (rows.size() < 2) break;
    query.after = PositionOf(rows.back());
  }
  EXPECT_THAT(seen, ElementsAre("e2", "r-a", "r-b", "r-c", "e1"));
}

TEST_P(ListStoreTest, ItemsFilterByRolloutStatusAndUpnIgnoringCase) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  std::vector<WorkItem> items = {RolloutItem("a", "r1", 1, 2), RolloutItem("b", "r1", 1, 3)};
  items[1].status = ItemStatus::kFailed;
  items[1].error_code = "pfx-not-deployable";
  ASSERT_THAT(store->CreateRollout(MakeRollout("r1"), items), ::certdeploy::testing::IsOk());
  ASSERT_THAT(store->CreateItems(std::vector<WorkItem>{Enrollment("e")}),
              ::certdeploy::testing::IsOk());

  ItemPageQuery failed{.filter = {.rollout_id = "r1"}, .status = ItemStatus::kFailed};
  EXPECT_THAT(Ids(ValueOr(store->ListItems(failed))), ElementsAre("b"));
  ItemPageQuery by_upn{.filter = {.user_principal_name = "A@CONTOSO.example"}};
  EXPECT_THAT(Ids(ValueOr(store->ListItems(by_upn))), ElementsAre("a"));
  ItemPageQuery enrollments{.filter = {.kind = ItemKind::kEnrollment}};
  EXPECT_THAT(Ids(ValueOr(store->ListItems(enrollments))), ElementsAre("e"));
  EXPECT_THAT(store->ListItems({.limit = 0}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(store->ListItems({.limit = 1001}), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(ListStoreTest, RolloutsPageNewestFirstAndFilterByStatus) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  for (const char* id : {"r1", "r2", "r3"}) {
    ASSERT_THAT(store->CreateRollout(MakeRollout(id), {}), ::certdeploy::testing::IsOk());
    clock_.Advance(seconds(1));
  }
  ASSERT_THAT(store->UpdateRollout("r2", {.expected_status = RolloutStatus::kScheduled,
                                          .status = RolloutStatus::kPaused}),
              ::certdeploy::testing::IsOk());

  std::vector<Rollout> first = ValueOr(store->ListRolloutPage({.limit = 2}));
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].id, "r3");
  EXPECT_EQ(first[1].id, "r2");
  std::vector<Rollout> rest = ValueOr(store->ListRolloutPage(
      {.after = PagePosition{.created_at = first[1].created_at, .id = first[1].id}, .limit = 2}));
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].id, "r1");
  std::vector<Rollout> paused =
      ValueOr(store->ListRolloutPage({.statuses = {RolloutStatus::kPaused}}));
  ASSERT_EQ(paused.size(), 1u);
  EXPECT_EQ(paused[0].id, "r2");
}

TEST_P(ListStoreTest, AuditPagesNewestFirstFromSince) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  const SystemTime start = clock_.Now();
  for (const char* action : {"one", "two", "three", "four"}) {
    ASSERT_THAT(store->AppendAudit({.api_key_name = "ops", .action = action}),
                ::certdeploy::testing::IsOk());
    clock_.Advance(seconds(10));
  }
  std::vector<AuditRecord> page = ValueOr(store->ListAuditPage({.limit = 2}));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].action, "four");
  EXPECT_EQ(page[1].action, "three");
  std::vector<AuditRecord> next =
      ValueOr(store->ListAuditPage({.before_id = page[1].id, .limit = 2}));
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].action, "two");
  EXPECT_EQ(next[1].action, "one");
  std::vector<AuditRecord> recent =
      ValueOr(store->ListAuditPage({.since = start + seconds(15), .limit = 10}));
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[1].action, "three");
  EXPECT_THAT(ValueOr(store->ListAuditPage({.before_id = next[1].id})), IsEmpty());
}

}  // namespace
}  // namespace certdeploy::store
