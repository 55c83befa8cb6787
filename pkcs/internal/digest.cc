#include "pkcs/digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/encoding.h"
#include "pkcs/internal/openssl_util.h"

namespace certdeploy::pkcs {

std::string Sha256Hex(std::span<const uint8_t> data) { return internal::DigestHex("SHA256", data); }

std::string Sha256Hex(std::string_view data) {
  return Sha256Hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

std::string Sha1Hex(std::string_view data) {
  return internal::DigestHex(
      "SHA1", std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

std::string HmacSha256Hex(std::span<const uint8_t> key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // A null key pointer means "no key" to OpenSSL's HMAC init: give it a valid one when empty.
  static const unsigned char kEmpty = 0;
  if (HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len) == nullptr) {
    return "";
  }
  return HexEncode(std::span<const uint8_t>(md, len));
}

}  // namespace certdeploy::pkcs
