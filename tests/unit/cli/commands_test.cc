// The subcommands in-process: cli::Main for flag parsing, and the Outcome* functions with their args
// structs and string streams (no child process, no terminal).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "tests/support/test_pki.h"

namespace certdeploy::cli {
namespace {

using ::certdeploy::testing::PkiPath;
using ::testing::HasSubstr;
using ::testing::Not;

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

Outcome RunMain(std::vector<std::string> args, const std::string& stdin_text = "") {
  args.insert(args.begin(), "certdeploy");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  Outcome r;
  r.code = Main(static_cast<int>(argv.size()), argv.data(), in, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

TEST(CliMainTest, VersionAndHelpExitZero) {
  Outcome version = RunMain({"--version"});
  EXPECT_EQ(version.code, kExitOk);
  EXPECT_THAT(version.out, HasSubstr("certdeploy 0.1.0"));
  Outcome help = RunMain({"--help"});
  EXPECT_EQ(help.code, kExitOk);
  for (const char* sub : {"validate", "plan", "apply", "serve", "sandbox"}) {
    EXPECT_THAT(help.out, HasSubstr(sub));
  }
  // The test hook is not advertised.
  EXPECT_THAT(RunMain({"serve", "--help"}).out, ::testing::Not(HasSubstr("diag")));
}

TEST(CliMainTest, MissingSubcommandOrRequiredFlagIsAUsageError) {
  EXPECT_EQ(RunMain({}).code, kExitUsage);
  Outcome plan = RunMain({"plan", "--config", "c.yaml"});
  EXPECT_EQ(plan.code, kExitUsage);
  EXPECT_THAT(plan.err, HasSubstr("--manifest"));
  EXPECT_EQ(RunMain({"--log-level", "loud", "validate", "--pfx", "x", "--upn", "a@b.c"}).code,
            kExitUsage);
  EXPECT_EQ(RunMain({"apply", "--config", "c", "--plan", "p", "--manifest", "m"}).code, kExitUsage);
}

TEST(CliMainTest, ValidateThroughMainWritesItsReportToTheGivenStream) {
  ASSERT_EQ(setenv("CLI_TEST_PFX_PW", certdeploy::testing::kPfxPassword, 1), 0);
  Outcome r = RunMain({"validate", "--pfx", PkiPath("alice.pfx"), "--upn", "alice@contoso.com",
                   "--password-env", "CLI_TEST_PFX_PW", "--output", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.out << r.err;
  nlohmann::json report = nlohmann::json::parse(r.out);
  EXPECT_TRUE(report["deployable"]);
  EXPECT_EQ(report["thumbprint"], certdeploy::testing::ExpectedSha1("alice"));
}

TEST(CliGlobalFlagsTest, LogLevelIsAcceptedBeforeOrAfterTheSubcommand) {
  // A plan with a config that does not exist: past the flag parser, the config load fails (2)
  // with the command's own message, not a flag error.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--log-level", "debug", "plan", "--config", "/nonexistent.yaml",
                                 "--manifest", "m.csv"},
        std::vector<std::string>{"plan", "--config", "/nonexistent.yaml", "--manifest", "m.csv",
                                 "--log-level", "debug"},
        std::vector<std::string>{"plan", "--log-level=debug", "--config", "/nonexistent.yaml",
                                 "--manifest", "m.csv"}}) {
    Outcome r = RunMain(args);
    EXPECT_EQ(r.code, kExitUsage) << r.err;
    EXPECT_THAT(r.err, HasSubstr("certdeploy plan: ")) << r.err;
    EXPECT_THAT(r.err, Not(HasSubstr("log-level"))) << r.err;
  }
  // A bad level after the subcommand is still refused.
  Outcome bad = RunMain({"plan", "--config", "/nonexistent.yaml", "--manifest", "m.csv",
                         "--log-level", "loud"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("loud"));
}

TEST(CliUnknownCommandTest, ATypoGetsTheClosestCommandAndTheList) {
  Outcome r = RunMain({"aply", "--config", "c.yaml"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'aply'; did you mean 'apply'?"));
  for (const char* sub : {"validate", "plan", "apply", "inventory", "remove", "serve", "sandbox"}) {
    EXPECT_THAT(r.err, HasSubstr(std::string("\n  ") + sub + "  "));
  }
  EXPECT_THAT(r.err, Not(HasSubstr("A subcommand is required")));

  Outcome far = RunMain({"--log-level", "info", "frobnicate"});
  EXPECT_EQ(far.code, kExitUsage);
  EXPECT_THAT(far.err, HasSubstr("unknown command 'frobnicate'\nCommands:"));
}

TEST(CliValidateTest, ArgsStructWithoutPasswordSourceIsAUsageError) {
  ValidateArgs args;
  args.pfx_file = PkiPath("alice.pfx");
  args.upn = "alice@contoso.com";
  std::ostringstream out, err;
  EXPECT_EQ(RunValidate(args, out, err), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("password"));
  EXPECT_TRUE(out.str().empty());
}

TEST(CliValidateTest, MismatchedUpnIsAFindingWithExitOne) {
  ValidateArgs args;
  args.pfx_file = PkiPath("alice.pfx");
  args.upn = "bob@contoso.com";
  args.password_file = PkiPath("password.txt");
  std::ostringstream out, err;
  EXPECT_EQ(RunValidate(args, out, err), kExitFindings);
  EXPECT_THAT(out.str(), HasSubstr("email-mismatch"));
}

TEST(CliSandboxTest, NonPositiveLimitsAreRefusedBeforeStarting) {
  SandboxArgs args;
  args.connector_key = PkiPath("connector.key");
  args.page_size = 0;
  std::ostringstream out, err;
  EXPECT_EQ(RunSandbox(args, out, err), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("page size"));
  EXPECT_TRUE(out.str().empty());
}

TEST(CliServeTest, ConfigWithoutServiceSectionIsAUsageError) {
  ServeArgs args;
  args.config = "/nonexistent/certdeploy.yaml";
  std::ostringstream out, err;
  EXPECT_EQ(RunServe(args, out, err), kExitUsage);
  EXPECT_THAT(err.str(), HasSubstr("certdeploy serve"));
}

}  // namespace
}  // namespace certdeploy::cli
