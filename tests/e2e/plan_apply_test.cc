// End-to-end tests of `certdeploy plan` and `certdeploy apply` against `certdeploy sandbox`: the
// real binary, the real Graph client over HTTP, the sandbox's connector check on every record.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "base/encoding.h"
#include "tests/e2e/plan_apply_fixtures.h"

namespace certdeploy::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Sha1OfBase64(const std::string& b64) {
  std::optional<std::string> der = Base64Decode(b64);
  if (!der) return "";
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(der->data()), der->size(), md);
  return HexEncode(std::span<const uint8_t>(md));
}

class PlanApplyTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> sandbox_flags = {}, ConfigOptions options = {}) {
    sandbox_ = std::make_unique<SandboxProcess>(dir_.path().string(), std::move(sandbox_flags));
    ASSERT_TRUE(sandbox_->started()) << ReadText(dir_.File("sandbox.log"));
    config_ = WriteConfig(dir_, sandbox_->url(), options);
  }

  // A manifest of (upn, pfx path) rows, all with the PKI's password file.
  std::string Manifest(const std::vector<std::pair<std::string, std::string>>& rows,
                       const std::string& name = "manifest.csv", const std::string& extra = "") {
    std::string csv = "userPrincipalName,pfxFile,passwordFile\n";
    for (const auto& [upn, pfx] : rows) csv += upn + "," + pfx + "," + kPki + "/password.txt\n";
    return dir_.Write(name, csv + extra);
  }
  std::string PkiManifest(const std::vector<std::string>& names,
                          const std::string& file = "manifest.csv") {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const std::string& n : names) {
      rows.push_back({(n == "oneil" ? "o'neil" : n) + "@contoso.com", kPki + "/" + n + ".pfx"});
    }
    return Manifest(rows, file);
  }

  CommandResult Plan(const std::string& manifest, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"plan", "--config", config_, "--manifest", manifest};
    args.insert(args.end(), extra.begin(), extra.end());
    return Certdeploy(args);
  }
  CommandResult Apply(const std::string& manifest) {
    return Certdeploy({"apply", "--config", config_, "--manifest", manifest, "--yes"});
  }
  CommandResult ApplyPlan(const std::string& plan) {
    return Certdeploy({"apply", "--config", config_, "--plan", plan});
  }
  uint64_t Writes() { return Counter(sandbox_->Stats(), "writes"); }

  TempDir dir_;
  std::unique_ptr<SandboxProcess> sandbox_;
  std::string config_;
};

TEST_F(PlanApplyTest, CrossSignedChainGivesOneTrustedProfilePerCaCertificatePerPlatform) {
  ConfigOptions options;
  options.platforms = {"ios", "macos"};
  Start({}, options);
  CommandResult r = Apply(PkiManifest({"alice", "bob"}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  nlohmann::json state = sandbox_->State();
  std::map<std::string, int> types = CountByType(state);
  EXPECT_EQ(types["#microsoft.graph.iosTrustedRootCertificate"], 3);
  EXPECT_EQ(types["#microsoft.graph.macOSTrustedRootCertificate"], 3);
  EXPECT_EQ(types["#microsoft.graph.iosImportedPFXCertificateProfile"], 1);
  EXPECT_EQ(types["#microsoft.graph.macOSImportedPFXCertificateProfile"], 1);
  const std::set<std::string> chain = {ReadText(kPki + "/ca.sha1"),
                                       ReadText(kPki + "/root-b-cross.sha1"),
                                       ReadText(kPki + "/root-a.sha1")};
  std::map<std::string, std::set<std::string>> sha1_by_type;
  for (const auto& c : state["deviceConfigurations"]) {
    if (c.contains("trustedRootCertificate")) {
      sha1_by_type[c["@odata.type"]].insert(Sha1OfBase64(c["trustedRootCertificate"]));
    }
    ASSERT_EQ(c["assignments"].size(), 1u) << c.dump();
    EXPECT_EQ(c["assignments"][0]["target"]["groupId"], kGroupId);
  }
  EXPECT_EQ(sha1_by_type["#microsoft.graph.iosTrustedRootCertificate"], chain);
  EXPECT_EQ(sha1_by_type["#microsoft.graph.macOSTrustedRootCertificate"], chain);
  EXPECT_EQ(state["userPfxCertificates"].size(), 2u);
}

TEST_F(PlanApplyTest, PlanWritesNothingApplyConvergesAndSecondApplyWritesNothing) {
  Start();
  std::string manifest = PkiManifest({"alice", "bob", "carol"});
  CommandResult plan = Plan(manifest);
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("+ createTrustedProfile"));
  EXPECT_THAT(plan.out, HasSubstr("~ assignProfile"));
  EXPECT_THAT(plan.out,
              HasSubstr("Plan: 7 to add, 4 to change, 0 to remove, 0 unchanged, 0 invalid."));
  nlohmann::json stats = sandbox_->Stats();
  EXPECT_EQ(Counter(stats, "writes"), 0u) << stats.dump();
  EXPECT_GT(Counter(stats, "requests"), 0u);

  CommandResult apply = Apply(manifest);
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_THAT(apply.out, HasSubstr("Apply complete: 11 succeeded"));
  EXPECT_EQ(Writes(), 11u);

  CommandResult again = Apply(manifest);
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("No changes"));
  EXPECT_EQ(Writes(), 11u);
  CommandResult replan = Plan(manifest);
  EXPECT_THAT(replan.out,
              HasSubstr("Plan: 0 to add, 0 to change, 0 to remove, 7 unchanged, 0 invalid."));
  EXPECT_EQ(Counter(sandbox_->Stats(), "duplicates"), 0u);
}

