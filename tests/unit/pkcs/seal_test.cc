// Tests for pkcs/seal.h: connector key formats, padding names and RSA-OAEP sealing.
//
// Keys are generated here with the OpenSSL API and exported in every format the connector key can
// have; ciphertexts are checked by decrypting them with raw OpenSSL calls, independently of the
// code under test.

#include "pkcs/seal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/status_matchers.h"

namespace certdeploy::pkcs {
namespace {

using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

using Bytes = std::vector<uint8_t>;

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

// Standard base64 decoding for checking ciphertexts (EVP_DecodeBlock keeps the padding bytes).
Bytes DecodeBase64(const std::string& text) {
  Bytes out(text.size());
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return {};
  size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

void AppendLe32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// A CNG BCRYPT_RSAKEY_BLOB with the given header fields, exponent and modulus (big-endian).
Bytes MakeCngBlob(std::string_view magic, uint32_t bit_length, const Bytes& e, const Bytes& n,
                  uint32_t prime1_bytes = 0, uint32_t prime2_bytes = 0) {
  Bytes blob(magic.begin(), magic.end());
  AppendLe32(blob, bit_length);
  AppendLe32(blob, static_cast<uint32_t>(e.size()));
  AppendLe32(blob, static_cast<uint32_t>(n.size()));
  AppendLe32(blob, prime1_bytes);
  AppendLe32(blob, prime2_bytes);
  blob.insert(blob.end(), e.begin(), e.end());
  blob.insert(blob.end(), n.begin(), n.end());
  return blob;
}

// A key made with the OpenSSL API in the test, exported in the formats the code must read.
class TestKey {
 public:
  static TestKey Rsa(unsigned int bits) { return TestKey(EVP_RSA_gen(bits)); }
  static TestKey Ec() { return TestKey(EVP_EC_gen("P-256")); }

  EVP_PKEY* get() const { return pkey_.get(); }

  std::string SpkiPem() const {
    return WithBio([&](BIO* bio) { return PEM_write_bio_PUBKEY(bio, get()); });
  }
  std::string Pkcs8PrivatePem() const {
    return WithBio([&](BIO* bio) {
      return PEM_write_bio_PrivateKey(bio, get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
  }
  std::string EncryptedPkcs8Pem() const {
    return WithBio([&](BIO* bio) {
      return PEM_write_bio_PKCS8PrivateKey(bio, get(), EVP_aes_256_cbc(), "pw", 2, nullptr,
                                           nullptr);
    });
  }
  // "BEGIN RSA PUBLIC KEY" / "BEGIN RSA PRIVATE KEY".
  std::string Pkcs1PublicPem() const { return Encode(EVP_PKEY_PUBLIC_KEY); }
  std::string Pkcs1PrivatePem() const { return Encode(EVP_PKEY_KEYPAIR); }

  // A self-signed certificate over this key, as PEM.
  std::string CertificatePem() const {
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    X509_set_version(cert.get(), X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("connector"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    EXPECT_GT(X509_sign(cert.get(), get(), EVP_sha256()), 0);
    return WithBio([&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); });
  }

  Bytes Modulus() const { return BnParam(OSSL_PKEY_PARAM_RSA_N); }
  Bytes Exponent() const { return BnParam(OSSL_PKEY_PARAM_RSA_E); }
  // The RSAPUBLICBLOB Export-IntunePublicKey writes by default.
  Bytes CngPublicBlob() const {
    return MakeCngBlob("RSA1", static_cast<uint32_t>(EVP_PKEY_get_bits(get())), Exponent(),
                       Modulus());
  }

  // SHA-256 of the SubjectPublicKeyInfo DER, computed here without the code under test.
  std::string SpkiSha256Hex() const {
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(get(), &der);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EXPECT_EQ(EVP_Digest(der, static_cast<size_t>(len), md, &md_len, EVP_sha256(), nullptr), 1);
    OPENSSL_free(der);
    std::string hex;
    char buf[3];
    for (unsigned int i = 0; i < md_len; ++i) {
      std::snprintf(buf, sizeof(buf), "%02x", md[i]);
      hex += buf;
    }
    return hex;
  }

  // Raw RSA-OAEP decryption with explicit OAEP and MGF1 digest names; nullopt on failure.
  std::optional<Bytes> Decrypt(const Bytes& ciphertext, const char* oaep_md,
                               const char* mgf1_md) const {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
        EVP_PKEY_CTX_new(get(), nullptr), EVP_PKEY_CTX_free);
    Bytes out(static_cast<size_t>(EVP_PKEY_get_size(get())));
    size_t out_len = out.size();
    if (EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), oaep_md, nullptr) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), mgf1_md, nullptr) != 1 ||
        EVP_PKEY_decrypt(ctx.get(), out.data(), &out_len, ciphertext.data(), ciphertext.size()) !=
            1) {
      return std::nullopt;
    }
    out.resize(out_len);
    return out;
  }

 private:
  explicit TestKey(EVP_PKEY* pkey) : pkey_(pkey, EVP_PKEY_free) {
    EXPECT_NE(pkey, nullptr) << "key generation failed";
  }

  template <typename Fn>
  static std::string WithBio(Fn write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    EXPECT_EQ(write(bio.get()), 1);
    return BioContents(bio.get());
  }

  std::string Encode(int selection) const {
    std::unique_ptr<OSSL_ENCODER_CTX, decltype(&OSSL_ENCODER_CTX_free)> ctx(
        OSSL_ENCODER_CTX_new_for_pkey(get(), selection, "PEM", "type-specific", nullptr),
        OSSL_ENCODER_CTX_free);
    unsigned char* data = nullptr;
    size_t len = 0;
    EXPECT_EQ(OSSL_ENCODER_to_data(ctx.get(), &data, &len), 1);
    std::string pem(reinterpret_cast<char*>(data), len);
    OPENSSL_free(data);
    return pem;
  }

  Bytes BnParam(const char* name) const {
    BIGNUM* bn = nullptr;
    EXPECT_EQ(EVP_PKEY_get_bn_param(get(), name, &bn), 1);
    Bytes out(static_cast<size_t>(BN_num_bytes(bn)));
    BN_bn2bin(bn, out.data());
    BN_free(bn);
    return out;
  }

  std::shared_ptr<EVP_PKEY> pkey_;
};

// Key generation is the slow part: one connector key (and one stranger) for the whole suite.
const TestKey& ConnectorKey() {
  static const TestKey key = TestKey::Rsa(2048);
  return key;
}
const TestKey& OtherKey() {
  static const TestKey key = TestKey::Rsa(2048);
  return key;
}

ConnectorPublicKey MustParsePublic(std::string_view bytes) {
  Result<ConnectorPublicKey> key = ConnectorPublicKey::Parse(AsBytes(bytes));
  EXPECT_THAT(key, IsOk());
  return *key;
}

ConnectorPrivateKey MustParsePrivate(std::string_view pem) {
  Result<ConnectorPrivateKey> key = ConnectorPrivateKey::Parse(AsBytes(pem));
  EXPECT_THAT(key, IsOk());
  return *key;
}

// A file under the test temp dir, removed when the object goes away.
class TempFile {
 public:
  explicit TempFile(std::span<const uint8_t> content) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = ::testing::TempDir() + "seal_test_" + std::to_string(::getpid()) + "_" + info->name() +
            "_" + std::to_string(counter_++);
    std::ofstream out(path_, std::ios::binary);
    out.write(reinterpret_cast<const char*>(content.data()),
              static_cast<std::streamsize>(content.size()));
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

// ---- Padding scheme names --------------------------------------------------------------------

TEST(PaddingScheme, NamesRoundTripAndParseCaseInsensitively) {
  for (PaddingScheme scheme :
       {PaddingScheme::kOaepSha256, PaddingScheme::kOaepSha384, PaddingScheme::kOaepSha512}) {
    Result<PaddingScheme> parsed = ParsePaddingScheme(PaddingSchemeName(scheme));
    ASSERT_THAT(parsed, IsOk());
    EXPECT_EQ(*parsed, scheme);
  }
  EXPECT_EQ(PaddingSchemeName(PaddingScheme::kOaepSha512), "oaepSha512");
  EXPECT_EQ(*ParsePaddingScheme("OAEPSHA384"), PaddingScheme::kOaepSha384);
  EXPECT_EQ(*ParsePaddingScheme("OaepSha256"), PaddingScheme::kOaepSha256);
}

TEST(PaddingScheme, RetiredSchemesAreRefusedAsNoLongerSupported) {
  for (std::string_view name : {"pkcs1", "oaepSha1", "none", "Pkcs1", "OAEPSHA1", "None"}) {
    EXPECT_THAT(ParsePaddingScheme(name),
                StatusIs(StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("no longer supported by Intune"), HasSubstr("oaepSha256"),
                               HasSubstr("oaepSha384"), HasSubstr("oaepSha512"))))
        << name;
  }
}

TEST(PaddingScheme, UnknownNamesAreRefusedWithTheAcceptedList) {
  for (std::string_view name : {"", "oaepSha224", "oaep", "sha512", "oaepSha512 "}) {
    EXPECT_THAT(ParsePaddingScheme(name),
                StatusIs(StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("unknown padding scheme"), HasSubstr("oaepSha512"),
                               Not(HasSubstr("no longer supported")))))
        << name;
  }
}

// ---- Public key formats ----------------------------------------------------------------------

TEST(ConnectorPublicKey, AllThreeFormatsLoadTheSameKey) {
  const TestKey& key = ConnectorKey();
  std::string spki = key.SpkiPem();
  std::string pkcs1 = key.Pkcs1PublicPem();
  ASSERT_THAT(spki, HasSubstr("-----BEGIN PUBLIC KEY-----"));
  ASSERT_THAT(pkcs1, HasSubstr("-----BEGIN RSA PUBLIC KEY-----"));
  Bytes blob = key.CngPublicBlob();
  ASSERT_EQ(blob.size(), 24u + 3u + 256u);  // The layout's RSA-2048, e=65537 example.

  ConnectorPublicKey from_spki = MustParsePublic(spki);
  ConnectorPublicKey from_pkcs1 = MustParsePublic(pkcs1);
  Result<ConnectorPublicKey> from_blob = ConnectorPublicKey::Parse(blob);
  ASSERT_THAT(from_blob, IsOk());

  const std::string expected = key.SpkiSha256Hex();
  ASSERT_EQ(expected.size(), 64u);
  EXPECT_EQ(from_spki.fingerprint(), expected);
  EXPECT_EQ(from_pkcs1.fingerprint(), expected);
  EXPECT_EQ(from_blob->fingerprint(), expected);
  EXPECT_EQ(from_spki.bits(), 2048);
  EXPECT_EQ(from_pkcs1.bits(), 2048);
  EXPECT_EQ(from_blob->bits(), 2048);
  EXPECT_NE(MustParsePublic(OtherKey().SpkiPem()).fingerprint(), expected);
}

TEST(ConnectorPublicKey, ToPemIsTheStandardSpkiPem) {
  const TestKey& key = ConnectorKey();
  Result<ConnectorPublicKey> from_blob = ConnectorPublicKey::Parse(key.CngPublicBlob());
  ASSERT_THAT(from_blob, IsOk());
  EXPECT_EQ(from_blob->ToPem(), key.SpkiPem());  // OpenSSL's own PEM, byte for byte.
  EXPECT_EQ(MustParsePublic(from_blob->ToPem()).fingerprint(), from_blob->fingerprint());
}

TEST(ConnectorPublicKey, ToleratesBomLeadingWhitespaceAndCrlf) {
  std::string pem = ConnectorKey().SpkiPem();
  std::string crlf;
  for (char c : pem) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  EXPECT_EQ(MustParsePublic("\xEF\xBB\xBF \r\n\t" + crlf).fingerprint(),
            ConnectorKey().SpkiSha256Hex());
  EXPECT_EQ(MustParsePublic("\xEF\xBB\xBF" + ConnectorKey().Pkcs1PublicPem()).fingerprint(),
            ConnectorKey().SpkiSha256Hex());
}

TEST(ConnectorPublicKey, KeysAreCopyableValues) {
  ConnectorPublicKey a = MustParsePublic(ConnectorKey().SpkiPem());
  ConnectorPublicKey b = a;
  a = MustParsePublic(OtherKey().SpkiPem());
  EXPECT_EQ(b.fingerprint(), ConnectorKey().SpkiSha256Hex());
  EXPECT_EQ(a.fingerprint(), OtherKey().SpkiSha256Hex());
}

// ---- Refused public keys ---------------------------------------------------------------------

MATCHER_P(IsRefusal, substring, "") {
  return ::testing::ExplainMatchResult(StatusIs(StatusCode::kInvalidArgument, HasSubstr(substring)),
                                       arg, result_listener);
}

Result<ConnectorPublicKey> ParsePublic(std::string_view text) {
  return ConnectorPublicKey::Parse(AsBytes(text));
}

TEST(ConnectorPublicKey, RefusesPrivateKeyPems) {
  for (const std::string& pem : {ConnectorKey().Pkcs8PrivatePem(), ConnectorKey().Pkcs1PrivatePem(),
                                 ConnectorKey().EncryptedPkcs8Pem()}) {
    EXPECT_THAT(ParsePublic(pem),
                StatusIs(StatusCode::kInvalidArgument, AllOf(HasSubstr("this is a private key"),
                                                             HasSubstr("Export-IntunePublicKey"))));
  }
  // Even when a public key comes first in the same file.
  EXPECT_THAT(ParsePublic(ConnectorKey().SpkiPem() + ConnectorKey().Pkcs8PrivatePem()),
              IsRefusal("this is a private key"));
}

TEST(ConnectorPublicKey, RefusesACertificateNamingTheAcceptedFormats) {
  EXPECT_THAT(ParsePublic(ConnectorKey().CertificatePem()),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("certificate"), HasSubstr("BEGIN PUBLIC KEY"),
                             HasSubstr("BEGIN RSA PUBLIC KEY"), HasSubstr("RSAPUBLICBLOB"))));
}

