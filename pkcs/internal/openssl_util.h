// pkcs/internal/openssl_util.h: RAII handles and small helpers over OpenSSL 3.
// Only pkcs/ (and its tests) include this; no OpenSSL type crosses a public header.

#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/secret.h"
#include "pkcs/certificate.h"

namespace certdeploy::pkcs::internal {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    if (p != nullptr) Fn(p);
  }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, Deleter<PKCS12_free>>;

struct X509StackDeleter {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

// A library context with the default and legacy providers loaded (legacy PKCS#12 files need
// RC2-40 and friends). Created once, thread-safe, never freed. Null if the legacy provider is
// missing; callers then fall back to the default context and legacy files fail clearly.
OSSL_LIB_CTX* LibraryContext();

// Drains the thread's OpenSSL error queue into one line ("" if empty).
std::string DrainErrors();

// Digest of `data` with `md_name` ("SHA1", "SHA256", ...) as lowercase hex.
std::string DigestHex(std::string_view md_name, std::span<const uint8_t> data);

// A read-only memory BIO over `data` (which must outlive it).
BioPtr MemBio(std::span<const uint8_t> data);

// The DER of `cert`.
std::vector<uint8_t> ToDer(X509* cert);

// Decodes one DER certificate; null if `der` is not exactly one certificate (trailing bytes
// are refused).
X509Ptr X509FromDer(std::span<const uint8_t> der);

// A reference to `cert`'s decoded form (Certificate::x509), or `cert.der` decoded when it has
// none. Null only if the DER does not decode.
X509Ptr X509Of(const Certificate& cert);

// The Certificate value of an already decoded `x` (its DER is re-encoded from it); takes
// ownership of `x`. InvalidArgument if it cannot be encoded.
Result<Certificate> CertificateFromX509(X509Ptr x);

// `name` on one line in RFC 2253 order ("CN=Jane Doe,O=Contoso,C=US"), with UTF-8 kept as is
// rather than escaped.
std::string NameToString(const X509_NAME* name);

}  // namespace certdeploy::pkcs::internal
