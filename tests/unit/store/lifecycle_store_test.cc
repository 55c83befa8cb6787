// JobStore schema v2 on both backends: offboardings (cancelling the user's queued items, leases,
// idempotency keys), the CA certificates deployed, and the webhook outbox.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/store/store_fixture.h"

namespace certdeploy::store {
namespace {

using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class LifecycleStoreTest : public StoreFixture, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override { SetUpBackend(GetParam()); }
};

INSTANTIATE_TEST_SUITE_P(Backends, LifecycleStoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

Offboarding MakeOffboarding(const std::string& id, const std::string& upn) {
  Offboarding o;
  o.id = id;
  o.user_principal_name = upn;
  o.api_key_name = "hr";
  o.step = "accepted";
  return o;
}

AuditRecord Audit(const std::string& upn) {
  return {.api_key_name = "hr",
          .action = "offboard",
          .user_principal_name = upn,
          .outcome = "accepted"};
}

Notification Note(const std::string& event, std::optional<std::string> dedupe = std::nullopt) {
  return {.event = event,
          .dedupe_key = std::move(dedupe),
          .url = "https://hooks.example/x",
          .secret_env = "HOOK_SECRET",
          .body = R"({"event":")" + event + R"("})"};
}

TEST_P(LifecycleStoreTest, OffboardingCancelsOnlyTheUsersQueuedItems) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  WorkItem queued = Enrollment("q");
  queued.user_principal_name = "Leaver@Contoso.example";  // UPNs compare ignoring case.
  WorkItem running = Enrollment("r");
  running.user_principal_name = "leaver@contoso.example";
  WorkItem other = Enrollment("o");
  ASSERT_THAT(store->CreateItems(std::vector<WorkItem>{running}), IsOk());
  ASSERT_OK_AND_ASSIGN(auto claimed, store->ClaimNext({.owner = "me"}));
  ASSERT_THAT(claimed, SizeIs(1));
  ASSERT_THAT(store->CreateItems(std::vector<WorkItem>{queued, other}), IsOk());

  ASSERT_OK_AND_ASSIGN(Offboarding created,
                       store->CreateOffboarding(MakeOffboarding("off1", "leaver@contoso.example"),
                                                Audit("leaver@contoso.example")));
  EXPECT_EQ(created.status, OffboardingStatus::kQueued);
  EXPECT_EQ(created.cancelled_items, 1);
  EXPECT_EQ(created.created_at, clock_.Now());
  EXPECT_EQ(ValueOr(store->GetItem("q")).status, ItemStatus::kCancelled);
  EXPECT_EQ(ValueOr(store->GetItem("q")).error_code, "offboarded");
  EXPECT_EQ(ValueOr(store->GetItem("r")).status, ItemStatus::kRunning);  // Its lease holder's.
  EXPECT_EQ(ValueOr(store->GetItem("o")).status, ItemStatus::kQueued);
  ASSERT_OK_AND_ASSIGN(auto audit, store->ListAudit(1));
  ASSERT_THAT(audit, SizeIs(1));
  EXPECT_EQ(audit[0].action, "offboard");
  EXPECT_THAT(audit[0].detail, HasSubstr("cancelled 1 queued item"));
  EXPECT_EQ(ValueOr(store->GetOffboarding("off1")), created);
  EXPECT_THAT(store->GetOffboarding("nope"), StatusIs(StatusCode::kNotFound));
}

TEST_P(LifecycleStoreTest, OffboardingWithThumbprintsCancelsOnlyThoseItems) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  WorkItem a = Enrollment("a");
  a.user_principal_name = "leaver@contoso.example";
  WorkItem b = a;
  b.id = "b";
  b.thumbprint = std::string(40, 'd');
  ASSERT_THAT(store->CreateItems(std::vector<WorkItem>{a, b}), IsOk());
  Offboarding o = MakeOffboarding("off1", "leaver@contoso.example");
  o.thumbprints = {std::string(40, 'd'), std::string(40, 'e')};
  ASSERT_OK_AND_ASSIGN(Offboarding created,
                       store->CreateOffboarding(o, Audit(o.user_principal_name)));
  EXPECT_EQ(created.thumbprints, o.thumbprints);
  EXPECT_EQ(created.cancelled_items, 1);
  EXPECT_EQ(ValueOr(store->GetItem("a")).status, ItemStatus::kQueued);
  EXPECT_EQ(ValueOr(store->GetItem("b")).status, ItemStatus::kCancelled);
}

