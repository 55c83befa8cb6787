// End-to-end against `certdeploy sandbox`, the real binary:
//   - an `apply --plan` interrupted by SIGINT (or SIGTERM) mid-run exits 130 with "interrupted
//     after N of M actions", and the same command then finishes the same plan: the tenant holds
//     one of each, no duplicate ever sent; drift after the interrupt is still refused (exit 5);
//   - an interrupt before the first write (apply still reading the tenant) quits at once, exit
//     130, saying nothing was changed;
//   - two configs contending for the assignment sets: the second is refused (plan, apply and the
//     daemon's enrollment) with the difference named, and the assignments stay; with
//     --take-over-assignments they are replaced and owned by the second config.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "base/encoding.h"
#include "pkcs/digest.h"
#include "tests/e2e/plan_apply_fixtures.h"
#include "tests/support/loopback_http.h"

namespace certdeploy::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr char kExcludedGroup[] = "0d5e7f21-3a4b-4c6d-8e9f-a0b1c2d3e4f5";
constexpr char kApiKey[] = "e2e-ownership-hr-key";

class ResumeOwnershipTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> sandbox_flags = {}, ConfigOptions options = {}) {
    sandbox_ = std::make_unique<SandboxProcess>(dir_.path().string(), std::move(sandbox_flags));
    ASSERT_TRUE(sandbox_->started()) << ReadText(dir_.File("sandbox.log"));
    config_ = WriteConfig(dir_, sandbox_->url(), options);
  }

  // `n` users with fresh PFX files, as a manifest.
  std::string UsersManifest(int n, const std::string& prefix = "user") {
    std::vector<std::string> upns;
    for (int i = 0; i < n; ++i) upns.push_back(prefix + std::to_string(i) + "@contoso.com");
    const std::filesystem::path folder = dir_.path() / prefix;
    std::filesystem::create_directories(folder);
    std::vector<std::string> files = MakeUserPfxFiles(folder.string(), upns);
    std::string csv = "userPrincipalName,pfxFile,passwordFile\n";
    for (size_t i = 0; i < files.size(); ++i) {
      csv += upns[i] + "," + files[i] + "," + kPki + "/password.txt\n";
    }
    return dir_.Write(prefix + ".csv", csv);
  }

  uint64_t Writes() { return Counter(sandbox_->Stats(), "writes"); }

  // Starts `apply --plan` in the background, waits until at least `writes` writes reached the
  // tenant, sends `signal`, and returns the exit code; `log` gets its stderr.
  int ApplyAndSignalAfter(const std::string& plan, uint64_t writes, int signal,
                          const std::string& log) {
    BackgroundProcess apply({CERTDEPLOY_BINARY, "apply", "--config", config_, "--plan", plan},
                            {{"CERTDEPLOY_CLIENT_SECRET", kClientSecret}}, log);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (Writes() < writes && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    return apply.Stop(signal, 60s);
  }

  // The deviceConfigurations of the sandbox: id -> assignment targets ("type:group").
  std::map<std::string, std::set<std::string>> Assignments() {
    std::map<std::string, std::set<std::string>> out;
    const nlohmann::json state = sandbox_->State();
    for (const auto& c : state["deviceConfigurations"]) {
      std::set<std::string>& set = out[c["id"].get<std::string>()];
      for (const auto& a : c["assignments"]) {
        set.insert(a["target"]["@odata.type"].get<std::string>() + ":" +
                   a["target"].value("groupId", ""));
      }
    }
    return out;
  }

  std::vector<std::string> Descriptions() {
    std::vector<std::string> out;
    const nlohmann::json state = sandbox_->State();
    for (const auto& c : state["deviceConfigurations"]) {
      out.push_back(c.value("description", ""));
    }
    return out;
  }

  // A copy of the config whose profiles section also excludes kExcludedGroup.
  std::string ExcludingConfig() {
    std::string text = ReadText(config_);
    const std::string from = "assignTo: { groups: [" + kGroupId + "] }";
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << text;
    if (at != std::string::npos) {
      text.replace(at, from.size(),
                   "assignTo: { groups: [" + kGroupId + "], excludeGroups: [" + kExcludedGroup +
                       "] }");
    }
    return dir_.Write("config-excluding.yaml", text);
  }

  TempDir dir_;
  std::unique_ptr<SandboxProcess> sandbox_;
  std::string config_;
};

