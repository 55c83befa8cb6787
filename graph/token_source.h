// graph/token_source.h: bearer tokens for Graph (OAuth2 client credentials, Entra ID v2.0).
//
// The Graph client asks a TokenSource for a token before every request and calls Invalidate() when
// Graph answers 401. The production source posts to "{authority}/{tenant}/oauth2/v2.0/token" with
// scope "{graph}/.default", authenticating the app with either a client secret or a certificate
// (a PS256-signed JWT client assertion), caches the token and refreshes it before it expires.
//
//   ClientCredentialsOptions o;
//   o.authority_url = endpoints.authority_url;  o.graph_url = endpoints.graph_url;
//   o.tenant_id = tenant;  o.client_id = app_id;
//   ASSIGN_OR_RETURN(o.client_secret, ReadSecretEnv("CERTDEPLOY_CLIENT_SECRET")  // base/file.h);
//   ASSIGN_OR_RETURN(auto tokens, NewClientCredentialsTokenSource(std::move(o), transport, clock,
//                                                                  random));
//
// Secrets, assertions and tokens never appear in logs or error messages.

#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/random.h"
#include "base/result.h"
#include "base/secret.h"
#include "graph/http_transport.h"
#include "graph/retry_policy.h"

namespace certdeploy::graph {

// Thread-safe: many workers may call Token() at once; one refresh happens at a time.
class TokenSource {
 public:
  TokenSource() = default;
  TokenSource(const TokenSource&) = delete;
  TokenSource& operator=(const TokenSource&) = delete;
  virtual ~TokenSource() = default;

  // A bearer token (without the "Bearer " prefix) that is not about to expire.
  // Errors: kUnauthenticated when the authority rejects the credentials (the message carries the
  // authority's error and error_description, e.g. "invalid_client: AADSTS7000215: ..."),
  // kUnavailable / kResourceExhausted / kDeadlineExceeded when it cannot be reached in time.
  virtual Result<std::string> Token() = 0;

  // Drops the cached token so that the next Token() fetches a new one (after a 401).
  virtual void Invalidate() = 0;
};

// An app certificate credential: the certificate registered on the app and its private key.
struct ClientCertificateCredential {
  std::string certificate_pem;  // "-----BEGIN CERTIFICATE-----" (the first certificate is used).
  SecretBytes private_key_pem;  // Unencrypted PKCS#8 or traditional RSA PEM. RSA only (PS256).
};

struct ClientCredentialsOptions {
  std::string authority_url;  // Endpoints::authority_url, e.g. "https://login.microsoftonline.com".
  std::string graph_url;      // Endpoints::graph_url; the scope is graph_url + "/.default".
  std::string tenant_id;      // Tenant GUID or verified domain.
  std::string client_id;      // Application (client) id.
  // Exactly one of the two credentials must be set.
  std::optional<SecretBytes> client_secret;
  std::optional<ClientCertificateCredential> certificate;
  // A cached token is refreshed when it has less than this left (at most half its lifetime).
  Duration refresh_margin = std::chrono::minutes(5);
  // Per-attempt timeout and retry rules for the token request itself (429, 503 and connection
  // failures are retried; a token POST has no side effect, so a lost response is resent too).
  Duration request_timeout = std::chrono::seconds(30);
  RetryPolicy retry;
};

// Validates the options (non-empty ids and URLs, exactly one credential; for a certificate: PEM
// parses, key is RSA and matches the certificate) and returns the source. No request is made until
// the first Token(). `transport`, `clock` and `random` must outlive the source.
// Errors: kInvalidArgument naming the problem (never the secret).
Result<std::unique_ptr<TokenSource>> NewClientCredentialsTokenSource(
    ClientCredentialsOptions options, HttpTransport& transport, Clock& clock, Random& random);

// Reads a certificate PEM file and an unencrypted private key PEM file.
// Errors: kInvalidArgument when either cannot be read or is empty.
Result<ClientCertificateCredential> LoadClientCertificateFiles(const std::string& certificate_path,
                                                               const std::string& key_path);

}  // namespace certdeploy::graph