TEST(ConnectorPublicKey, RefusesSmallRsaInEveryFormat) {
  TestKey small = TestKey::Rsa(1024);
  EXPECT_THAT(ParsePublic(small.SpkiPem()), IsRefusal("RSA-1024, too small"));
  EXPECT_THAT(ParsePublic(small.Pkcs1PublicPem()), IsRefusal("at least 2048 bits"));
  EXPECT_THAT(ConnectorPublicKey::Parse(small.CngPublicBlob()), IsRefusal("RSA-1024"));
}

TEST(ConnectorPublicKey, RefusesNonRsaKeys) {
  EXPECT_THAT(
      ParsePublic(TestKey::Ec().SpkiPem()),
      StatusIs(StatusCode::kInvalidArgument, AllOf(HasSubstr("EC key"), HasSubstr("must be RSA"))));
}

TEST(ConnectorPublicKey, RefusesMalformedCngBlobs) {
  const TestKey& key = ConnectorKey();
  Bytes good = key.CngPublicBlob();
  const Bytes e = key.Exponent();
  const Bytes n = key.Modulus();

  Bytes truncated(good.begin(), good.end() - 1);
  EXPECT_THAT(ConnectorPublicKey::Parse(truncated), IsRefusal("truncated"));
  EXPECT_THAT(ConnectorPublicKey::Parse(std::span(good).first(10)), IsRefusal("truncated"));
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_THAT(ConnectorPublicKey::Parse(trailing), IsRefusal("trailing data"));
  EXPECT_THAT(ConnectorPublicKey::Parse(MakeCngBlob("RSA1", 2048, e, n, 128, 0)),
              IsRefusal("cbPrime1/cbPrime2 must be 0"));
  EXPECT_THAT(ConnectorPublicKey::Parse(MakeCngBlob("RSA1", 2047, e, n)),
              IsRefusal("BitLength 2047 does not match"));
  EXPECT_THAT(ConnectorPublicKey::Parse(MakeCngBlob("RSA1", 2048, {}, n)),
              IsRefusal("cbPublicExp"));
  EXPECT_THAT(ConnectorPublicKey::Parse(MakeCngBlob("RSA1", 2048, {0x01, 0x00, 0x00}, n)),
              IsRefusal("exponent"));
}

