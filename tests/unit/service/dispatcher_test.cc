// The dispatcher on FakeClock, a real SQLite job store and an in-memory Graph tenant with fault
// injection: profiles before imports, pass-through of the sealed password, PFX release,
// crash recovery without duplicates, unknown outcomes, transient vs final failures, waves.

#include "service/dispatcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "base/encoding.h"
#include "graph/intune.h"
#include "pkcs/seal.h"
#include "service/internal/dispatcher_item.h"
#include "service/internal/notifier.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_graph_client.h"
#include "tests/support/faulty_job_store.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_pki.h"

namespace certdeploy::service {
namespace {

using ::certdeploy::testing::FakeClock;
using ::certdeploy::testing::FakeGraphClient;
using ::certdeploy::testing::FixtureNow;
using ::certdeploy::testing::FixturePassword;
using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::PkiPath;
using ::certdeploy::testing::ReadPkiBytes;
using Fault = FakeGraphClient::Fault;

constexpr char kPfxPath[] = "/deviceManagement/userPfxCertificates";
constexpr char kConfigPath[] = "/deviceManagement/deviceConfigurations";

config::Config TestConfig() {
  config::Config c;
  c.tenant.id = "contoso.onmicrosoft.com";
  c.connector.public_key_file = PkiPath("connector.pub");
  c.connector.padding = pkcs::PaddingScheme::kOaepSha512;
  c.profiles.platforms = {config::Platform::kIos};
  c.profiles.assign_to.groups = {"g1"};
  c.limits.concurrency = 2;
  return c;
}

// Delegates to a FakeGraphClient and runs `hook` before each request.
class HookedGraph : public graph::GraphClient {
 public:
  HookedGraph(graph::GraphClient& inner,
              std::function<void(std::string_view, std::string_view)> hook)
      : inner_(inner), hook_(std::move(hook)) {}
  Result<graph::GraphResponse> Get(std::string_view p) override {
    hook_("GET", p);
    return inner_.Get(p);
  }
  Result<graph::GraphResponse> Post(std::string_view p, const nlohmann::json& b) override {
    hook_("POST", p);
    return inner_.Post(p, b);
  }
  Result<graph::GraphResponse> Patch(std::string_view p, const nlohmann::json& b) override {
    return inner_.Patch(p, b);
  }
  Result<graph::GraphResponse> Delete(std::string_view p) override { return inner_.Delete(p); }
  Result<std::vector<nlohmann::json>> ListAll(std::string_view p) override {
    hook_("GET", p);
    return inner_.ListAll(p);
  }
  Result<std::vector<graph::BatchItemResult>> Batch(
      const std::vector<graph::BatchItem>& i) override {
    return inner_.Batch(i);
  }

 private:
  graph::GraphClient& inner_;
  std::function<void(std::string_view, std::string_view)> hook_;
};

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : clock_(FixtureNow()), config_(TestConfig()) {}

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cd_disp_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    Result<std::unique_ptr<store::JobStore>> store =
        store::OpenJobStore("sqlite:" + (dir_ / "s.db").string(), clock_);
    ASSERT_THAT(store.status(), IsOk());
    store_ = std::move(*store);
    Result<pkcs::ConnectorPublicKey> key =
        pkcs::ConnectorPublicKey::LoadFile(PkiPath("connector.pub"));
    ASSERT_THAT(key.status(), IsOk());
    key_ = *key;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  DispatcherOptions Options() {
    DispatcherOptions o;
    o.owner = "replica-1";
    o.lease = std::chrono::minutes(1);
    o.connector_key_fingerprint = key_->fingerprint();
    return o;
  }

  // Validates and seals a fixture PFX as the API does, and queues it.
  store::WorkItem Enroll(const std::string& pfx, const std::string& upn, std::string id = "") {
    std::vector<pkcs::Certificate> no_bundle;
    PrepareContext ctx{config_, *key_, no_bundle, clock_.Now()};
    PreparedItem p = PrepareItem(ctx, ReadPkiBytes(pfx), FixturePassword(), upn,
                                 pkcs::Purpose::kSmimeEncryption);
    EXPECT_TRUE(p.deployable) << SummarizeFindings(p.findings);
    p.item.id = id.empty() ? "e-" + pfx : id;
    p.item.kind = store::ItemKind::kEnrollment;
    EXPECT_THAT(store_->CreateItems(std::span<const store::WorkItem>(&p.item, 1)), IsOk());
    return p.item;
  }

