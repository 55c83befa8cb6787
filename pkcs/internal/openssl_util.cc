#include "pkcs/internal/openssl_util.h"

#include <openssl/err.h>
#include <openssl/provider.h>

#include <mutex>

#include "base/encoding.h"

namespace certdeploy::pkcs::internal {

OSSL_LIB_CTX* LibraryContext() {
  static OSSL_LIB_CTX* ctx = [] {
    OSSL_LIB_CTX* c = OSSL_LIB_CTX_new();
    if (c == nullptr) return static_cast<OSSL_LIB_CTX*>(nullptr);
    // Both providers must be loaded explicitly in a non-default context.
    if (OSSL_PROVIDER_load(c, "default") == nullptr || OSSL_PROVIDER_load(c, "legacy") == nullptr) {
      ERR_clear_error();
      OSSL_LIB_CTX_free(c);
      return static_cast<OSSL_LIB_CTX*>(nullptr);
    }
    return c;
  }();
  return ctx;
}

std::string DrainErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

std::string DigestHex(std::string_view md_name, std::span<const uint8_t> data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* md_type = EVP_get_digestbyname(std::string(md_name).c_str());
  if (md_type == nullptr || EVP_Digest(data.data(), data.size(), md, &len, md_type, nullptr) != 1) {
    return "";
  }
  return HexEncode(std::span<const uint8_t>(md, len));
}

BioPtr MemBio(std::span<const uint8_t> data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::vector<uint8_t> ToDer(X509* cert) {
  unsigned char* buf = nullptr;
  int len = i2d_X509(cert, &buf);
  if (len <= 0) return {};
  std::vector<uint8_t> der(buf, buf + len);
  OPENSSL_free(buf);
  return der;
}

X509Ptr X509FromDer(std::span<const uint8_t> der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (cert != nullptr && p != der.data() + der.size()) cert.reset();
  return cert;
}

std::string NameToString(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || name == nullptr) return "";
  // RFC 2253 escapes every non-ASCII byte as \XX by default; keep UTF-8 readable instead.
  constexpr unsigned long kFlags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
  if (X509_NAME_print_ex(bio.get(), name, 0, kFlags) < 0) return "";
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

}  // namespace certdeploy::pkcs::internal
