#include "sandbox/internal/app_certificate.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "base/encoding.h"
#include "sandbox/internal/wire.h"

namespace certdeploy::sandbox::internal {

struct AppCertificate::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

Result<AppCertificate> AppCertificate::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("app certificate " + path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  std::string pem = text.str();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) {
    ERR_clear_error();
    return InvalidArgumentError("app certificate " + path + ": no PEM certificate found");
  }
  AppCertificate out;
  out.key_ = std::make_shared<Key>();
  out.key_->pkey = X509_get_pubkey(cert);
  unsigned char* der = nullptr;
  int der_len = i2d_X509(cert, &der);
  X509_free(cert);
  if (out.key_->pkey == nullptr || EVP_PKEY_get_base_id(out.key_->pkey) != EVP_PKEY_RSA ||
      der_len <= 0) {
    OPENSSL_free(der);
    return InvalidArgumentError("app certificate " + path + ": the key must be RSA");
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(der, static_cast<size_t>(der_len), digest, &len, EVP_sha256(), nullptr);
  out.x5t_s256_ = Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), len));
  EVP_Digest(der, static_cast<size_t>(der_len), digest, &len, EVP_sha1(), nullptr);
  out.x5t_ = Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), len));
  OPENSSL_free(der);
  return out;
}

bool AppCertificate::Verify(std::string_view alg, std::string_view signing_input,
                            std::string_view signature) const {
  if (alg != "RS256" && alg != "PS256") return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, key_->pkey) == 1;
  if (ok && alg == "PS256") {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
  } else if (ok) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  }
  ok = ok && EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                              signature.size(),
                              reinterpret_cast<const unsigned char*>(signing_input.data()),
                              signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

}  // namespace certdeploy::sandbox::internal