  store::WorkItem Item(const std::string& id) {
    Result<store::WorkItem> item = store_->GetItem(id);
    EXPECT_THAT(item.status(), IsOk());
    return item.ok() ? *item : store::WorkItem{};
  }

  int Count(const std::string& method, const std::string& path) {
    int n = 0;
    for (const auto& r : graph_.Requests()) n += r.method == method && r.path == path;
    return n;
  }

  FakeClock clock_;
  config::Config config_;
  std::filesystem::path dir_;
  std::unique_ptr<store::JobStore> store_;
  std::optional<pkcs::ConnectorPublicKey> key_;
  FakeGraphClient graph_;
  Metrics metrics_;
};

TEST_F(DispatcherTest, ImportsAnEnrollmentAfterEnsuringItsProfiles) {
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, Options());
  Result<DispatchResult> r = dispatcher.RunOnce();
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->claimed, 1);
  EXPECT_EQ(r->succeeded, 1);

  // Three CA certificates (ca, root-b cross-signed, root-a) + the imported-PFX profile, each
  // assigned, all before the record.
  EXPECT_EQ(graph_.Configurations().size(), 4u);
  for (const nlohmann::json& c : graph_.Configurations()) {
    EXPECT_EQ(graph_.AssignmentsOf(c["id"]).size(), 1u) << c.dump();
  }
  const auto requests = graph_.Requests();
  size_t last_profile_write = 0, record_post = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].method == "POST" && requests[i].path.rfind(kConfigPath, 0) == 0) {
      last_profile_write = i;
    }
    if (requests[i].method == "POST" && requests[i].path == kPfxPath) record_post = i;
  }
  EXPECT_LT(last_profile_write, record_post);

  // The record carries the PFX as received and the password sealed at enrollment time.
  ASSERT_EQ(graph_.PfxRecords().size(), 1u);
  const nlohmann::json record = graph_.PfxRecords()[0];
  EXPECT_EQ(record["encryptedPfxPassword"], queued.sealed_password);
  const std::vector<uint8_t> pfx = ReadPkiBytes("alice.pfx");
  EXPECT_EQ(
      record["encryptedPfxBlob"],
      Base64Encode(pfx));
  EXPECT_EQ(record["thumbprint"], queued.thumbprint);
  Result<pkcs::ConnectorPrivateKey> connector =
      pkcs::ConnectorPrivateKey::LoadFile(PkiPath("connector.key"));
  ASSERT_THAT(connector.status(), IsOk());
  Result<SecretBytes> unsealed =
      pkcs::UnsealPassword(record["encryptedPfxPassword"].get<std::string>(), *connector,
                           pkcs::PaddingScheme::kOaepSha512);
  ASSERT_THAT(unsealed.status(), IsOk());
  EXPECT_TRUE(unsealed->Equals(FixturePassword()));

  store::WorkItem done = Item(queued.id);
  EXPECT_EQ(done.status, store::ItemStatus::kSucceeded);
  EXPECT_EQ(done.step, "verified");
  EXPECT_FALSE(done.pfx_blob.has_value()) << "PFX bytes are released after success";
  Result<std::vector<store::AuditRecord>> audit = store_->ListAudit(10);
  ASSERT_THAT(audit.status(), IsOk());
  ASSERT_FALSE(audit->empty());
  EXPECT_EQ(audit->front().action, "import");
  EXPECT_EQ(audit->front().outcome, "succeeded");
  EXPECT_EQ(audit->front().thumbprint, queued.thumbprint);

  // A second user reuses the profiles.
  Enroll("bob.pfx", "bob@contoso.com");
  ASSERT_THAT(dispatcher.RunOnce().status(), IsOk());
  EXPECT_EQ(graph_.Configurations().size(), 4u);
  EXPECT_EQ(graph_.PfxCount(), 2u);
  EXPECT_EQ(dispatcher.RunOnce()->claimed, 0);
}

TEST_F(DispatcherTest, RetainsPfxWhenConfigured) {
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  DispatcherOptions o = Options();
  o.retain_pfx_after_success = true;
  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, o);
  ASSERT_EQ(dispatcher.RunOnce()->succeeded, 1);
  EXPECT_TRUE(Item(queued.id).pfx_blob.has_value());
}

