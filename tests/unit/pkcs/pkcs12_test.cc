#include "pkcs/pkcs12.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>

#include "tests/support/pfx_bombs.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_pki.h"

namespace certdeploy::pkcs {
namespace {

using ::certdeploy::testing::ExpectedSha1;
using ::certdeploy::testing::FixturePassword;
using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::kPfxPassword;
using ::certdeploy::testing::NonAsciiFixturePassword;
using ::certdeploy::testing::ReadPkiBytes;
using ::certdeploy::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> Sha1s(const std::vector<Certificate>& certs) {
  std::vector<std::string> out;
  for (const Certificate& c : certs) out.push_back(c.sha1);
  return out;
}

// Expects ParsePkcs12 to fail with `code`, a message without the password, and a clean OpenSSL
// error queue.
void ExpectFailure(const Result<Pkcs12Contents>& result, std::string_view code) {
  ASSERT_THAT(result, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(Pkcs12FailureCode(result.status()), code) << result.status();
  EXPECT_THAT(std::string(result.status().message()), Not(HasSubstr(kPfxPassword)));
  EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL error queue left dirty";
}

TEST(Pkcs12Test, OpensModernPfx) {
  Result<Pkcs12Contents> pfx = ParsePkcs12(ReadPkiBytes("alice.pfx"), FixturePassword());
  ASSERT_THAT(pfx, IsOk());
  EXPECT_EQ(pfx->leaf.sha1, ExpectedSha1("alice"));
  EXPECT_THAT(pfx->leaf.emails, ElementsAre("alice@contoso.com"));
  EXPECT_THAT(Sha1s(pfx->others), ElementsAre(ExpectedSha1("ca"), ExpectedSha1("root-b-cross"),
                                              ExpectedSha1("root-a")));
  EXPECT_FALSE(pfx->legacy_encryption);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(Pkcs12Test, OpensLegacyRc2Pfx) {
  Result<Pkcs12Contents> pfx = ParsePkcs12(ReadPkiBytes("alice-legacy.pfx"), FixturePassword());
  ASSERT_THAT(pfx, IsOk());
  EXPECT_EQ(pfx->leaf.sha1, ExpectedSha1("alice"));
  EXPECT_EQ(pfx->others.size(), 3u);
  EXPECT_TRUE(pfx->legacy_encryption);
}

TEST(Pkcs12Test, FindsTheLeafForEveryUser) {
  for (std::string_view name : {"bob", "carol", "oneil", "ec", "weak-key", "sha1", "mixedcase"}) {
    Result<Pkcs12Contents> pfx =
        ParsePkcs12(ReadPkiBytes(std::string(name) + ".pfx"), FixturePassword());
    ASSERT_THAT(pfx, IsOk()) << name;
    EXPECT_EQ(pfx->leaf.sha1, ExpectedSha1(name)) << name;
    EXPECT_EQ(pfx->others.size(), 3u) << name;
  }
}

TEST(Pkcs12Test, KeepsFileOrderAndDuplicatesButNotTheLeafTwice) {
  // shuffled.pfx: alice, then root-a, ca, root-b-cross, alice again, ca, root-a.
  Result<Pkcs12Contents> pfx = ParsePkcs12(ReadPkiBytes("shuffled.pfx"), FixturePassword());
  ASSERT_THAT(pfx, IsOk());
  EXPECT_EQ(pfx->leaf.sha1, ExpectedSha1("alice"));
  EXPECT_THAT(Sha1s(pfx->others),
              ElementsAre(ExpectedSha1("root-a"), ExpectedSha1("ca"), ExpectedSha1("root-b-cross"),
                          ExpectedSha1("ca"), ExpectedSha1("root-a")));
}

TEST(Pkcs12Test, LeafOnly) {
  Result<Pkcs12Contents> pfx = ParsePkcs12(ReadPkiBytes("leaf-only.pfx"), FixturePassword());
  ASSERT_THAT(pfx, IsOk());
  EXPECT_EQ(pfx->leaf.sha1, ExpectedSha1("alice"));
  EXPECT_TRUE(pfx->others.empty());
}

TEST(Pkcs12Test, NonAsciiPasswordOpensWithItsUtf8Bytes) {
  Result<Pkcs12Contents> pfx = ParsePkcs12(ReadPkiBytes("nonascii.pfx"), NonAsciiFixturePassword());
  ASSERT_THAT(pfx, IsOk());
  EXPECT_EQ(pfx->leaf.sha1, ExpectedSha1("nonascii"));
}

TEST(Pkcs12Test, WrongPasswordIsBadPassword) {
  ExpectFailure(ParsePkcs12(ReadPkiBytes("alice.pfx"), SecretBytes("Test-Pa55word?")),
                "bad-password");
  ExpectFailure(ParsePkcs12(ReadPkiBytes("alice-legacy.pfx"), SecretBytes("wrong")),
                "bad-password");
  ExpectFailure(ParsePkcs12(ReadPkiBytes("alice.pfx"), SecretBytes("")), "bad-password");
  ExpectFailure(ParsePkcs12(ReadPkiBytes("nonascii.pfx"), FixturePassword()), "bad-password");
  Result<Pkcs12Contents> r = ParsePkcs12(ReadPkiBytes("alice.pfx"), SecretBytes("nope"));
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, HasSubstr("wrong password")));
}

TEST(Pkcs12Test, PasswordWithNulByteIsRefused) {
  ExpectFailure(ParsePkcs12(ReadPkiBytes("alice.pfx"), SecretBytes(std::string_view("a\0b", 3))),
                "bad-password");
}

TEST(Pkcs12Test, GarbageIsNotPkcs12) {
  ExpectFailure(ParsePkcs12(ReadPkiBytes("garbage.bin"), FixturePassword()), "not-pkcs12");
  ExpectFailure(ParsePkcs12({}, FixturePassword()), "not-pkcs12");
  ExpectFailure(ParsePkcs12(ReadPkiBytes("alice.der"), FixturePassword()), "not-pkcs12");
  Result<Pkcs12Contents> pem = ParsePkcs12(ReadPkiBytes("alice.pem"), FixturePassword());
  ExpectFailure(pem, "not-pkcs12");
  EXPECT_THAT(pem, StatusIs(StatusCode::kInvalidArgument, HasSubstr("PEM")));
}

TEST(Pkcs12Test, TruncatedIsCorrupt) {
  Result<Pkcs12Contents> r = ParsePkcs12(ReadPkiBytes("truncated.pfx"), FixturePassword());
  ExpectFailure(r, "corrupt-pkcs12");
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, HasSubstr("truncated")));
}

