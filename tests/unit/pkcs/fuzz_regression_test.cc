// Regression tests for findings of the libFuzzer campaign (tests/fuzz, docs/fuzzing.md) in pkcs/.
// Each test replays the committed reproducer from tests/fuzz/regressions/<fuzzer>/ through the
// public API and asserts the fixed behaviour.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/time_format.h"
#include "pkcs/certificate.h"
#include "pkcs/seal.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_pki.h"

namespace certdeploy::pkcs {
namespace {

using ::certdeploy::testing::ReadFileBytes;
using ::certdeploy::testing::StatusIs;
using ::testing::HasSubstr;

std::vector<uint8_t> FuzzFile(const std::string& relative) {
  return ReadFileBytes(std::string(CERTDEPLOY_SOURCE_DIR) + "/tests/fuzz/" + relative);
}

// connector_key_fuzzer: a PKCS#8 key whose modulus differs from p*q in one base64 digit used to
// load (its public half then being a modulus nobody can decrypt for) and fail every unseal.
TEST(FuzzRegressionTest, PrivateKeyWhoseNumbersAreNoKeyPairIsRefused) {
  const std::vector<uint8_t> sound = FuzzFile("corpus/connector_key_fuzzer/pkcs8-private.pem");
  const std::vector<uint8_t> damaged =
      FuzzFile("regressions/connector_key_fuzzer/pkcs8-n-not-pq.pem");
  ASSERT_FALSE(sound.empty());
  ASSERT_EQ(damaged.size(), sound.size());  // One character differs.

  Result<ConnectorPrivateKey> good = ConnectorPrivateKey::Parse(sound);
  ASSERT_TRUE(good.ok()) << good.status();
  Result<std::string> sealed =
      SealPassword(SecretBytes(std::string_view("pw")), good->PublicKey(),
                   PaddingScheme::kOaepSha512);
  ASSERT_TRUE(sealed.ok());
  Result<SecretBytes> opened = UnsealPassword(*sealed, *good, PaddingScheme::kOaepSha512);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->RevealAsString(), "pw");

  EXPECT_THAT(ConnectorPrivateKey::Parse(damaged).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("do not form an RSA key pair")));
}

// pkcs12_fuzzer: a notAfter past 2262 (RFC 5280's 99991231235959Z "no expiry" is the common
// case) overflowed the nanosecond SystemTime (undefined behaviour, a wrapped date). It is now
// clamped to the largest representable instant, so the certificate is simply far from expiry.
TEST(FuzzRegressionTest, FarFutureNotAfterIsClampedNotWrapped) {
  const std::vector<uint8_t> pem = FuzzFile("regressions/pkcs12_fuzzer/not-after-9966.pem");
  Result<std::vector<Certificate>> certs = ParseCertificatesPem(
      std::string_view(reinterpret_cast<const char*>(pem.data()), pem.size()));
  ASSERT_TRUE(certs.ok()) << certs.status();
  ASSERT_EQ(certs->size(), 1u);
  const Certificate& cert = certs->front();
  EXPECT_EQ(cert.not_after, SystemTime(std::chrono::duration_cast<SystemTime::duration>(
                                std::chrono::duration_cast<std::chrono::seconds>(
                                    SystemTime::duration::max()))));
  EXPECT_EQ(FormatRfc3339Utc(cert.not_after).substr(0, 4), "2262");
  EXPECT_GT(cert.not_before, SystemTime(std::chrono::hours(24 * 365 * 50)));  // After 2020.
  EXPECT_LT(cert.not_before, cert.not_after);
}

}  // namespace
}  // namespace certdeploy::pkcs