TEST_F(DispatcherTest, AfterACrashTheExpiredLeaseIsReclaimedAndTheRecordIsNotDuplicated) {
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  // A replica claimed the item, sent the record, and died before recording the outcome.
  store::ClaimRequest claim{.owner = "dead-replica", .lease = std::chrono::minutes(1)};
  ASSERT_EQ(store_->ClaimNext(claim)->size(), 1u);
  Result<StoredPfx> stored = DecodeStoredPfx(*queued.pfx_blob);
  ASSERT_THAT(stored.status(), IsOk());
  graph::UserPfxCertificate record;
  record.thumbprint = queued.thumbprint;
  record.user_principal_name = queued.user_principal_name;
  record.start_date_time = stored->facts.not_before;
  record.expiration_date_time = stored->facts.not_after;
  record.provider_name = config_.connector.provider_name;  // Sealed as this config seals.
  record.key_name = config_.connector.key_name;
  record.encrypted_pfx_blob = "AA==";
  record.encrypted_pfx_password = queued.sealed_password;
  graph::IntuneApi intune(graph_);
  ASSERT_THAT(intune.CreateUserPfxCertificate(record).status(), IsOk());

  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, Options());
  EXPECT_EQ(dispatcher.RunOnce()->claimed, 0) << "the lease is still live";
  clock_.Advance(std::chrono::minutes(2));
  Result<DispatchResult> r = dispatcher.RunOnce();
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->claimed, 1);
  EXPECT_EQ(r->succeeded, 1);
  EXPECT_EQ(Count("POST", kPfxPath), 1) << "only the dead replica's create";
  EXPECT_EQ(graph_.PfxCount(), 1u);
  store::WorkItem done = Item(queued.id);
  EXPECT_EQ(done.status, store::ItemStatus::kSucceeded);
  EXPECT_EQ(done.step, "verified-present");
  EXPECT_EQ(done.attempts, 2);
  EXPECT_THAT(metrics_.Render(nullptr, nullptr),
              ::testing::HasSubstr("certdeploy_dispatched_items_total{outcome=\"reconciled\"} 1"));
}

TEST_F(DispatcherTest, AStoreThatFailsToRecordTheOutcomeLosesNothingAndDuplicatesNothing) {
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  certdeploy::testing::FaultyJobStore faulty(*store_);
  // The record is created, then no final outcome can be written, as if the database went away
  // right after the import.
  faulty.FailCheckpointsIf(
      [](const store::CheckpointUpdate& c) { return c.status != store::ItemStatus::kRunning; },
      UnavailableError("database is locked"));
  Dispatcher dispatcher(faulty, graph_, config_, clock_, &metrics_, Options());
  Result<DispatchResult> first = dispatcher.RunOnce();
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_EQ(first->succeeded, 0);
  EXPECT_EQ(graph_.PfxCount(), 1u);
  EXPECT_EQ(Item(queued.id).status, store::ItemStatus::kRunning) << "still leased, not lost";

  // The database is back. Once the lease expires the item is reclaimed and found present.
  Dispatcher later(*store_, graph_, config_, clock_, &metrics_, Options());
  clock_.Advance(std::chrono::minutes(2));
  Result<DispatchResult> second = later.RunOnce();
  ASSERT_THAT(second.status(), IsOk());
  EXPECT_EQ(second->succeeded, 1);
  EXPECT_EQ(Count("POST", kPfxPath), 1) << "never a second create";
  EXPECT_EQ(graph_.PfxCount(), 1u);
  EXPECT_EQ(Item(queued.id).status, store::ItemStatus::kSucceeded);
}

