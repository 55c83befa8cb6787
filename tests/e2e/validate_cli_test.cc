// End-to-end tests of `certdeploy validate`: the real binary on PFX files made by openssl.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/subprocess.h"

namespace certdeploy {
namespace {

using ::certdeploy::testing::CommandResult;
using ::certdeploy::testing::RunCommand;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kPki = CERTDEPLOY_TEST_PKI_DIR;
const std::string kPassword = "Test-Pa55word!";

CommandResult Validate(std::vector<std::string> extra,
                       std::map<std::string, std::string> env = {{"PFX_PW", kPassword}}) {
  std::vector<std::string> argv = {CERTDEPLOY_BINARY, "validate"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return RunCommand(argv, env);
}

std::vector<std::string> Codes(const nlohmann::json& report) {
  std::vector<std::string> codes;
  for (const auto& f : report["findings"]) codes.push_back(f["code"]);
  return codes;
}

TEST(ValidateCliTest, ModernPfxIsDeployableWithFullCrossSignedChain) {
  CommandResult r = Validate({"--pfx", kPki + "/alice.pfx", "--upn", "alice@contoso.com",
                              "--password-env", "PFX_PW", "--output", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["deployable"]);
  EXPECT_EQ(j["thumbprint"].get<std::string>().size(), 40u);
  EXPECT_EQ(j["thumbprint"], nlohmann::json(j["thumbprint"].get<std::string>()));
  for (char c : j["thumbprint"].get<std::string>()) EXPECT_FALSE(std::isupper(c));
  ASSERT_EQ(j["chain"].size(), 3u) << j.dump(2);
  EXPECT_THAT(j["chain"][0]["subject"].get<std::string>(), HasSubstr("CA R36"));
  EXPECT_EQ(j["chain"][0]["role"], "intermediate");
  EXPECT_THAT(j["chain"][1]["subject"].get<std::string>(), HasSubstr("Root R46"));
  EXPECT_EQ(j["chain"][1]["role"], "intermediate");
  EXPECT_FALSE(j["chain"][1]["selfSigned"]);
  EXPECT_THAT(j["chain"][2]["subject"].get<std::string>(), HasSubstr("USERTrust"));
  EXPECT_EQ(j["chain"][2]["role"], "root");
  EXPECT_TRUE(j["chain"][2]["selfSigned"]);
  EXPECT_THAT(j["notAfter"].get<std::string>(), ::testing::EndsWith("Z"));
  EXPECT_TRUE(j["findings"].empty()) << j["findings"].dump();
}

TEST(ValidateCliTest, LegacyPfxFromPasswordFile) {
  CommandResult r = Validate({"--pfx", kPki + "/alice-legacy.pfx", "--upn", "ALICE@contoso.com",
                              "--password-file", kPki + "/password.txt"},
                             {});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Result      deployable"));
  EXPECT_THAT(r.out, HasSubstr("root"));
}

TEST(ValidateCliTest, WrongPasswordIsAFindingNotACrash) {
  CommandResult r = Validate({"--pfx", kPki + "/alice.pfx", "--upn", "alice@contoso.com",
                              "--password-env", "PFX_PW", "--output", "json"},
                             {{"PFX_PW", "wrong-password"}});
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_THAT(Codes(j), ::testing::ElementsAre("bad-password"));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("wrong-password")));
}

TEST(ValidateCliTest, EmailMismatchAndIncompleteChainAreErrors) {
  CommandResult r = Validate({"--pfx", kPki + "/mismatch.pfx", "--upn", "alice@contoso.com",
                              "--password-env", "PFX_PW", "--output", "json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(Codes(nlohmann::json::parse(r.out)), ::testing::Contains("email-mismatch"));

  r = Validate({"--pfx", kPki + "/leaf-only.pfx", "--upn", "alice@contoso.com", "--password-env",
                "PFX_PW"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("chain-incomplete"));
  EXPECT_THAT(r.out, HasSubstr("CA R36"));
}

TEST(ValidateCliTest, EmailChecksThePrimarySmtpAddressWhenItIsNotTheUpn) {
  // alice.pfx carries alice@contoso.com: right for a mailbox of that address whatever the UPN,
  // wrong for a mailbox whose primary SMTP address is another.
  CommandResult r = Validate({"--pfx", kPki + "/alice.pfx", "--upn", "a.smith@corp.contoso.com",
                              "--email", "Alice@Contoso.com", "--password-env", "PFX_PW"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = Validate({"--pfx", kPki + "/alice.pfx", "--upn", "alice@contoso.com", "--email",
                "alice.smith@contoso.com", "--password-env", "PFX_PW"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("the address 'alice.smith@contoso.com'"));
}

TEST(ValidateCliTest, TrustBundleCompletesALeafOnlyPfx) {
  CommandResult r = Validate({"--pfx", kPki + "/leaf-only.pfx", "--upn", "alice@contoso.com",
                              "--password-env", "PFX_PW", "--trust-bundle",
                              kPki + "/trust-bundle.pem", "--output", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_GE(j["chain"].size(), 2u);
  EXPECT_EQ(j["chain"].back()["role"], "root");
}

TEST(ValidateCliTest, ConnectorKeyProvesSealingInEveryFormat) {
  for (const char* key : {"connector.pub", "connector-rsa.pub"}) {
    CommandResult r = Validate({"--pfx", kPki + "/alice.pfx", "--upn", "alice@contoso.com",
                                "--password-env", "PFX_PW", "--connector-key", kPki + "/" + key,
                                "--output", "json"});
    ASSERT_EQ(r.exit_code, 0) << key << r.out << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_TRUE(j["connector"]["sealed"]) << key;
    EXPECT_EQ(j["connector"]["paddingScheme"], "oaepSha512");
    EXPECT_EQ(j["connector"]["keyBits"], 2048);
  }
}

TEST(ValidateCliTest, UsageErrorsExitTwo) {
  // Missing password source.
  EXPECT_EQ(Validate({"--pfx", kPki + "/alice.pfx", "--upn", "alice@contoso.com"}, {}).exit_code,
            2);
  // A password flag on the command line does not exist.
  EXPECT_EQ(Validate({"--pfx", kPki + "/alice.pfx", "--upn", "a@b.c", "--password", "x"}).exit_code,
            2);
  // Unreadable PFX.
  CommandResult r = Validate({"--pfx", kPki + "/does-not-exist.pfx", "--upn", "alice@contoso.com",
                              "--password-env", "PFX_PW"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("does-not-exist.pfx"));
  // Refused padding and unreadable key.
  EXPECT_EQ(Validate({"--pfx", kPki + "/alice.pfx", "--upn", "alice@contoso.com", "--password-env",
                      "PFX_PW", "--connector-key", kPki + "/connector.pub", "--padding", "pkcs1"})
                .exit_code,
            2);
  r = Validate({"--pfx", kPki + "/alice.pfx", "--upn", "alice@contoso.com", "--password-env",
                "PFX_PW", "--connector-key", kPki + "/alice.pfx"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--connector-key"));
  // Unknown purpose and output.
  EXPECT_EQ(Validate({"--pfx", kPki + "/alice.pfx", "--upn", "alice@contoso.com", "--password-env",
                      "PFX_PW", "--purpose", "email"})
                .exit_code,
            2);
  EXPECT_EQ(Validate({"--pfx", kPki + "/alice.pfx", "--upn", "alice@contoso.com", "--password-env",
                      "PFX_PW", "--output", "xml"})
                .exit_code,
            2);
}

TEST(ValidateCliTest, GarbageAndTruncatedFilesAreSpecificFindings) {
  CommandResult r = Validate({"--pfx", kPki + "/garbage.bin", "--upn", "alice@contoso.com",
                              "--password-env", "PFX_PW", "--output", "json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(Codes(nlohmann::json::parse(r.out)), ::testing::ElementsAre("not-pkcs12"));
  r = Validate({"--pfx", kPki + "/truncated.pfx", "--upn", "alice@contoso.com", "--password-env",
                "PFX_PW", "--output", "json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(Codes(nlohmann::json::parse(r.out)), ::testing::ElementsAre("corrupt-pkcs12"));
}

TEST(ValidateCliTest, NonAsciiPasswordIsRefusedWithAdvice) {
  CommandResult r = Validate({"--pfx", kPki + "/nonascii.pfx", "--upn", "alice@contoso.com",
                              "--password-file", kPki + "/nonascii-password.txt"},
                             {});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("non-ascii-password"));
  EXPECT_THAT(r.out, HasSubstr("ASCII"));
}

// A manifest of alice and bob (deployable), 60 rows naming one missing password file, and a
// malformed row; written to a scratch directory removed afterwards.
class ValidateManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("certdeploy-validate-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    std::string csv = "userPrincipalName,pfxFile,passwordFile\n";
    csv += "alice@contoso.com," + kPki + "/alice.pfx," + kPki + "/password.txt\n";
    csv += "bob@contoso.com," + kPki + "/bob.pfx," + kPki + "/password.txt\n";
    for (int i = 0; i < 60; ++i) {
      csv += "user" + std::to_string(i) + "@contoso.com," + kPki + "/alice.pfx,secrets/pw.txt\n";
    }
    csv += "\"unclosed,quote\n";
    manifest_ = (dir_ / "manifest.csv").string();
    std::ofstream(manifest_) << csv;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string manifest_;
};

TEST_F(ValidateManifestTest, TextGroupsTheSharedMistakeIntoOneLine) {
  CommandResult r = Validate({"--manifest", manifest_}, {});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("(63 rows)"));
  EXPECT_THAT(r.out, HasSubstr("! 60 rows: password-unreadable: "));
  EXPECT_THAT(r.out, HasSubstr("secrets/pw.txt"));
  EXPECT_THAT(r.out, HasSubstr("lines 4, 5, 6, 7, 8 and 55 more: user0@contoso.com, "
                               "user1@contoso.com"));
  EXPECT_THAT(r.out, HasSubstr("manifest-row"));
  EXPECT_THAT(r.out, HasSubstr("Result      2 deployable, 60 not deployable, 1 malformed"));
  // One line for the 60 rows, not 60.
  size_t mentions = 0;
  for (size_t at = r.out.find("password-unreadable"); at != std::string::npos;
       at = r.out.find("password-unreadable", at + 1)) {
    ++mentions;
  }
  EXPECT_EQ(mentions, 1u) << r.out;
  // The pool of workers never changes the order.
  EXPECT_EQ(Validate({"--manifest", manifest_}, {}).out, r.out);
}

TEST_F(ValidateManifestTest, JsonHasEveryRowAndTheGroups) {
  CommandResult r = Validate({"--manifest", manifest_, "--output", "json"}, {});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["summary"]["rows"], 63);
  EXPECT_EQ(j["summary"]["deployable"], 2);
  EXPECT_EQ(j["summary"]["notDeployable"], 60);
  EXPECT_EQ(j["summary"]["malformed"], 1);
  ASSERT_EQ(j["rows"].size(), 63u);
  EXPECT_EQ(j["rows"][0]["userPrincipalName"], "alice@contoso.com");
  EXPECT_TRUE(j["rows"][0]["deployable"]);
  EXPECT_EQ(j["rows"][0]["thumbprint"].get<std::string>().size(), 40u);
  EXPECT_EQ(j["rows"][2]["line"], 4);
  EXPECT_EQ(j["rows"][2]["findings"][0]["code"], "password-unreadable");
  EXPECT_EQ(j["rows"][62]["findings"][0]["code"], "manifest-row");
  ASSERT_EQ(j["groups"].size(), 2u) << j["groups"].dump(2);
  EXPECT_EQ(j["groups"][0]["rows"], 60);
  EXPECT_EQ(j["groups"][0]["lines"].size(), 60u);
  EXPECT_EQ(j["groups"][0]["findings"][0]["code"], "password-unreadable");
  EXPECT_THAT(r.out, Not(HasSubstr("Test-Pa55word")));
}

TEST_F(ValidateManifestTest, ADeployableManifestExitsZeroAndTheFormsDoNotMix) {
  std::string csv = "userPrincipalName,pfxFile,passwordFile\n";
  csv += "alice@contoso.com," + kPki + "/alice.pfx," + kPki + "/password.txt\n";
  const std::string good = (dir_ / "good.csv").string();
  std::ofstream(good) << csv;
  CommandResult r = Validate({"--manifest", good, "--connector-key", kPki + "/connector.pub"}, {});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Result      1 deployable, 0 not deployable, 0 malformed"));
  EXPECT_EQ(Validate({"--manifest", good, "--pfx", kPki + "/alice.pfx"}, {}).exit_code, 2);
  EXPECT_EQ(Validate({"--manifest", good, "--upn", "alice@contoso.com"}, {}).exit_code, 2);
  CommandResult missing = Validate({"--manifest", (dir_ / "nope.csv").string()}, {});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("nope.csv"));
  EXPECT_EQ(Validate({}, {}).exit_code, 2);
}

TEST_F(ValidateManifestTest, OversizedAndBadUpnRowsCarryTheCodesPlanUses) {
  std::string csv = "userPrincipalName,pfxFile,passwordFile\n";
  csv += "alice@contoso.com," + kPki + "/alice.pfx," + kPki + "/password.txt\n";
  csv += std::string(20000, 'x') + "@contoso.com," + kPki + "/alice.pfx,pw.txt\n";
  csv += "not a upn," + kPki + "/alice.pfx," + kPki + "/password.txt\n";
  const std::string path = (dir_ / "bad.csv").string();
  std::ofstream(path) << csv;
  CommandResult r = Validate({"--manifest", path, "--output", "json"}, {});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["rows"].size(), 3u) << j.dump(2);
  EXPECT_EQ(j["rows"][1]["findings"][0]["code"], "row-too-large");
  EXPECT_EQ(j["rows"][2]["findings"][0]["code"], "upn-invalid");
  EXPECT_LT(r.out.size(), 8000u) << "the oversized UPN is quoted, not copied";
}

}  // namespace
}  // namespace certdeploy
