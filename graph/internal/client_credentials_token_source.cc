// The OAuth2 client-credentials TokenSource (Entra ID v2.0 token endpoint), reference 5.1.

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/encoding.h"
#include "base/log.h"
#include "base/mutex.h"
#include "base/status_macros.h"
#include "graph/internal/jwt_assertion.h"
#include "graph/internal/url.h"
#include "graph/token_source.h"

namespace certdeploy::graph {
namespace {

constexpr std::string_view kAssertionType =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// Reads a whole file into a string that is wiped when it goes away.
Result<SecretBytes> ReadFileSecret(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgumentError("cannot read " + std::string(what) + " file " + path);
  SecretBytes out;
  char buffer[4096];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    out.Append(std::string_view(buffer, static_cast<size_t>(in.gcount())));
  }
  SecureWipe(buffer, sizeof(buffer));
  if (in.bad()) return InvalidArgumentError("cannot read " + std::string(what) + " file " + path);
  return out;
}

std::string FormField(std::string_view key, std::string_view value) {
  return PercentEncode(key) + "=" + PercentEncode(value);
}

class ClientCredentialsTokenSource final : public TokenSource {
 public:
  ClientCredentialsTokenSource(ClientCredentialsOptions options,
                               std::unique_ptr<internal::AssertionSigner> signer,
                               HttpTransport& transport, Clock& clock, Random& random)
      : options_(std::move(options)),
        signer_(std::move(signer)),
        token_url_(options_.authority_url + "/" + PercentEncode(options_.tenant_id) +
                   "/oauth2/v2.0/token"),
        transport_(transport),
        clock_(clock),
        random_(random) {}

  ~ClientCredentialsTokenSource() override { SecureWipe(token_.data(), token_.size()); }

  // TokenSource:
  Result<std::string> Token() override LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    if (has_token_ && clock_.SteadyNow() < refresh_at_) return token_;
    return Fetch();
  }

  void Invalidate() override LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    has_token_ = false;
  }

 private:
  // Builds the form body. It holds the secret or assertion: the caller wipes it after use.
  Result<std::string> Body() {
    std::string body = FormField("grant_type", "client_credentials") + "&" +
                       FormField("client_id", options_.client_id) + "&" +
                       FormField("scope", options_.graph_url + "/.default") + "&";
    if (options_.client_secret) {
      body += FormField("client_secret", options_.client_secret->RevealAsString());
    } else {
      ASSIGN_OR_RETURN(
          std::string assertion,
          signer_->MakeAssertion(token_url_, options_.client_id, NewGuid(random_), clock_.Now()));
      body += FormField("client_assertion_type", kAssertionType) + "&" +
              FormField("client_assertion", assertion);
      SecureWipe(assertion.data(), assertion.size());
    }
    return body;
  }

  Status ErrorFromResponse(const HttpResponse& response, std::string_view suffix) {
    nlohmann::json json = nlohmann::json::parse(response.body, nullptr, false);
    auto field = [&json](const char* key) {
      auto it = json.is_object() ? json.find(key) : json.end();
      return json.is_object() && it != json.end() && it->is_string() ? it->get<std::string>()
                                                                     : std::string();
    };
    StatusDetails details;
    details.http_status = response.status;
    details.service_code = field("error");
    details.request_id = response.Header("x-ms-request-id").value_or(field("trace_id"));
    std::string description = field("error_description");
    // AADSTS descriptions end with "Trace ID: ... Timestamp: ..." on further lines.
    description = description.substr(0, description.find_first_of("\r\n"));
    std::string message = "token request for tenant " + options_.tenant_id + " failed: HTTP " +
                          std::to_string(response.status);
    if (!details.service_code.empty()) message += ": " + details.service_code;
    if (!description.empty()) message += ": " + description;
    if (!details.request_id.empty()) message += " (request-id " + details.request_id + ")";
    message += suffix;
    StatusCode code = response.status >= 500   ? StatusCode::kUnavailable
                      : response.status == 429 ? StatusCode::kResourceExhausted
                                               : StatusCode::kUnauthenticated;
    return Status(code, std::move(message), std::move(details));
  }

  // Stores the token of a 200 response and returns it.
  Result<std::string> Accept(const HttpResponse& response) REQUIRES(mu_) {
    nlohmann::json json = nlohmann::json::parse(response.body, nullptr, false);
    auto token = json.is_object() ? json.find("access_token") : json.end();
    if (!json.is_object() || token == json.end() || !token->is_string() ||
        token->get_ref<const std::string&>().empty()) {
      return UnauthenticatedError("token response for tenant " + options_.tenant_id +
                                  " has no access_token");
    }
    int64_t expires_in = 3599;
    if (auto it = json.find("expires_in"); it != json.end()) {
      if (it->is_number_integer()) expires_in = it->get<int64_t>();
      if (it->is_string()) expires_in = std::atoll(it->get<std::string>().c_str());
    }
    expires_in = std::max<int64_t>(expires_in, 1);
    const Duration lifetime = std::chrono::seconds(expires_in);
    const Duration margin = std::min(options_.refresh_margin, lifetime / 2);
    SecureWipe(token_.data(), token_.size());
    token_ = token->get<std::string>();
    refresh_at_ = clock_.SteadyNow() + lifetime - margin;
    has_token_ = true;
    CD_LOG_DEBUG("graph: token acquired for tenant {} (expires in {} s)", options_.tenant_id,
                 expires_in);
    return token_;
  }

  // Holds mu_ across the whole exchange, retries included, so that concurrent callers wait for
  // one token instead of each fetching their own.
  Result<std::string> Fetch() REQUIRES(mu_) {
    const SteadyTime deadline = clock_.SteadyNow() + options_.retry.total_deadline;
    for (int attempt = 1;; ++attempt) {
      ASSIGN_OR_RETURN(std::string body, Body());
      HttpRequest request{"POST",
                          token_url_,
                          {{"Content-Type", "application/x-www-form-urlencoded"},
                           {"Accept", "application/json"},
                           {"client-request-id", NewGuid(random_)}},
                          std::move(body),
                          /*sensitive_body=*/true};
      const Duration left = deadline - clock_.SteadyNow();
      Result<HttpResponse> sent =
          transport_.Send(request, std::min(options_.request_timeout, left));
      SecureWipe(request.body.data(), request.body.size());

      RetryDecision decision;
      Status failure;
      if (sent.ok()) {
        if (sent->status == 200) return Accept(*sent);
        // Token issuance has no side effect: a lost or 504'd response is safe to ask again.
        decision = options_.retry.DecideAfterResponse(attempt, /*safe_to_resend=*/true, *sent,
                                                      clock_.Now(), random_);
        failure = ErrorFromResponse(*sent, decision.attempts_exhausted
                                               ? " after " + std::to_string(attempt) + " attempts"
                                               : "");
      } else {
        decision = options_.retry.DecideAfterTransportError(attempt, /*safe_to_resend=*/true,
                                                            sent.status(), random_);
        failure = sent.status().WithContext("token request for tenant " + options_.tenant_id);
      }
      if (decision.action != RetryAction::kRetry) return failure;
      if (clock_.SteadyNow() + decision.delay >= deadline) {
        return DeadlineExceededError(
            "token request for tenant " + options_.tenant_id +
            ": deadline exhausted; last error: " + std::string(failure.message()));
      }
      CD_LOG_DEBUG("graph: token request attempt {} failed ({}), retrying", attempt,
                   decision.reason);
      clock_.SleepFor(decision.delay);
    }
  }

  // Constant after construction.
  const ClientCredentialsOptions options_;
  const std::unique_ptr<internal::AssertionSigner> signer_;  // Null with a client secret.
  const std::string token_url_;
  HttpTransport& transport_;
  Clock& clock_;
  Random& random_;

  Mutex mu_;
  bool has_token_ GUARDED_BY(mu_) = false;
  std::string token_ GUARDED_BY(mu_);
  SteadyTime refresh_at_ GUARDED_BY(mu_) = {};
};

}  // namespace

