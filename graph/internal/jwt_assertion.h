// graph/internal/jwt_assertion.h: the certificate credential for client-credentials sign-in.
//
// Entra ID accepts a JWT signed by the app's registered certificate key instead of a secret
// (reference 5.1): header {"alg":"PS256","typ":"JWT","x5t#S256":<base64url SHA-256 of the cert
// DER>}, claims aud/iss/sub/jti/nbf/iat/exp, signature RSASSA-PSS with SHA-256, MGF1-SHA-256 and a
// salt as long as the digest.

#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/secret.h"

namespace certdeploy::graph::internal {

// SHA-256 of `bytes` (32 raw bytes).
std::string Sha256(std::string_view bytes);

// A loaded certificate and RSA key. Immutable after Load, so Sign may be called concurrently.
class AssertionSigner {
 public:
  // Parses the first certificate of `certificate_pem` and the unencrypted key in `key_pem`
  // (never prompts for a passphrase). Errors: kInvalidArgument (not PEM, encrypted key, not RSA,
  // key does not match the certificate).
  static Result<std::unique_ptr<AssertionSigner>> Load(std::string_view certificate_pem,
                                                       const SecretBytes& key_pem);
  ~AssertionSigner();

  // base64url(SHA-256(certificate DER)), the "x5t#S256" header value.
  const std::string& x5t_s256() const { return x5t_s256_; }

  // A compact JWS client assertion for `audience` (the token endpoint URL).
  Result<std::string> MakeAssertion(std::string_view audience, std::string_view client_id,
                                    std::string_view jti, SystemTime now) const;

 private:
  struct Key;
  AssertionSigner(std::unique_ptr<Key> key, std::string x5t_s256);

  std::unique_ptr<Key> key_;
  std::string x5t_s256_;
};

}  // namespace certdeploy::graph::internal
