#include "pkcs/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pkcs/pkcs12.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_pki.h"

namespace certdeploy::pkcs {
namespace {

using ::certdeploy::testing::ExpectedSha1;
using ::certdeploy::testing::FixtureNow;
using ::certdeploy::testing::FixturePassword;
using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::NonAsciiFixturePassword;
using ::certdeploy::testing::ReadPkiBytes;
using ::certdeploy::testing::ReadPkiText;
using ::certdeploy::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kAlice[] = "alice@contoso.com";

ValidateOptions Options(std::string upn = kAlice, Purpose purpose = Purpose::kSmimeEncryption) {
  ValidateOptions options;
  options.upn = std::move(upn);
  options.purpose = purpose;
  options.now = FixtureNow();
  return options;
}

ValidationReport Validate(std::string_view pfx, const ValidateOptions& options = Options()) {
  return ValidatePfx(ReadPkiBytes(std::string(pfx) + ".pfx"), FixturePassword(), options);
}

std::vector<std::string> Codes(const ValidationReport& report) {
  std::vector<std::string> codes;
  for (const Finding& f : report.findings) codes.push_back(f.code);
  return codes;
}

std::vector<Certificate> Bundle(std::string_view file) {
  Result<std::vector<Certificate>> certs = ParseCertificatesPem(ReadPkiText(file));
  EXPECT_THAT(certs, IsOk());
  return certs.ok() ? *certs : std::vector<Certificate>{};
}

auto FindingIs(std::string_view code, Severity severity, auto message_matcher) {
  return AllOf(Field(&Finding::code, std::string(code)), Field(&Finding::severity, severity),
               Field(&Finding::message, message_matcher));
}

TEST(ValidateTest, GoodPfxIsDeployable) {
  for (std::string_view pfx : {"alice", "alice-legacy", "shuffled"}) {
    ValidationReport report = Validate(pfx);
    EXPECT_THAT(report.findings, IsEmpty()) << pfx;
    EXPECT_TRUE(report.deployable()) << pfx;
    ASSERT_TRUE(report.leaf.has_value()) << pfx;
    EXPECT_EQ(report.leaf->sha1, ExpectedSha1("alice"));
    EXPECT_TRUE(report.chain.complete);
    EXPECT_EQ(report.chain.elements.size(), 3u);
  }
}

TEST(ValidateTest, OtherUsersAreDeployable) {
  EXPECT_THAT(Validate("bob", Options("bob@contoso.com")).findings, IsEmpty());
  EXPECT_THAT(Validate("oneil", Options("o'neil@contoso.com")).findings, IsEmpty());
}

TEST(ValidateTest, UnopenablePfxReportsOneFindingAndNoLeaf) {
  struct Case {
    std::string_view pfx;
    std::string_view code;
  };
  for (const Case& c :
       {Case{"garbage.bin", "not-pkcs12"}, Case{"truncated.pfx", "corrupt-pkcs12"},
        Case{"certs-only.pfx", "no-private-key"}, Case{"key-mismatch.pfx", "key-mismatch"}}) {
    ValidationReport report = ValidatePfx(ReadPkiBytes(c.pfx), FixturePassword(), Options());
    EXPECT_THAT(Codes(report), ElementsAre(c.code)) << c.pfx;
    EXPECT_FALSE(report.leaf.has_value()) << c.pfx;
    EXPECT_FALSE(report.deployable()) << c.pfx;
    EXPECT_EQ(report.findings[0].severity, Severity::kError);
  }
}

TEST(ValidateTest, WrongPasswordIsReportedWithoutThePassword) {
  ValidationReport report =
      ValidatePfx(ReadPkiBytes("alice.pfx"), SecretBytes("Test-Pa55word?"), Options());
  EXPECT_THAT(Codes(report), ElementsAre("bad-password"));
  EXPECT_THAT(report.findings[0].message, Not(HasSubstr("Test-Pa55word")));
  EXPECT_FALSE(report.deployable());
}

TEST(ValidateTest, Expired) {
  ValidationReport report = Validate("expired");
  EXPECT_THAT(report.findings,
              ElementsAre(FindingIs("expired", Severity::kError, HasSubstr("expired on"))));
  EXPECT_FALSE(report.deployable());
  ASSERT_TRUE(report.leaf.has_value());  // The certificate is still described.
}

TEST(ValidateTest, NotYetValid) {
  ValidationReport report = Validate("not-yet-valid");
  EXPECT_THAT(report.findings, ElementsAre(FindingIs("not-yet-valid", Severity::kError,
                                                     HasSubstr("not valid before"))));
  EXPECT_FALSE(report.deployable());
}

TEST(ValidateTest, ExpiresSoonIsAWarning) {
  ValidationReport report = Validate("soon");
  EXPECT_THAT(report.findings,
              ElementsAre(FindingIs("expires-soon", Severity::kWarning, HasSubstr("in 9 day(s)"))));
  EXPECT_TRUE(report.deployable());
}

TEST(ValidateTest, ExpiresSoonThresholdIsConfigurable) {
  ValidateOptions options = Options();
  options.expires_soon_days = 5;
  EXPECT_THAT(Validate("soon", options).findings, IsEmpty());
  options.expires_soon_days = 0;
  EXPECT_THAT(Validate("soon", options).findings, IsEmpty());
  options.expires_soon_days = 400;
  EXPECT_THAT(Codes(Validate("alice", options)), ElementsAre("expires-soon"));
}

TEST(ValidateTest, ValidityIsJudgedAtOptionsNow) {
  ValidateOptions options = Options();
  options.now = FixtureNow() + std::chrono::days(400);
  EXPECT_THAT(Codes(Validate("alice", options)), ElementsAre("expired"));
  options.now = FixtureNow() + std::chrono::days(40);
  EXPECT_THAT(Codes(Validate("not-yet-valid", options)), IsEmpty());
}

TEST(ValidateTest, EmailMismatchNamesBothAddresses) {
  ValidationReport report = Validate("mismatch");
  EXPECT_THAT(report.findings,
              ElementsAre(FindingIs("email-mismatch", Severity::kError,
                                    AllOf(HasSubstr("dave@fabrikam.com"), HasSubstr(kAlice)))));
  EXPECT_FALSE(report.deployable());
  EXPECT_THAT(Codes(Validate("alice", Options("bob@contoso.com"))), ElementsAre("email-mismatch"));
  EXPECT_THAT(Codes(Validate("alice", Options(""))), ElementsAre("email-mismatch"));
}

TEST(ValidateTest, EmailComparisonIgnoresCase) {
  EXPECT_THAT(Validate("mixedcase", Options("erin.smith@contoso.com")).findings, IsEmpty());
  EXPECT_THAT(Validate("alice", Options("ALICE@Contoso.com")).findings, IsEmpty());
}

TEST(ValidateTest, ChainIncompleteNamesTheMissingIssuer) {
  ValidationReport report = Validate("leaf-only");
  EXPECT_THAT(report.findings,
              ElementsAre(FindingIs(
                  "chain-incomplete", Severity::kError,
                  AllOf(HasSubstr("issuer 'CN=Test Public Email Protection CA R36,O=Test CA "
                                  "Ltd,C=GB'"),
                        HasSubstr("of 'emailAddress=alice@contoso.com,CN=Alice Example"),
                        HasSubstr("--trust-bundle")))));
  EXPECT_FALSE(report.deployable());
}

TEST(ValidateTest, TrustBundleCompletesTheChain) {
  ValidateOptions options = Options();
  options.trust_bundle = Bundle("trust-bundle.pem");
  ValidationReport report = Validate("leaf-only", options);
  EXPECT_THAT(report.findings, IsEmpty());
  EXPECT_TRUE(report.chain.complete);
  ASSERT_EQ(report.chain.elements.size(), 2u);
  EXPECT_EQ(report.chain.elements[1].cert.sha1, ExpectedSha1("root-b"));
}

TEST(ValidateTest, BadChainSignature) {
  ValidateOptions options = Options();
  options.trust_bundle = Bundle("impostor-ca.pem");
  ValidationReport report = Validate("leaf-only", options);
  EXPECT_THAT(report.findings, ElementsAre(FindingIs("bad-chain-signature", Severity::kError,
                                                     HasSubstr("CN=Alice Example"))));
}

TEST(ValidateTest, WeakKey) {
  ValidationReport report = Validate("weak-key");
  EXPECT_THAT(report.findings,
              ElementsAre(FindingIs("weak-key", Severity::kError, HasSubstr("RSA 1024-bit"))));
}

TEST(ValidateTest, WeakSignatureOnTheLeaf) {
  ValidationReport report = Validate("sha1");
  EXPECT_THAT(report.findings,
              ElementsAre(FindingIs("weak-signature", Severity::kError, HasSubstr("sha1"))));
}

TEST(ValidateTest, RootSelfSignatureDigestDoesNotCount) {
  // sha1-root signs itself with SHA-1 and sha1-root-user with SHA-256.
  ValidationReport report;
  Certificate user = Bundle("sha1-root-user.pem")[0];
  ValidateCertificate(user, Bundle("sha1-root.pem"), Options(), report);
  EXPECT_THAT(report.findings, IsEmpty());
  ASSERT_EQ(report.chain.elements.size(), 1u);
  EXPECT_EQ(report.chain.elements[0].cert.signature_digest, "sha1");
  EXPECT_EQ(report.chain.elements[0].role, ChainRole::kRoot);
}

TEST(ValidateTest, MissingEkuOnlyForSmimePurposes) {
  EXPECT_THAT(
      Validate("no-eku").findings,
      ElementsAre(FindingIs("missing-eku", Severity::kError,
                            AllOf(HasSubstr("emailProtection"), HasSubstr("smimeEncryption")))));
  EXPECT_THAT(Codes(Validate("no-eku", Options(kAlice, Purpose::kSmimeSigning))),
              ElementsAre("missing-eku"));
  for (Purpose purpose : {Purpose::kVpn, Purpose::kWifi, Purpose::kUnassigned}) {
    EXPECT_THAT(Validate("no-eku", Options(kAlice, purpose)).findings, IsEmpty());
  }
}

TEST(ValidateTest, MissingKeyUsageDependsOnPurpose) {
  EXPECT_THAT(
      Validate("no-keyenc").findings,
      ElementsAre(FindingIs("missing-key-usage", Severity::kError, HasSubstr("keyEncipherment"))));
  EXPECT_THAT(Validate("no-keyenc", Options(kAlice, Purpose::kSmimeSigning)).findings, IsEmpty());
}

TEST(ValidateTest, EcKeyNeedsKeyAgreementForEncryption) {
  EXPECT_THAT(Validate("ec", Options(kAlice, Purpose::kSmimeSigning)).findings, IsEmpty());
  EXPECT_THAT(Validate("ec", Options(kAlice, Purpose::kSmimeEncryption)).findings, IsEmpty());
  // The RSA-only certificates lack keyAgreement and still pass: it is not needed for RSA.
  EXPECT_THAT(Validate("alice", Options(kAlice, Purpose::kSmimeSigning)).findings, IsEmpty());
}

TEST(ValidateTest, NonAsciiPasswordIsReportedButThePfxIsStillChecked) {
  ValidateOptions options = Options(kAlice);
  options.expires_soon_days = 400;  // Prove that the later checks still run.
  ValidationReport report =
      ValidatePfx(ReadPkiBytes("nonascii.pfx"), NonAsciiFixturePassword(), options);
  EXPECT_THAT(Codes(report), ElementsAre("non-ascii-password", "expires-soon"));
  EXPECT_EQ(report.findings[0].severity, Severity::kError);
  EXPECT_THAT(report.findings[0].message, HasSubstr("ASCII"));
  EXPECT_THAT(report.findings[0].message,
              Not(HasSubstr(::certdeploy::testing::kNonAsciiPfxPassword)));
  EXPECT_TRUE(report.leaf.has_value());
  EXPECT_FALSE(report.deployable());
}

TEST(ValidateTest, ReportsEveryProblemAtOnce) {
  // The SHA-1 leaf, checked for the wrong user and far in the future.
  ValidateOptions options = Options("bob@contoso.com");
  options.now = FixtureNow() + std::chrono::days(400);
  EXPECT_THAT(Codes(Validate("sha1", options)),
              ElementsAre("expired", "email-mismatch", "weak-signature"));
}

TEST(ValidateTest, ValidateOpenedReusesAParsedPfx) {
  std::vector<uint8_t> bytes = ReadPkiBytes("mismatch.pfx");
  ValidationReport opened =
      ValidateOpened(ParsePkcs12(bytes, FixturePassword()), FixturePassword(), Options());
  EXPECT_EQ(opened.findings, ValidatePfx(bytes, FixturePassword(), Options()).findings);
  EXPECT_THAT(Codes(opened), ElementsAre("email-mismatch"));

  ValidationReport failed =
      ValidateOpened(ParsePkcs12(bytes, SecretBytes("wrong")), SecretBytes("wrong"), Options());
  EXPECT_THAT(Codes(failed), ElementsAre("bad-password"));
  EXPECT_FALSE(failed.leaf.has_value());
}

TEST(ValidateTest, ReportHelpers) {
  ValidationReport report;
  EXPECT_TRUE(report.deployable());
  EXPECT_FALSE(report.HasFinding("expired"));
  report.findings.push_back(Finding{"expires-soon", Severity::kWarning, "soon"});
  EXPECT_TRUE(report.deployable());
  EXPECT_TRUE(report.HasFinding("expires-soon"));
  report.findings.push_back(Finding{"expired", Severity::kError, "gone"});
  EXPECT_FALSE(report.deployable());
  EXPECT_TRUE(report.HasFinding("expired"));
}

TEST(ValidateTest, PurposeAndSeverityNames) {
  for (Purpose p : {Purpose::kUnassigned, Purpose::kSmimeEncryption, Purpose::kSmimeSigning,
                    Purpose::kVpn, Purpose::kWifi}) {
    EXPECT_THAT(ParsePurpose(PurposeName(p)), IsOk());
    EXPECT_EQ(*ParsePurpose(PurposeName(p)), p);
  }
  EXPECT_EQ(PurposeName(Purpose::kSmimeEncryption), "smimeEncryption");
  EXPECT_EQ(*ParsePurpose("SMIMESIGNING"), Purpose::kSmimeSigning);
  EXPECT_THAT(ParsePurpose("email"),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'email'"), HasSubstr("smimeEncryption, smimeSigning"))));
  EXPECT_EQ(SeverityName(Severity::kError), "error");
  EXPECT_EQ(SeverityName(Severity::kWarning), "warning");
}

}  // namespace
}  // namespace certdeploy::pkcs
