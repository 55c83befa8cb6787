// `plan` catches what `apply` would fail on, against `certdeploy sandbox` with the real binary:
// users the directory does not have, group names, the connector key, and rows too large or
// malformed for Graph. Each is found before any write, and a bad row never fails the others.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/e2e/plan_apply_fixtures.h"

namespace certdeploy::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kIosGroup[] = "0b4a7c1e-2f3d-4e5a-9b8c-7d6e5f4a3b2c";

size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class PlanChecksTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> sandbox_flags = {}) {
    sandbox_ = std::make_unique<SandboxProcess>(dir_.path().string(), std::move(sandbox_flags));
    ASSERT_TRUE(sandbox_->started()) << ReadText(dir_.File("sandbox.log"));
    config_ = WriteConfig(dir_, sandbox_->url());
  }
  // Rewrites one line of the config.
  void ReplaceInConfig(const std::string& from, const std::string& to) {
    std::string config = ReadText(config_);
    ASSERT_NE(config.find(from), std::string::npos) << config;
    config.replace(config.find(from), from.size(), to);
    dir_.Write("config.yaml", config);
  }
  // Replaces the config's assignTo value (the fixture's, or the last one given here).
  void AssignTo(const std::string& groups) {
    ReplaceInConfig("assignTo: " + assign_to_, "assignTo: " + groups);
    assign_to_ = groups;
  }
  std::string Manifest(const std::vector<std::string>& names, const std::string& extra = "") {
    std::string csv = "userPrincipalName,pfxFile,passwordFile\n";
    for (const std::string& n : names) {
      csv += n + "@contoso.com," + kPki + "/" + n + ".pfx," + kPki + "/password.txt\n";
    }
    return dir_.Write("manifest.csv", csv + extra);
  }
  CommandResult Plan(const std::string& manifest, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"plan", "--config", config_, "--manifest", manifest};
    args.insert(args.end(), extra.begin(), extra.end());
    return Certdeploy(args);
  }
  CommandResult Apply(const std::string& manifest) {
    return Certdeploy({"apply", "--config", config_, "--manifest", manifest, "--yes"});
  }
  uint64_t Requests() { return Counter(sandbox_->Stats(), "requests"); }
  uint64_t Writes() { return Counter(sandbox_->Stats(), "writes"); }

  TempDir dir_;
  std::unique_ptr<SandboxProcess> sandbox_;
  std::string config_;
  std::string assign_to_ = "{ groups: [" + kGroupId + "] }";
};

TEST_F(PlanChecksTest, AUserTheDirectoryDoesNotHaveIsUserNotFoundAndTheReviewedPlanNeverSendsIt) {
  Start({"--users", dir_.Write("users.txt", "alice@contoso.com\ncarol@contoso.com\n")});
  const std::string manifest = Manifest({"alice", "bob", "carol"});
  const std::string plan_file = dir_.File("plan.json");
  CommandResult plan = Plan(manifest, {"--out", plan_file});
  EXPECT_EQ(plan.exit_code, 1) << plan.out << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("line 3 bob@contoso.com: user-not-found"));
  EXPECT_THAT(plan.out, HasSubstr("error user-not-found: Entra ID has no user 'bob@contoso.com'"));
  EXPECT_THAT(plan.out, HasSubstr("1 invalid."));
  EXPECT_EQ(Occurrences(plan.out, "+ importUserPfx"), 2u) << plan.out;
  EXPECT_EQ(Writes(), 0u);

  CommandResult apply = Certdeploy({"apply", "--config", config_, "--plan", plan_file});
  EXPECT_EQ(apply.exit_code, 1) << apply.out << apply.err;
  nlohmann::json state = sandbox_->State();
  ASSERT_EQ(state["userPfxCertificates"].size(), 2u) << state.dump();
  for (const nlohmann::json& r : state["userPfxCertificates"]) {
    EXPECT_NE(r["userPrincipalName"], "bob@contoso.com");
  }
  // Graph's opaque 400 for an unknown user never happened: nothing was sent for bob.
  EXPECT_TRUE(sandbox_->Stats()["rejections"].empty()) << sandbox_->Stats().dump();
}

TEST_F(PlanChecksTest, AGroupNameIsResolvedToItsIdWhichThePlanShowsAndApplyAssigns) {
  Start({"--groups", dir_.Write("groups.txt", std::string(kIosGroup) + ",All iOS users\n"
                                              "Other\n")});
  AssignTo("{ groups: [\"All iOS users\"] }");
  const std::string manifest = Manifest({"alice"});
  CommandResult plan = Plan(manifest);
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("Group 'All iOS users' is " + std::string(kIosGroup)));
  EXPECT_THAT(plan.out, HasSubstr(kIosGroup));
  EXPECT_THAT(plan.out, Not(HasSubstr("group all ios users")));

  CommandResult apply = Apply(manifest);
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  nlohmann::json state = sandbox_->State();
  ASSERT_FALSE(state["deviceConfigurations"].empty());
  for (const nlohmann::json& c : state["deviceConfigurations"]) {
    ASSERT_EQ(c["assignments"].size(), 1u) << c.dump();
    EXPECT_EQ(c["assignments"][0]["target"]["groupId"], kIosGroup);
  }
  EXPECT_TRUE(sandbox_->Stats()["rejections"].empty()) << sandbox_->Stats().dump();
}

