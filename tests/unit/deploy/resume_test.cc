// Interrupt and resume against an in-memory Graph (tests/support/fake_graph_client.h): the
// executor's stop token, CheckResume telling a plan's own effects from drift, and the owner mark
// that keeps two configs from rewriting each other's assignment sets.

#include "deploy/resume.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "deploy/executor.h"
#include "deploy/observe.h"
#include "pkcs/digest.h"
#include "tests/support/fake_ca.h"
#include "tests/support/fake_graph_client.h"

namespace certdeploy::deploy {
namespace {

using ::certdeploy::testing::FakeGraphClient;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using config::Platform;
using namespace std::chrono_literals;

const SystemTime kNow = SystemTime(std::chrono::seconds(1798000000));
constexpr char kGroup[] = "0b1c2d3e-0000-4000-8000-000000000001";
constexpr char kExcluded[] = "0b1c2d3e-0000-4000-8000-0000000000ee";
constexpr char kAssignTarget[] = "#microsoft.graph.groupAssignmentTarget";

pkcs::Certificate Ca(char tag, const std::string& cn) {
  return ::certdeploy::testing::FakeCa(tag, cn, kNow);
}

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("resume_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    options_.concurrency = 1;  // Deterministic: the stop lands between two known items.
    options_.passwords = [](const Action&) -> Result<SecretBytes> { return SecretBytes("pw"); };
    options_.seal = [](const SecretBytes&) -> Result<std::string> { return "sealed"; };
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A root CA and an imported profile on iOS assigned to kGroup, and `users` PFX imports.
  DesiredState Desired(int users) {
    DesiredState d;
    d.trusted.push_back({Platform::kIos, Ca('r', "Root"), pkcs::ChainRole::kRoot, "Root (ios)"});
    d.imported.push_back({Platform::kIos, pkcs::Purpose::kSmimeEncryption, "PFX (ios)"});
    d.assign_to.groups = {kGroup};
    d.seal = {options_.provider_name, options_.key_name, "oaepSha512"};
    for (int i = 0; i < users; ++i) {
      DesiredUserPfx u;
      u.line = i + 2;
      u.upn = "user" + std::to_string(i) + "@contoso.com";
      const std::string bytes = "pfx-bytes-of-" + u.upn;
      u.pfx_file = (dir_ / ("u" + std::to_string(i) + ".pfx")).string();
      std::ofstream(u.pfx_file, std::ios::binary) << bytes;
      u.pfx_sha256 = pkcs::Sha256Hex(bytes);
      u.thumbprint = pkcs::Sha1Hex(bytes);
      u.not_before = kNow - 24h;
      u.not_after = kNow + 365 * 24h;
      d.pfx.push_back(u);
      upns_.push_back(u.upn);
    }
    return d;
  }

  ObservedState Observe() {
    graph::IntuneApi intune(*graph_);
    Result<ObservedState> observed = ReadObservedState(intune, upns_);
    EXPECT_TRUE(observed.ok()) << observed.status();
    return observed.ok() ? *observed : ObservedState{};
  }

  Plan PlanNow(const DesiredState& d) { return ComputePlan(d, Observe(), kNow); }

  // Runs `plan` and sets the stop token once `after` items have finished.
  ExecutionReport RunAndStopAfter(const Plan& plan, int after) {
    std::atomic<bool> stop{false};
    ExecutorOptions options = options_;
    options.stop = &stop;
    options.on_progress = [&](const ExecutionProgress& p) {
      if (p.succeeded + p.failed >= after) stop.store(true);
    };
    return ExecutePlan(plan, *graph_, options);
  }

  std::filesystem::path dir_;
  std::vector<std::string> upns_;
  ExecutorOptions options_;
  std::unique_ptr<FakeGraphClient> graph_ = std::make_unique<FakeGraphClient>();
};

TEST_F(ResumeTest, StopTokenStartsNoFurtherWriteAndReportsTheRestNotRun) {
  DesiredState d = Desired(5);
  graph_->AddUsers(upns_);
  const Plan plan = PlanNow(d);
  ExecutionReport report = RunAndStopAfter(plan, 4);  // 2 profiles, 2 assigns: then stop.
  EXPECT_TRUE(report.interrupted());
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.succeeded(), 4);
  EXPECT_EQ(report.failed(), 0);
  EXPECT_EQ(report.not_run(), 5);
  EXPECT_EQ(graph_->Writes(), 4);
  EXPECT_EQ(graph_->PfxCount(), 0u);
  for (const ItemResult& r : report.items) {
    if (r.not_run) {
      EXPECT_EQ(r.attempts, 0);
      EXPECT_EQ(r.status.code(), StatusCode::kCancelled);
    }
  }
}

TEST_F(ResumeTest, AnItemInFlightIsNotResentAfterTheStop) {
  DesiredState d = Desired(1);
  d.trusted.clear();
  d.imported.clear();
  graph_->AddUsers(upns_);
  const Plan plan = PlanNow(d);
  // The import's first POST fails as known-not-applied (the executor would resend it); the stop
  // comes while it is in flight (from the sealer, which runs just before the send).
  graph_->Inject({.method = "POST", .path_prefix = "/deviceManagement/userPfxCertificates"});
  std::atomic<bool> stop{false};
  ExecutorOptions options = options_;
  options.stop = &stop;
  options.seal = [&stop](const SecretBytes&) -> Result<std::string> {
    stop.store(true);
    return "sealed";
  };
  ExecutionReport report = ExecutePlan(plan, *graph_, options);
  ASSERT_THAT(report.items, SizeIs(1));
  EXPECT_FALSE(report.items[0].ok);
  EXPECT_FALSE(report.items[0].not_run);
  EXPECT_EQ(report.items[0].attempts, 1);
  EXPECT_THAT(std::string(report.items[0].status.message()), HasSubstr("not resent"));
  EXPECT_EQ(graph_->PfxCount(), 0u);

  // Without the stop the same failure is resent and the record lands.
  graph_->Inject({.method = "POST", .path_prefix = "/deviceManagement/userPfxCertificates"});
  EXPECT_TRUE(ExecutePlan(plan, *graph_, options_).ok());
  EXPECT_EQ(graph_->PfxCount(), 1u);
}

TEST_F(ResumeTest, InterruptedPlanResumesWithItsOwnEffectsAndSendsNothingTwice) {
  const DesiredState d = Desired(6);
  // 2 profile creates, 2 assigns, 6 imports. Stop after a create (its profile exists, still
  // unassigned), after an assign, and in the middle of the imports.
  for (int stop_after : {1, 3, 7}) {
    SCOPED_TRACE(stop_after);
    graph_ = std::make_unique<FakeGraphClient>();
    graph_->AddUsers(upns_);
    const Plan plan = PlanNow(d);
    const int total = 10;
    ExecutionReport first = RunAndStopAfter(plan, stop_after);
    ASSERT_TRUE(first.interrupted());
    ASSERT_EQ(graph_->Writes(), stop_after);

    ResumeCheck check = CheckResume(plan, Observe(), d.seal);
    ASSERT_THAT(check.unexplained, IsEmpty());
    EXPECT_EQ(check.done, stop_after);
    ExecutionReport second = ExecutePlan(check.remaining, *graph_, options_);
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second.succeeded(), total - stop_after);
    EXPECT_EQ(second.reconciled(), 0);  // Nothing found already there: nothing sent twice.
    EXPECT_EQ(graph_->Writes(), total);
    EXPECT_EQ(graph_->PfxCount(), 6u);
    ASSERT_THAT(graph_->Configurations(), SizeIs(2));
    for (const nlohmann::json& c : graph_->Configurations()) {
      auto a = graph_->AssignmentsOf(c["id"]);
      ASSERT_THAT(a, SizeIs(1));
      EXPECT_EQ(a[0]["target"]["groupId"], kGroup);
    }
    // Finished: the same plan now has nothing left.
    ResumeCheck after = CheckResume(plan, Observe(), d.seal);
    EXPECT_THAT(after.unexplained, IsEmpty());
    EXPECT_EQ(after.done, total);
    EXPECT_FALSE(after.remaining.HasWrites());
  }
}

