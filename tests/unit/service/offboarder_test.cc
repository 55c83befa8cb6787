// The offboarder on FakeClock, a real SQLite job store and an in-memory Graph tenant: a record
// Graph keeps showing is tried again later, waiting for a running import costs no attempts, an
// item handed back after the offboarding was created is cancelled, a stop hands work back, and
// the request-ids of the deletes reach the offboarding and its audit record.

#include "service/internal/offboarder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"
#include "tests/support/fake_graph_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_sqlite_store.h"

namespace certdeploy::service {
namespace {

using ::certdeploy::testing::FakeClock;
using ::certdeploy::testing::FakeGraphClient;
using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::TempSqliteStore;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Fault = FakeGraphClient::Fault;

constexpr char kPfxPath[] = "/deviceManagement/userPfxCertificates";
constexpr char kLeaver[] = "leaver@contoso.example";

// A userPfxCertificate as Graph lists it.
nlohmann::json Record(const std::string& id, const std::string& upn, char thumbprint) {
  return {{"id", id},
          {"userPrincipalName", upn},
          {"thumbprint", std::string(40, thumbprint)},
          {"intendedPurpose", "smimeEncryption"},
          {"paddingScheme", "oaepSha512"},
          {"startDateTime", "2026-01-01T00:00:00Z"},
          {"expirationDateTime", "2027-01-01T00:00:00Z"}};
}

class OffboarderTest : public ::testing::Test {
 protected:
  OffboarderTest() : store_(clock_) {}

  void SetUp() override {
    ASSERT_THAT(store_.status(), IsOk());
    graph_.AddPfx(Record("rec-1", kLeaver, 'a'));
    graph_.AddPfx(Record("rec-2", "stays@contoso.example", 'b'));
  }

  Offboarder Make() {
    return Offboarder(*store_, graph_, config_, nullptr,
                      {.owner = "replica-1", .lease = std::chrono::minutes(2)});
  }

  void Offboard(const std::string& id, const std::string& upn = kLeaver) {
    store::Offboarding o{.id = id, .user_principal_name = upn, .step = "accepted"};
    ASSERT_THAT(store_->CreateOffboarding(o, {.action = "offboard"}).status(), IsOk());
  }

  store::Offboarding Get(const std::string& id) {
    Result<store::Offboarding> o = store_->GetOffboarding(id);
    EXPECT_THAT(o.status(), IsOk());
    return o.ok() ? *o : store::Offboarding{};
  }

  // An enrollment of the leaver, claimed by another worker (an import in flight).
  void RunningImport(const std::string& id) {
    store::WorkItem item{.id = id, .user_principal_name = kLeaver};
    item.intended_purpose = "smimeEncryption";
    ASSERT_THAT(store_->CreateItems(std::vector<store::WorkItem>{item}), IsOk());
    Result<std::vector<store::WorkItem>> claimed = store_->ClaimNext({.owner = "worker"});
    ASSERT_THAT(claimed.status(), IsOk());
    ASSERT_EQ(claimed->size(), 1u);
  }

  int Deletes() {
    int n = 0;
    for (const auto& r : graph_.Requests()) n += r.method == "DELETE" ? 1 : 0;
    return n;
  }

