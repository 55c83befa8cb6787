// pkcs/internal/seal.cc: the connector key formats and RSA-OAEP sealing (see pkcs/seal.h).
//
// Every public key, whatever its format, is reduced to its modulus and exponent and rebuilt with
// EVP_PKEY_fromdata, so that the checks (RSA, size, odd exponent) and the fingerprint are the same
// for PEM SubjectPublicKeyInfo, PEM PKCS#1 and the CNG RSAPUBLICBLOB.

#include "pkcs/seal.h"

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "pkcs/internal/openssl_util.h"

namespace certdeploy::pkcs {

struct ConnectorPublicKey::Impl {
  internal::EvpPkeyPtr pkey;  // Public components only; shared read-only between threads.
  int bits = 0;
  std::vector<uint8_t> spki_der;
  std::string fingerprint;  // Lowercase hex SHA-256 of spki_der.
};

struct ConnectorPrivateKey::Impl {
  internal::EvpPkeyPtr pkey;  // Full RSA key pair.
  ConnectorPublicKey public_key;
};

namespace {

using internal::EvpPkeyCtxPtr;
using internal::EvpPkeyPtr;
using BnPtr = std::unique_ptr<BIGNUM, internal::Deleter<BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, internal::Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, internal::Deleter<OSSL_PARAM_free>>;
using EvpMdPtr = std::unique_ptr<EVP_MD, internal::Deleter<EVP_MD_free>>;
using DecoderCtxPtr = std::unique_ptr<OSSL_DECODER_CTX, internal::Deleter<OSSL_DECODER_CTX_free>>;

constexpr size_t kMaxKeyFileBytes = 64 * 1024;
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;
constexpr size_t kBlobHeaderBytes = 24;

constexpr std::string_view kAcceptedFormats =
    "expected the Intune PFX connector's public key as PEM 'BEGIN PUBLIC KEY', PEM 'BEGIN RSA "
    "PUBLIC KEY', or the CNG RSAPUBLICBLOB that Export-IntunePublicKey writes";
constexpr std::string_view kPrivateKeyGiven =
    "this is a private key; give the public key exported with Export-IntunePublicKey (a private "
    "key must never be given to certdeploy's deploy side)";
constexpr std::string_view kAcceptedSchemes = "oaepSha256, oaepSha384, oaepSha512 (recommended)";

// The explicit library context when it exists, else the default one (null).
OSSL_LIB_CTX* Ctx() { return internal::LibraryContext(); }

Status OpenSslFailure(std::string_view what) {
  std::string errors = internal::DrainErrors();
  return InternalError(std::string(what) + (errors.empty() ? "" : ": " + errors));
}

// Each scheme with its Graph name and the OpenSSL name of its hash (used for OAEP and MGF1).
struct SchemeInfo {
  PaddingScheme scheme;
  std::string_view name;
  const char* digest;
};
constexpr SchemeInfo kSchemes[] = {{PaddingScheme::kOaepSha256, "oaepSha256", "SHA2-256"},
                                   {PaddingScheme::kOaepSha384, "oaepSha384", "SHA2-384"},
                                   {PaddingScheme::kOaepSha512, "oaepSha512", "SHA2-512"}};

const SchemeInfo& InfoOf(PaddingScheme scheme) {
  for (const SchemeInfo& info : kSchemes) {
    if (info.scheme == scheme) return info;
  }
  return kSchemes[2];  // Unreachable for valid enum values.
}

bool StartsWith(std::span<const uint8_t> bytes, std::string_view prefix) {
  return bytes.size() >= prefix.size() &&
         std::memcmp(bytes.data(), prefix.data(), prefix.size()) == 0;
}

std::string_view AsText(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Reads at most kMaxKeyFileBytes of `path` into a wiped buffer. Errors name the path.
Result<SecretBytes> ReadKeyFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    int err = errno;
    std::string message = "cannot open key file " + path + ": " + std::strerror(err);
    return err == ENOENT ? NotFoundError(message) : InvalidArgumentError(message);
  }
  SecretBytes content;
  content.Resize(kMaxKeyFileBytes + 1);
  size_t n = std::fread(content.MutableData(), 1, content.size(), file);
  bool failed = std::ferror(file) != 0;
  int err = errno;
  std::fclose(file);
  if (failed) {
    return InvalidArgumentError("cannot read key file " + path + ": " + std::strerror(err));
  }
  if (n > kMaxKeyFileBytes) {
    return InvalidArgumentError("key file " + path + " is larger than 64 KiB; " +
                                std::string(kAcceptedFormats));
  }
  content.Resize(n);
  return content;
}

// ---- RSA numbers -> EVP_PKEY ------------------------------------------------------------------

struct RsaNumbers {
  BnPtr n;
  BnPtr e;
};

// Builds a public-only RSA key, refusing sizes and exponents no connector key can have.
Result<EvpPkeyPtr> BuildRsaPublicKey(const RsaNumbers& numbers) {
  int bits = BN_num_bits(numbers.n.get());
  if (bits < kMinRsaBits) {
    return InvalidArgumentError("the key is RSA-" + std::to_string(bits) +
                                ", too small: the connector key must be RSA with at least " +
                                std::to_string(kMinRsaBits) + " bits");
  }
  if (bits > kMaxRsaBits) {
    return InvalidArgumentError("the key is RSA-" + std::to_string(bits) + ", larger than the " +
                                std::to_string(kMaxRsaBits) + " bits OpenSSL supports");
  }
  if (!BN_is_odd(numbers.n.get())) {
    return InvalidArgumentError("the RSA modulus is even: not a valid RSA public key");
  }
  if (!BN_is_odd(numbers.e.get()) || BN_is_one(numbers.e.get())) {
    return InvalidArgumentError("the RSA public exponent is not an odd number >= 3");
  }
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (builder == nullptr ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, numbers.n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, numbers.e.get()) != 1) {
    return OpenSslFailure("cannot build RSA key parameters");
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(builder.get()));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(Ctx(), "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OpenSslFailure("cannot build the RSA public key");
  }
  return EvpPkeyPtr(raw);
}

