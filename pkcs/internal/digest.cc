#include "pkcs/digest.h"

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

}  // namespace certdeploy::pkcs