TEST_F(PlanApplyTest, ApplyWithoutATerminalOrYesRefuses) {
  Start();
  CommandResult r =
      Certdeploy({"apply", "--config", config_, "--manifest", PkiManifest({"alice"})});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("not a terminal"));
  EXPECT_EQ(Writes(), 0u);
}

TEST_F(PlanApplyTest, ReviewedPlanIsAppliedExactlyAndStalePlansAreRefused) {
  Start();
  std::filesystem::copy_file(kPki + "/alice.pfx", dir_.File("alice.pfx"));
  std::filesystem::copy_file(kPki + "/bob.pfx", dir_.File("bob.pfx"));
  std::string manifest = Manifest(
      {{"alice@contoso.com", dir_.File("alice.pfx")}, {"bob@contoso.com", dir_.File("bob.pfx")}});
  const std::string plan_file = dir_.File("plan.json");
  ASSERT_EQ(Plan(manifest, {"--out", plan_file}).exit_code, 0);
  const std::string plan_text = ReadText(plan_file);
  EXPECT_THAT(plan_text, Not(HasSubstr("Test-Pa55word!")));
  EXPECT_THAT(plan_text, HasSubstr("\"manifest\""));

  // A PFX file touched after review.
  const std::string original = ReadText(dir_.File("alice.pfx"));
  dir_.Write("alice.pfx", ReadText(kPki + "/carol.pfx"));
  CommandResult touched = ApplyPlan(plan_file);
  EXPECT_EQ(touched.exit_code, 5) << touched.out << touched.err;
  EXPECT_THAT(touched.err, HasSubstr("plan is stale, re-run plan"));
  EXPECT_THAT(touched.err, HasSubstr("alice.pfx"));
  dir_.Write("alice.pfx", original);

  // The manifest edited after review.
  const std::string csv = ReadText(manifest);
  dir_.Write("manifest.csv",
             csv + "carol@contoso.com," + kPki + "/carol.pfx," + kPki + "/password.txt\n");
  EXPECT_EQ(ApplyPlan(plan_file).exit_code, 5);
  dir_.Write("manifest.csv", csv);
  EXPECT_EQ(Writes(), 0u);

  // The tenant changed after review, and not only by what this plan does: another run made the
  // plan's profiles (that alone the plan would accept as its own effect), then someone assigned
  // one of them to another group.
  ASSERT_EQ(Apply(PkiManifest({"carol"}, "other.csv")).exit_code, 0);
  const std::string profile = sandbox_->State()["deviceConfigurations"][0]["id"];
  auto [assigned, answer] = sandbox_->Post(
      "/beta/deviceManagement/deviceConfigurations/" + profile + "/assign",
      {{"assignments",
        {{{"target",
           {{"@odata.type", "#microsoft.graph.groupAssignmentTarget"},
            {"groupId", "0d5e7f21-3a4b-4c6d-8e9f-a0b1c2d3e4f5"}}}}}}});
  ASSERT_TRUE(assigned == 200 || assigned == 204) << assigned << answer.dump();
  const uint64_t before = Writes();
  CommandResult drifted = ApplyPlan(plan_file);
  EXPECT_EQ(drifted.exit_code, 5) << drifted.out << drifted.err;
  EXPECT_THAT(drifted.err, HasSubstr("tenant changed"));
  EXPECT_EQ(Writes(), before);

  // Re-planned: applied exactly as reviewed.
  ASSERT_EQ(Plan(manifest, {"--out", plan_file}).exit_code, 0);
  CommandResult applied = ApplyPlan(plan_file);
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  // The two records, and the one assignment set put back; the profiles were already there.
  EXPECT_EQ(Writes(), before + 3);
  EXPECT_EQ(sandbox_->State()["userPfxCertificates"].size(), 3u);
}

