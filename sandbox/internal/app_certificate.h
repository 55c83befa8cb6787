// sandbox/internal/app_certificate.h: the app registration's certificate credential.
//
// Loads a PEM certificate and verifies JWS signatures (RS256, PS256) with its public key, the way
// Entra ID checks a client assertion. PS256 is verified with a salt length equal to the digest
// length (32), as RFC 7518 3.5 specifies and .NET/Entra enforce: a signer that uses OpenSSL's
// default (maximum) salt length is refused here just as it would be by Entra.

#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace certdeploy::sandbox::internal {

class AppCertificate {
 public:
  // InvalidArgument naming the path if it holds no PEM certificate or the key is not RSA.
  static Result<AppCertificate> LoadFile(const std::string& path);

  // base64url(SHA-256(DER)) and base64url(SHA-1(DER)): the JWT header's x5t#S256 and x5t.
  const std::string& x5t_s256() const { return x5t_s256_; }
  const std::string& x5t() const { return x5t_; }

  // True if `signature` is a valid `alg` ("RS256" or "PS256") signature over `signing_input`.
  bool Verify(std::string_view alg, std::string_view signing_input,
              std::string_view signature) const;

 private:
  struct Key;
  AppCertificate() = default;
  std::shared_ptr<Key> key_;
  std::string x5t_s256_;
  std::string x5t_;
};

}  // namespace certdeploy::sandbox::internal
