// sandbox/internal/auth.h: the Entra ID v2.0 token endpoint and Graph's bearer check.
//
// POST /{tenant}/oauth2/v2.0/token with grant_type=client_credentials, a scope ending in
// "/.default", and either a client secret (form field or HTTP Basic) or a JWT client assertion
// signed by the app certificate (RS256 or PS256; x5t#S256 or x5t; aud = the token URL as the
// client addressed it; iss = sub = client_id; nbf <= now < exp within 5 minutes of skew; jti
// never seen before). Refusals use AAD's body {error, error_description "AADSTS...",
// error_codes, timestamp, trace_id, correlation_id}. Issued tokens are opaque random strings
// valid for `token_lifetime`. Thread-safe.

#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "base/clock.h"
#include "base/random.h"
#include "base/result.h"
#include "base/secret.h"
#include "sandbox/internal/app_certificate.h"
#include "sandbox/internal/wire.h"
#include "sandbox/sandbox.h"

namespace certdeploy::sandbox::internal {

class AuthService {
 public:
  static Result<std::unique_ptr<AuthService>> Create(const SandboxOptions& options, Clock& clock,
                                                     Random& random);

  // Answers a token request. `token_url` is the URL the client used ("http://host/t/oauth2/v2.0/
  // token"): a client assertion's aud must equal it.
  Reply HandleToken(const http::ServerRequest& request, const RequestContext& ctx,
                    const std::string& token_url);

  // nullopt when `authorization` carries a valid, unexpired bearer token; else Graph's 401
  // InvalidAuthenticationToken.
  std::optional<Reply> CheckBearer(const std::optional<std::string>& authorization,
                                   const RequestContext& ctx);

 private:
  AuthService(Clock& clock, Random& random) : clock_(clock), random_(random) {}

  // The AAD error reply.
  Reply AadError(const RequestContext& ctx, int status, const std::string& error, int aadsts,
                 const std::string& description);
  // nullopt if the assertion is acceptable, else the refusal.
  std::optional<Reply> CheckAssertion(const RequestContext& ctx, const std::string& assertion,
                                      const std::string& client_id, const std::string& token_url);

  Clock& clock_;
  Random& random_;
  std::string client_id_;
  std::optional<SecretBytes> client_secret_;
  std::optional<AppCertificate> app_cert_;
  std::chrono::seconds token_lifetime_{3599};

  std::mutex mu_;
  std::map<std::string, SteadyTime> tokens_;    // access token -> expiry
  std::map<std::string, SystemTime> seen_jti_;  // jti -> assertion exp (kept until then)
};

}  // namespace certdeploy::sandbox::internal