TEST_P(LifecycleStoreTest, OffboardingIdempotencyKeyIsUniqueAndFindable) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  Offboarding o = MakeOffboarding("off1", "u@contoso.example");
  o.idempotency_key = "key-1";
  o.request_sha256 = std::string(64, 'f');
  ASSERT_THAT(store->CreateOffboarding(o, Audit("u")), IsOk());
  Offboarding again = o;
  again.id = "off2";
  EXPECT_THAT(store->CreateOffboarding(again, Audit("u")), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(store->GetOffboarding("off2"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Offboarding found, store->FindOffboardingByIdempotencyKey("key-1"));
  EXPECT_EQ(found.id, "off1");
  EXPECT_EQ(found.request_sha256, o.request_sha256);
  EXPECT_THAT(store->FindOffboardingByIdempotencyKey("key-2"), StatusIs(StatusCode::kNotFound));
  o.idempotency_key = "";
  o.id = "off3";
  EXPECT_THAT(store->CreateOffboarding(o, Audit("u")), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(LifecycleStoreTest, OffboardingLeaseFencesUpdatesAndExpiresForTheNextClaimer) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_THAT(store->CreateOffboarding(MakeOffboarding("off1", "u@contoso.example"), Audit("u")),
              IsOk());
  ASSERT_OK_AND_ASSIGN(auto first, store->ClaimOffboardings("a", minutes(2), 10));
  ASSERT_THAT(first, SizeIs(1));
  EXPECT_EQ(first[0].status, OffboardingStatus::kRunning);
  EXPECT_EQ(first[0].attempts, 1);
  EXPECT_THAT(ValueOr(store->ClaimOffboardings("b", minutes(2), 10)), IsEmpty());
  // Progress by the holder; a stranger is refused.
  ASSERT_THAT(store->UpdateOffboarding({.id = "off1",
                                        .owner = "a",
                                        .step = "deleting",
                                        .removed = {std::string(40, 'a')},
                                        .lease = minutes(2)}),
              IsOk());
  EXPECT_THAT(store->UpdateOffboarding({.id = "off1", .owner = "b", .step = "x"}),
              StatusIs(StatusCode::kAborted));
  EXPECT_THAT(store->UpdateOffboarding({.id = "nope", .owner = "b"}),
              StatusIs(StatusCode::kNotFound));
  // The holder dies: after its lease the next claimer takes over, keeping what was recorded.
  clock_.Advance(minutes(3));
  ASSERT_OK_AND_ASSIGN(auto second, store->ClaimOffboardings("b", minutes(2), 10));
  ASSERT_THAT(second, SizeIs(1));
  EXPECT_EQ(second[0].attempts, 2);
  EXPECT_EQ(second[0].step, "deleting");
  EXPECT_THAT(second[0].removed, ElementsAre(std::string(40, 'a')));
  EXPECT_THAT(store->UpdateOffboarding({.id = "off1", .owner = "a", .step = "late"}),
              StatusIs(StatusCode::kAborted));
  ASSERT_THAT(store->UpdateOffboarding({.id = "off1",
                                        .owner = "b",
                                        .status = OffboardingStatus::kSucceeded,
                                        .step = "verified",
                                        .removed = {std::string(40, 'a')},
                                        .audit = Audit("u"),
                                        .notify = {Note("offboarding.finished")}}),
              IsOk());
  ASSERT_OK_AND_ASSIGN(Offboarding done, store->GetOffboarding("off1"));
  EXPECT_EQ(done.status, OffboardingStatus::kSucceeded);
  EXPECT_EQ(done.lease_owner, "");
  EXPECT_EQ(done.lease_expires_at, std::nullopt);
  EXPECT_THAT(ValueOr(store->ListNotifications(10)), SizeIs(1));
  EXPECT_THAT(ValueOr(store->ClaimOffboardings("c", minutes(2), 10)), IsEmpty());
}

TEST_P(LifecycleStoreTest, AnOpenOffboardingHoldsTheUsersItemsAndCancelsThoseHandedBack) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  const std::string leaver = "leaver@contoso.example";
  WorkItem handed_back = Enrollment("a-handed-back");
  handed_back.user_principal_name = leaver;
  WorkItem crashed = Enrollment("b-crashed");
  crashed.user_principal_name = "LEAVER@contoso.example";
  ASSERT_THAT(store->CreateItems(std::vector<WorkItem>{handed_back, crashed}), IsOk());
  ASSERT_THAT(ValueOr(store->ClaimNext({.owner = "w"})), SizeIs(1));  // a-handed-back
  ASSERT_THAT(ValueOr(store->ClaimNext({.owner = "v", .lease = minutes(1)})), SizeIs(1));
  clock_.Advance(seconds(1));
  ASSERT_OK_AND_ASSIGN(Offboarding created,
                       store->CreateOffboarding(MakeOffboarding("off1", leaver), Audit(leaver)));
  EXPECT_EQ(created.cancelled_items, 0);  // Both are running.
  clock_.Advance(seconds(1));
  WorkItem rehire = Enrollment("rehire");  // Enrolled again after the offboarding.
  rehire.user_principal_name = leaver;
  ASSERT_THAT(store->CreateItems(std::vector<WorkItem>{rehire, Enrollment("other")}), IsOk());
  ASSERT_THAT(store->HandBackLeases("w", "stopping"), IsOk());

  // While the offboarding is open, the user's queued items stay queued; an item whose holder
  // died is still reclaimed (it is reconciled, then deleted with the rest).
  clock_.Advance(minutes(2));
  ASSERT_OK_AND_ASSIGN(auto claimed, store->ClaimNext({.owner = "w2", .limit = 10}));
  EXPECT_THAT(Ids(claimed), ElementsAre("b-crashed", "other"));

  // The offboarder cancels the item queued again since, not the rehire's.
  ASSERT_OK_AND_ASSIGN(auto mine, store->ClaimOffboardings("d", minutes(2), 1));
  ASSERT_THAT(mine, SizeIs(1));
  EXPECT_EQ(ValueOr(store->CancelQueuedItemsOf(mine[0])), 1);
  EXPECT_EQ(ValueOr(store->GetItem("a-handed-back")).status, ItemStatus::kCancelled);
  EXPECT_EQ(ValueOr(store->GetItem("a-handed-back")).error_code, "offboarded");
  EXPECT_EQ(ValueOr(store->GetItem("rehire")).status, ItemStatus::kQueued);
  EXPECT_EQ(ValueOr(store->GetOffboarding("off1")).cancelled_items, 1);
  Offboarding stranger = mine[0];
  stranger.lease_owner = "x";
  EXPECT_THAT(store->CancelQueuedItemsOf(stranger), StatusIs(StatusCode::kAborted));

  // Waiting for the running item does not use up attempts.
  ASSERT_THAT(store->UpdateOffboarding({.id = "off1",
                                        .owner = "d",
                                        .status = OffboardingStatus::kQueued,
                                        .step = "waiting-for-running-items",
                                        .counts_as_attempt = false}),
              IsOk());
  EXPECT_EQ(ValueOr(store->GetOffboarding("off1")).attempts, 0);
  ASSERT_OK_AND_ASSIGN(mine, store->ClaimOffboardings("d", minutes(2), 1));
  ASSERT_THAT(mine, SizeIs(1));
  EXPECT_EQ(mine[0].attempts, 1);
  EXPECT_THAT(ValueOr(store->ClaimNext({.owner = "w2", .limit = 10})), IsEmpty());

  // Once it has ended, the rehire's enrollment runs.
  ASSERT_THAT(store->UpdateOffboarding({.id = "off1",
                                        .owner = "d",
                                        .status = OffboardingStatus::kSucceeded,
                                        .step = "verified"}),
              IsOk());
  EXPECT_THAT(Ids(ValueOr(store->ClaimNext({.owner = "w2", .limit = 10}))),
              ElementsAre("rehire"));
}

TEST_P(LifecycleStoreTest, DeployedCasAreRecordedOnceAndListedInOrder) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  const DeployedCa root{
      .thumbprint = "aa", .der_base64 = "MIIB", .root = true, .self_signed = true};
  const DeployedCa sub{.thumbprint = "bb", .der_base64 = "MIIC"};
  ASSERT_THAT(store->RecordDeployedCas(std::vector<DeployedCa>{root}), IsOk());
  const SystemTime first = clock_.Now();
  clock_.Advance(seconds(5));
  DeployedCa changed = root;
  changed.der_base64 = "other";  // Known thumbprint: left as it is.
  ASSERT_THAT(store->RecordDeployedCas(std::vector<DeployedCa>{changed, sub}), IsOk());
  ASSERT_OK_AND_ASSIGN(auto cas, store->ListDeployedCas());
  ASSERT_THAT(cas, SizeIs(2));
  EXPECT_EQ(cas[0].thumbprint, "aa");
  EXPECT_EQ(cas[0].der_base64, "MIIB");
  EXPECT_TRUE(cas[0].root);
  EXPECT_TRUE(cas[0].self_signed);
  EXPECT_EQ(cas[0].first_deployed_at, first);
  EXPECT_EQ(cas[1].thumbprint, "bb");
  EXPECT_FALSE(cas[1].root);
  EXPECT_THAT(store->RecordDeployedCas(std::vector<DeployedCa>{{.thumbprint = "cc"}}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(LifecycleStoreTest, DeployedPurposesAreThoseOfSucceededItems) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  WorkItem a = Enrollment("a");
  WorkItem b = Enrollment("b");
  b.intended_purpose = "smimeSigning";
  WorkItem c = Enrollment("c");
  c.intended_purpose = "vpn";
  ASSERT_THAT(store->CreateItems(std::vector<WorkItem>{a, b, c}), IsOk());
  ASSERT_OK_AND_ASSIGN(auto claimed, store->ClaimNext({.owner = "me", .limit = 3}));
  ASSERT_THAT(claimed, SizeIs(3));
  for (const char* id : {"a", "b"}) {
    ASSERT_THAT(store->Checkpoint({.id = id, .owner = "me", .status = ItemStatus::kSucceeded}),
                IsOk());
  }
  ASSERT_THAT(store->Checkpoint({.id = "c", .owner = "me", .status = ItemStatus::kFailed}), IsOk());
  EXPECT_THAT(ValueOr(store->ListDeployedPurposes()),
              ElementsAre("smimeEncryption", "smimeSigning"));
}

TEST_P(LifecycleStoreTest, OutboxDedupesRetriesAndEndsDeliveries) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_THAT(store->EnqueueNotifications(std::vector<Notification>{
                  Note("certificate.expiring", "exp:aa:30"), Note("rollout.finished")}),
              IsOk());
  // The same certificate and threshold again: dropped, even inside a batch with new ones.
  ASSERT_THAT(
      store->EnqueueNotifications(std::vector<Notification>{
          Note("certificate.expiring", "exp:aa:30"), Note("certificate.expiring", "exp:aa:7")}),
      IsOk());
  ASSERT_OK_AND_ASSIGN(auto due, store->DueNotifications(10));
  ASSERT_THAT(due, SizeIs(3));
  EXPECT_EQ(due[0].dedupe_key, "exp:aa:30");
  EXPECT_EQ(due[0].status, NotificationStatus::kPending);
  EXPECT_EQ(due[0].secret_env, "HOOK_SECRET");
  EXPECT_LT(due[0].id, due[1].id);
  // One delivered, one retried later, one dead.
  ASSERT_THAT(
      store->RecordDeliveryAttempt(due[0].id, NotificationStatus::kDelivered, clock_.Now(), ""),
      IsOk());
  ASSERT_THAT(store->RecordDeliveryAttempt(due[1].id, NotificationStatus::kPending,
                                           clock_.Now() + minutes(1), "HTTP 503"),
              IsOk());
  ASSERT_THAT(
      store->RecordDeliveryAttempt(due[2].id, NotificationStatus::kDead, clock_.Now(), "HTTP 410"),
      IsOk());
  EXPECT_THAT(ValueOr(store->DueNotifications(10)), IsEmpty());
  clock_.Advance(minutes(1));
  ASSERT_OK_AND_ASSIGN(due, store->DueNotifications(10));
  ASSERT_THAT(due, SizeIs(1));
  EXPECT_EQ(due[0].event, "rollout.finished");
  EXPECT_EQ(due[0].attempts, 1);
  EXPECT_EQ(due[0].last_error, "HTTP 503");
  EXPECT_THAT(store->RecordDeliveryAttempt(999999, NotificationStatus::kDead, clock_.Now(), ""),
              StatusIs(StatusCode::kNotFound));
  // A delivered notification's key still blocks a re-enqueue.
  ASSERT_THAT(store->EnqueueNotifications(
                  std::vector<Notification>{Note("certificate.expiring", "exp:aa:30")}),
              IsOk());
  EXPECT_THAT(ValueOr(store->ListNotifications(10)), SizeIs(3));
}

TEST_P(LifecycleStoreTest, CheckpointAndRolloutUpdateEnqueueInTheSameTransaction) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  ASSERT_THAT(store->CreateItems(std::vector<WorkItem>{Enrollment("a")}), IsOk());
  ASSERT_OK_AND_ASSIGN(auto claimed, store->ClaimNext({.owner = "me"}));
  ASSERT_THAT(claimed, SizeIs(1));
  // Refused checkpoint (wrong owner): nothing enqueued.
  EXPECT_THAT(store->Checkpoint({.id = "a",
                                 .owner = "other",
                                 .status = ItemStatus::kFailed,
                                 .notify = {Note("enrollment.failed")}}),
              StatusIs(StatusCode::kAborted));
  EXPECT_THAT(ValueOr(store->ListNotifications(10)), IsEmpty());
  ASSERT_THAT(store->Checkpoint({.id = "a",
                                 .owner = "me",
                                 .status = ItemStatus::kFailed,
                                 .notify = {Note("enrollment.failed")}}),
              IsOk());
  EXPECT_THAT(ValueOr(store->ListNotifications(10)), SizeIs(1));

  ASSERT_THAT(store->CreateRollout(MakeRollout("r1"), {}), IsOk());
  EXPECT_THAT(store->UpdateRollout("r1", {.expected_status = RolloutStatus::kRunning,
                                          .status = RolloutStatus::kSucceeded,
                                          .notify = {Note("rollout.finished")}}),
              StatusIs(StatusCode::kAborted));
  EXPECT_THAT(ValueOr(store->ListNotifications(10)), SizeIs(1));
  ASSERT_THAT(store->UpdateRollout("r1", {.expected_status = RolloutStatus::kScheduled,
                                          .status = RolloutStatus::kCancelled,
                                          .notify = {Note("rollout.finished")}}),
              IsOk());
  EXPECT_THAT(ValueOr(store->ListNotifications(10)), SizeIs(2));
}

TEST_P(LifecycleStoreTest, SummarizeItemsFiltersByUser) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  WorkItem a = Enrollment("a");
  WorkItem b = Enrollment("b");
  ASSERT_THAT(store->CreateItems(std::vector<WorkItem>{a, b}), IsOk());
  ASSERT_OK_AND_ASSIGN(ItemSummary s, store->SummarizeItems({.user_principal_name = "A@Contoso.Example"}, 0));
  EXPECT_EQ(s.total(), 1);
  EXPECT_EQ(s.queued, 1);
}

}  // namespace
}  // namespace certdeploy::store