TEST_F(PlanApplyTest, InvalidRowsAreReportedWhileTheRestApplies) {
  Start();
  std::string manifest = Manifest(
      {{"alice@contoso.com", kPki + "/alice.pfx"}, {"bob@contoso.com", kPki + "/mismatch.pfx"}},
      "manifest.csv", "carol@contoso.com\n");
  CommandResult plan = Plan(manifest);
  EXPECT_EQ(plan.exit_code, 1) << plan.out << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("2 invalid."));
  CommandResult r = Apply(manifest);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("! invalid"));
  EXPECT_THAT(r.out, HasSubstr("line 3"));
  EXPECT_THAT(r.out, HasSubstr("2 manifest rows were invalid"));
  nlohmann::json state = sandbox_->State();
  ASSERT_EQ(state["userPfxCertificates"].size(), 1u);
  EXPECT_EQ(state["userPfxCertificates"][0]["userPrincipalName"], "alice@contoso.com");
}

TEST_F(PlanApplyTest, LostResponsesNeverCreateDuplicates) {
  Start({"--drop-rate", "0.5", "--seed", "42"});
  std::string manifest = PkiManifest({"alice", "bob", "carol", "oneil"});
  CommandResult r = Apply(manifest);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  nlohmann::json stats = sandbox_->Stats();
  EXPECT_GT(Counter(stats, "dropped"), 0u) << stats.dump();
  EXPECT_EQ(Counter(stats, "duplicates"), 0u) << stats.dump();
  EXPECT_THAT(r.out, HasSubstr("confirmed by reading"));
  nlohmann::json state = sandbox_->State();
  std::map<std::string, int> types = CountByType(state);
  EXPECT_EQ(types["#microsoft.graph.iosTrustedRootCertificate"], 3);
  EXPECT_EQ(types["#microsoft.graph.iosImportedPFXCertificateProfile"], 1);
  EXPECT_EQ(state["userPfxCertificates"].size(), 4u);
  CommandResult again = Apply(manifest);
  EXPECT_THAT(again.out, HasSubstr("No changes"));
}

TEST_F(PlanApplyTest, UpnWithAnApostropheIsImportedAndRecognisedAfterwards) {
  Start();
  std::string manifest = PkiManifest({"oneil"});
  ASSERT_EQ(Apply(manifest).exit_code, 0);
  nlohmann::json state = sandbox_->State();
  ASSERT_EQ(state["userPfxCertificates"].size(), 1u);
  EXPECT_EQ(state["userPfxCertificates"][0]["userPrincipalName"], "o'neil@contoso.com");
  CommandResult plan = Plan(manifest);
  EXPECT_THAT(plan.out, HasSubstr("o'neil@contoso.com"));
  EXPECT_THAT(plan.out, HasSubstr("already imported"));
  EXPECT_THAT(plan.out, HasSubstr("0 to add"));
}

TEST_F(PlanApplyTest, UsersTheDirectoryDoesNotHaveAreInvalidRowsWhileTheRestApplies) {
  // A directory without bob: plan reads the users and marks his row, nothing is sent for it.
  Start({"--users", dir_.Write("users.txt", "alice@contoso.com\n")});
  CommandResult r = Apply(PkiManifest({"alice", "bob"}));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("! invalid                   line 3 bob@contoso.com: user-not-found"));
  EXPECT_THAT(r.out, HasSubstr("Entra ID has no user 'bob@contoso.com'"));
  EXPECT_THAT(r.out, HasSubstr("Apply complete: 9 succeeded"));
  nlohmann::json state = sandbox_->State();
  ASSERT_EQ(state["userPfxCertificates"].size(), 1u);
  EXPECT_EQ(state["userPfxCertificates"][0]["userPrincipalName"], "alice@contoso.com");
  EXPECT_TRUE(sandbox_->Stats()["rejections"].empty());
}