TEST(ConnectorPublicKey, RefusesCngPrivateBlobs) {
  const TestKey& key = ConnectorKey();
  // Only the magic and header matter: the blob is refused before any number is read.
  for (std::string_view magic : {"RSA2", "RSA3"}) {
    Bytes blob = MakeCngBlob(magic, 2048, key.Exponent(), key.Modulus(), 128, 128);
    blob.resize(blob.size() + 256, 0x5a);
    EXPECT_THAT(ConnectorPublicKey::Parse(blob),
                StatusIs(StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("private key"), HasSubstr("must never be given"))))
        << magic;
  }
}

TEST(ConnectorPublicKey, RefusesGarbageEmptyAndOddPem) {
  const std::string accepted = "RSAPUBLICBLOB";
  EXPECT_THAT(ParsePublic("hello, I am not a key"), IsRefusal(accepted));
  EXPECT_THAT(ParsePublic(""), IsRefusal(accepted));
  EXPECT_THAT(ParsePublic(std::string("\x30\x82\x01\x22\x30\x0d", 6)), IsRefusal("DER"));
  EXPECT_THAT(ParsePublic("\xFF\xFE-\0-\0"), IsRefusal("UTF-16"));

  std::string pem = ConnectorKey().SpkiPem();
  EXPECT_THAT(ParsePublic(pem.substr(0, pem.size() / 2)), IsRefusal("no END line"));
  EXPECT_THAT(ParsePublic(pem + OtherKey().SpkiPem()), IsRefusal("holds 2 blocks"));
  EXPECT_THAT(ParsePublic("-----BEGIN PUBLIC KEY-----\nAAAA!!!!\n-----END PUBLIC KEY-----\n"),
              IsRefusal("not valid base64"));
  EXPECT_THAT(ParsePublic("-----BEGIN PUBLIC KEY-----\nMAMCAQA=\n-----END PUBLIC KEY-----\n"),
              IsRefusal("not a valid SubjectPublicKeyInfo"));
  EXPECT_THAT(ParsePublic("-----BEGIN DH PARAMETERS-----\nMAA=\n-----END DH PARAMETERS-----\n"),
              IsRefusal("unsupported PEM block 'DH PARAMETERS'"));
}