TEST(Pkcs12Test, DamagedStructureIsCorrupt) {
  // PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, ... }: break the ContentInfo's
  // SEQUENCE tag, right after the version.
  std::vector<uint8_t> pfx = ReadPkiBytes("alice.pfx");
  ASSERT_GT(pfx.size(), 10u);
  size_t header = (pfx[1] & 0x80) != 0 ? 2 + (pfx[1] & 0x7f) : 2;
  ASSERT_EQ(pfx[header], 0x02);      // INTEGER
  ASSERT_EQ(pfx[header + 2], 0x03);  // version 3
  ASSERT_EQ(pfx[header + 3], 0x30);  // ContentInfo SEQUENCE
  pfx[header + 3] = 0x04;
  ExpectFailure(ParsePkcs12(pfx, FixturePassword()), "corrupt-pkcs12");
}

TEST(Pkcs12Test, CertificatesOnlyIsNoPrivateKey) {
  Result<Pkcs12Contents> r = ParsePkcs12(ReadPkiBytes("certs-only.pfx"), FixturePassword());
  ExpectFailure(r, "no-private-key");
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, HasSubstr("4 certificate(s)")));
}

TEST(Pkcs12Test, KeyMatchingNoCertificateIsKeyMismatch) {
  Result<Pkcs12Contents> r = ParsePkcs12(ReadPkiBytes("key-mismatch.pfx"), FixturePassword());
  ExpectFailure(r, "key-mismatch");
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, HasSubstr("4 certificate(s)")));
}

TEST(Pkcs12Test, FailureCodeIsEmptyForOtherStatuses) {
  EXPECT_EQ(Pkcs12FailureCode(OkStatus()), "");
  EXPECT_EQ(Pkcs12FailureCode(InvalidArgumentError("x")), "");
  StatusDetails details;
  details.service_code = "BadRequest";
  EXPECT_EQ(Pkcs12FailureCode(Status(StatusCode::kInvalidArgument, "x", details)), "");
}

// ---- Iteration bombs: refused before any key derivation runs ----