TEST_F(ResumeTest, DriftAfterAnInterruptIsStillRefused) {
  const DesiredState d = Desired(3);
  graph_->AddUsers(upns_);
  const Plan plan = PlanNow(d);
  RunAndStopAfter(plan, 5);  // Profiles, assignments, one import.
  ASSERT_THAT(CheckResume(plan, Observe(), d.seal).unexplained, IsEmpty());

  // Someone re-assigns a profile by hand: not this plan's doing.
  const std::string id = graph_->Configurations().front()["id"];
  graph::IntuneApi intune(*graph_);
  ASSERT_TRUE(intune.Assign(id, {{{"target", {{"@odata.type", kAssignTarget},
                                              {"groupId", kExcluded}}}}}).ok());
  ResumeCheck check = CheckResume(plan, Observe(), d.seal);
  ASSERT_THAT(check.unexplained, SizeIs(1));
  EXPECT_EQ(check.unexplained[0], "assign/" + id + " appeared");  // Created by the plan.
}

TEST_F(ResumeTest, ARecordThePlanDoesNotImportIsDrift) {
  const DesiredState d = Desired(2);
  graph_->AddUsers(upns_);
  const Plan plan = PlanNow(d);
  RunAndStopAfter(plan, 4);
  graph_->AddPfx({{"id", "foreign"},
                  {"userPrincipalName", "user0@contoso.com"},
                  {"thumbprint", "00112233445566778899aabbccddeeff00112233"},
                  {"intendedPurpose", "smimeEncryption"},
                  {"expirationDateTime", "2030-01-01T00:00:00Z"},
                  {"startDateTime", "2020-01-01T00:00:00Z"},
                  {"providerName", "Microsoft Software Key Storage Provider"},
                  {"keyName", "PFXEncryptionKey"},
                  {"paddingScheme", "oaepSha512"}});
  ResumeCheck check = CheckResume(plan, Observe(), d.seal);
  EXPECT_THAT(check.unexplained, ::testing::ElementsAre("pfx/foreign appeared"));
}