// ---- Files -------------------------------------------------------------------------------------

TEST(ConnectorPublicKey, LoadFileReadsEveryFormat) {
  TempFile blob(ConnectorKey().CngPublicBlob());
  Result<ConnectorPublicKey> key = ConnectorPublicKey::LoadFile(blob.path());
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(key->fingerprint(), ConnectorKey().SpkiSha256Hex());
  TempFile pem(AsBytes(ConnectorKey().Pkcs1PublicPem()));
  EXPECT_THAT(ConnectorPublicKey::LoadFile(pem.path()), IsOk());
}

TEST(ConnectorPublicKey, LoadFileErrorsNameThePath) {
  const std::string missing = ::testing::TempDir() + "seal_test_no_such_key.pem";
  EXPECT_THAT(ConnectorPublicKey::LoadFile(missing),
              StatusIs(StatusCode::kNotFound, HasSubstr(missing)));

  TempFile private_key(AsBytes(ConnectorKey().Pkcs8PrivatePem()));
  EXPECT_THAT(ConnectorPublicKey::LoadFile(private_key.path()),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(private_key.path()), HasSubstr("private key"))));

  std::string huge = ConnectorKey().SpkiPem() + std::string(64 * 1024, '\n');
  TempFile big(AsBytes(huge));
  EXPECT_THAT(
      ConnectorPublicKey::LoadFile(big.path()),
      StatusIs(StatusCode::kInvalidArgument, AllOf(HasSubstr(big.path()), HasSubstr("64 KiB"))));
}

