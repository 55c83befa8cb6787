// tests/support/hmac_for_test.h: HMAC-SHA256 computed straight with OpenSSL's EVP_MAC, not
// through pkcs/digest.h, so that webhook tests check signatures against an independent
// implementation (what a receiver would write).

#pragma once

#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/encoding.h"

namespace certdeploy::testing {

// Lowercase hex HMAC-SHA256(key, data); "" if OpenSSL fails.
inline std::string IndependentHmacSha256(std::string_view key, std::string_view data) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = mac == nullptr ? nullptr : EVP_MAC_CTX_new(mac);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                         OSSL_PARAM_construct_end()};
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  const bool ok =
      ctx != nullptr &&
      EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) ==
          1 &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
      EVP_MAC_final(ctx, out, &len, sizeof(out)) == 1;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return ok ? HexEncode(std::span<const uint8_t>(out, len)) : "";
}

}  // namespace certdeploy::testing