TEST_F(ResumeTest, APlanWithoutPartDigestsCannotBeResumed) {
  const DesiredState d = Desired(1);
  graph_->AddUsers(upns_);
  Plan plan = PlanNow(d);
  plan.observed_parts.clear();
  RunAndStopAfter(plan, 1);
  EXPECT_THAT(CheckResume(plan, Observe(), d.seal).unexplained, SizeIs(1));
}

TEST_F(ResumeTest, AClaimWithoutItsAssignmentIsExplainedAndTheAssignStillRuns) {
  // A hand-made profile assigned elsewhere: the plan claims it (PATCH) and then assigns it.
  graph_->AddConfiguration({{"id", "p1"},
                            {"@odata.type", "#microsoft.graph.iosImportedPFXCertificateProfile"},
                            {"displayName", "made by hand"},
                            {"intendedPurpose", "smimeEncryption"}},
                           {{{"target",
                              {{"@odata.type", kAssignTarget}, {"groupId", kExcluded}}}}});
  DesiredState d = Desired(0);
  d.trusted.clear();
  const Plan plan = PlanNow(d);
  // The claim lands, every /assign fails: the run stops there.
  graph_->Inject({.method = "POST",
                  .path_prefix = "/deviceManagement/deviceConfigurations/p1/assign",
                  .times = 3});  // Every attempt of the one run.
  ASSERT_FALSE(ExecutePlan(plan, *graph_, options_).ok());
  const std::string claimed = graph_->Configurations()[0]["description"];
  ASSERT_FALSE(ParseAssignmentsOwner(claimed).empty());

  ResumeCheck check = CheckResume(plan, Observe(), d.seal);
  ASSERT_THAT(check.unexplained, IsEmpty());
  EXPECT_EQ(check.done, 0);
  ASSERT_TRUE(ExecutePlan(check.remaining, *graph_, options_).ok());
  auto a = graph_->AssignmentsOf("p1");
  ASSERT_THAT(a, SizeIs(1));
  EXPECT_EQ(a[0]["target"]["groupId"], kGroup);
}

// ---- Ownership of assignment sets ----