// The modulus and exponent of a decoded key; InvalidArgument unless it is a plain RSA key.
Result<RsaNumbers> NumbersOf(EVP_PKEY* pkey) {
  if (!EVP_PKEY_is_a(pkey, "RSA")) {
    const char* name = EVP_PKEY_get0_type_name(pkey);
    return InvalidArgumentError(std::string("this is ") + (name != nullptr ? name : "a non-RSA") +
                                " key; the Intune PFX connector key must be RSA (rsaEncryption)");
  }
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
      EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
    BN_free(n);
    return OpenSslFailure("cannot read the RSA modulus and exponent");
  }
  return RsaNumbers{.n = BnPtr(n), .e = BnPtr(e)};
}

// ---- CNG BCRYPT_RSAKEY_BLOB -------------------------------------------------------------------

uint32_t ReadLe32(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint32_t>(bytes[offset]) | static_cast<uint32_t>(bytes[offset + 1]) << 8 |
         static_cast<uint32_t>(bytes[offset + 2]) << 16 |
         static_cast<uint32_t>(bytes[offset + 3]) << 24;
}

// Header: magic, BitLength, cbPublicExp, cbModulus, cbPrime1, cbPrime2 (little-endian ULONGs),
// then the big-endian exponent and modulus.
Result<RsaNumbers> ParseCngBlob(std::span<const uint8_t> blob) {
  const std::string where = "CNG RSA key blob: ";
  if (StartsWith(blob, "RSA2") || StartsWith(blob, "RSA3")) {
    return InvalidArgumentError(
        where + "this is a private key blob (" +
        (StartsWith(blob, "RSA2") ? "RSAPRIVATEBLOB" : "RSAFULLPRIVATEBLOB") +
        "); a private key must never be given to certdeploy's deploy side: give the RSAPUBLICBLOB "
        "exported with Export-IntunePublicKey");
  }
  if (blob.size() < kBlobHeaderBytes) {
    return InvalidArgumentError(where + "truncated: " + std::to_string(blob.size()) +
                                " bytes, shorter than the 24-byte header");
  }
  uint32_t bit_length = ReadLe32(blob, 4);
  uint32_t exp_bytes = ReadLe32(blob, 8);
  uint32_t mod_bytes = ReadLe32(blob, 12);
  uint32_t prime1_bytes = ReadLe32(blob, 16);
  uint32_t prime2_bytes = ReadLe32(blob, 20);
  if (prime1_bytes != 0 || prime2_bytes != 0) {
    return InvalidArgumentError(where + "cbPrime1/cbPrime2 must be 0 in an RSAPUBLICBLOB");
  }
  if (exp_bytes == 0 || exp_bytes > 8) {
    return InvalidArgumentError(where + "cbPublicExp is " + std::to_string(exp_bytes) +
                                ", expected 1 to 8");
  }
  if (mod_bytes == 0 || mod_bytes > kMaxRsaBits / 8) {
    return InvalidArgumentError(where + "cbModulus is " + std::to_string(mod_bytes) +
                                ", expected 1 to " + std::to_string(kMaxRsaBits / 8));
  }
  size_t expected = kBlobHeaderBytes + exp_bytes + mod_bytes;
  if (blob.size() != expected) {
    return InvalidArgumentError(where + (blob.size() < expected ? "truncated" : "trailing data") +
                                ": the header announces " + std::to_string(expected) +
                                " bytes, the data has " + std::to_string(blob.size()));
  }
  const uint8_t* exp_at = blob.data() + kBlobHeaderBytes;
  RsaNumbers numbers{
      .n = BnPtr(BN_bin2bn(exp_at + exp_bytes, static_cast<int>(mod_bytes), nullptr)),
      .e = BnPtr(BN_bin2bn(exp_at, static_cast<int>(exp_bytes), nullptr))};
  if (numbers.n == nullptr || numbers.e == nullptr) return OpenSslFailure("BN_bin2bn failed");
  auto actual_bits = static_cast<uint32_t>(BN_num_bits(numbers.n.get()));
  if (actual_bits != bit_length || mod_bytes != (bit_length + 7) / 8) {
    return InvalidArgumentError(where + "BitLength " + std::to_string(bit_length) +
                                " does not match the " + std::to_string(mod_bytes) +
                                "-byte modulus of " + std::to_string(actual_bits) + " bits");
  }
  return numbers;
}

