// Executor tests against an in-memory Graph (tests/support/fake_graph_client.h): apply order, the
// read-before-resend rule under lost responses, 409 handling, stale PFX files, replace-the-set
// assignments, and secrets kept out of everything but the sealed field.

#include "deploy/executor.h"

#include "deploy/observe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "base/encoding.h"
#include "base/time_format.h"
#include "pkcs/digest.h"
#include "tests/support/fake_ca.h"
#include "tests/support/fake_graph_client.h"
#include "tests/support/status_matchers.h"

namespace certdeploy::deploy {
namespace {

using ::certdeploy::testing::FakeGraphClient;
using ::certdeploy::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;
using Fault = FakeGraphClient::Fault;
using config::Platform;
using namespace std::chrono_literals;

const SystemTime kNow = SystemTime(std::chrono::seconds(1798000000));
constexpr char kGroup[] = "0b1c2d3e-0000-4000-8000-000000000001";
constexpr char kOldGroup[] = "0b1c2d3e-0000-4000-8000-00000000000f";
constexpr char kPfxPath[] = "/deviceManagement/userPfxCertificates";
constexpr char kConfigPath[] = "/deviceManagement/deviceConfigurations";

pkcs::Certificate Ca(char tag, const std::string& cn) {
  return ::certdeploy::testing::FakeCa(tag, cn, kNow);
}

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("executor_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    options_.concurrency = 4;
    options_.passwords = [](const Action& a) -> Result<SecretBytes> {
      return SecretBytes("S3cret-pw-line-" + std::to_string(a.line));
    };
    options_.seal = [this](const SecretBytes& password) -> Result<std::string> {
      ++seals_;
      return "sealed-" + std::to_string(password.size());
    };
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteFile(const std::string& name, const std::string& bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  // Two CAs and an imported profile on iOS, assigned to kGroup, and `users` PFX imports.
  DesiredState Desired(int users) {
    DesiredState d;
    d.trusted.push_back(
        {Platform::kIos, Ca('r', "Top Root"), pkcs::ChainRole::kRoot, "S/MIME Top Root (ios)"});
    d.trusted.push_back({Platform::kIos, Ca('i', "Issuing CA"), pkcs::ChainRole::kIntermediate,
                         "S/MIME Issuing CA (ios)"});
    d.imported.push_back({Platform::kIos, pkcs::Purpose::kSmimeEncryption,
                          "S/MIME imported PFX smimeEncryption (ios)"});
    d.assign_to.groups = {kGroup};
    for (int i = 0; i < users; ++i) {
      DesiredUserPfx u;
      u.line = i + 2;
      u.upn = "user" + std::to_string(i) + "@contoso.com";
      std::string bytes = "pfx-bytes-of-" + u.upn;
      u.pfx_file = WriteFile("u" + std::to_string(i) + ".pfx", bytes);
      u.pfx_sha256 = pkcs::Sha256Hex(bytes);
      u.thumbprint = pkcs::Sha1Hex(bytes);
      u.not_before = kNow - 24h;
      u.not_after = kNow + 365 * 24h;
      d.pfx.push_back(u);
    }
    return d;
  }

  Plan PlanFor(const DesiredState& d) { return ComputePlan(d, {}, kNow); }

  // Index of the first request matching, or -1.
  static int IndexOf(const std::vector<FakeGraphClient::Request>& requests,
                     const std::function<bool(const FakeGraphClient::Request&)>& match,
                     bool last = false) {
    int found = -1;
    for (size_t i = 0; i < requests.size(); ++i) {
      if (match(requests[i])) {
        found = static_cast<int>(i);
        if (!last) break;
      }
    }
    return found;
  }

  std::filesystem::path dir_;
  ExecutorOptions options_;
  std::atomic<int> seals_{0};
  FakeGraphClient graph_;
};

TEST_F(ExecutorTest, WritesInApplyOrderAndEverythingLands) {
  Plan plan = PlanFor(Desired(6));
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.succeeded(), 3 + 3 + 6);  // 2 trusted + 1 imported, 3 assigns, 6 imports.
  EXPECT_EQ(graph_.Writes(), 12);

  auto reqs = graph_.Requests();
  auto is_type = [](const std::string& suffix) {
    return [suffix](const FakeGraphClient::Request& r) {
      return r.method == "POST" && r.path == kConfigPath &&
             r.body.value("@odata.type", "").ends_with(suffix);
    };
  };
  auto is_assign = [](const FakeGraphClient::Request& r) { return r.path.ends_with("/assign"); };
  auto is_pfx = [](const FakeGraphClient::Request& r) {
    return r.method == "POST" && r.path == kPfxPath;
  };
  int last_trusted = IndexOf(reqs, is_type("TrustedRootCertificate"), true);
  int imported = IndexOf(reqs, is_type("ImportedPFXCertificateProfile"));
  int first_assign = IndexOf(reqs, is_assign);
  int last_assign = IndexOf(reqs, is_assign, true);
  int first_pfx = IndexOf(reqs, is_pfx);
  ASSERT_GE(last_trusted, 0);
  EXPECT_LT(last_trusted, imported);
  EXPECT_LT(imported, first_assign);
  EXPECT_LT(last_assign, first_pfx);

  // Every profile, including the ones created in this run, carries exactly the desired set.
  for (const nlohmann::json& c : graph_.Configurations()) {
    auto a = graph_.AssignmentsOf(c["id"]);
    ASSERT_THAT(a, SizeIs(1)) << c.dump();
    EXPECT_EQ(a[0]["target"]["@odata.type"], "#microsoft.graph.groupAssignmentTarget");
    EXPECT_EQ(a[0]["target"]["groupId"], kGroup);
  }
  EXPECT_EQ(graph_.PfxCount(), 6u);
  EXPECT_EQ(seals_.load(), 6);
}

TEST_F(ExecutorTest, ProfileAndRecordBodiesCarryWhatIntuneNeeds) {
  Plan plan = PlanFor(Desired(1));
  ASSERT_TRUE(ExecutePlan(plan, graph_, options_).ok());
  int trusted = 0;
  for (const nlohmann::json& c : graph_.Configurations()) {
    if (c["@odata.type"] == "#microsoft.graph.iosTrustedRootCertificate") {
      ++trusted;
      std::optional<std::string> der = Base64Decode(c["trustedRootCertificate"].get<std::string>());
      ASSERT_TRUE(der.has_value());
      EXPECT_THAT(c["description"].get<std::string>(), HasSubstr("certdeploy"));
      EXPECT_THAT(c["description"].get<std::string>(), HasSubstr(pkcs::Sha1Hex(*der)));
      EXPECT_THAT(c["certFileName"].get<std::string>(), ::testing::EndsWith(".cer"));
      EXPECT_FALSE(c.contains("destinationStore"));
    } else {
      EXPECT_EQ(c["@odata.type"], "#microsoft.graph.iosImportedPFXCertificateProfile");
      EXPECT_EQ(c["intendedPurpose"], "smimeEncryption");
    }
  }
  EXPECT_EQ(trusted, 2);
  auto records = graph_.PfxRecords();
  ASSERT_THAT(records, SizeIs(1));
  const nlohmann::json& r = records[0];
  const Action& import = plan.actions.back();
  EXPECT_EQ(r["userPrincipalName"], "user0@contoso.com");
  EXPECT_EQ(r["thumbprint"], import.thumbprint);
  EXPECT_EQ(r["intendedPurpose"], "smimeEncryption");
  EXPECT_EQ(r["paddingScheme"], "oaepSha512");
  EXPECT_EQ(r["providerName"], "Microsoft Software Key Storage Provider");
  EXPECT_EQ(r["keyName"], "PFXEncryptionKey");
  EXPECT_EQ(r["startDateTime"], FormatRfc3339Utc(kNow - 24h));
  EXPECT_EQ(r["encryptedPfxBlob"], Base64Encode("pfx-bytes-of-user0@contoso.com"));
  EXPECT_EQ(r["encryptedPfxPassword"], "sealed-16");  // From the sealer, never the password.
}

TEST_F(ExecutorTest, WindowsTrustedProfilesGetTheStoreOfTheirRole) {
  Action root;
  root.kind = ActionKind::kCreateTrustedProfile;
  root.platform = Platform::kWindows;
  root.odata_type = TrustedRootType(Platform::kWindows);
  root.role = "root";
  root.cert_sha1 = "ab";
  EXPECT_EQ(TrustedProfileBody(root)["destinationStore"], "computerCertStoreRoot");
  root.role = "intermediate";
  EXPECT_EQ(TrustedProfileBody(root)["destinationStore"], "computerCertStoreIntermediate");
}

TEST_F(ExecutorTest, DroppedResponsesAreReconciledByReadingNeverResent) {
  Plan plan = PlanFor(Desired(3));
  graph_.Inject({"POST", kConfigPath, Fault::kDropAfterApply, {}, 3});  // Every profile.
  graph_.Inject({"POST", kConfigPath + std::string("/"), Fault::kDropAfterApply, {}, 3});
  graph_.Inject({"POST", kPfxPath, Fault::kDropAfterApply, {}, 3});  // Every record.
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  ASSERT_TRUE(report.ok()) << report.items[0].status;
  EXPECT_EQ(report.reconciled(), 9);
  for (const ItemResult& r : report.items) {
    EXPECT_EQ(r.attempts, 1) << r.key;
    EXPECT_FALSE(r.object_id.empty()) << r.key;
  }
  EXPECT_EQ(graph_.Writes(), 9);  // Not one resend.
  EXPECT_EQ(graph_.Configurations().size(), 3u);
  EXPECT_EQ(graph_.PfxCount(), 3u);
  for (const nlohmann::json& c : graph_.Configurations()) {
    EXPECT_THAT(graph_.AssignmentsOf(c["id"]), SizeIs(1));  // Assign found the reconciled ids.
  }
}

TEST_F(ExecutorTest, LostBeforeApplyIsResentOnlyAfterAReadShowsItMissing) {
  Plan plan = PlanFor(Desired(1));
  graph_.Inject({"POST", kPfxPath, Fault::kLoseBeforeApply});
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  ASSERT_TRUE(report.ok());
  const ItemResult& item = report.items.back();
  EXPECT_EQ(item.kind, ActionKind::kImportUserPfx);
  EXPECT_EQ(item.attempts, 2);
  EXPECT_FALSE(item.reconciled);
  auto reqs = graph_.Requests();
  int first_post = IndexOf(reqs, [](auto& r) { return r.method == "POST" && r.path == kPfxPath; });
  int check = IndexOf(reqs, [](auto& r) {
    return r.method == "GET" && r.path == kPfxPath &&
           r.query.find("thumbprint") != std::string::npos;
  });
  int second_post = IndexOf(
      reqs, [](auto& r) { return r.method == "POST" && r.path == kPfxPath; }, true);
  EXPECT_LT(first_post, check);
  EXPECT_LT(check, second_post);
  EXPECT_EQ(graph_.PfxCount(), 1u);
}

TEST_F(ExecutorTest, UnknownOutcomeWithAFailedReadIsNotResent) {
  Plan plan = PlanFor(Desired(1));
  graph_.Inject({"POST", kPfxPath, Fault::kLoseBeforeApply});
  graph_.Inject({"GET", kPfxPath, Fault::kError, UnavailableError("read failed"), 5});
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  const ItemResult& item = report.items.back();
  EXPECT_FALSE(item.ok);
  EXPECT_THAT(item.status, StatusIs(StatusCode::kUnknownOutcome, HasSubstr("not resent")));
  EXPECT_EQ(item.attempts, 1);
  EXPECT_EQ(graph_.PfxCount(), 0u);
  EXPECT_EQ(report.failed(), 1);
}

TEST_F(ExecutorTest, ConflictIsVerifiedByReadingThenCountsAsDone) {
  DesiredState d = Desired(1);
  Plan plan = PlanFor(d);
  // Someone imported the same certificate after the plan was made.
  graph_.AddPfx({{"id", "u-user0@contoso.com-" + d.pfx[0].thumbprint},
                 {"userPrincipalName", "user0@contoso.com"},
                 {"thumbprint", d.pfx[0].thumbprint},
                 {"intendedPurpose", "smimeEncryption"},
                 {"paddingScheme", "oaepSha512"},
                 {"startDateTime", "2026-01-01T00:00:00Z"},
                 {"expirationDateTime", "2027-01-01T00:00:00Z"}});
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  const ItemResult& item = report.items.back();
  EXPECT_TRUE(item.ok) << item.status;
  EXPECT_TRUE(item.reconciled);
  EXPECT_EQ(item.object_id, "u-user0@contoso.com-" + d.pfx[0].thumbprint);
  EXPECT_EQ(graph_.PfxCount(), 1u);
}

TEST_F(ExecutorTest, DuplicateImportRefusedWith400IsReadBackAndCountsAsDone) {
  DesiredState d = Desired(1);
  Plan plan = PlanFor(d);
  ExecutionReport first = ExecutePlan(plan, graph_, options_);
  ASSERT_EQ(first.failed(), 0);
  // A stale plan runs again: the import service answers the second create with its opaque 400.
  ExecutionReport again = ExecutePlan(plan, graph_, options_);
  const ItemResult& item = again.items.back();
  EXPECT_TRUE(item.ok) << item.status;
  EXPECT_TRUE(item.reconciled);
  EXPECT_EQ(item.object_id, "u-user0@contoso.com-" + d.pfx[0].thumbprint);
  EXPECT_EQ(graph_.PfxCount(), 1u);
}

TEST_F(ExecutorTest, A400ThatReadsAbsentIsTheRefusalAsGraphGaveIt) {
  Plan plan = PlanFor(Desired(1));
  StatusDetails details{400, "BadRequest", "req-400", std::nullopt};
  graph_.Inject({"POST", kPfxPath, Fault::kError,
                 Status(StatusCode::kInvalidArgument, "HTTP 400: An error has occurred", details)});
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  const ItemResult& item = report.items.back();
  EXPECT_FALSE(item.ok);
  EXPECT_THAT(item.status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(item.status.message(), "HTTP 400: An error has occurred");
  EXPECT_EQ(item.attempts, 1);
  EXPECT_EQ(graph_.PfxCount(), 0u);
}

TEST_F(ExecutorTest, ImportAnsweredWithAnEmpty201SucceedsAndFindsItsId) {
  DesiredState d = Desired(1);
  Plan plan = PlanFor(d);
  graph_.Inject({"POST", kPfxPath, Fault::kBareAnswer});
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  const ItemResult& item = report.items.back();
  EXPECT_TRUE(item.ok) << item.status;
  EXPECT_EQ(item.attempts, 1);
  EXPECT_EQ(item.object_id, "u-user0@contoso.com-" + d.pfx[0].thumbprint);
  EXPECT_EQ(graph_.PfxCount(), 1u);
}

// A tenant holding user0's record sealed to OldKey, and the desired state naming the executor's
// (default) key: the plan re-seals it.
Plan ReSealPlan(FakeGraphClient& graph, DesiredState& d) {
  d.seal = {"Microsoft Software Key Storage Provider", "PFXEncryptionKey", "oaepSha512"};
  graph.AddPfx({{"id", "u-user0@contoso.com-" + d.pfx[0].thumbprint},
                {"userPrincipalName", "user0@contoso.com"},
                {"thumbprint", d.pfx[0].thumbprint},
                {"intendedPurpose", "smimeEncryption"},
                {"providerName", "Microsoft Software Key Storage Provider"},
                {"keyName", "OldKey"},
                {"paddingScheme", "oaepSha512"},
                {"startDateTime", "2026-01-01T00:00:00Z"},
                {"expirationDateTime", "2027-01-01T00:00:00Z"}});
  graph::IntuneApi intune(graph);
  Result<ObservedState> observed = ReadObservedState(intune, {"user0@contoso.com"});
  EXPECT_TRUE(observed.ok()) << observed.status();
  return ComputePlan(d, observed.value_or(ObservedState{}), kNow);
}

TEST_F(ExecutorTest, ReSealPatchesTheRecordWithAFreshBlobAndPassword) {
  DesiredState d = Desired(1);
  Plan plan = ReSealPlan(graph_, d);
  ASSERT_EQ(plan.actions.back().kind, ActionKind::kUpdateUserPfx) << plan.actions.back().description;
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  const ItemResult& item = report.items.back();
  EXPECT_TRUE(item.ok) << item.status;
  EXPECT_EQ(item.object_id, "u-user0@contoso.com-" + d.pfx[0].thumbprint);
  ASSERT_THAT(graph_.PfxRecords(), SizeIs(1));
  const nlohmann::json record = graph_.PfxRecords()[0];
  EXPECT_EQ(record["keyName"], "PFXEncryptionKey");
  EXPECT_EQ(record["encryptedPfxPassword"], "sealed-" + std::to_string(
                                                std::string("S3cret-pw-line-2").size()));
  EXPECT_EQ(record["encryptedPfxBlob"], Base64Encode("pfx-bytes-of-user0@contoso.com"));
  int patches = 0, posts = 0;
  for (const auto& r : graph_.Requests()) {
    if (r.path.rfind(kPfxPath, 0) != 0) continue;
    patches += r.method == "PATCH";
    posts += r.method == "POST";
  }
  EXPECT_EQ(patches, 1);
  EXPECT_EQ(posts, 0);
}

TEST_F(ExecutorTest, ReSealWithALostAnswerIsReadBackNotResent) {
  DesiredState d = Desired(1);
  Plan plan = ReSealPlan(graph_, d);
  graph_.Inject({"PATCH", kPfxPath, Fault::kDropAfterApply});
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  const ItemResult& item = report.items.back();
  EXPECT_TRUE(item.ok) << item.status;
  EXPECT_TRUE(item.reconciled);
  EXPECT_EQ(item.attempts, 1);
}

TEST_F(ExecutorTest, ConflictThatCannotBeReadBackFails) {
  Plan plan = PlanFor(Desired(1));
  StatusDetails details{409, "Conflict", "req-409", std::nullopt};
  graph_.Inject(
      {"POST", kPfxPath, Fault::kError, Status(StatusCode::kAlreadyExists, "HTTP 409", details)});
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  const ItemResult& item = report.items.back();
  EXPECT_FALSE(item.ok);
  EXPECT_THAT(item.status, StatusIs(StatusCode::kAlreadyExists));
  ASSERT_NE(item.status.details(), nullptr);
  EXPECT_EQ(item.status.details()->request_id, "req-409");
  EXPECT_EQ(item.attempts, 1);
}

TEST_F(ExecutorTest, ChangedPfxFileIsRefusedForThatItemOnly) {
  DesiredState d = Desired(3);
  Plan plan = PlanFor(d);
  WriteFile("u1.pfx", "replaced after review");
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  EXPECT_EQ(report.failed(), 1);
  for (const ItemResult& r : report.items) {
    if (r.key.find("user1@") != std::string::npos) {
      EXPECT_THAT(r.status, StatusIs(StatusCode::kFailedPrecondition, HasSubstr("changed")));
      EXPECT_EQ(r.attempts, 0);
    } else {
      EXPECT_TRUE(r.ok) << r.key;
    }
  }
  EXPECT_EQ(graph_.PfxCount(), 2u);
  EXPECT_EQ(seals_.load(), 2);  // The refused item's password was never read or sealed.
}

TEST_F(ExecutorTest, GraphRefusalKeepsErrorCodeAndRequestIdAndIsNotRetried) {
  Plan plan = PlanFor(Desired(2));
  StatusDetails details{400, "BadRequest", "req-abc", std::nullopt};
  graph_.Inject({"POST", kPfxPath, Fault::kError,
                 Status(StatusCode::kInvalidArgument, "HTTP 400 BadRequest", details)});
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  EXPECT_EQ(report.failed(), 1);
  for (const ItemResult& r : report.items) {
    if (r.ok) continue;
    EXPECT_EQ(r.attempts, 1);
    ASSERT_NE(r.status.details(), nullptr);
    EXPECT_EQ(r.status.details()->service_code, "BadRequest");
    EXPECT_EQ(r.status.details()->request_id, "req-abc");
  }
}

TEST_F(ExecutorTest, TransientFailuresAreBoundedAndBlockTheProfilesAssignment) {
  Plan plan = PlanFor(Desired(0));
  options_.concurrency = 1;
  options_.max_attempts = 3;
  graph_.Inject({"POST", kConfigPath, Fault::kError, UnavailableError("503"), 3});
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  // The first create (the root, planned first) takes all three failures.
  const ItemResult& first = report.items[0];
  EXPECT_FALSE(first.ok);
  EXPECT_EQ(first.attempts, 3);
  EXPECT_THAT(first.status, StatusIs(StatusCode::kUnavailable, HasSubstr("gave up after 3")));
  int blocked = 0;
  for (const ItemResult& r : report.items) {
    if (r.kind == ActionKind::kAssignProfile && r.key == first.key) {
      EXPECT_THAT(r.status, StatusIs(StatusCode::kFailedPrecondition, HasSubstr("not created")));
      ++blocked;
    }
  }
  EXPECT_EQ(blocked, 1);
  EXPECT_EQ(graph_.Configurations().size(), 2u);
}

TEST_F(ExecutorTest, AssignReplacesTheWholeSetOnAnExistingProfile) {
  DesiredState d = Desired(0);
  ObservedState o;
  graph_.AddConfiguration(
      {{"id", "existing"},
       {"@odata.type", "#microsoft.graph.iosImportedPFXCertificateProfile"},
       {"displayName", "old name"},
       {"intendedPurpose", "smimeEncryption"}},
      {{{"target",
         {{"@odata.type", "#microsoft.graph.groupAssignmentTarget"}, {"groupId", kOldGroup}}}}});
  o.profiles.push_back({"existing",
                        "#microsoft.graph.iosImportedPFXCertificateProfile",
                        "old name",
                        "",
                        pkcs::Purpose::kSmimeEncryption,
                        {{"#microsoft.graph.groupAssignmentTarget", kOldGroup}}});
  Plan plan = ComputePlan(d, o, kNow);
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  ASSERT_TRUE(report.ok());
  auto a = graph_.AssignmentsOf("existing");
  ASSERT_THAT(a, SizeIs(1));
  EXPECT_EQ(a[0]["target"]["groupId"], kGroup);
  auto reqs = graph_.Requests();
  int assign = IndexOf(reqs, [](auto& r) { return r.path.ends_with("existing/assign"); });
  ASSERT_GE(assign, 0);
  EXPECT_THAT(reqs[assign].body["assignments"], SizeIs(1));  // The full set, not a delta.
}

TEST_F(ExecutorTest, DeleteTreatsNotFoundAsDoneAndWaitsForItsSuccessor) {
  Plan plan;
  Action del;
  del.kind = ActionKind::kDeleteUserPfx;
  del.key = "pfx/a@contoso.com/old";
  del.upn = "a@contoso.com";
  del.record_id = "gone-already";
  del.purpose = pkcs::Purpose::kSmimeEncryption;
  plan.actions.push_back(del);
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report.items[0].reconciled);

  // With a failing import of the same user and purpose, the expired record stays.
  DesiredState d = Desired(1);
  Plan with_import = PlanFor(d);
  del.upn = "User0@contoso.com";
  with_import.actions.push_back(del);
  graph_.Inject({"POST", kPfxPath, Fault::kError, InvalidArgumentError("refused")});
  ExecutionReport second = ExecutePlan(with_import, graph_, options_);
  EXPECT_EQ(second.failed(), 2);
  EXPECT_THAT(second.items.back().status,
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("supersedes")));
  int deletes = 0;
  for (const auto& r : graph_.Requests()) deletes += r.method == "DELETE" ? 1 : 0;
  EXPECT_EQ(deletes, 1);  // Only the first run's.
}

TEST_F(ExecutorTest, ADeleteAnsweredButNotDoneIsSentAgainAndThenReported) {
  graph_.AddPfx({{"id", "sticky"}, {"userPrincipalName", "a@contoso.com"}, {"thumbprint", "ab"}});
  Plan plan;
  Action del;
  del.kind = ActionKind::kDeleteUserPfx;
  del.key = "pfx/a@contoso.com/ab";
  del.upn = "a@contoso.com";
  del.record_id = "sticky";
  plan.actions.push_back(del);
  // The first DELETE is answered 204 and the record stays: read back, sent again, gone.
  graph_.Inject({"DELETE", kPfxPath, Fault::kAnswerWithoutApply});
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  ASSERT_TRUE(report.ok()) << report.items[0].status;
  EXPECT_EQ(report.items[0].attempts, 2);
  EXPECT_EQ(graph_.PfxCount(), 0u);
  // Each answered DELETE's request-id is kept (the offboarding's audit record names them).
  EXPECT_THAT(report.items[0].request_ids, ElementsAre("fake-request-id", "fake-request-id"));

  // Every DELETE answered, none done: the item fails after max_attempts, as Unavailable (the
  // record may still go: the daemon's offboarding tries again later).
  graph_.AddPfx({{"id", "sticky"}, {"userPrincipalName", "a@contoso.com"}, {"thumbprint", "ab"}});
  graph_.Inject({"DELETE", kPfxPath, Fault::kAnswerWithoutApply, {}, 10});
  report = ExecutePlan(plan, graph_, options_);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.items[0].attempts, options_.max_attempts);
  EXPECT_THAT(report.items[0].status,
              StatusIs(StatusCode::kUnavailable, HasSubstr("is still there")));
}