  FakeClock clock_;
  TempSqliteStore store_;
  FakeGraphClient graph_;
  config::Config config_;
};

TEST_F(OffboarderTest, RemovesTheUsersRecordsAndKeepsTheRequestIdsOfTheDeletes) {
  Offboard("off1");
  Offboarder offboarder = Make();
  Result<int> ended = offboarder.RunOnce();
  ASSERT_THAT(ended.status(), IsOk());
  EXPECT_EQ(*ended, 1);
  const store::Offboarding o = Get("off1");
  EXPECT_EQ(o.status, store::OffboardingStatus::kSucceeded);
  EXPECT_THAT(o.removed, ElementsAre(std::string(40, 'a')));
  EXPECT_EQ(o.request_ids, "fake-request-id");
  EXPECT_EQ(graph_.PfxCount(), 1u);  // The other user's record stays.
  Result<std::vector<store::AuditRecord>> audit = store_->ListAudit(1);
  ASSERT_THAT(audit.status(), IsOk());
  EXPECT_EQ(audit->at(0).outcome, "succeeded");
  EXPECT_EQ(audit->at(0).request_ids, "fake-request-id");
}

TEST_F(OffboarderTest, ARecordGraphStillShowsAfterItsDeleteIsTriedAgainLater) {
  Offboard("off1");
  // Every DELETE of this run is answered 204 while the record stays.
  graph_.Inject({"DELETE", kPfxPath, Fault::kAnswerWithoutApply, {}, 3});
  Offboarder offboarder = Make();
  ASSERT_THAT(offboarder.RunOnce().status(), IsOk());
  store::Offboarding o = Get("off1");
  EXPECT_EQ(o.status, store::OffboardingStatus::kQueued);  // Handed back, not failed.
  EXPECT_EQ(o.step, "handed-back");
  EXPECT_THAT(o.error_message, HasSubstr("is still there"));
  EXPECT_EQ(Deletes(), 3);

  ASSERT_THAT(offboarder.RunOnce().status(), IsOk());
  o = Get("off1");
  EXPECT_EQ(o.status, store::OffboardingStatus::kSucceeded);
  EXPECT_THAT(o.removed, ElementsAre(std::string(40, 'a')));
  EXPECT_EQ(o.attempts, 2);
}

TEST_F(OffboarderTest, WaitingForARunningImportUsesUpNoAttempts) {
  RunningImport("import-1");
  Offboard("off1");
  Offboarder offboarder = Make();
  for (int pass = 0; pass < 25; ++pass) {  // More passes than max_attempts.
    ASSERT_THAT(offboarder.RunOnce().status(), IsOk());
    clock_.Advance(std::chrono::seconds(1));
  }
  store::Offboarding o = Get("off1");
  EXPECT_EQ(o.status, store::OffboardingStatus::kQueued);
  EXPECT_EQ(o.step, "waiting-for-running-items");
  EXPECT_EQ(o.attempts, 0);
  EXPECT_EQ(Deletes(), 0);

  // The import ends; a Graph outage at the next attempt is still only a passing problem.
  ASSERT_THAT(store_->Checkpoint({.id = "import-1",
                                  .owner = "worker",
                                  .status = store::ItemStatus::kSucceeded,
                                  .step = "imported"}),
              IsOk());
  graph_.Inject({"DELETE", kPfxPath, Fault::kError, UnavailableError("injected 503"), 3});
  ASSERT_THAT(offboarder.RunOnce().status(), IsOk());
  EXPECT_EQ(Get("off1").status, store::OffboardingStatus::kQueued);
  ASSERT_THAT(offboarder.RunOnce().status(), IsOk());
  o = Get("off1");
  EXPECT_EQ(o.status, store::OffboardingStatus::kSucceeded);
  EXPECT_EQ(o.attempts, 2);
}

TEST_F(OffboarderTest, AnItemHandedBackAfterTheOffboardingWasCreatedIsCancelled) {
  RunningImport("import-1");
  Offboard("off1");
  ASSERT_THAT(store_->HandBackLeases("worker", "stopping").status(), IsOk());
  Offboarder offboarder = Make();
  ASSERT_THAT(offboarder.RunOnce().status(), IsOk());
  Result<store::WorkItem> item = store_->GetItem("import-1");
  ASSERT_THAT(item.status(), IsOk());
  EXPECT_EQ(item->status, store::ItemStatus::kCancelled);
  EXPECT_EQ(item->error_code, "offboarded");
  const store::Offboarding o = Get("off1");
  EXPECT_EQ(o.status, store::OffboardingStatus::kSucceeded);
  EXPECT_EQ(o.cancelled_items, 1);
}

TEST_F(OffboarderTest, RunsSeveralPerPassOneClaimAtATimeAndStopsWhenAsked) {
  Offboard("off1");
  Offboard("off2", "stays@contoso.example");
  Offboarder offboarder = Make();
  Result<int> ended = offboarder.RunOnce();
  ASSERT_THAT(ended.status(), IsOk());
  EXPECT_EQ(*ended, 2);
  EXPECT_EQ(graph_.PfxCount(), 0u);

  graph_.AddPfx(Record("rec-3", kLeaver, 'c'));
  Offboard("off3");
  offboarder.RequestStop();
  ended = offboarder.RunOnce();
  ASSERT_THAT(ended.status(), IsOk());
  EXPECT_EQ(*ended, 0);
  const store::Offboarding o = Get("off3");
  EXPECT_EQ(o.status, store::OffboardingStatus::kQueued);  // Never claimed.
  EXPECT_EQ(o.attempts, 0);
  EXPECT_EQ(graph_.PfxCount(), 1u);
}

}  // namespace
}  // namespace certdeploy::service