TEST_F(ResumeOwnershipTest, InterruptedApplyExits130AndTheSamePlanFinishesWithoutDuplicates) {
  // Slow enough to be interrupted: every response 40 ms late, two workers.
  Start({"--latency-ms", "40"}, {.concurrency = 2});
  const int users = 40;
  const std::string manifest = UsersManifest(users);
  const std::string plan = dir_.File("plan.json");
  CommandResult planned =
      Certdeploy({"plan", "--config", config_, "--manifest", manifest, "--out", plan});
  ASSERT_EQ(planned.exit_code, 0) << planned.out << planned.err;

  const std::string log = dir_.File("apply-1.log");
  EXPECT_EQ(ApplyAndSignalAfter(plan, 12, SIGINT, log), 130) << ReadText(log);
  const std::string first = ReadText(log);
  EXPECT_THAT(first, HasSubstr("re-run the same command to finish")) << first;
  EXPECT_THAT(first, HasSubstr("certdeploy apply: interrupted after ")) << first;
  const uint64_t written = Writes();
  const size_t records = sandbox_->State()["userPfxCertificates"].size();
  ASSERT_GT(records, 0u) << first;
  ASSERT_LT(records, static_cast<size_t>(users)) << "the run finished before the interrupt";

  CommandResult resumed = Certdeploy({"apply", "--config", config_, "--plan", plan});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_THAT(resumed.out, HasSubstr("done by an earlier run and will not be sent again"));

  const nlohmann::json state = sandbox_->State();
  std::set<std::string> seen;
  for (const auto& r : state["userPfxCertificates"]) {
    EXPECT_TRUE(seen.insert(r["userPrincipalName"].get<std::string>()).second) << r.dump();
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(users));
  std::set<std::string> profiles;
  for (const auto& c : state["deviceConfigurations"]) {
    const std::string identity = c["@odata.type"].get<std::string>() + "|" +
                                 c.value("trustedRootCertificate", "") + "|" +
                                 c.value("intendedPurpose", "");
    EXPECT_TRUE(profiles.insert(identity).second) << c.dump();
    EXPECT_EQ(c["assignments"].size(), 1u) << c.dump();
  }
  const nlohmann::json stats = sandbox_->Stats();
  EXPECT_EQ(Counter(stats, "duplicates"), 0u) << stats.dump();
  // Exactly the remaining writes were sent: one per record not there yet.
  EXPECT_EQ(Writes() - written, static_cast<uint64_t>(users) - records);

  // Done: the plan has nothing left, and says so.
  CommandResult again = Certdeploy({"apply", "--config", config_, "--plan", plan});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("Nothing left to do"));
}

TEST_F(ResumeOwnershipTest, AnInterruptBeforeTheFirstWriteQuitsAtOnceAndSaysNothingChanged) {
  // Every response 300 ms late: apply's check of the tenant takes a few seconds.
  Start({"--latency-ms", "300"});
  const std::string manifest = UsersManifest(3);
  const std::string plan = dir_.File("plan.json");
  ASSERT_EQ(
      Certdeploy({"plan", "--config", config_, "--manifest", manifest, "--out", plan}).exit_code,
      0);
  const uint64_t requests = Counter(sandbox_->Stats(), "requests");
  const std::string log = dir_.File("apply.log");
  BackgroundProcess apply({CERTDEPLOY_BINARY, "apply", "--config", config_, "--plan", plan},
                          {{"CERTDEPLOY_CLIENT_SECRET", kClientSecret}}, log);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (Counter(sandbox_->Stats(), "requests") == requests &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_GT(Counter(sandbox_->Stats(), "requests"), requests) << "apply sent no request";
  EXPECT_EQ(apply.Stop(SIGINT, 10s), 130) << ReadText(log);
  EXPECT_THAT(ReadText(log), HasSubstr("interrupted before any write; nothing was changed"));
  EXPECT_EQ(Writes(), 0u);
}

TEST_F(ResumeOwnershipTest, DriftAfterAnInterruptIsStillRefused) {
  Start({"--latency-ms", "40"}, {.concurrency = 2});
  const std::string manifest = UsersManifest(30);
  const std::string plan = dir_.File("plan.json");
  ASSERT_EQ(
      Certdeploy({"plan", "--config", config_, "--manifest", manifest, "--out", plan}).exit_code,
      0);
  const std::string log = dir_.File("apply-1.log");
  ASSERT_EQ(ApplyAndSignalAfter(plan, 10, SIGTERM, log), 130) << ReadText(log);

  // Someone assigns a profile to another group: not this plan's doing.
  const std::string id = Assignments().begin()->first;
  auto [status, answer] = sandbox_->Post(
      "/beta/deviceManagement/deviceConfigurations/" + id + "/assign",
      {{"assignments",
        {{{"target",
           {{"@odata.type", "#microsoft.graph.groupAssignmentTarget"},
            {"groupId", kExcludedGroup}}}}}}});
  ASSERT_TRUE(status == 200 || status == 204) << status << answer.dump();
  const uint64_t before = Writes();
  CommandResult refused = Certdeploy({"apply", "--config", config_, "--plan", plan});
  EXPECT_EQ(refused.exit_code, 5) << refused.out << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("plan is stale, re-run plan: the tenant changed"));
  EXPECT_THAT(refused.err, HasSubstr("assign/" + id));
  EXPECT_EQ(Writes(), before);
}