// ---- Private keys ------------------------------------------------------------------------------

TEST(ConnectorPrivateKey, ParsesPkcs8AndPkcs1WithTheRightPublicKey) {
  const TestKey& key = ConnectorKey();
  EXPECT_EQ(MustParsePrivate(key.Pkcs8PrivatePem()).PublicKey().fingerprint(), key.SpkiSha256Hex());
  EXPECT_EQ(MustParsePrivate(key.Pkcs1PrivatePem()).PublicKey().fingerprint(), key.SpkiSha256Hex());
  TempFile file(AsBytes(key.Pkcs1PrivatePem()));
  Result<ConnectorPrivateKey> loaded = ConnectorPrivateKey::LoadFile(file.path());
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->PublicKey().bits(), 2048);
}

TEST(ConnectorPrivateKey, RefusesEncryptedPublicAndNonRsaKeys) {
  auto parse = [](const std::string& pem) { return ConnectorPrivateKey::Parse(AsBytes(pem)); };
  EXPECT_THAT(parse(ConnectorKey().EncryptedPkcs8Pem()), IsRefusal("encrypted"));
  EXPECT_THAT(parse("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: "
                    "AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n"
                    "-----END RSA PRIVATE KEY-----\n"),
              IsRefusal("encrypted"));
  EXPECT_THAT(parse(ConnectorKey().SpkiPem()), IsRefusal("BEGIN PRIVATE KEY"));
  EXPECT_THAT(parse(TestKey::Ec().Pkcs8PrivatePem()), IsRefusal("must be RSA"));
  EXPECT_THAT(parse("garbage"), IsRefusal("BEGIN RSA PRIVATE KEY"));
  EXPECT_THAT(ConnectorPrivateKey::LoadFile(::testing::TempDir() + "seal_test_missing.key"),
              StatusIs(StatusCode::kNotFound, HasSubstr("seal_test_missing.key")));
}

