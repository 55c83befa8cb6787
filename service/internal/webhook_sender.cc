// Webhook delivery from the outbox (see webhook_sender.h).

#include "service/internal/webhook_sender.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "base/log.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "graph/retry_policy.h"
#include "pkcs/digest.h"

namespace certdeploy::service {
namespace {

// Fetched per pass beyond max_per_pass, so that rows of a receiver that is down (skipped for the
// rest of the pass) cannot crowd out everyone else's.
constexpr int kFetchFactor = 4;

// "scheme://host[:port]" of `url`: what logs name. A path may carry a receiver's token.
std::string Origin(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "(invalid URL)";
  return url.substr(0, url.find_first_of("/?#", scheme + 3));
}

// `message` without the path and query of `url`: a transport error names the URL it failed to
// reach, and the path may carry the receiver's token.
std::string WithoutPath(std::string message, const std::string& url) {
  const std::string origin = Origin(url);
  if (!url.starts_with(origin) || url.size() <= origin.size()) return message;
  const std::string rest = url.substr(origin.size());
  const std::string path = rest.substr(0, rest.find_first_of("?#"));
  message = ReplaceAll(std::move(message), rest, "/...");
  return path.size() > 1 ? ReplaceAll(std::move(message), path, "/...") : message;
}

std::string_view OutcomeName(bool delivered, bool dead) {
  return delivered ? "delivered" : dead ? "dead" : "retried";
}

}  // namespace

Result<WebhookSecrets> ReadWebhookSecrets(const std::vector<config::WebhookConfig>& webhooks) {
  WebhookSecrets secrets;
  for (size_t i = 0; i < webhooks.size(); ++i) {
    const std::string& name = webhooks[i].secret_env;
    if (secrets.count(name) != 0) continue;
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') {
      return FailedPreconditionError("service.webhooks[" + std::to_string(i) +
                                     "].secretEnv: the environment variable " + name +
                                     " is not set or is empty");
    }
    secrets.emplace(name, SecretBytes(std::string_view(value)));
  }
  return secrets;
}

std::string WebhookSignature(const SecretBytes& secret, std::string_view body) {
  return "sha256=" + pkcs::HmacSha256Hex(secret.Reveal(), body);
}

WebhookSender::WebhookSender(WebhookSecrets secrets, store::JobStore& store,
                             graph::HttpTransport& transport, Clock& clock, Metrics* metrics,
                             WebhookSenderOptions options)
    : secrets_(std::move(secrets)),
      store_(store),
      transport_(transport),
      clock_(clock),
      metrics_(metrics),
      options_(options) {}

Duration WebhookSender::Backoff(int attempt) const {
  Duration delay = options_.base_delay;
  for (int i = 1; i < attempt && delay < options_.max_delay; ++i) delay *= 2;
  return std::min(delay, options_.max_delay);
}

Result<WebhookPassResult> WebhookSender::RunOnce() {
  WebhookPassResult result;
  Result<std::vector<store::Notification>> due =
      store_.DueNotifications(options_.max_per_pass * kFetchFactor);
  if (!due.ok()) return due.status();
  const SteadyTime deadline = clock_.SteadyNow() + options_.pass_budget;
  std::set<std::string> down;  // Receivers that did not answer in this pass.
  int sent = 0;
  for (const store::Notification& n : *due) {
    if (sent >= options_.max_per_pass || clock_.SteadyNow() >= deadline || down.count(n.url)) {
      ++result.skipped;
      continue;
    }
    ++sent;
    bool answered = true;
    switch (Deliver(n, answered)) {
      case Outcome::kDelivered: ++result.delivered; break;
      case Outcome::kRetry: ++result.retried; break;
      case Outcome::kDead: ++result.dead; break;
    }
    if (!answered) down.insert(n.url);
  }
  return result;
}

WebhookSender::Outcome WebhookSender::Deliver(const store::Notification& n, bool& answered) {
  const int attempt = n.attempts + 1;
  auto secret = secrets_.find(n.secret_env);
  if (secret == secrets_.end()) {
    answered = true;
    Record(n, Outcome::kDead, clock_.Now(),
           "no webhook with secretEnv " + n.secret_env + " is configured any more");
    return Outcome::kDead;
  }
  graph::HttpRequest request;
  request.method = "POST";
  request.url = n.url;
  request.headers = {{"Content-Type", "application/json"},
                     {"X-Certdeploy-Event", n.event},
                     {"X-Certdeploy-Delivery", std::to_string(n.id)},
                     {"X-Certdeploy-Signature", WebhookSignature(secret->second, n.body)}};
  request.body = n.body;
  Result<graph::HttpResponse> response = transport_.Send(request, options_.timeout);
  const SystemTime now = clock_.Now();
  if (!response.ok()) {
    answered = false;
    const bool refused = response.status().code() == StatusCode::kInvalidArgument;
    const Outcome outcome =
        refused || attempt >= options_.max_attempts ? Outcome::kDead : Outcome::kRetry;
    Record(n, outcome, now + Backoff(attempt), WithoutPath(response.status().ToString(), n.url));
    return outcome;
  }
  answered = true;
  const int status = response->status;
  if (status >= 200 && status < 300) {
    Record(n, Outcome::kDelivered, now, "");
    return Outcome::kDelivered;
  }
  const std::string error = "HTTP " + std::to_string(status);
  if (status >= 400 && status < 500 && status != 408 && status != 429) {
    Record(n, Outcome::kDead, now, error);
    return Outcome::kDead;
  }
  if (attempt >= options_.max_attempts) {
    Record(n, Outcome::kDead, now, error + " (attempts exhausted)");
    return Outcome::kDead;
  }
  Duration delay = Backoff(attempt);
  if (status == 429 || status == 503) {
    if (std::optional<Duration> after = graph::ParseRetryAfter(*response, now)) {
      delay = std::min(std::max(*after, Duration::zero()), options_.max_delay);
    }
  }
  Record(n, Outcome::kRetry, now + delay, error);
  return Outcome::kRetry;
}

void WebhookSender::Record(const store::Notification& n, Outcome outcome, SystemTime retry_at,
                           const std::string& error) {
  const bool delivered = outcome == Outcome::kDelivered;
  const bool dead = outcome == Outcome::kDead;
  const store::NotificationStatus status = delivered ? store::NotificationStatus::kDelivered
                                           : dead    ? store::NotificationStatus::kDead
                                                     : store::NotificationStatus::kPending;
  Status s = store_.RecordDeliveryAttempt(n.id, status, retry_at, error);
  if (!s.ok()) CD_LOG_WARN("webhook delivery {}: recording the attempt: {}", n.id, s);
  if (metrics_ != nullptr) metrics_->CountWebhookDelivery(n.event, OutcomeName(delivered, dead));
  if (delivered) {
    CD_LOG_INFO("webhook delivery {} ({}) to {}: delivered", n.id, n.event, Origin(n.url));
  } else {
    CD_LOG_WARN("webhook delivery {} ({}) to {}, attempt {}: {}; {}", n.id, n.event,
                Origin(n.url), n.attempts + 1, error,
                dead ? "given up" : "retry at " + FormatRfc3339Utc(retry_at));
  }
}

}  // namespace certdeploy::service