TEST_F(ResumeOwnershipTest, TwoConfigsNeverSilentlyRewriteEachOthersAssignments) {
  Start();
  const std::string config2 = config_;  // Assigns to the group, no exclusion.
  const std::string config1 = ExcludingConfig();
  CommandResult first = Certdeploy(
      {"apply", "--config", config1, "--manifest", UsersManifest(1, "alice"), "--yes"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const auto owned_by_1 = Assignments();
  for (const auto& [id, set] : owned_by_1) EXPECT_EQ(set.size(), 2u) << id;
  for (const std::string& d : Descriptions()) {
    EXPECT_THAT(d, HasSubstr("Managed by certdeploy"));
    EXPECT_THAT(d, HasSubstr("Assignments owner: "));
  }
  const std::string bob = UsersManifest(1, "bob");
  const std::string difference =
      std::string("assignTo.excludeGroups: [") + kExcludedGroup + "] vs none";

  // plan with config 2 shows the conflict; apply refuses before any write.
  CommandResult plan = Certdeploy({"plan", "--config", config2, "--manifest", bob});
  EXPECT_EQ(plan.exit_code, 1) << plan.out << plan.err;
  EXPECT_THAT(plan.out, HasSubstr(difference));
  EXPECT_THAT(plan.out, HasSubstr("--take-over-assignments"));
  const uint64_t before = Writes();
  CommandResult apply = Certdeploy({"apply", "--config", config2, "--manifest", bob, "--yes"});
  EXPECT_EQ(apply.exit_code, 1) << apply.out << apply.err;
  EXPECT_THAT(apply.err, HasSubstr("assignments-owned-elsewhere"));
  EXPECT_THAT(apply.err, HasSubstr(difference));
  EXPECT_THAT(apply.err, HasSubstr("nothing was written"));
  EXPECT_EQ(Writes(), before);
  EXPECT_EQ(Assignments(), owned_by_1);

  // The daemon with config 2: the HR enrollment fails with the same code, nothing replaced.
  const std::string store = "sqlite:" + dir_.File("state.db");
  const std::string serve_config = dir_.Write(
      "serve.yaml", ReadText(config2) + "service:\n  listen: 127.0.0.1:0\n  store: '" + store +
                        "'\n  pollMillis: 100\n  apiKeys:\n    - {name: hr, sha256: " +
                        pkcs::Sha256Hex(std::string_view(kApiKey)) +
                        ", scopes: [enroll, read]}\n");
  {
    BackgroundProcess daemon({CERTDEPLOY_BINARY, "serve", "--config", serve_config},
                             {{"CERTDEPLOY_CLIENT_SECRET", kClientSecret}},
                             dir_.File("serve.log"));
    const std::string url = daemon.ReadLine(60s);
    ASSERT_FALSE(url.empty()) << ReadText(dir_.File("serve.log"));
    const int port = std::atoi(url.substr(url.rfind(':') + 1).c_str());
    const std::filesystem::path folder = dir_.path() / "carol";
    std::filesystem::create_directories(folder);
    const std::vector<std::string> files = MakeUserPfxFiles(folder.string(), {"carol@contoso.com"});
    ASSERT_EQ(files.size(), 1u);
    const nlohmann::json body = {{"userPrincipalName", "carol@contoso.com"},
                                 {"pfx", Base64Encode(ReadText(files[0]))},
                                 {"password", ReadText(kPki + "/password.txt")}};
    LoopbackReply posted = LoopbackCall(port, {.method = "POST",
                                               .path = "/v1/enrollments",
                                               .bearer = kApiKey,
                                               .body = body.dump()});
    ASSERT_EQ(posted.status, 202) << posted.body;
    const std::string id = posted.Json()["id"];
    nlohmann::json enrollment;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      enrollment =
          LoopbackCall(port, {.method = "GET", .path = "/v1/enrollments/" + id, .bearer = kApiKey})
              .Json();
      const std::string s = enrollment.value("status", "");
      if (s == "failed" || s == "succeeded") break;
      std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(enrollment.value("status", ""), "failed") << enrollment.dump();
    EXPECT_EQ(enrollment["error"].value("code", ""), "assignments-owned-elsewhere")
        << enrollment.dump();
    EXPECT_THAT(enrollment["error"].value("message", ""), HasSubstr(difference));
    daemon.Stop(SIGTERM, 60s);
  }
  EXPECT_EQ(Assignments(), owned_by_1);
  EXPECT_EQ(Writes(), before);

  // Told to take over: replaced, and now owned by config 2 (config 1 is the one refused).
  CommandResult taken = Certdeploy(
      {"apply", "--config", config2, "--manifest", bob, "--yes", "--take-over-assignments"});
  ASSERT_EQ(taken.exit_code, 0) << taken.out << taken.err;
  for (const auto& [id, set] : Assignments()) {
    EXPECT_EQ(set, (std::set<std::string>{"#microsoft.graph.groupAssignmentTarget:" + kGroupId}))
        << id;
  }
  CommandResult plan2 = Certdeploy({"plan", "--config", config2, "--manifest", bob});
  EXPECT_EQ(plan2.exit_code, 0) << plan2.out << plan2.err;
  CommandResult plan1 = Certdeploy({"plan", "--config", config1, "--manifest", bob});
  EXPECT_EQ(plan1.exit_code, 1) << plan1.out << plan1.err;
  EXPECT_THAT(plan1.out, HasSubstr(std::string("assignTo.excludeGroups: none vs [") +
                                   kExcludedGroup + "]"));
}

}  // namespace
}  // namespace certdeploy::testing