TEST_F(DispatcherTest, AStoreFailureWhileClaimingIsReturnedAndNothingIsClaimed) {
  Enroll("alice.pfx", "alice@contoso.com");
  certdeploy::testing::FaultyJobStore faulty(*store_);
  faulty.FailNext(certdeploy::testing::FaultyJobStore::Call::kClaimNext,
                  UnavailableError("connection refused"));
  Dispatcher dispatcher(faulty, graph_, config_, clock_, &metrics_, Options());
  EXPECT_EQ(dispatcher.RunOnce().status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(graph_.Requests().empty());
  Result<DispatchResult> retry = dispatcher.RunOnce();
  ASSERT_THAT(retry.status(), IsOk());
  EXPECT_EQ(retry->succeeded, 1);
}

TEST_F(DispatcherTest, TheSameCertificateEnrolledSeveralTimesIsImportedOnceAndAllSucceed) {
  for (int i = 0; i < 5; ++i) Enroll("alice.pfx", "alice@contoso.com", "dup-" + std::to_string(i));
  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, Options());
  Result<DispatchResult> r = dispatcher.RunOnce();
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->claimed, 5);
  EXPECT_EQ(r->succeeded, 5);
  EXPECT_EQ(r->handed_back, 0);
  EXPECT_EQ(Count("POST", kPfxPath), 1);
  for (int i = 0; i < 5; ++i) {
    store::WorkItem item = Item("dup-" + std::to_string(i));
    EXPECT_EQ(item.status, store::ItemStatus::kSucceeded) << item.error_message;
  }
  // Enrolled again later, once it is in the tenant: found present, not imported again.
  Enroll("alice.pfx", "alice@contoso.com", "dup-later");
  ASSERT_EQ(dispatcher.RunOnce()->succeeded, 1);
  EXPECT_EQ(Count("POST", kPfxPath), 1);
}

TEST_F(DispatcherTest, AnEnrollmentWhoseRecordIsSealedToAnOldKeyReSealsIt) {
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  const std::string id = "u-alice@contoso.com-" + queued.thumbprint;
  graph_.AddPfx({{"id", id},
                 {"userPrincipalName", "alice@contoso.com"},
                 {"thumbprint", queued.thumbprint},
                 {"intendedPurpose", "smimeEncryption"},
                 {"providerName", config_.connector.provider_name},
                 {"keyName", "OldKey"},
                 {"paddingScheme", "oaepSha512"},
                 {"startDateTime", "2026-01-01T00:00:00Z"},
                 {"expirationDateTime", "2027-01-01T00:00:00Z"}});
  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, Options());
  Result<DispatchResult> r = dispatcher.RunOnce();
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->succeeded, 1);
  EXPECT_EQ(Count("POST", kPfxPath), 0);
  EXPECT_EQ(Count("PATCH", std::string(kPfxPath) + "/" + id), 1);
  ASSERT_EQ(graph_.PfxRecords().size(), 1u);
  EXPECT_EQ(graph_.PfxRecords()[0]["keyName"], config_.connector.key_name);
  EXPECT_EQ(graph_.PfxRecords()[0]["encryptedPfxPassword"], queued.sealed_password);
  EXPECT_EQ(Item(queued.id).status, store::ItemStatus::kSucceeded);
}

TEST_F(DispatcherTest, AnItemWhoseCertificateLacksThePrimarySmtpAddressFailsWithThatFinding) {
  // Intake left the address to planning; the directory says the mailbox is another address.
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  graph_.SetUser("alice@contoso.com", {{"id", "id-alice"},
                                       {"userPrincipalName", "alice@contoso.com"},
                                       {"mail", "alice.smith@contoso.com"},
                                       {"proxyAddresses", {"SMTP:alice.smith@contoso.com"}}});
  store::WorkItem unknown = Enroll("bob.pfx", "bob@contoso.com");
  graph_.SetUser("bob@contoso.com", nullptr);  // Not in the directory.
  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, Options());
  Result<DispatchResult> r = dispatcher.RunOnce();
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->failed, 2);
  EXPECT_EQ(Count("POST", kPfxPath), 0);
  store::WorkItem failed = Item(queued.id);
  EXPECT_EQ(failed.status, store::ItemStatus::kFailed);
  EXPECT_EQ(failed.error_code, "email-not-primary-smtp");
  EXPECT_THAT(failed.error_message, ::testing::HasSubstr("alice.smith@contoso.com"));
  EXPECT_EQ(Item(unknown.id).error_code, "user-not-found");
}