TEST_F(PlanApplyTest, RefusedItemsAreListedWithGraphCodeAndRequestIdWhileTheRestApplies) {
  // Passwords sealed to a key the connector does not hold: Intune refuses each record with its
  // opaque 400, while the profiles and assignments apply.
  Start();
  const std::string other_key = dir_.File("other.pub");
  CommandResult made = RunCommand({"/usr/bin/openssl", "pkey", "-in", kPki + "/alice.key", "-pubout",
                                   "-out", other_key});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::string config = ReadText(config_);
  const std::string key_line = "publicKeyFile: " + kPki + "/connector.pub";
  config.replace(config.find(key_line), key_line.size(), "publicKeyFile: " + other_key);
  dir_.Write("config.yaml", config);
  CommandResult r = Apply(PkiManifest({"alice"}));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Apply finished with failures: 8 succeeded"));
  EXPECT_THAT(r.out, HasSubstr("importUserPfx pfx/alice@contoso.com/"));
  EXPECT_THAT(r.out, HasSubstr("[invalid-argument, http 400, Graph BadRequest]"));
  // The request-id, which Intune's message also names as its Operation ID, shows once.
  std::smatch id;
  ASSERT_TRUE(std::regex_search(r.out, id, std::regex("Operation ID[^:]*: ([0-9a-f-]{36})")))
      << r.out;
  EXPECT_EQ(r.out.find(id[1].str()), r.out.rfind(id[1].str())) << r.out;
  EXPECT_TRUE(sandbox_->State()["userPfxCertificates"].empty());
}

TEST_F(PlanApplyTest, RejectedCredentialsAreAGraphFailure) {
  Start();
  CommandResult r = Certdeploy(
      {"plan", "--config", config_, "--manifest", PkiManifest({"alice"})}, "wrong-secret");
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("certdeploy plan: Graph: unauthenticated"));
  EXPECT_THAT(r.err, Not(HasSubstr("wrong-secret")));
}

// The "Done when": 200 users sharing one Sectigo-shaped chain, on iOS.
TEST_F(PlanApplyTest, TwoHundredUsersSharingOneChain) {
  ConfigOptions options;
  options.concurrency = 8;
  Start({"--write-limit", "1000"}, options);
  std::vector<std::string> upns;
  for (int i = 0; i < 200; ++i) upns.push_back("user" + std::to_string(i) + "@contoso.com");
  std::vector<std::string> files = MakeUserPfxFiles(dir_.path().string(), upns);
  ASSERT_EQ(files.size(), 200u);
  std::vector<std::pair<std::string, std::string>> rows;
  for (int i = 0; i < 200; ++i) rows.push_back({upns[i], files[i]});
  std::string manifest = Manifest(rows);

  const auto start = std::chrono::steady_clock::now();
  CommandResult r = Apply(manifest);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Apply complete: 208 succeeded"));  // 4 profiles, 4 assigns.
  nlohmann::json state = sandbox_->State();
  std::map<std::string, int> types = CountByType(state);
  EXPECT_EQ(types["#microsoft.graph.iosTrustedRootCertificate"], 3);
  EXPECT_EQ(types["#microsoft.graph.iosImportedPFXCertificateProfile"], 1);
  EXPECT_EQ(state["deviceConfigurations"].size(), 4u);
  for (const auto& c : state["deviceConfigurations"]) EXPECT_EQ(c["assignments"].size(), 1u);
  EXPECT_EQ(state["userPfxCertificates"].size(), 200u);
  nlohmann::json stats = sandbox_->Stats();
  EXPECT_TRUE(stats["rejections"].empty()) << stats["rejections"].dump();
  EXPECT_EQ(Counter(stats, "writesApplied"), 208u);

  CommandResult again = Apply(manifest);
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("No changes"));
  EXPECT_EQ(Writes(), 208u);
  RecordProperty("seconds", static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(
                                                 std::chrono::steady_clock::now() - start)
                                                 .count()));
}

}  // namespace
}  // namespace certdeploy::testing
