#include "sandbox/internal/auth.h"

#include <algorithm>

#include "base/encoding.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/time_format.h"

namespace certdeploy::sandbox::internal {
namespace {

constexpr char kJwtBearer[] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
constexpr std::chrono::minutes kSkew{5};

std::optional<std::string> FormValue(const std::vector<std::pair<std::string, std::string>>& form,
                                     std::string_view name) {
  for (const auto& [k, v] : form) {
    if (k == name) return v;
  }
  return std::nullopt;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

// Seconds since the epoch from a numeric JWT claim.
std::optional<SystemTime> NumericDate(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::seconds(it->get<int64_t>())));
}

}  // namespace

Result<std::unique_ptr<AuthService>> AuthService::Create(const SandboxOptions& options,
                                                         Clock& clock, Random& random) {
  std::unique_ptr<AuthService> auth(new AuthService(clock, random));
  auth->client_id_ = options.client_id;
  if (options.client_secret.has_value()) auth->client_secret_ = options.client_secret->Clone();
  auth->token_lifetime_ = options.token_lifetime;
  if (!options.app_cert_file.empty()) {
    ASSIGN_OR_RETURN(AppCertificate cert, AppCertificate::LoadFile(options.app_cert_file));
    auth->app_cert_ = std::move(cert);
  }
  return auth;
}

Reply AuthService::AadError(const RequestContext& ctx, int status, const std::string& error,
                            int aadsts, const std::string& description) {
  Reply reply;
  reply.status = status;
  reply.auth_failure = true;
  reply.headers.emplace_back("Cache-Control", "no-store, no-cache");
  reply.headers.emplace_back("x-ms-request-id", ctx.request_id);
  std::string timestamp = FormatRfc3339Utc(ctx.now);
  reply.body = json{{"error", error},
                    {"error_description", "AADSTS" + std::to_string(aadsts) + ": " + description +
                                              " Trace ID: " + ctx.request_id + " Correlation ID: " +
                                              ctx.client_request_id + " Timestamp: " + timestamp},
                    {"error_codes", json::array({aadsts})},
                    {"timestamp", timestamp},
                    {"trace_id", ctx.request_id},
                    {"correlation_id", ctx.client_request_id}};
  return reply;
}