TEST_F(DispatcherTest, OutlooksAppConfigurationIsEnsuredBeforeAnyImport) {
  config_.outlook = config::OutlookConfig{};
  config_.outlook->platforms = {config::OutlookPlatform::kIos};
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, Options());

  // Outlook is not in the tenant: nothing is imported, the item waits with the reason.
  Result<DispatchResult> r = dispatcher.RunOnce();
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->handed_back, 1);
  EXPECT_EQ(Count("POST", kPfxPath), 0);
  store::WorkItem waiting = Item(queued.id);
  EXPECT_EQ(waiting.status, store::ItemStatus::kQueued);
  EXPECT_THAT(waiting.error_message, ::testing::HasSubstr("com.microsoft.Office.Outlook"));

  // Once Outlook is there, its policy is made and assigned before the record is imported.
  graph_.AddMobileApp({{"id", "app-outlook"},
                       {"@odata.type", "#microsoft.graph.iosStoreApp"},
                       {"bundleId", "com.microsoft.Office.Outlook"}});
  clock_.Advance(std::chrono::minutes(5));
  r = dispatcher.RunOnce();
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->succeeded, 1);
  ASSERT_EQ(graph_.AppConfigurations().size(), 1u);
  const nlohmann::json policy = graph_.AppConfigurations()[0];
  EXPECT_EQ(graph_.AppAssignmentsOf(policy["id"]).size(), 1u);
  const auto requests = graph_.Requests();
  size_t policy_post = 0, record_post = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].method == "POST" &&
        requests[i].path == "/deviceAppManagement/mobileAppConfigurations") {
      policy_post = i;
    }
    if (requests[i].method == "POST" && requests[i].path == kPfxPath) record_post = i;
  }
  EXPECT_LT(policy_post, record_post);
}

TEST_F(DispatcherTest, ALostResponseIsReconciledByReadingNotByResending) {
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  graph_.Inject({"POST", kPfxPath, Fault::kDropAfterApply});
  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, Options());
  EXPECT_EQ(dispatcher.RunOnce()->succeeded, 1);
  EXPECT_EQ(Count("POST", kPfxPath), 1);
  EXPECT_EQ(graph_.PfxCount(), 1u);
  EXPECT_EQ(Item(queued.id).status, store::ItemStatus::kSucceeded);
}

TEST_F(DispatcherTest, ATransientFailureHandsTheItemBackAndALaterRunImportsIt) {
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  graph_.Inject({"POST", kPfxPath, Fault::kError, UnavailableError("503 from Graph"), 3});
  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, Options());
  Result<DispatchResult> first = dispatcher.RunOnce();
  EXPECT_EQ(first->handed_back, 1);
  EXPECT_FALSE(first->progressed());
  store::WorkItem waiting = Item(queued.id);
  EXPECT_EQ(waiting.status, store::ItemStatus::kQueued);
  EXPECT_EQ(waiting.error_code, "unavailable");
  EXPECT_TRUE(waiting.pfx_blob.has_value());
  EXPECT_EQ(dispatcher.RunOnce()->succeeded, 1);
  EXPECT_EQ(graph_.PfxCount(), 1u);
}

TEST_F(DispatcherTest, AGraphRejectionFailsTheItemWithItsRequestId) {
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  StatusDetails d{400, "BadRequest", "req-42", std::nullopt};
  graph_.Inject({"POST", kPfxPath, Fault::kError,
                 Status(StatusCode::kInvalidArgument, "An error has occurred", d)});
  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, Options());
  EXPECT_EQ(dispatcher.RunOnce()->failed, 1);
  store::WorkItem failed = Item(queued.id);
  EXPECT_EQ(failed.status, store::ItemStatus::kFailed);
  EXPECT_EQ(failed.error_code, "BadRequest");
  EXPECT_EQ(failed.request_id, "req-42");
  EXPECT_TRUE(failed.pfx_blob.has_value()) << "kept for a retry";
  Result<std::vector<store::AuditRecord>> audit = store_->ListAudit(1);
  ASSERT_THAT(audit.status(), IsOk());
  EXPECT_EQ(audit->front().outcome, "failed: BadRequest");
  EXPECT_EQ(audit->front().request_ids, "req-42");
}