TEST(OwnerMarkTest, DigestIsCanonicalAndTheMarkRoundTrips) {
  std::vector<ObservedAssignment> a = {{kAssignTarget, "b"}, {kAssignTarget, "a"}};
  std::vector<ObservedAssignment> b = {{kAssignTarget, "a"}, {kAssignTarget, "b"}};
  EXPECT_EQ(AssignmentsOwnerDigest(a), AssignmentsOwnerDigest(b));
  EXPECT_THAT(AssignmentsOwnerDigest(a), SizeIs(12));
  EXPECT_NE(AssignmentsOwnerDigest(a), AssignmentsOwnerDigest({{kAssignTarget, "a"}}));
  EXPECT_EQ(AssignmentsOwnerDigest({}), "");
  const std::string d = AssignmentsOwnerDigest(a);
  EXPECT_EQ(ParseAssignmentsOwner("Managed by certdeploy: x." + AssignmentsOwnerMark(d)), d);
  EXPECT_EQ(ParseAssignmentsOwner("Managed by certdeploy: x."), "");
  EXPECT_EQ(ParseAssignmentsOwner("Assignments owner: not-hex-at-all."), "");
}

TEST_F(ResumeTest, AnotherConfigsAssignmentsAreRefusedUnlessTakenOver) {
  // Config 1 excludes a group and applies: its profiles carry its owner mark.
  DesiredState one = Desired(0);
  one.assign_to.exclude_groups = {kExcluded};
  ASSERT_TRUE(ExecutePlan(PlanNow(one), *graph_, options_).ok());
  const std::string mark = AssignmentsOwnerDigest(DesiredAssignments(one.assign_to));
  for (const nlohmann::json& c : graph_->Configurations()) {
    EXPECT_THAT(c["description"].get<std::string>(), HasSubstr("Assignments owner: " + mark));
  }

  // Config 2 (no exclusion) plans: each profile is a conflict, with no assign action.
  DesiredState two = Desired(0);
  Plan refused = PlanNow(two);
  int conflicts = 0;
  for (const Action& a : refused.actions) {
    EXPECT_NE(a.kind, ActionKind::kAssignProfile);
    if (a.kind != ActionKind::kInvalid) continue;
    ++conflicts;
    ASSERT_THAT(a.findings, SizeIs(1));
    EXPECT_EQ(a.findings[0].code, kAssignmentsOwnedElsewhere);
    EXPECT_THAT(a.findings[0].message,
                HasSubstr(std::string("assignTo.excludeGroups: [") + kExcluded + "] vs none"));
    EXPECT_THAT(a.findings[0].message, HasSubstr("--take-over-assignments"));
  }
  EXPECT_EQ(conflicts, 2);
  EXPECT_GT(refused.Summary().invalid, 0);

  // Config 1 again: its own mark, nothing to do.
  EXPECT_FALSE(PlanNow(one).HasWrites());

  // Config 2 takes over: assignments replaced, and the mark now names config 2.
  two.take_over_assignments = true;
  const Plan taken = PlanNow(two);
  ASSERT_TRUE(ExecutePlan(taken, *graph_, options_).ok());
  const std::string mark2 = AssignmentsOwnerDigest(DesiredAssignments(two.assign_to));
  for (const nlohmann::json& c : graph_->Configurations()) {
    EXPECT_THAT(c["description"].get<std::string>(), HasSubstr("Assignments owner: " + mark2));
    auto a = graph_->AssignmentsOf(c["id"]);
    ASSERT_THAT(a, SizeIs(1));
    EXPECT_EQ(a[0]["target"]["groupId"], kGroup);
  }
  // And now config 1 is the one refused.
  DesiredState one_again = one;
  int refused_again = 0;
  for (const Action& a : PlanNow(one_again).actions) {
    refused_again += a.kind == ActionKind::kInvalid ? 1 : 0;
  }
  EXPECT_EQ(refused_again, 2);
}

TEST_F(ResumeTest, AProfileWithoutAMarkIsAssignedAndClaimed) {
  graph_->AddConfiguration({{"id", "hand-made"},
                            {"@odata.type", "#microsoft.graph.iosImportedPFXCertificateProfile"},
                            {"displayName", "made by hand"},
                            {"description", "ours"},
                            {"intendedPurpose", "smimeEncryption"}});
  DesiredState d = Desired(0);
  d.trusted.clear();
  ASSERT_TRUE(ExecutePlan(PlanNow(d), *graph_, options_).ok());
  const std::string mark = AssignmentsOwnerDigest(DesiredAssignments(d.assign_to));
  const std::string description = graph_->Configurations()[0]["description"];
  EXPECT_EQ(description, "ours" + AssignmentsOwnerMark(mark));  // The admin's text is kept.
  EXPECT_THAT(graph_->AssignmentsOf("hand-made"), SizeIs(1));
}

}  // namespace
}  // namespace certdeploy::deploy