// ---- Password encoding -------------------------------------------------------------------------

TEST(CheckPasswordEncodable, AcceptsAsciiAndRefusesEverythingElseWithoutEchoingIt) {
  std::string all_ascii;
  for (int c = 1; c <= 0x7f; ++c) all_ascii += static_cast<char>(c);
  EXPECT_THAT(CheckPasswordEncodable(SecretBytes(all_ascii)), IsOk());
  EXPECT_THAT(CheckPasswordEncodable(SecretBytes()), IsOk());

  const std::string password = "P\xC3\xA4ss-Secret-42";  // "Päss-Secret-42" in UTF-8.
  for (const std::string& bad :
       {password, std::string("Secret\0x", 8), std::string("Secret\x80")}) {
    Status status = CheckPasswordEncodable(SecretBytes(bad));
    EXPECT_THAT(status,
                StatusIs(StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("one byte per character"),
                               HasSubstr("re-export the PFX with an ASCII-only password"))));
    ASSERT_NE(status.details(), nullptr);
    EXPECT_EQ(status.details()->service_code, "non-ascii-password");
    EXPECT_THAT(status.ToString(), AllOf(Not(HasSubstr("Secret")), Not(HasSubstr("P\xC3\xA4ss"))));
  }
  ConnectorPublicKey key = MustParsePublic(ConnectorKey().SpkiPem());
  Result<std::string> sealed = SealPassword(SecretBytes(password), key, PaddingScheme::kOaepSha512);
  ASSERT_THAT(sealed, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(sealed.status().details()->service_code, "non-ascii-password");
}

// ---- Sealing -----------------------------------------------------------------------------------

struct SchemeCase {
  PaddingScheme scheme;
  const char* digest;
  const char* other_digest;
};

void PrintTo(const SchemeCase& c, std::ostream* os) { *os << PaddingSchemeName(c.scheme); }

class SealTest : public ::testing::TestWithParam<SchemeCase> {};

TEST_P(SealTest, RoundTripsThroughRawOpenSslAndUnseal) {
  const SchemeCase& c = GetParam();
  const TestKey& key = ConnectorKey();
  Result<ConnectorPublicKey> public_key = ConnectorPublicKey::Parse(key.CngPublicBlob());
  ASSERT_THAT(public_key, IsOk());
  ConnectorPrivateKey private_key = MustParsePrivate(key.Pkcs8PrivatePem());
  const std::string password = "correct horse battery staple!~";

  Result<std::string> sealed = SealPassword(SecretBytes(password), *public_key, c.scheme);
  ASSERT_THAT(sealed, IsOk());
  Bytes ciphertext = DecodeBase64(*sealed);
  EXPECT_EQ(ciphertext.size(), 256u);  // Modulus length.

  std::optional<Bytes> plain = key.Decrypt(ciphertext, c.digest, c.digest);
  ASSERT_TRUE(plain.has_value()) << "OpenSSL could not decrypt with OAEP+MGF1 " << c.digest;
  EXPECT_EQ(std::string(plain->begin(), plain->end()), password);  // No terminator, ASCII bytes.

  Result<SecretBytes> unsealed = UnsealPassword(*sealed, private_key, c.scheme);
  ASSERT_THAT(unsealed, IsOk());
  EXPECT_EQ(unsealed->RevealAsString(), password);

  // OAEP is randomized.
  Result<std::string> again = SealPassword(SecretBytes(password), *public_key, c.scheme);
  ASSERT_THAT(again, IsOk());
  EXPECT_NE(*again, *sealed);
}