// ---- PEM --------------------------------------------------------------------------------------

struct PemBlock {
  std::string_view label;  // "PUBLIC KEY", ...
  std::string_view body;   // Base64 text between the BEGIN and END lines (may hold headers).
  bool complete = false;   // An END line with the same label was found.
};

// Every "-----BEGIN <label>-----" block of `text`, in order.
std::vector<PemBlock> FindPemBlocks(std::string_view text) {
  static constexpr std::string_view kBegin = "-----BEGIN ";
  static constexpr std::string_view kDashes = "-----";
  std::vector<PemBlock> blocks;
  size_t pos = 0;
  while ((pos = text.find(kBegin, pos)) != std::string_view::npos) {
    size_t label_at = pos + kBegin.size();
    size_t label_end = text.find(kDashes, label_at);
    if (label_end == std::string_view::npos) break;
    PemBlock block;
    block.label = text.substr(label_at, label_end - label_at);
    size_t body_at = label_end + kDashes.size();
    std::string end_line = "-----END " + std::string(block.label) + "-----";
    size_t end_at = text.find(end_line, body_at);
    if (end_at == std::string_view::npos) {
      block.body = text.substr(body_at);
      blocks.push_back(block);
      break;
    }
    block.body = text.substr(body_at, end_at - body_at);
    block.complete = true;
    blocks.push_back(block);
    pos = end_at + end_line.size();
  }
  return blocks;
}

