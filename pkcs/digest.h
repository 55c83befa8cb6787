// pkcs/digest.h: content digests used to pin files and states (plan files, idempotency keys), and
// the HMAC that signs webhook bodies.

#pragma once

#include <span>
#include <string>
#include <string_view>

namespace certdeploy::pkcs {

// Lowercase hex SHA-256.
std::string Sha256Hex(std::string_view data);
std::string Sha256Hex(std::span<const uint8_t> data);

// Lowercase hex SHA-1: Graph's certificate `thumbprint` when `data` is a certificate's DER.
std::string Sha1Hex(std::string_view data);

// Lowercase hex HMAC-SHA256 (RFC 2104) of `data` under `key`: the webhook signature
// (`X-Certdeploy-Signature: sha256=<this>`). Any key length, the empty key included.
std::string HmacSha256Hex(std::span<const uint8_t> key, std::string_view data);

}  // namespace certdeploy::pkcs
