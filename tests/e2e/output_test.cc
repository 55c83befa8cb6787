// End-to-end tests of what plan and apply print at scale, against `certdeploy sandbox`: rows
// with a shared mistake told once, --summary, the note of a plan with nothing to do, Graph's
// retries told while they happen, one request-id per error, global flags after the command.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "tests/e2e/plan_apply_fixtures.h"

namespace certdeploy::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

size_t LineCount(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

class OutputTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> sandbox_flags = {}) {
    sandbox_ = std::make_unique<SandboxProcess>(dir_.path().string(), std::move(sandbox_flags));
    ASSERT_TRUE(sandbox_->started()) << ReadText(dir_.File("sandbox.log"));
    config_ = WriteConfig(dir_, sandbox_->url());
  }

  // alice and bob, then `broken` rows naming alice's PFX with a password file nobody made.
  std::string Manifest(int broken) {
    std::string csv = "userPrincipalName,pfxFile,passwordFile\n";
    csv += "alice@contoso.com," + kPki + "/alice.pfx," + kPki + "/password.txt\n";
    csv += "bob@contoso.com," + kPki + "/bob.pfx," + kPki + "/password.txt\n";
    for (int i = 0; i < broken; ++i) {
      csv += "user" + std::to_string(i) + "@contoso.com," + kPki + "/alice.pfx,secrets/pw.txt\n";
    }
    return dir_.Write("manifest.csv", csv);
  }

  CommandResult Plan(const std::string& manifest, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"plan", "--config", config_, "--manifest", manifest};
    args.insert(args.end(), extra.begin(), extra.end());
    return Certdeploy(args);
  }

  TempDir dir_;
  std::unique_ptr<SandboxProcess> sandbox_;
  std::string config_;
};

TEST_F(OutputTest, AMissingSharedPasswordFileIsOneGroupedLineAndThePlanFileStaysPerRow) {
  Start();
  const std::string manifest = Manifest(300);
  const std::string plan_file = dir_.File("plan.json");
  // --log-level after the command is a global flag, not an error.
  CommandResult plan = Plan(manifest, {"--out", plan_file, "--log-level", "warn"});
  EXPECT_EQ(plan.exit_code, 1) << plan.out << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("! invalid                   300 rows: password-unreadable: "));
  EXPECT_THAT(plan.out, HasSubstr("secrets/pw.txt"));
  EXPECT_THAT(plan.out, HasSubstr("      lines 4, 5, 6, 7, 8 and 295 more: user0@contoso.com, "));
  EXPECT_EQ(CountOf(plan.out, "password-unreadable"), 1u) << plan.out;
  EXPECT_LT(LineCount(plan.out), 25u) << plan.out;
  EXPECT_THAT(plan.out, HasSubstr("300 invalid."));
  // The plan file keeps every row.
  nlohmann::json j = nlohmann::json::parse(ReadText(plan_file));
  int invalid = 0;
  for (const auto& a : j["actions"]) {
    if (a["kind"] == "invalid") {
      ++invalid;
      EXPECT_EQ(a["findings"][0]["code"], "password-unreadable");
    }
  }
  EXPECT_EQ(invalid, 300);

  // apply's own preview and summary are grouped the same way.
  CommandResult apply =
      Certdeploy({"apply", "--config", config_, "--manifest", manifest, "--yes"});
  EXPECT_EQ(apply.exit_code, 1) << apply.out << apply.err;
  EXPECT_EQ(CountOf(apply.out, "password-unreadable"), 1u) << apply.out;
  EXPECT_THAT(apply.out, HasSubstr("300 manifest rows were invalid"));
  EXPECT_EQ(sandbox_->State()["userPfxCertificates"].size(), 2u);
}

TEST_F(OutputTest, SummaryCountsActionsAndFindingsWithTheFirstExamples) {
  Start();
  const std::string manifest = Manifest(300);
  const std::string plan_file = dir_.File("plan.json");
  CommandResult plan = Plan(manifest, {"--summary", "--out", plan_file});
  EXPECT_EQ(plan.exit_code, 1) << plan.out << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("Actions:\n"));
  EXPECT_TRUE(std::regex_search(plan.out, std::regex(R"(\+ importUserPfx +2\n)"))) << plan.out;
  EXPECT_TRUE(std::regex_search(plan.out, std::regex(R"(! invalid +300\n)"))) << plan.out;
  EXPECT_THAT(plan.out, HasSubstr("Findings:\n"));
  EXPECT_TRUE(std::regex_search(plan.out, std::regex(R"(error +password-unreadable +300 actions\n)")))
      << plan.out;
  EXPECT_THAT(plan.out, HasSubstr("line 4 user0@contoso.com: "));
  EXPECT_THAT(plan.out, HasSubstr("and 297 more"));
  EXPECT_THAT(plan.out, HasSubstr("Plan: "));
  EXPECT_LT(LineCount(plan.out), 40u) << plan.out;
  // The file is the complete plan all the same.
  nlohmann::json j = nlohmann::json::parse(ReadText(plan_file));
  EXPECT_EQ(j["summary"]["invalid"], 300);
  EXPECT_GT(j["actions"].size(), 300u);
}

TEST_F(OutputTest, APlanWithNothingToDoSaysSoInsteadOfSuggestingApply) {
  Start();
  const std::string manifest = Manifest(0);
  CommandResult first = Plan(manifest, {"--out", dir_.File("first.json")});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_THAT(first.out, HasSubstr("Apply exactly these actions with:"));
  CommandResult apply = Certdeploy({"apply", "--config", config_, "--plan", dir_.File("first.json")});
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;

  CommandResult again = Plan(manifest, {"--out", dir_.File("again.json")});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("Nothing to do: the tenant already matches the manifest."));
  EXPECT_THAT(again.out, Not(HasSubstr("Apply exactly")));
  EXPECT_THAT(again.out, Not(HasSubstr("certdeploy apply")));

  // Valid rows done, some rows invalid: nothing to apply either, and why.
  CommandResult broken = Plan(Manifest(3));
  EXPECT_EQ(broken.exit_code, 1) << broken.out << broken.err;
  EXPECT_THAT(broken.out, HasSubstr("Nothing to apply"));
  EXPECT_THAT(broken.out, Not(HasSubstr("certdeploy apply")));
}

TEST_F(OutputTest, RetriesAreToldWhileTheyHappenAndAnErrorNamesItsRequestIdOnce) {
  // Every request fails with 503: plan retries each read, tells each retry, then gives up.
  Start({"--fail-rate", "1", "--seed", "3"});
  CommandResult plan = Plan(Manifest(0));
  EXPECT_EQ(plan.exit_code, 3) << plan.out << plan.err;
  EXPECT_THAT(plan.err, HasSubstr("certdeploy plan: Graph 503, retry 1/5 in "));
  EXPECT_THAT(plan.err, HasSubstr("certdeploy plan: Graph 503, retry 5/5 in "));
  std::smatch id;
  ASSERT_TRUE(std::regex_search(plan.err, id, std::regex("request-id ([0-9a-fA-F-]{8,})")))
      << plan.err;
  EXPECT_EQ(CountOf(plan.err, id[1].str()), 1u) << plan.err;
}

}  // namespace
}  // namespace certdeploy::testing