Result<std::unique_ptr<TokenSource>> NewClientCredentialsTokenSource(
    ClientCredentialsOptions options, HttpTransport& transport, Clock& clock, Random& random) {
  for (auto [name, value] : {std::pair<const char*, std::string*>{"tenant id", &options.tenant_id},
                             {"client id", &options.client_id},
                             {"authority URL", &options.authority_url},
                             {"Graph URL", &options.graph_url}}) {
    if (value->empty()) return InvalidArgumentError(std::string(name) + " is empty");
  }
  for (std::string* url : {&options.authority_url, &options.graph_url}) {
    if (url->back() == '/') url->pop_back();
    RETURN_IF_ERROR(internal::ParseUrl(*url).status());
  }
  if (options.client_secret.has_value() == options.certificate.has_value()) {
    return InvalidArgumentError("exactly one of client secret and client certificate is required");
  }
  if (options.client_secret && options.client_secret->empty()) {
    return InvalidArgumentError("client secret is empty");
  }
  std::unique_ptr<internal::AssertionSigner> signer;
  if (options.certificate) {
    ASSIGN_OR_RETURN(signer, internal::AssertionSigner::Load(options.certificate->certificate_pem,
                                                             options.certificate->private_key_pem));
    options.certificate->private_key_pem.Clear();  // The signer holds the parsed key.
  }
  return std::unique_ptr<TokenSource>(new ClientCredentialsTokenSource(
      std::move(options), std::move(signer), transport, clock, random));
}

Result<ClientCertificateCredential> LoadClientCertificateFiles(const std::string& certificate_path,
                                                               const std::string& key_path) {
  ClientCertificateCredential credential;
  ASSIGN_OR_RETURN(SecretBytes cert, ReadFileSecret(certificate_path, "client certificate"));
  if (cert.empty()) return InvalidArgumentError("client certificate file is empty");
  credential.certificate_pem = std::string(cert.RevealAsString());
  ASSIGN_OR_RETURN(credential.private_key_pem, ReadFileSecret(key_path, "client key"));
  if (credential.private_key_pem.empty()) {
    return InvalidArgumentError("client key file " + key_path + " is empty");
  }
  return credential;
}

}  // namespace certdeploy::graph