TEST_F(ExecutorTest, PasswordsNeverReachRequestsOrErrors) {
  Plan plan = PlanFor(Desired(2));
  graph_.Inject({"POST", kPfxPath, Fault::kError, InvalidArgumentError("refused")});
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  for (const auto& r : graph_.Requests()) {
    EXPECT_THAT(r.body.dump(), Not(HasSubstr("S3cret-pw")));
  }
  for (const ItemResult& r : report.items) {
    EXPECT_THAT(r.status.ToString(), Not(HasSubstr("S3cret-pw")));
  }
}

TEST_F(ExecutorTest, PasswordSourceFailureFailsTheItem) {
  Plan plan = PlanFor(Desired(1));
  options_.passwords = [](const Action&) -> Result<SecretBytes> {
    return NotFoundError("password file missing");
  };
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  EXPECT_THAT(report.items.back().status,
              StatusIs(StatusCode::kNotFound, HasSubstr("password of line 2")));
  EXPECT_EQ(graph_.PfxCount(), 0u);
}

TEST_F(ExecutorTest, ProgressCountsEveryWriteOnce) {
  Plan plan = PlanFor(Desired(5));
  std::vector<ExecutionProgress> seen;
  options_.on_progress = [&](const ExecutionProgress& p) { seen.push_back(p); };
  ExecutionReport report = ExecutePlan(plan, graph_, options_);
  ASSERT_THAT(seen, SizeIs(report.items.size()));
  EXPECT_EQ(seen.back().total, 11);
  EXPECT_EQ(seen.back().succeeded, 11);
  EXPECT_EQ(seen.back().phase, "user PFX");
  EXPECT_EQ(seen.front().phase, "trusted profiles");
}

}  // namespace
}  // namespace certdeploy::deploy