TEST_F(PlanChecksTest, AGroupNameOfNoGroupOrOfSeveralIsAConfigErrorBeforeAnyWrite) {
  Start({"--groups", dir_.Write("groups.txt", "Sales\nSales\n")});
  const std::string manifest = Manifest({"alice"});

  AssignTo("{ groups: [\"All iOS users\"] }");
  for (const CommandResult& r : {Plan(manifest), Apply(manifest)}) {
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("profiles.assignTo.groups: no group is named 'All iOS users' "
                                 "(0 matches)"));
  }
  AssignTo("{ groups: [" + kGroupId + "], excludeGroups: [Sales] }");
  CommandResult ambiguous = Apply(manifest);
  EXPECT_EQ(ambiguous.exit_code, 2) << ambiguous.out << ambiguous.err;
  EXPECT_THAT(ambiguous.err,
              HasSubstr("profiles.assignTo.excludeGroups: 2 groups are named 'Sales'"));
  EXPECT_EQ(Writes(), 0u);
  EXPECT_TRUE(sandbox_->State()["deviceConfigurations"].empty());

  // A malformed entry fails at config load, before any request at all.
  const uint64_t before = Requests();
  AssignTo("{ groups: [\"\"] }");
  CommandResult empty = Apply(manifest);
  EXPECT_EQ(empty.exit_code, 2) << empty.out << empty.err;
  EXPECT_THAT(empty.err, HasSubstr("profiles.assignTo.groups[0]: is empty"));
  EXPECT_EQ(Requests(), before);
}

TEST_F(PlanChecksTest, AConnectorKeyThatIsNotAnRsaPublicKeyFailsThePlanBeforeAnyRequest) {
  Start();
  const std::string manifest = Manifest({"alice"});
  const std::string good = "publicKeyFile: " + kPki + "/connector.pub";
  std::string current = good;
  for (const auto& [file, why] : std::vector<std::pair<std::string, std::string>>{
           {kPki + "/connector.key", "private"},
           {kPki + "/ca.pem", "certificate"},
           {dir_.File("missing.pub"), "missing"}}) {
    ReplaceInConfig(current, "publicKeyFile: " + file);
    current = "publicKeyFile: " + file;
    CommandResult r = Plan(manifest);
    EXPECT_EQ(r.exit_code, 2) << why << ": " << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("certdeploy plan: connector.publicKeyFile: ")) << why;
    EXPECT_THAT(r.err, HasSubstr(file)) << why;
    EXPECT_THAT(r.err, Not(HasSubstr("PRIVATE KEY-----"))) << why;
    EXPECT_TRUE(r.out.empty()) << why << ": " << r.out;
  }
  EXPECT_EQ(Requests(), 0u);
  ReplaceInConfig(current, good);
  CommandResult ok = Plan(manifest);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

TEST_F(PlanChecksTest, OversizedRowsAreInvalidRowsAndThePlanAndApplyGoOnForTheOthers) {
  Start();
  // A 20 KB UPN (once an HTTP 431 on the userPfxCertificates read, and exit 3) and a 50 MB line
  // (once 1.37 GB and a 50 MB error), between good rows.
  const std::string long_upn = std::string(20 << 10, 'u') + "@contoso.com,x.pfx,x.txt\n";
  const std::string huge_line = std::string(50 << 20, 'h') + "\n";
  const std::string manifest = Manifest({"alice"}, long_upn + huge_line +
                                                       "bob@contoso.com," + kPki + "/bob.pfx," +
                                                       kPki + "/password.txt\n");
  CommandResult plan = Plan(manifest);
  EXPECT_EQ(plan.exit_code, 1) << plan.out.substr(0, 4000) << plan.err.substr(0, 4000);
  EXPECT_EQ(Occurrences(plan.out, "row-too-large"), 4u) << plan.out;  // Two rows, two lines each.
  EXPECT_THAT(plan.out, HasSubstr("userPrincipalName starts 'uuuuuuuu"));
  EXPECT_THAT(plan.out, HasSubstr("2 invalid."));
  EXPECT_EQ(Occurrences(plan.out, "+ importUserPfx"), 2u) << plan.out;
  EXPECT_LT(plan.out.size() + plan.err.size(), 20000u);
  EXPECT_EQ(Counter(sandbox_->Stats()["requestsByStatus"], "431"), 0u);

  CommandResult apply = Apply(manifest);
  EXPECT_EQ(apply.exit_code, 1) << apply.out.substr(0, 4000) << apply.err.substr(0, 4000);
  EXPECT_EQ(sandbox_->State()["userPfxCertificates"].size(), 2u);
}

}  // namespace
}  // namespace certdeploy::testing