Reply AuthService::HandleToken(const http::ServerRequest& request, const RequestContext& ctx,
                               const std::string& token_url) {
  if (request.method != "POST") {
    return AadError(ctx, 405, "invalid_request", 900561,
                    "The endpoint only accepts POST requests.");
  }
  std::string content_type =
      AsciiToLower(HeaderValue(request.headers, "content-type").value_or(""));
  if (content_type.rfind("application/x-www-form-urlencoded", 0) != 0) {
    return AadError(ctx, 400, "invalid_request", 900144,
                    "The request body must contain the following parameter: 'grant_type'.");
  }
  auto form = ParseQuery(request.body);
  if (!form) {
    return AadError(ctx, 400, "invalid_request", 90014, "The request body is malformed.");
  }
  auto missing = [&](const char* name) {
    return AadError(
        ctx, 400, "invalid_request", 900144,
        std::string("The request body must contain the following parameter: '") + name + "'.");
  };
  std::optional<std::string> client_id = FormValue(*form, "client_id");
  std::optional<std::string> secret = FormValue(*form, "client_secret");
  // RFC 6749 2.3.1: HTTP Basic with url-encoded client_id:client_secret.
  if (auto basic = HeaderValue(request.headers, "authorization");
      basic && basic->size() > 6 && StartsWithIgnoreCaseAscii(*basic, "basic ")) {
    auto decoded = Base64Decode(basic->substr(6));
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return AadError(ctx, 401, "invalid_client", 7000216, "Malformed HTTP Basic credentials.");
    }
    auto id = PercentDecode(decoded->substr(0, colon), true);
    auto pass = PercentDecode(decoded->substr(colon + 1), true);
    if (!id || !pass) {
      return AadError(ctx, 401, "invalid_client", 7000216, "Malformed HTTP Basic credentials.");
    }
    client_id = *id;
    secret = *pass;
  }
  std::optional<std::string> grant = FormValue(*form, "grant_type");
  if (!grant) return missing("grant_type");
  if (*grant != "client_credentials") {
    return AadError(ctx, 400, "unsupported_grant_type", 70003,
                    "The app requested an unsupported grant type '" + *grant + "'.");
  }
  if (!client_id || client_id->empty()) return missing("client_id");
  if (!client_id_.empty() && !EqualsIgnoreCaseAscii(*client_id, client_id_)) {
    return AadError(ctx, 400, "unauthorized_client", 700016,
                    "Application with identifier '" + *client_id +
                        "' was not found in the directory 'sandbox'.");
  }
  std::optional<std::string> scope = FormValue(*form, "scope");
  if (!scope) return missing("scope");
  if (scope->size() < 9 || scope->compare(scope->size() - 9, 9, "/.default") != 0 ||
      scope->find(' ') != std::string::npos) {
    return AadError(ctx, 400, "invalid_scope", 1002012,
                    "The provided value for scope " + *scope +
                        " is not valid. Client credential flows must have a scope value with "
                        "/.default suffixed to the resource identifier (application ID URI).");
  }
  std::optional<std::string> assertion_type = FormValue(*form, "client_assertion_type");
  std::optional<std::string> assertion = FormValue(*form, "client_assertion");
  if (secret.has_value()) {
    bool ok = client_secret_.has_value()
                  ? ConstantTimeEquals(*secret, client_secret_->RevealAsString())
                  : !app_cert_.has_value();  // Nothing configured: any secret (demo mode).
    if (!ok) {
      return AadError(ctx, 401, "invalid_client", 7000215,
                      "Invalid client secret provided. Ensure the secret being sent in the request "
                      "is the client secret value, not the client secret ID.");
    }
  } else if (assertion.has_value() || assertion_type.has_value()) {
    if (!assertion_type || *assertion_type != kJwtBearer) {
      return AadError(ctx, 400, "invalid_request", 700023,
                      "client_assertion_type must be '" + std::string(kJwtBearer) + "'.");
    }
    if (!assertion) return missing("client_assertion");
    if (auto refusal = CheckAssertion(ctx, *assertion, *client_id, token_url)) return *refusal;
  } else {
    return AadError(ctx, 401, "invalid_client", 7000216,
                    "'client_assertion', 'client_secret' or 'request' is required for the "
                    "'client_credentials' grant type.");
  }

  std::string raw(32, '\0');
  for (size_t i = 0; i < raw.size(); i += 8) {
    uint64_t v = random_.Next();
    for (size_t j = 0; j < 8; ++j) raw[i + j] = static_cast<char>((v >> (8 * j)) & 0xff);
  }
  std::string token = "sbx." + Base64UrlEncode(raw);
  {
    std::lock_guard<std::mutex> lock(mu_);
    SteadyTime now = clock_.SteadyNow();
    // Expired tokens are kept a day so that their 401 says "expired", not "unknown".
    std::erase_if(tokens_,
                  [&](const auto& entry) { return entry.second + std::chrono::hours(24) <= now; });
    tokens_[token] = now + token_lifetime_;
  }
  Reply reply;
  reply.headers.emplace_back("Cache-Control", "no-store, no-cache");
  reply.headers.emplace_back("Pragma", "no-cache");
  reply.headers.emplace_back("x-ms-request-id", ctx.request_id);
  reply.body = json{{"token_type", "Bearer"},
                    {"expires_in", token_lifetime_.count()},
                    {"ext_expires_in", token_lifetime_.count()},
                    {"access_token", token}};
  return reply;
}

