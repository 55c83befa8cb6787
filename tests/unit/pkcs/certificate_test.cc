#include "pkcs/certificate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/status_matchers.h"
#include "tests/support/test_pki.h"

namespace certdeploy::pkcs {
namespace {

using ::certdeploy::testing::ExpectedSha1;
using ::certdeploy::testing::ExpectedSha256;
using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::PkiGeneratedAt;
using ::certdeploy::testing::PkiPath;
using ::certdeploy::testing::ReadPkiBytes;
using ::certdeploy::testing::ReadPkiText;
using ::certdeploy::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kCaSubject[] = "CN=Test Public Email Protection CA R36,O=Test CA Ltd,C=GB";
constexpr char kRootBSubject[] = "CN=Test Public Email Protection Root R46,O=Test CA Ltd,C=GB";
constexpr char kRootASubject[] =
    "CN=Test USERTrust RSA Certification Authority,O=Test Trust Network,C=US";

Certificate LoadDer(std::string_view name) {
  Result<Certificate> cert = ParseCertificateDer(ReadPkiBytes(std::string(name) + ".der"));
  EXPECT_THAT(cert, IsOk()) << name;
  return cert.ok() ? *cert : Certificate{};
}

TEST(CertificateTest, DecodesUserCertificateFields) {
  Certificate alice = LoadDer("alice");
  EXPECT_EQ(alice.subject, "emailAddress=alice@contoso.com,CN=Alice Example,O=Contoso,C=US");
  EXPECT_EQ(alice.issuer, kCaSubject);
  EXPECT_EQ(alice.common_name, "Alice Example");
  EXPECT_THAT(alice.emails, ElementsAre("alice@contoso.com"));  // SAN and subject: one entry.
  EXPECT_THAT(alice.extended_key_usages, ElementsAre(kEkuEmailProtection, kEkuClientAuth));
  EXPECT_TRUE(alice.key_usage.present);
  EXPECT_TRUE(alice.key_usage.digital_signature);
  EXPECT_TRUE(alice.key_usage.key_encipherment);
  EXPECT_FALSE(alice.key_usage.key_agreement);
  EXPECT_FALSE(alice.key_usage.key_cert_sign);
  EXPECT_FALSE(alice.is_ca);
  EXPECT_FALSE(alice.self_issued);
  EXPECT_EQ(alice.key_type, KeyType::kRsa);
  EXPECT_EQ(alice.key_bits, 2048);
  EXPECT_EQ(alice.signature_algorithm, "RSA-SHA256");
  EXPECT_EQ(alice.signature_digest, "sha256");
  EXPECT_EQ(alice.serial_hex, "1001");  // The first serial the script's `openssl ca` issues.
  EXPECT_EQ(alice.subject_key_id.size(), 40u);
  EXPECT_EQ(alice.public_key_sha256.size(), 64u);
}

TEST(CertificateTest, ValidityComesFromTheCertificate) {
  // The script issues user certificates from one day before generation, for 365 days.
  Certificate alice = LoadDer("alice");
  EXPECT_EQ(alice.not_before, PkiGeneratedAt() - std::chrono::days(1));
  EXPECT_EQ(alice.not_after, PkiGeneratedAt() + std::chrono::days(365));
  Certificate expired = LoadDer("expired");
  EXPECT_EQ(expired.not_after, PkiGeneratedAt() - std::chrono::days(30));
}

TEST(CertificateTest, ThumbprintsMatchTheOpensslCli) {
  for (std::string_view name : {"alice", "bob", "oneil", "ca", "root-a", "root-b", "root-b-cross",
                                "ec", "weak-key", "sha1"}) {
    Certificate cert = LoadDer(name);
    EXPECT_EQ(cert.sha1, ExpectedSha1(name)) << name;
    EXPECT_EQ(cert.sha256, ExpectedSha256(name)) << name;
    EXPECT_EQ(cert.sha1.size(), 40u) << name;
  }
}

TEST(CertificateTest, PemAndDerDecodeToTheSameCertificate) {
  Result<std::vector<Certificate>> pem = ParseCertificatesPem(ReadPkiText("alice.pem"));
  ASSERT_THAT(pem, IsOk());
  ASSERT_EQ(pem->size(), 1u);
  EXPECT_EQ((*pem)[0], LoadDer("alice"));
  EXPECT_EQ((*pem)[0].sha1, LoadDer("alice").sha1);
}

TEST(CertificateTest, CaCertificates) {
  Certificate root_a = LoadDer("root-a");
  EXPECT_EQ(root_a.subject, kRootASubject);
  EXPECT_TRUE(root_a.is_ca);
  EXPECT_TRUE(root_a.self_issued);
  EXPECT_TRUE(root_a.key_usage.key_cert_sign);
  EXPECT_TRUE(root_a.emails.empty());
  EXPECT_TRUE(root_a.extended_key_usages.empty());

  // The cross-signed R46 has the self-signed R46's subject and key but root A as issuer.
  Certificate root_b = LoadDer("root-b");
  Certificate cross = LoadDer("root-b-cross");
  EXPECT_EQ(cross.subject, kRootBSubject);
  EXPECT_EQ(cross.issuer, kRootASubject);
  EXPECT_FALSE(cross.self_issued);
  EXPECT_TRUE(cross.is_ca);
  EXPECT_EQ(cross.public_key_sha256, root_b.public_key_sha256);
  EXPECT_EQ(cross.subject_key_id, root_b.subject_key_id);
  EXPECT_EQ(cross.authority_key_id, root_a.subject_key_id);
  EXPECT_NE(cross.sha1, root_b.sha1);

  Certificate ca = LoadDer("ca");
  EXPECT_EQ(ca.authority_key_id, root_b.subject_key_id);
  EXPECT_EQ(LoadDer("alice").authority_key_id, ca.subject_key_id);
}

TEST(CertificateTest, EmailsKeepTheirSpelling) {
  EXPECT_THAT(LoadDer("oneil").emails, ElementsAre("o'neil@contoso.com"));
  EXPECT_EQ(LoadDer("oneil").common_name, "Sean O'Neil");
  EXPECT_THAT(LoadDer("mixedcase").emails, ElementsAre("Erin.Smith@Contoso.COM"));
  // sha1-root-user is a v1 certificate: no SAN, only the subject emailAddress.
  EXPECT_THAT(LoadDer("sha1-root-user").emails, ElementsAre("alice@contoso.com"));
}

TEST(CertificateTest, KeysAndSignatures) {
  Certificate ec = LoadDer("ec");
  EXPECT_EQ(ec.key_type, KeyType::kEc);
  EXPECT_EQ(ec.key_bits, 256);
  EXPECT_TRUE(ec.key_usage.key_agreement);
  EXPECT_FALSE(ec.key_usage.key_encipherment);
  EXPECT_EQ(LoadDer("weak-key").key_bits, 1024);
  EXPECT_EQ(LoadDer("sha1").signature_digest, "sha1");
  EXPECT_EQ(LoadDer("sha1").signature_algorithm, "RSA-SHA1");
  EXPECT_THAT(LoadDer("no-eku").extended_key_usages, ElementsAre(kEkuClientAuth));
  Certificate no_keyenc = LoadDer("no-keyenc");
  EXPECT_TRUE(no_keyenc.key_usage.present);
  EXPECT_TRUE(no_keyenc.key_usage.digital_signature);
  EXPECT_FALSE(no_keyenc.key_usage.key_encipherment);
  EXPECT_FALSE(LoadDer("sha1-root-user").key_usage.present);
}

TEST(CertificateTest, ParsesPemBundleInOrder) {
  Result<std::vector<Certificate>> chain = ParseCertificatesPem(ReadPkiText("chain.pem"));
  ASSERT_THAT(chain, IsOk());
  ASSERT_EQ(chain->size(), 3u);
  EXPECT_EQ((*chain)[0].sha1, ExpectedSha1("ca"));
  EXPECT_EQ((*chain)[1].sha1, ExpectedSha1("root-b-cross"));
  EXPECT_EQ((*chain)[2].sha1, ExpectedSha1("root-a"));
}

TEST(CertificateTest, PemSkipsOtherBlocksAndAcceptsCrlf) {
  std::string text = ReadPkiText("connector.pub") + ReadPkiText("ca.pem");
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  Result<std::vector<Certificate>> certs = ParseCertificatesPem(crlf);
  ASSERT_THAT(certs, IsOk());
  ASSERT_EQ(certs->size(), 1u);
  EXPECT_EQ((*certs)[0].subject, kCaSubject);
}

TEST(CertificateTest, RejectsBadInput) {
  EXPECT_THAT(ParseCertificateDer(ReadPkiBytes("garbage.bin")),
              StatusIs(StatusCode::kInvalidArgument));
  std::vector<uint8_t> der = ReadPkiBytes("alice.der");
  der.resize(der.size() / 2);
  EXPECT_THAT(ParseCertificateDer(der), StatusIs(StatusCode::kInvalidArgument));
  der = ReadPkiBytes("alice.der");
  der.push_back(0);
  EXPECT_THAT(ParseCertificateDer(der), StatusIs(StatusCode::kInvalidArgument));

  EXPECT_THAT(ParseCertificatesPem("no certificates here"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no \"BEGIN CERTIFICATE\"")));
  std::string corrupt = ReadPkiText("ca.pem") + ReadPkiText("root-a.pem");
  corrupt.replace(corrupt.rfind("-----END") - 30, 4, "!!!!");
  EXPECT_THAT(ParseCertificatesPem(corrupt),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("block 2")));
  std::string unterminated = ReadPkiText("ca.pem");
  unterminated.resize(unterminated.find("-----END"));
  EXPECT_THAT(ParseCertificatesPem(unterminated),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no END line")));
}

TEST(CertificateTest, LoadPemFileNamesThePath) {
  Result<std::vector<Certificate>> bundle = LoadCertificatesPemFile(PkiPath("trust-bundle.pem"));
  ASSERT_THAT(bundle, IsOk());
  EXPECT_EQ(bundle->size(), 3u);
  EXPECT_THAT(LoadCertificatesPemFile(PkiPath("missing.pem")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("missing.pem")));
  EXPECT_THAT(LoadCertificatesPemFile(PkiPath("connector.key")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("connector.key")));
}

TEST(CertificateTest, IsSignedByVerifiesSignatures) {
  Certificate alice = LoadDer("alice");
  Certificate ca = LoadDer("ca");
  Certificate root_a = LoadDer("root-a");
  Certificate root_b = LoadDer("root-b");
  Certificate cross = LoadDer("root-b-cross");
  EXPECT_TRUE(IsSignedBy(alice, ca));
  EXPECT_FALSE(IsSignedBy(alice, root_a));
  EXPECT_FALSE(IsSignedBy(alice, LoadDer("impostor-ca")));  // Same name, other key.
  // R46's key signed the CA: both variants of R46 verify it.
  EXPECT_TRUE(IsSignedBy(ca, root_b));
  EXPECT_TRUE(IsSignedBy(ca, cross));
  EXPECT_TRUE(IsSignedBy(cross, root_a));
  EXPECT_TRUE(IsSignedBy(root_a, root_a));
  EXPECT_FALSE(IsSignedBy(root_a, root_b));
  EXPECT_FALSE(IsSignedBy(alice, Certificate{}));
}

TEST(CertificateTest, PrintsSubjectAndThumbprint) {
  Certificate alice = LoadDer("alice");
  std::ostringstream os;
  os << alice;
  EXPECT_THAT(os.str(), HasSubstr("Alice Example"));
  EXPECT_THAT(os.str(), HasSubstr(alice.sha1));
}

TEST(CertificateTest, EqualityIsByDer) {
  EXPECT_EQ(LoadDer("alice"), LoadDer("alice"));
  EXPECT_FALSE(LoadDer("alice") == LoadDer("bob"));
  EXPECT_THAT((std::vector<std::string>{LoadDer("bob").emails[0], LoadDer("carol").emails[0]}),
              UnorderedElementsAre("bob@contoso.com", "carol@contoso.com"));
}

}  // namespace
}  // namespace certdeploy::pkcs
