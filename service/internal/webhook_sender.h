// service/internal/webhook_sender.h: delivering the store's webhook outbox.
//
// The elected dispatcher calls RunOnce once per loop pass (Daemon::RunOnce). It takes the due
// notifications (store::JobStore::DueNotifications, oldest first) and POSTs each body as it was
// stored, signed with its receiver's secret:
//   Content-Type: application/json
//   X-Certdeploy-Event: rollout.finished
//   X-Certdeploy-Delivery: 42                      (the outbox id; the same on every retry)
//   X-Certdeploy-Signature: sha256=<lowercase hex HMAC-SHA256(secret, body)>
// Outcomes, each recorded with RecordDeliveryAttempt:
//   2xx                                   delivered
//   4xx other than 408 and 429            dead (the receiver refuses it; retrying cannot help)
//   408, 429, 5xx, no answer at all       retried after base_delay * 2^(attempt - 1), capped at
//                                         max_delay; a Retry-After on 429/503 is honoured (capped
//                                         too); dead once max_attempts attempts failed
//   a row whose secretEnv is no longer    dead
//   configured, or a URL the transport
//   refuses
// Delivery is at least once: a crash between a receiver's 2xx and the record resends it, with
// the same X-Certdeploy-Delivery, which receivers use to drop duplicates.
//
// A receiver that is down must not hold up Graph work: one pass sends at most
// max_per_pass requests, each with `timeout`, starts none after pass_budget, and after a
// receiver failed without answering it skips that receiver's other rows for the rest of the pass.
//
// Not thread-safe: one pass at a time (the daemon loop). The bodies are never logged.

#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/secret.h"
#include "config/config.h"
#include "graph/http_transport.h"
#include "service/metrics.h"
#include "store/job_store.h"

namespace certdeploy::service {

// The signing secrets, by the name of the environment variable they came from.
using WebhookSecrets = std::map<std::string, SecretBytes>;

// Reads each webhook's secretEnv from the environment, once (at daemon start).
// FailedPrecondition naming the key path and the variable (never a value) when one is unset or
// empty.
Result<WebhookSecrets> ReadWebhookSecrets(const std::vector<config::WebhookConfig>& webhooks);

// "sha256=<lowercase hex HMAC-SHA256(secret, body)>": the X-Certdeploy-Signature value.
std::string WebhookSignature(const SecretBytes& secret, std::string_view body);

struct WebhookSenderOptions {
  int max_per_pass = 20;            // Requests per RunOnce, at most.
  Duration timeout = std::chrono::seconds(5);       // Per request, connect to last byte.
  Duration pass_budget = std::chrono::seconds(10);  // No request starts after this.
  int max_attempts = 10;            // Then dead.
  Duration base_delay = std::chrono::seconds(30);
  Duration max_delay = std::chrono::hours(1);
};

// What one pass did.
struct WebhookPassResult {
  int delivered = 0;
  int retried = 0;  // Failed, scheduled again.
  int dead = 0;
  int skipped = 0;  // Left due: their receiver failed earlier in the pass, or the budget ran out.
};

class WebhookSender {
 public:
  // `store`, `transport`, `clock` and `metrics` (nullable) must outlive the sender.
  WebhookSender(WebhookSecrets secrets, store::JobStore& store, graph::HttpTransport& transport,
                Clock& clock, Metrics* metrics, WebhookSenderOptions options = {});
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  // One delivery pass (see the file comment). Errors only when the outbox cannot be read; a
  // failed RecordDeliveryAttempt is logged (the row is then sent again later: at least once).
  Result<WebhookPassResult> RunOnce();

 private:
  enum class Outcome { kDelivered, kRetry, kDead };
  // Sends `n` and records the attempt. `answered` is false when no HTTP answer came.
  Outcome Deliver(const store::Notification& n, bool& answered);
  void Record(const store::Notification& n, Outcome outcome, SystemTime retry_at,
              const std::string& error);
  // When attempt number `attempt` (1-based) failed: base_delay * 2^(attempt-1), capped.
  Duration Backoff(int attempt) const;

  const WebhookSecrets secrets_;
  store::JobStore& store_;
  graph::HttpTransport& transport_;
  Clock& clock_;
  Metrics* metrics_;
  const WebhookSenderOptions options_;
};

}  // namespace certdeploy::service
