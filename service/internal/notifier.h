// service/internal/notifier.h: turning daemon events into webhook outbox rows.
//
// The Notifier knows the configured receivers (service.webhooks) and builds, for one event, one
// store::Notification per receiver subscribed to it. The caller puts them in the `notify` of the
// store update that records the change (CheckpointUpdate, RolloutUpdate, OffboardingUpdate), so
// the change and its notifications commit together; WebhookSender (webhook_sender.h) delivers
// them later, with retries, from the outbox.
//
//   store::CheckpointUpdate c{...};
//   c.notify = notifier.For("enrollment.failed", {{"id", item.id}, ...}, item.id);
//   store.Checkpoint(c);
//
// Body (signed as is, docs/daemon.md "Webhooks"):
//   {"event": "rollout.finished", "occurredAt": "2026-11-29T01:12:09Z", "data": {...}}
// `data` must carry names, thumbprints, ids and error codes only: never a password, PFX bytes or
// a secret. The receivers' secrets are not known here, only the names of their variables.
//
// Thread-safe (const after construction).

#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "config/config.h"
#include "store/job.h"

namespace certdeploy::service {

// One certificate the expiry watch saw, for certificate.expiring.
struct ExpiringCertificate {
  std::string user_principal_name;
  std::string thumbprint;  // Lowercase hex SHA-1.
  std::string intended_purpose;
  SystemTime expiration{};
};

class Notifier {
 public:
  // `clock` stamps occurredAt and must outlive the notifier.
  Notifier(std::vector<config::WebhookConfig> webhooks, Clock& clock);
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // One notification per receiver subscribed to `event` (none when nobody is). When `dedupe` is
  // not empty, each carries the dedupe key "<event> <url> <dedupe>", so that the store enqueues
  // it for each receiver at most once however often the event is reported.
  std::vector<store::Notification> For(std::string_view event, const nlohmann::json& data,
                                       const std::string& dedupe) const;

  // certificate.expiring for `cert` as of `now`: for each subscribed receiver whose expiringDays
  // has a threshold the certificate is within (expiration - now <= threshold days, not yet
  // expired), one notification for the smallest such threshold, deduplicated on
  // "<thumbprint>:<threshold>": each receiver hears of each certificate once per threshold.
  // data: userPrincipalName, thumbprint, intendedPurpose, expirationDateTime, daysLeft (whole
  // days, rounded down), thresholdDays.
  std::vector<store::Notification> ForExpiring(const ExpiringCertificate& cert,
                                               SystemTime now) const;

  // True when some receiver subscribes to `event`.
  bool Wants(std::string_view event) const;
  const std::vector<config::WebhookConfig>& webhooks() const { return webhooks_; }

 private:
  store::Notification Make(const config::WebhookConfig& hook, std::string_view event,
                           const nlohmann::json& data, const std::string& dedupe) const;

  const std::vector<config::WebhookConfig> webhooks_;
  Clock& clock_;
};

}  // namespace certdeploy::service