// Strips a UTF-8 byte order mark and leading whitespace.
std::string_view TrimLeading(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  size_t first = text.find_first_not_of(" \t\r\n");
  return first == std::string_view::npos ? std::string_view() : text.substr(first);
}

bool IsCertificateLabel(std::string_view label) {
  return label == "CERTIFICATE" || label == "TRUSTED CERTIFICATE" || label == "X509 CERTIFICATE";
}

// Decodes DER with the OpenSSL 3 decoders. `structure` is "SubjectPublicKeyInfo",
// "PrivateKeyInfo" or "type-specific" (PKCS#1). Trailing bytes are an error.
Result<EvpPkeyPtr> DecodeDer(std::span<const uint8_t> der, const char* structure,
                             const char* key_type, int selection) {
  EVP_PKEY* raw = nullptr;
  DecoderCtxPtr decoder(
      OSSL_DECODER_CTX_new_for_pkey(&raw, "DER", structure, key_type, selection, Ctx(), nullptr));
  const unsigned char* data = der.data();
  size_t left = der.size();
  bool ok = decoder != nullptr && OSSL_DECODER_from_data(decoder.get(), &data, &left) == 1;
  EvpPkeyPtr pkey(raw);
  ERR_clear_error();  // The decoders leave noise from the candidates they tried.
  if (!ok || pkey == nullptr) {
    return InvalidArgumentError(std::string("the DER inside the PEM is not a valid ") + structure +
                                " key");
  }
  if (left != 0) return InvalidArgumentError("the DER inside the PEM has trailing data");
  return pkey;
}

Result<RsaNumbers> ParsePublicPem(std::string_view text) {
  std::vector<PemBlock> blocks = FindPemBlocks(text);
  for (const PemBlock& block : blocks) {
    if (block.label.find("PRIVATE KEY") != std::string_view::npos) {
      return InvalidArgumentError(std::string(kPrivateKeyGiven));
    }
  }
  if (blocks.size() != 1) {
    return InvalidArgumentError("the PEM file holds " + std::to_string(blocks.size()) +
                                " blocks; give a file with only the connector's public key (" +
                                std::string(kAcceptedFormats) + ")");
  }
  const PemBlock& block = blocks.front();
  if (IsCertificateLabel(block.label)) {
    return InvalidArgumentError("this is a certificate, not the connector's public key; " +
                                std::string(kAcceptedFormats));
  }
  const bool spki = block.label == "PUBLIC KEY";
  if (!spki && block.label != "RSA PUBLIC KEY") {
    return InvalidArgumentError("unsupported PEM block '" + std::string(block.label.substr(0, 40)) +
                                "'; " + std::string(kAcceptedFormats));
  }
  if (!block.complete) {
    return InvalidArgumentError("the PEM block '" + std::string(block.label) +
                                "' has no END line (truncated?)");
  }
  std::optional<std::string> der = Base64Decode(block.body, kLenientBase64);
  if (!der || der->empty()) {
    return InvalidArgumentError("the body of the PEM block '" + std::string(block.label) +
                                "' is not valid base64");
  }
  ASSIGN_OR_RETURN(EvpPkeyPtr pkey,
                   spki ? DecodeDer(AsBytes(*der), "SubjectPublicKeyInfo", nullptr,
                                    EVP_PKEY_PUBLIC_KEY)
                        : DecodeDer(AsBytes(*der), "type-specific", "RSA", EVP_PKEY_PUBLIC_KEY));
  return NumbersOf(pkey.get());
}

Result<RsaNumbers> ParsePublicKeyNumbers(std::span<const uint8_t> bytes) {
  if (bytes.empty()) {
    return InvalidArgumentError("the key is empty; " + std::string(kAcceptedFormats));
  }
  if (StartsWith(bytes, "RSA1") || StartsWith(bytes, "RSA2") || StartsWith(bytes, "RSA3")) {
    return ParseCngBlob(bytes);
  }
  if (StartsWith(bytes, "\xFF\xFE") || StartsWith(bytes, "\xFE\xFF")) {
    return InvalidArgumentError("the key file is UTF-16 text; save it as ASCII or UTF-8 (" +
                                std::string(kAcceptedFormats) + ")");
  }
  std::string_view text = TrimLeading(AsText(bytes));
  if (text.find("-----BEGIN ") != std::string_view::npos) return ParsePublicPem(text);
  if (!text.empty() && text.front() == '\x30') {
    return InvalidArgumentError("this looks like binary DER, which is not accepted; " +
                                std::string(kAcceptedFormats));
  }
  return InvalidArgumentError("not a recognised public key; " + std::string(kAcceptedFormats));
}