TEST_F(DispatcherTest, AFailedEnrollmentEnqueuesEnrollmentFailedWithItsOutcome) {
  Notifier notifier({{"https://h.example/x", {"enrollment.failed"}, "S", {30}}}, clock_);
  DispatcherOptions o = Options();
  o.notifier = &notifier;
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  graph_.Inject({"POST", kPfxPath, Fault::kError, UnavailableError("503 from Graph"), 3});
  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, o);
  EXPECT_EQ(dispatcher.RunOnce()->handed_back, 1);
  EXPECT_THAT(store_->ListNotifications(10).value(), ::testing::IsEmpty()) << "not final yet";

  StatusDetails d{400, "BadRequest", "req-42", std::nullopt};
  graph_.Inject({"POST", kPfxPath, Fault::kError,
                 Status(StatusCode::kInvalidArgument, "An error has occurred", d)});
  EXPECT_EQ(dispatcher.RunOnce()->failed, 1);
  Result<std::vector<store::Notification>> outbox = store_->ListNotifications(10);
  ASSERT_THAT(outbox.status(), IsOk());
  ASSERT_EQ(outbox->size(), 1u);
  const store::Notification& n = outbox->front();
  EXPECT_EQ(n.event, "enrollment.failed");
  EXPECT_EQ(n.dedupe_key, "enrollment.failed https://h.example/x " + queued.id);
  const nlohmann::json data = nlohmann::json::parse(n.body)["data"];
  EXPECT_EQ(data["id"], queued.id);
  EXPECT_EQ(data["userPrincipalName"], "alice@contoso.com");
  EXPECT_EQ(data["thumbprint"], queued.thumbprint);
  EXPECT_EQ(data["error"]["code"], "BadRequest");
  EXPECT_EQ(data["error"]["requestId"], "req-42");
  // Names, ids and codes only: neither the sealed password nor the PFX.
  EXPECT_EQ(n.body.find(queued.sealed_password), std::string::npos);
  EXPECT_EQ(n.body.find(FixturePassword().RevealAsString()), std::string::npos);
  EXPECT_EQ(data.size(), 5u) << data.dump();
}

TEST_F(DispatcherTest, WhenAProfileCannotBeCreatedNothingIsImported) {
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  graph_.Inject({"POST", kConfigPath, Fault::kError, UnavailableError("503"), 12});
  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, Options());
  EXPECT_EQ(dispatcher.RunOnce()->handed_back, 1);
  EXPECT_EQ(Count("POST", kPfxPath), 0);
  EXPECT_EQ(Item(queued.id).status, store::ItemStatus::kQueued);
  EXPECT_EQ(dispatcher.RunOnce()->succeeded, 1);
}

TEST_F(DispatcherTest, ItemsSealedToAnotherConnectorKeyFail) {
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  DispatcherOptions o = Options();
  o.connector_key_fingerprint = "0000";
  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, o);
  EXPECT_EQ(dispatcher.RunOnce()->failed, 1);
  EXPECT_EQ(Item(queued.id).error_code, "failed-precondition");
  EXPECT_EQ(graph_.Writes(), 0);
}

TEST_F(DispatcherTest, StoppingHandsBackImportsNotYetSent) {
  store::WorkItem queued = Enroll("alice.pfx", "alice@contoso.com");
  Dispatcher* self = nullptr;
  HookedGraph hooked(graph_, [&](std::string_view method, std::string_view path) {
    if (method == "POST" && path.rfind(kConfigPath, 0) == 0 && self != nullptr) {
      self->RequestStop();  // SIGTERM arrives while profiles are being created.
    }
  });
  Dispatcher dispatcher(*store_, hooked, config_, clock_, &metrics_, Options());
  self = &dispatcher;
  Result<DispatchResult> r = dispatcher.RunOnce();
  EXPECT_EQ(r->handed_back, 1);
  EXPECT_EQ(Count("POST", kPfxPath), 0);
  store::WorkItem back = Item(queued.id);
  EXPECT_EQ(back.status, store::ItemStatus::kQueued);
  EXPECT_EQ(back.error_code, "cancelled");
  EXPECT_EQ(dispatcher.RunOnce()->claimed, 0) << "a stopped dispatcher claims nothing";
}

