// Webhook outbox rows for daemon events (see notifier.h).

#include "service/internal/notifier.h"

#include <algorithm>

#include "base/time_format.h"

namespace certdeploy::service {
namespace {

bool Subscribed(const config::WebhookConfig& hook, std::string_view event) {
  return std::find(hook.events.begin(), hook.events.end(), event) != hook.events.end();
}

}  // namespace

Notifier::Notifier(std::vector<config::WebhookConfig> webhooks, Clock& clock)
    : webhooks_(std::move(webhooks)), clock_(clock) {}

bool Notifier::Wants(std::string_view event) const {
  return std::any_of(webhooks_.begin(), webhooks_.end(),
                     [event](const config::WebhookConfig& h) { return Subscribed(h, event); });
}

store::Notification Notifier::Make(const config::WebhookConfig& hook, std::string_view event,
                                   const nlohmann::json& data, const std::string& dedupe) const {
  const nlohmann::json body = {{"event", event},
                               {"occurredAt", FormatRfc3339Utc(clock_.Now())},
                               {"data", data}};
  store::Notification n;
  n.event = std::string(event);
  if (!dedupe.empty()) n.dedupe_key = std::string(event) + " " + hook.url + " " + dedupe;
  n.url = hook.url;
  n.secret_env = hook.secret_env;
  n.body = body.dump();
  return n;
}

std::vector<store::Notification> Notifier::For(std::string_view event, const nlohmann::json& data,
                                               const std::string& dedupe) const {
  std::vector<store::Notification> out;
  for (const config::WebhookConfig& hook : webhooks_) {
    if (Subscribed(hook, event)) out.push_back(Make(hook, event, data, dedupe));
  }
  return out;
}

std::vector<store::Notification> Notifier::ForExpiring(const ExpiringCertificate& cert,
                                                       SystemTime now) const {
  std::vector<store::Notification> out;
  if (cert.expiration <= now) return out;  // Expired: the metrics say so; no more warnings.
  const auto left = cert.expiration - now;
  const auto days_left = std::chrono::duration_cast<std::chrono::hours>(left).count() / 24;
  for (const config::WebhookConfig& hook : webhooks_) {
    if (!Subscribed(hook, "certificate.expiring")) continue;
    // expiring_days is sorted descending: the last threshold still reached is the smallest.
    int threshold = 0;
    for (int days : hook.expiring_days) {
      if (left <= std::chrono::hours(24) * days) threshold = days;
    }
    if (threshold == 0) continue;
    const nlohmann::json data = {{"userPrincipalName", cert.user_principal_name},
                                 {"thumbprint", cert.thumbprint},
                                 {"intendedPurpose", cert.intended_purpose},
                                 {"expirationDateTime", FormatRfc3339Utc(cert.expiration)},
                                 {"daysLeft", days_left},
                                 {"thresholdDays", threshold}};
    out.push_back(Make(hook, "certificate.expiring", data,
                       cert.thumbprint + ":" + std::to_string(threshold)));
  }
  return out;
}

}  // namespace certdeploy::service
