// The row check on PFX files made by openssl (the test PKI): findings with stable codes for
// unreadable files and refused paths, hashing, sealing at intake, and the manifest order.

#include "deploy/row_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pkcs/digest.h"
#include "tests/support/test_pki.h"

namespace certdeploy::deploy {
namespace {

using ::certdeploy::testing::ExpectedSha1;
using ::certdeploy::testing::FixtureNow;
using ::certdeploy::testing::PkiPath;
using ::certdeploy::testing::ReadFileText;
using ::testing::HasSubstr;

config::ManifestRow Row(int line, std::string upn, std::string pfx, std::string password_file) {
  config::ManifestRow row;
  row.line = line;
  row.upn = std::move(upn);
  row.pfx_file = PkiPath(pfx);
  row.password_file = password_file.empty() ? "" : PkiPath(password_file);
  return row;
}

// ManifestRow is move-only (it may hold a password), so no initializer lists.
template <typename... R>
std::vector<config::ManifestRow> Rows(R&&... rows) {
  std::vector<config::ManifestRow> out;
  (out.push_back(std::forward<R>(rows)), ...);
  return out;
}

std::vector<std::string> Codes(const CheckedRow& row) {
  std::vector<std::string> codes;
  for (const pkcs::Finding& f : row.findings) codes.push_back(f.code);
  return codes;
}

class RowCheckTest : public ::testing::Test {
 protected:
  RowCheckOptions Options() {
    RowCheckOptions options;
    options.config = &config_;
    options.now = FixtureNow();
    return options;
  }
  config::Config config_;
};

TEST_F(RowCheckTest, DeployableRowCarriesHashThumbprintValidityAndChainInOrder) {
  std::vector<config::ManifestRow> rows =
      Rows(Row(2, "alice@contoso.com", "alice.pfx", "password.txt"),
           Row(3, "bob@contoso.com", "bob.pfx", "password.txt"));
  std::vector<CheckedRow> out = CheckManifestRows(rows, Options());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].line, 2);
  EXPECT_EQ(out[1].line, 3);
  ASSERT_TRUE(out[0].deployable) << ::testing::PrintToString(Codes(out[0]));
  EXPECT_EQ(out[0].thumbprint, ExpectedSha1("alice"));
  EXPECT_EQ(out[1].thumbprint, ExpectedSha1("bob"));
  EXPECT_EQ(out[0].pfx_sha256, pkcs::Sha256Hex(ReadFileText(PkiPath("alice.pfx"))));
  EXPECT_EQ(out[0].purpose, pkcs::Purpose::kSmimeEncryption);
  EXPECT_LT(out[0].not_before, out[0].not_after);
  EXPECT_EQ(out[0].chain.elements.size(), 3u);
  // Neither the bytes nor a seal unless asked for.
  EXPECT_TRUE(out[0].pfx.empty());
  EXPECT_TRUE(out[0].sealed_password.empty());
}

TEST_F(RowCheckTest, UnreadableFilesAreFindingsNotFailures) {
  std::vector<config::ManifestRow> rows =
      Rows(Row(2, "alice@contoso.com", "no-such.pfx", "password.txt"),
           Row(3, "alice@contoso.com", "alice.pfx", "no-such-password.txt"),
           Row(4, "alice@contoso.com", "alice.pfx", "password.txt"));
  std::vector<CheckedRow> out = CheckManifestRows(rows, Options());
  EXPECT_THAT(Codes(out[0]), ::testing::ElementsAre("pfx-unreadable"));
  EXPECT_THAT(Codes(out[1]), ::testing::ElementsAre("password-unreadable"));
  EXPECT_FALSE(out[0].deployable);
  EXPECT_FALSE(out[1].deployable);
  EXPECT_TRUE(out[2].deployable);
}

TEST_F(RowCheckTest, ThePathRuleRunsBeforeAnyFileIsRead) {
  RowCheckOptions options = Options();
  std::vector<std::string> asked;
  options.threads = 1;
  options.resolve_file = [&asked](const std::string& path) -> Result<std::string> {
    asked.push_back(path);
    if (path.ends_with("password.txt")) return InvalidArgumentError("outside the inbox");
    return path;
  };
  std::vector<config::ManifestRow> rows =
      Rows(Row(2, "alice@contoso.com", "alice.pfx", "password.txt"));
  std::vector<CheckedRow> out = CheckManifestRows(rows, options);
  EXPECT_THAT(Codes(out[0]), ::testing::ElementsAre("password-unreadable"));
  EXPECT_THAT(out[0].findings[0].message, HasSubstr("outside the inbox"));
  EXPECT_EQ(asked.size(), 2u);
}

TEST_F(RowCheckTest, ValidationFindingsAndPurposeOverride) {
  std::vector<config::ManifestRow> rows;
  rows.push_back(Row(2, "bob@contoso.com", "alice.pfx", "password.txt"));
  rows.push_back(Row(3, "alice@contoso.com", "alice.pfx", "password.txt"));
  rows[1].purpose = pkcs::Purpose::kSmimeSigning;
  std::vector<CheckedRow> out = CheckManifestRows(rows, Options());
  EXPECT_THAT(Codes(out[0]), ::testing::Contains("email-mismatch"));
  EXPECT_EQ(out[1].purpose, pkcs::Purpose::kSmimeSigning);
}

TEST_F(RowCheckTest, IntakeSealsThePasswordAndKeepsTheBytes) {
  Result<pkcs::ConnectorPublicKey> key = pkcs::ConnectorPublicKey::LoadFile(PkiPath("connector.pub"));
  ASSERT_TRUE(key.ok()) << key.status();
  RowCheckOptions options = Options();
  options.seal_to = &*key;
  options.keep_pfx_bytes = true;
  const std::string bytes = ReadFileText(PkiPath("alice.pfx"));
  CheckedRow row = CheckPfx(std::span<const uint8_t>(
                                reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                            certdeploy::testing::FixturePassword(), "alice@contoso.com",
                            pkcs::Purpose::kSmimeEncryption, options);
  ASSERT_TRUE(row.deployable) << ::testing::PrintToString(Codes(row));
  EXPECT_EQ(row.pfx, bytes);
  EXPECT_FALSE(row.sealed_password.empty());
  EXPECT_EQ(row.connector_key_fingerprint, key->fingerprint());
  EXPECT_THAT(row.sealed_password, ::testing::Not(HasSubstr(certdeploy::testing::kPfxPassword)));
}

TEST_F(RowCheckTest, AWrongPasswordIsAFindingAndNothingIsSealed) {
  Result<pkcs::ConnectorPublicKey> key = pkcs::ConnectorPublicKey::LoadFile(PkiPath("connector.pub"));
  ASSERT_TRUE(key.ok());
  RowCheckOptions options = Options();
  options.seal_to = &*key;
  const std::string bytes = ReadFileText(PkiPath("alice.pfx"));
  CheckedRow row = CheckPfx(std::span<const uint8_t>(
                                reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                            SecretBytes(std::string_view("wrong")), "alice@contoso.com",
                            pkcs::Purpose::kSmimeEncryption, options);
  EXPECT_FALSE(row.deployable);
  EXPECT_THAT(Codes(row), ::testing::Contains("bad-password"));
  EXPECT_TRUE(row.sealed_password.empty());
}

}  // namespace
}  // namespace certdeploy::deploy