TEST_F(DispatcherTest, OnlyTheCurrentWaveOfARunningRolloutIsClaimed) {
  store::Rollout rollout;
  rollout.id = "r1";
  rollout.name = "n";
  rollout.manifest_path = "/inbox/m.csv";
  rollout.start_at = clock_.Now();
  rollout.waves_json = R"([{"percent":50},{"percent":100}])";
  std::vector<store::WorkItem> items;
  for (auto [pfx, upn, wave] : {std::tuple{"alice.pfx", "alice@contoso.com", 1},
                                std::tuple{"bob.pfx", "bob@contoso.com", 2}}) {
    std::vector<pkcs::Certificate> none;
    PreparedItem p =
        PrepareItem(PrepareContext{config_, *key_, none, clock_.Now()}, ReadPkiBytes(pfx),
                    FixturePassword(), upn, pkcs::Purpose::kSmimeEncryption);
    ASSERT_TRUE(p.deployable);
    p.item.id = std::string("ri-") + pfx;
    p.item.kind = store::ItemKind::kRollout;
    p.item.rollout_id = "r1";
    p.item.wave = wave;
    items.push_back(p.item);
  }
  ASSERT_THAT(store_->CreateRollout(rollout, items), IsOk());
  Dispatcher dispatcher(*store_, graph_, config_, clock_, &metrics_, Options());
  EXPECT_EQ(dispatcher.RunOnce()->claimed, 0) << "scheduled, not running";

  store::RolloutUpdate start{store::RolloutStatus::kScheduled, store::RolloutStatus::kRunning,
                      store::RolloutUpdate::Wave{1, clock_.Now(), std::nullopt}};
  ASSERT_THAT(store_->UpdateRollout("r1", start).status(), IsOk());
  Result<DispatchResult> r = dispatcher.RunOnce();
  EXPECT_EQ(r->claimed, 1);
  EXPECT_EQ(r->succeeded, 1);
  EXPECT_EQ(Item("ri-alice.pfx").status, store::ItemStatus::kSucceeded);
  EXPECT_EQ(Item("ri-bob.pfx").status, store::ItemStatus::kQueued);
  EXPECT_EQ(dispatcher.RunOnce()->claimed, 0) << "wave 2 has not started";

  store::RolloutUpdate pause{store::RolloutStatus::kRunning, store::RolloutStatus::kPaused, std::nullopt};
  store::RolloutUpdate next{store::RolloutStatus::kPaused, store::RolloutStatus::kPaused,
                     store::RolloutUpdate::Wave{2, clock_.Now(), std::nullopt}};
  ASSERT_THAT(store_->UpdateRollout("r1", pause).status(), IsOk());
  ASSERT_THAT(store_->UpdateRollout("r1", next).status(), IsOk());
  EXPECT_EQ(dispatcher.RunOnce()->claimed, 0) << "paused";
}

TEST(StoredPfxTest, EnvelopeRoundTripsAndBarePfxDecodes) {
  CertificateFacts facts;
  facts.not_before = SystemTime(std::chrono::seconds(1000));
  facts.not_after = SystemTime(std::chrono::seconds(2000));
  Result<std::vector<pkcs::Certificate>> ca =
      pkcs::ParseCertificatesPem(::certdeploy::testing::ReadPkiText("ca.pem"));
  ASSERT_THAT(ca.status(), IsOk());
  facts.chain.push_back({(*ca)[0], pkcs::ChainRole::kIntermediate, false});
  const std::string pfx("\x30\x82\x01\x02rest", 8);
  std::vector<uint8_t> blob = EncodeStoredPfx(pfx, facts);
  Result<StoredPfx> back = DecodeStoredPfx(blob);
  ASSERT_THAT(back.status(), IsOk());
  EXPECT_TRUE(back->has_facts);
  EXPECT_EQ(back->pfx, pfx);
  EXPECT_EQ(back->facts.not_after, facts.not_after);
  ASSERT_EQ(back->facts.chain.size(), 1u);
  EXPECT_EQ(back->facts.chain[0].cert.sha1, (*ca)[0].sha1);

  std::vector<uint8_t> bare(pfx.begin(), pfx.end());
  Result<StoredPfx> plain = DecodeStoredPfx(bare);
  ASSERT_THAT(plain.status(), IsOk());
  EXPECT_FALSE(plain->has_facts);
  EXPECT_EQ(plain->pfx, pfx);

  std::vector<uint8_t> torn(blob.begin(), blob.begin() + 20);
  EXPECT_THAT(DecodeStoredPfx(torn).status(),
              ::certdeploy::testing::StatusIs(StatusCode::kDataLoss));
}

}  // namespace
}  // namespace certdeploy::service