std::optional<Reply> AuthService::CheckAssertion(const RequestContext& ctx,
                                                 const std::string& assertion,
                                                 const std::string& client_id,
                                                 const std::string& token_url) {
  auto malformed = [&](const std::string& why) {
    return AadError(ctx, 400, "invalid_request", 50027,
                    "JWT token is invalid or malformed (" + why + ").");
  };
  size_t dot1 = assertion.find('.');
  size_t dot2 = dot1 == std::string::npos ? dot1 : assertion.find('.', dot1 + 1);
  if (dot2 == std::string::npos || assertion.find('.', dot2 + 1) != std::string::npos) {
    return malformed("expected three segments");
  }
  auto header_text = Base64UrlDecode(std::string_view(assertion).substr(0, dot1));
  auto claims_text = Base64UrlDecode(std::string_view(assertion).substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = Base64UrlDecode(std::string_view(assertion).substr(dot2 + 1));
  if (!header_text || !claims_text || !signature) return malformed("bad base64url");
  json header = json::parse(*header_text, nullptr, false);
  json claims = json::parse(*claims_text, nullptr, false);
  if (!header.is_object() || !claims.is_object()) return malformed("header or claims not JSON");
  std::string alg = header.value("alg", "");
  if (alg != "PS256" && alg != "RS256") {
    return AadError(ctx, 401, "invalid_client", 5002738,
                    "Invalid JWT token. '" + alg + "' is not a supported signature algorithm.");
  }
  if (!app_cert_.has_value()) {
    return AadError(ctx, 401, "invalid_client", 700027,
                    "The certificate with identifier used to sign the client assertion is not "
                    "registered on application (no certificate configured in the sandbox).");
  }
  bool thumb_ok = false;
  if (header.contains("x5t#S256")) {
    thumb_ok = header["x5t#S256"].is_string() && header["x5t#S256"] == app_cert_->x5t_s256();
  } else if (header.contains("x5t")) {
    thumb_ok = header["x5t"].is_string() && header["x5t"] == app_cert_->x5t();
  }
  if (!thumb_ok) {
    return AadError(ctx, 401, "invalid_client", 700027,
                    "The certificate with identifier used to sign the client assertion is not "
                    "registered on application.");
  }
  if (!app_cert_->Verify(alg, std::string_view(assertion).substr(0, dot2), *signature)) {
    return AadError(ctx, 401, "invalid_client", 7000274,
                    "Key was found, but use of the key to verify the signature failed.");
  }
  auto claim = [&](const char* name) -> std::string {
    auto it = claims.find(name);
    return it != claims.end() && it->is_string() ? it->get<std::string>() : "";
  };
  if (claim("aud") != token_url) {
    return AadError(ctx, 401, "invalid_client", 700212,
                    "The audience claim of the client assertion must be '" + token_url + "'.");
  }
  if (!EqualsIgnoreCaseAscii(claim("iss"), client_id) ||
      !EqualsIgnoreCaseAscii(claim("sub"), client_id)) {
    return AadError(ctx, 401, "invalid_client", 700021,
                    "Client assertion application identifier doesn't match 'client_id' "
                    "parameter.");
  }
  auto nbf = NumericDate(claims, "nbf");
  auto exp = NumericDate(claims, "exp");
  if (!nbf || !exp) return malformed("nbf and exp are required");
  SystemTime now = clock_.Now();
  if (*nbf > now + kSkew || *exp <= now - kSkew) {
    return AadError(ctx, 401, "invalid_client", 700024,
                    "Client assertion is not within its valid time range.");
  }
  std::string jti = claim("jti");
  if (jti.empty()) return malformed("jti is required");
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(seen_jti_, [&](const auto& entry) { return entry.second + kSkew < now; });
  if (!seen_jti_.emplace(jti, *exp).second) {
    return AadError(ctx, 401, "invalid_client", 700025,
                    "Client assertion contains a jti that was already used (replay).");
  }
  return std::nullopt;
}

std::optional<Reply> AuthService::CheckBearer(const std::optional<std::string>& authorization,
                                              const RequestContext& ctx) {
  auto unauthorized = [&](const std::string& message) {
    Reply reply = GraphError(ctx, 401, "InvalidAuthenticationToken", message);
    reply.auth_failure = true;
    reply.headers.emplace_back("WWW-Authenticate",
                               "Bearer realm=\"\", authorization_uri=\"" + ctx.base_url +
                                   "/common/oauth2/authorize\", client_id=\"00000003-0000-0000-"
                                   "c000-000000000000\"");
    return reply;
  };
  if (!authorization || authorization->empty()) return unauthorized("Access token is empty.");
  if (authorization->size() <= 7 || !StartsWithIgnoreCaseAscii(*authorization, "bearer ")) {
    return unauthorized("Access token is empty.");
  }
  std::string token = authorization->substr(7);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) {
    return unauthorized("Access token validation failure. Invalid audience.");
  }
  if (it->second <= clock_.SteadyNow()) {
    return unauthorized("Lifetime validation failed, the token is expired.");
  }
  return std::nullopt;
}

}  // namespace certdeploy::sandbox::internal
