// End-to-end tests of `certdeploy validate`: the real binary on PFX files made by openssl.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace certdeploy