std::vector<uint8_t> SpkiDer(EVP_PKEY* pkey) {
  unsigned char* buf = nullptr;
  int len = i2d_PUBKEY(pkey, &buf);
  if (len <= 0) return {};
  std::vector<uint8_t> der(buf, buf + len);
  OPENSSL_free(buf);
  return der;
}

// "-----BEGIN PUBLIC KEY-----" PEM of an SPKI DER, wrapped at 64 columns like OpenSSL's.
std::string SpkiPem(std::span<const uint8_t> der) {
  std::string base64 = Base64Encode(der);
  std::string pem = "-----BEGIN PUBLIC KEY-----\n";
  for (size_t i = 0; i < base64.size(); i += 64) {
    pem.append(base64, i, 64);
    pem.push_back('\n');
  }
  return pem + "-----END PUBLIC KEY-----\n";
}

// A fresh context per call (EVP_PKEY_CTX is not shareable between threads), set up for RSA-OAEP
// with the scheme's hash as both the OAEP and the MGF1 hash and an empty label. `md` must outlive
// the returned context.
Result<EvpPkeyCtxPtr> OaepContext(EVP_PKEY* pkey, PaddingScheme scheme, bool encrypt,
                                  EvpMdPtr& md) {
  md.reset(EVP_MD_fetch(Ctx(), InfoOf(scheme).digest, nullptr));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(Ctx(), pkey, nullptr));
  if (md == nullptr || ctx == nullptr ||
      (encrypt ? EVP_PKEY_encrypt_init(ctx.get()) : EVP_PKEY_decrypt_init(ctx.get())) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md.get()) != 1) {
    return OpenSslFailure("cannot set up RSA-OAEP");
  }
  return ctx;
}

}  // namespace

// ---- Padding schemes --------------------------------------------------------------------------

std::string_view PaddingSchemeName(PaddingScheme scheme) { return InfoOf(scheme).name; }

Result<PaddingScheme> ParsePaddingScheme(std::string_view name) {
  for (const SchemeInfo& info : kSchemes) {
    if (EqualsIgnoreCaseAscii(name, info.name)) return info.scheme;
  }
  std::string shown(name.substr(0, 40));
  for (std::string_view retired : {"pkcs1", "oaepSha1", "none"}) {
    if (EqualsIgnoreCaseAscii(name, retired)) {
      return InvalidArgumentError("padding scheme '" + shown +
                                  "' is no longer supported by Intune; use one of " +
                                  std::string(kAcceptedSchemes));
    }
  }
  return InvalidArgumentError("unknown padding scheme '" + shown + "'; use one of " +
                              std::string(kAcceptedSchemes));
}

// ---- ConnectorPublicKey -----------------------------------------------------------------------

Result<ConnectorPublicKey> ConnectorPublicKey::Parse(std::span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(RsaNumbers numbers, ParsePublicKeyNumbers(bytes));
  ASSIGN_OR_RETURN(EvpPkeyPtr pkey, BuildRsaPublicKey(numbers));
  auto impl = std::make_shared<Impl>();
  impl->bits = EVP_PKEY_get_bits(pkey.get());
  impl->spki_der = SpkiDer(pkey.get());
  if (impl->spki_der.empty()) return OpenSslFailure("cannot encode the public key");
  impl->fingerprint = internal::DigestHex("SHA256", impl->spki_der);
  if (impl->fingerprint.empty()) return OpenSslFailure("cannot hash the public key");
  impl->pkey = std::move(pkey);
  return ConnectorPublicKey(std::move(impl));
}

