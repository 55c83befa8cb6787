#include "graph/internal/jwt_assertion.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "base/encoding.h"

namespace certdeploy::graph::internal {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// Refuses to decrypt: an encrypted key must not make OpenSSL prompt on the terminal.
int NoPassphrase(char*, int, int, void*) { return -1; }

std::string OpenSslReason() {
  unsigned long err = ERR_peek_last_error();
  const char* reason = err ? ERR_reason_error_string(err) : nullptr;
  std::string out = reason ? reason : "no details";
  ERR_clear_error();
  return out;
}

int64_t UnixSeconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

struct AssertionSigner::Key {
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey;
};

std::string Sha256(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), len);
}

AssertionSigner::AssertionSigner(std::unique_ptr<Key> key, std::string x5t_s256)
    : key_(std::move(key)), x5t_s256_(std::move(x5t_s256)) {}

AssertionSigner::~AssertionSigner() = default;

Result<std::unique_ptr<AssertionSigner>> AssertionSigner::Load(std::string_view certificate_pem,
                                                               const SecretBytes& key_pem) {
  ERR_clear_error();
  std::unique_ptr<BIO, BioFree> cert_bio(
      BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, NoPassphrase, nullptr));
  if (!cert) {
    return InvalidArgumentError("client certificate is not a PEM certificate: " + OpenSslReason());
  }
  std::unique_ptr<BIO, BioFree> key_bio(
      BIO_new_mem_buf(key_pem.Reveal().data(), static_cast<int>(key_pem.size())));
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr));
  if (!pkey) {
    bool encrypted = key_pem.RevealAsString().find("ENCRYPTED") != std::string_view::npos;
    ERR_clear_error();
    return InvalidArgumentError(encrypted
                                    ? "client certificate key is encrypted; provide it unencrypted "
                                      "(protect the file with permissions instead)"
                                    : "client certificate key is not a PEM private key");
  }
  if (EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA) {
    return InvalidArgumentError("client certificate key must be RSA (PS256 signing)");
  }
  if (X509_check_private_key(cert.get(), pkey.get()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("client certificate key does not match the certificate");
  }
  int der_len = i2d_X509(cert.get(), nullptr);
  if (der_len <= 0) return InvalidArgumentError("cannot encode the client certificate");
  std::string der(static_cast<size_t>(der_len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(cert.get(), &out);
  auto key = std::make_unique<Key>();
  key->pkey = std::move(pkey);
  return std::unique_ptr<AssertionSigner>(
      new AssertionSigner(std::move(key), Base64UrlEncode(Sha256(der))));
}

Result<std::string> AssertionSigner::MakeAssertion(std::string_view audience,
                                                   std::string_view client_id, std::string_view jti,
                                                   SystemTime now) const {
  const int64_t iat = UnixSeconds(now);
  nlohmann::ordered_json header = {{"alg", "PS256"}, {"typ", "JWT"}, {"x5t#S256", x5t_s256_}};
  nlohmann::ordered_json claims = {{"aud", audience}, {"iss", client_id}, {"sub", client_id},
                                   {"jti", jti},      {"nbf", iat},       {"iat", iat},
                                   {"exp", iat + 600}};
  std::string signing_input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());

  ERR_clear_error();
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // Owned by ctx.
  size_t sig_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key_->pkey.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return InternalError("cannot sign the client assertion: " + OpenSslReason());
  }
  std::string signature(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return InternalError("cannot sign the client assertion: " + OpenSslReason());
  }
  signature.resize(sig_len);
  return signing_input + "." + Base64UrlEncode(signature);
}

}  // namespace certdeploy::graph::internal