namespace bombs {

using ::certdeploy::testing::IterationRewrite;
using ::certdeploy::testing::RewriteIterations;

std::vector<uint8_t> Bomb(const char* fixture, IterationRewrite rewrite) {
  std::vector<uint8_t> bytes = RewriteIterations(ReadPkiBytes(fixture), rewrite);
  EXPECT_FALSE(bytes.empty());
  return bytes;
}

TEST(Pkcs12IterationTest, MacIterationBombIsRefused) {
  Result<Pkcs12Contents> r =
      ParsePkcs12(Bomb("alice.pfx", {.mac = 2147483647}), FixturePassword());
  ExpectFailure(r, "excessive-iterations");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("2147483647"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("integrity MAC"));
}

TEST(Pkcs12IterationTest, EncryptedPartAndKeyBombsAreRefused) {
  ExpectFailure(ParsePkcs12(Bomb("alice.pfx", {.parts = 2147483647}), FixturePassword()),
                "excessive-iterations");
  ExpectFailure(ParsePkcs12(Bomb("alice.pfx", {.keys = 2147483647}), FixturePassword()),
                "excessive-iterations");
  // Legacy (RC2 / 3DES with SHA-1) parameters as well as PBES2.
  ExpectFailure(ParsePkcs12(Bomb("alice-legacy.pfx", {.parts = 5000000}), FixturePassword()),
                "excessive-iterations");
  ExpectFailure(ParsePkcs12(Bomb("alice-legacy.pfx", {.keys = 5000000}), FixturePassword()),
                "excessive-iterations");
}

TEST(Pkcs12IterationTest, OneMoreThanTheCapIsRefusedTheCapItselfIsNot) {
  ExpectFailure(ParsePkcs12(Bomb("alice.pfx", {.mac = kMaxKdfIterations + 1}), FixturePassword()),
                "excessive-iterations");
  // At the cap the MAC runs (and fails: the rewrite kept the old MAC value).
  ExpectFailure(ParsePkcs12(Bomb("alice.pfx", {.mac = kMaxKdfIterations}), FixturePassword()),
                "bad-password");
}

TEST(Pkcs12IterationTest, TheWholeFileHasABudgetToo) {
  // Each count is allowed on its own; together (the legacy KDF runs twice per part, key and
  // IV) they exceed kMaxTotalKdfIterations.
  const std::vector<uint8_t> heavy =
      Bomb("alice-legacy.pfx", {.mac = 1000000, .parts = 1000000, .keys = 1000000});
  Result<Pkcs12Contents> r = ParsePkcs12(heavy, FixturePassword());
  ExpectFailure(r, "excessive-iterations");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("in all"));
}

TEST(Pkcs12IterationTest, NonPositiveCountsAreDamage) {
  ExpectFailure(ParsePkcs12(Bomb("alice.pfx", {.parts = -1}), FixturePassword()),
                "corrupt-pkcs12");
  ExpectFailure(ParsePkcs12(Bomb("alice.pfx", {.mac = 0}), FixturePassword()), "corrupt-pkcs12");
}

TEST(Pkcs12IterationTest, TheFuzzCorpusBombsAreRefused) {
  // Made by tests/fuzz/make_corpus.sh: every count of an openssl export rewritten in the DER.
  for (const char* name : {"iter-bomb-2147483647.pfx", "iter-over-cap.pfx"}) {
    const std::vector<uint8_t> bytes = certdeploy::testing::ReadFileBytes(
        std::string(CERTDEPLOY_SOURCE_DIR) + "/tests/fuzz/corpus/pkcs12_fuzzer/" + name);
    ASSERT_FALSE(bytes.empty()) << name;
    ExpectFailure(ParsePkcs12(bytes, FixturePassword()), "excessive-iterations");
    // Without the MAC's count, the encrypted parts' counts are refused on their own.
    const std::vector<uint8_t> no_mac_bomb =
        RewriteIterations(bytes, {.mac = 2048});
    ExpectFailure(ParsePkcs12(no_mac_bomb, FixturePassword()), "excessive-iterations");
  }
}

TEST(Pkcs12IterationTest, RealExportsAreWellWithinTheLimits) {
  // The fixtures are openssl exports (2,048 iterations, modern and legacy): they open.
  EXPECT_THAT(ParsePkcs12(ReadPkiBytes("alice.pfx"), FixturePassword()).status(), IsOk());
  EXPECT_THAT(ParsePkcs12(ReadPkiBytes("alice-legacy.pfx"), FixturePassword()).status(), IsOk());
  static_assert(kMaxKdfIterations >= 1000000, "NSS 3.35 exports used 1,000,000 iterations");
  static_assert(kMaxTotalKdfIterations >= 3 * 1000000, "MAC + certificates + key at 1,000,000");
}

}  // namespace bombs

}  // namespace
}  // namespace certdeploy::pkcs