Result<ConnectorPublicKey> ConnectorPublicKey::LoadFile(const std::string& path) {
  ASSIGN_OR_RETURN(SecretBytes content, ReadKeyFile(path));
  Result<ConnectorPublicKey> key = Parse(content.Reveal());
  if (!key.ok()) return key.status().WithContext("connector public key " + path);
  return key;
}

int ConnectorPublicKey::bits() const { return impl_->bits; }

const std::string& ConnectorPublicKey::fingerprint() const { return impl_->fingerprint; }

std::string ConnectorPublicKey::ToPem() const { return SpkiPem(impl_->spki_der); }

// ---- ConnectorPrivateKey ----------------------------------------------------------------------

Result<ConnectorPrivateKey> ConnectorPrivateKey::Parse(std::span<const uint8_t> bytes) {
  constexpr std::string_view kExpected =
      "expected an unencrypted PEM RSA private key ('BEGIN PRIVATE KEY' or 'BEGIN RSA PRIVATE "
      "KEY')";
  std::vector<PemBlock> blocks = FindPemBlocks(TrimLeading(AsText(bytes)));
  if (blocks.size() != 1) {
    return InvalidArgumentError("found " + std::to_string(blocks.size()) + " PEM blocks; " +
                                std::string(kExpected));
  }
  const PemBlock& block = blocks.front();
  if (block.label == "ENCRYPTED PRIVATE KEY" ||
      block.body.find("Proc-Type:") != std::string_view::npos) {
    return InvalidArgumentError("the private key is encrypted; " + std::string(kExpected));
  }
  const bool pkcs8 = block.label == "PRIVATE KEY";
  if ((!pkcs8 && block.label != "RSA PRIVATE KEY") || !block.complete) {
    return InvalidArgumentError("not a complete RSA private key PEM block; " +
                                std::string(kExpected));
  }
  // The DER holds the private key: keep it in wiped memory.
  std::optional<std::string> decoded = Base64Decode(block.body, kLenientBase64);
  if (!decoded) return InvalidArgumentError("the private key PEM body is not valid base64");
  SecretBytes der(*decoded);
  SecureWipe(decoded->data(), decoded->size());
  ASSIGN_OR_RETURN(EvpPkeyPtr pkey,
                   DecodeDer(der.Reveal(), pkcs8 ? "PrivateKeyInfo" : "type-specific",
                             pkcs8 ? nullptr : "RSA", EVP_PKEY_KEYPAIR));
  RETURN_IF_ERROR(NumbersOf(pkey.get()).status());  // RSA only.
  // The public half goes through the public parser, so it gets the same checks and fingerprint.
  std::vector<uint8_t> spki = SpkiDer(pkey.get());
  if (spki.empty()) return OpenSslFailure("cannot encode the public key");
  ASSIGN_OR_RETURN(ConnectorPublicKey public_key,
                   ConnectorPublicKey::Parse(AsBytes(SpkiPem(spki))));
  ConnectorPrivateKey key(
      std::shared_ptr<const Impl>(new Impl{std::move(pkey), std::move(public_key)}));
  // A damaged file can still decode into RSA numbers that are not a key pair (found by
  // fuzzing: one changed digit of n, so n != p*q): such a key would load, publish a public key
  // nobody can decrypt for, and fail every unseal. A seal/unseal round trip proves the pair.
  const SecretBytes probe(std::string_view("certdeploy key pair check"));
  Result<std::string> sealed = SealPassword(probe, key.PublicKey(), PaddingScheme::kOaepSha256);
  Result<SecretBytes> opened =
      sealed.ok() ? UnsealPassword(*sealed, key, PaddingScheme::kOaepSha256) : sealed.status();
  if (!opened.ok() || opened->RevealAsString() != probe.RevealAsString()) {
    return InvalidArgumentError(
        "the private key is damaged: its numbers do not form an RSA key pair; " +
        std::string(kExpected));
  }
  return key;
}