TEST_P(SealTest, WrongDigestsDoNotDecrypt) {
  const SchemeCase& c = GetParam();
  const TestKey& key = ConnectorKey();
  Result<std::string> sealed =
      SealPassword(SecretBytes("pw"), MustParsePublic(key.Pkcs1PublicPem()), c.scheme);
  ASSERT_THAT(sealed, IsOk());
  Bytes ciphertext = DecodeBase64(*sealed);
  EXPECT_FALSE(key.Decrypt(ciphertext, c.other_digest, c.other_digest).has_value());
  // MGF1 must use the same hash as OAEP (CNG has one hash for both), not SHA-1.
  EXPECT_FALSE(key.Decrypt(ciphertext, c.digest, "SHA1").has_value());
  EXPECT_FALSE(key.Decrypt(ciphertext, c.digest, c.other_digest).has_value());

  ConnectorPrivateKey private_key = MustParsePrivate(key.Pkcs1PrivatePem());
  for (PaddingScheme other :
       {PaddingScheme::kOaepSha256, PaddingScheme::kOaepSha384, PaddingScheme::kOaepSha512}) {
    if (other == c.scheme) continue;
    EXPECT_THAT(UnsealPassword(*sealed, private_key, other),
                IsRefusal("does not decrypt with this key and padding"));
  }
  EXPECT_THAT(UnsealPassword(*sealed, MustParsePrivate(OtherKey().Pkcs8PrivatePem()), c.scheme),
              IsRefusal("does not decrypt with this key and padding"));
}

TEST_P(SealTest, EmptyPasswordRoundTrips) {
  const TestKey& key = ConnectorKey();
  Result<std::string> sealed =
      SealPassword(SecretBytes(), MustParsePublic(key.SpkiPem()), GetParam().scheme);
  ASSERT_THAT(sealed, IsOk());
  std::optional<Bytes> plain =
      key.Decrypt(DecodeBase64(*sealed), GetParam().digest, GetParam().digest);
  ASSERT_TRUE(plain.has_value());
  EXPECT_TRUE(plain->empty());
  Result<SecretBytes> unsealed =
      UnsealPassword(*sealed, MustParsePrivate(key.Pkcs8PrivatePem()), GetParam().scheme);
  ASSERT_THAT(unsealed, IsOk());
  EXPECT_TRUE(unsealed->empty());
}

INSTANTIATE_TEST_SUITE_P(
    AllSchemes, SealTest,
    ::testing::Values(SchemeCase{PaddingScheme::kOaepSha256, "SHA256", "SHA384"},
                      SchemeCase{PaddingScheme::kOaepSha384, "SHA384", "SHA512"},
                      SchemeCase{PaddingScheme::kOaepSha512, "SHA512", "SHA256"}),
    [](const auto& info) { return std::string(PaddingSchemeName(info.param.scheme)); });

TEST(SealPassword, RefusesAPasswordTooLongForTheKey) {
  // RSA-2048 with SHA-512 OAEP holds at most 256 - 2*64 - 2 = 126 bytes.
  ConnectorPublicKey key = MustParsePublic(ConnectorKey().SpkiPem());
  EXPECT_THAT(SealPassword(SecretBytes(std::string(126, 'a')), key, PaddingScheme::kOaepSha512),
              IsOk());
  EXPECT_THAT(SealPassword(SecretBytes(std::string(127, 'a')), key, PaddingScheme::kOaepSha512),
              IsRefusal("too long"));
}

TEST(UnsealPassword, RefusesBadBase64AndWrongLengths) {
  ConnectorPrivateKey key = MustParsePrivate(ConnectorKey().Pkcs8PrivatePem());
  EXPECT_THAT(UnsealPassword("not base64 !!", key, PaddingScheme::kOaepSha512),
              IsRefusal("not valid base64"));
  EXPECT_THAT(UnsealPassword("AAAA", key, PaddingScheme::kOaepSha512), IsRefusal("3 bytes"));
}

TEST(SealPassword, KeysAreSafeToShareBetweenThreads) {
  ConnectorPublicKey public_key = MustParsePublic(ConnectorKey().SpkiPem());
  ConnectorPrivateKey private_key = MustParsePrivate(ConnectorKey().Pkcs8PrivatePem());
  constexpr int kThreads = 4;
  constexpr int kRounds = 8;
  std::vector<int> matches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        std::string password = "thread-" + std::to_string(t) + "-round-" + std::to_string(i);
        Result<std::string> sealed =
            SealPassword(SecretBytes(password), public_key, PaddingScheme::kOaepSha384);
        if (!sealed.ok()) continue;
        Result<SecretBytes> plain =
            UnsealPassword(*sealed, private_key, PaddingScheme::kOaepSha384);
        if (plain.ok() && plain->RevealAsString() == password) ++matches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(matches[t], kRounds) << "thread " << t;
}

}  // namespace
}  // namespace certdeploy::pkcs