Result<ConnectorPrivateKey> ConnectorPrivateKey::LoadFile(const std::string& path) {
  ASSIGN_OR_RETURN(SecretBytes content, ReadKeyFile(path));
  Result<ConnectorPrivateKey> key = Parse(content.Reveal());
  if (!key.ok()) return key.status().WithContext("connector private key " + path);
  return key;
}

ConnectorPublicKey ConnectorPrivateKey::PublicKey() const { return impl_->public_key; }

// ---- Sealing ----------------------------------------------------------------------------------

Status CheckPasswordEncodable(const SecretBytes& password) {
  for (uint8_t b : password.Reveal()) {
    if (b == 0 || b > 0x7f) {
      StatusDetails details;
      details.service_code = "non-ascii-password";
      return Status(StatusCode::kInvalidArgument,
                    "the PFX password contains a character outside ASCII (or a NUL); the Intune "
                    "PFX connector decodes the password one byte per character, so re-export the "
                    "PFX with an ASCII-only password",
                    std::move(details));
    }
  }
  return OkStatus();
}

Result<std::string> SealPassword(const SecretBytes& password, const ConnectorPublicKey& key,
                                 PaddingScheme scheme) {
  RETURN_IF_ERROR(CheckPasswordEncodable(password));
  EVP_PKEY* pkey = key.impl().pkey.get();
  EvpMdPtr md;
  ASSIGN_OR_RETURN(EvpPkeyCtxPtr ctx, OaepContext(pkey, scheme, /*encrypt=*/true, md));
  std::vector<uint8_t> out(static_cast<size_t>(EVP_PKEY_get_size(pkey)));
  // RFC 8017 7.1.1: at most k - 2*hLen - 2 bytes fit.
  const size_t max_len = out.size() - 2 * static_cast<size_t>(EVP_MD_get_size(md.get())) - 2;
  if (password.size() > max_len) {
    return InvalidArgumentError(
        "the password (" + std::to_string(password.size()) +
        " bytes) is too long to seal with RSA-" + std::to_string(key.bits()) + " and " +
        std::string(PaddingSchemeName(scheme)) + " (at most " + std::to_string(max_len) + ")");
  }
  // OAEP encrypts an empty message too; give OpenSSL a valid pointer even then.
  static const uint8_t kNothing = 0;
  const uint8_t* in = password.empty() ? &kNothing : password.Reveal().data();
  size_t out_len = out.size();
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &out_len, in, password.size()) != 1 ||
      out_len != out.size()) {
    return OpenSslFailure("RSA-OAEP encryption failed");
  }
  return Base64Encode(out);
}

Result<SecretBytes> UnsealPassword(std::string_view sealed_base64, const ConnectorPrivateKey& key,
                                   PaddingScheme scheme) {
  std::optional<std::string> ciphertext = Base64Decode(sealed_base64, kLenientBase64);
  if (!ciphertext) return InvalidArgumentError("the sealed password is not valid base64");
  EVP_PKEY* pkey = key.impl().pkey.get();
  auto modulus_bytes = static_cast<size_t>(EVP_PKEY_get_size(pkey));
  if (ciphertext->size() != modulus_bytes) {
    return InvalidArgumentError("the sealed password is " + std::to_string(ciphertext->size()) +
                                " bytes; this key's ciphertexts are " +
                                std::to_string(modulus_bytes));
  }
  EvpMdPtr md;
  ASSIGN_OR_RETURN(EvpPkeyCtxPtr ctx, OaepContext(pkey, scheme, /*encrypt=*/false, md));
  SecretBytes plain;
  plain.Resize(modulus_bytes);
  size_t plain_len = plain.size();
  if (EVP_PKEY_decrypt(ctx.get(), plain.MutableData(), &plain_len, AsBytes(*ciphertext).data(),
                       ciphertext->size()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("the sealed password does not decrypt with this key and padding " +
                                std::string(PaddingSchemeName(scheme)));
  }
  plain.Resize(plain_len);
  return plain;
}

}  // namespace certdeploy::pkcs
