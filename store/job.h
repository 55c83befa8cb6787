// store/job.h: the value types the job store keeps: work items, rollouts, audit records, and the
// requests that change them.
//
// A work item is one user certificate to deploy (from an HR enrollment or a rollout manifest
// line); a rollout is a scheduled bulk deployment in waves; audit records are append-only. The
// store interface is store/job_store.h; the on-disk schema is docs/store-schema.md.

#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"

namespace certdeploy::store {

// Where a work item came from.
enum class ItemKind { kEnrollment, kRollout };
// queued -> running (claimed, leased) -> succeeded | failed | cancelled; running -> queued when
// handed back. An expired lease makes a running item claimable again.
enum class ItemStatus { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
enum class RolloutStatus { kScheduled, kRunning, kPaused, kSucceeded, kFailed, kCancelled };
// An offboarding: queued -> running (leased) -> succeeded | failed; running -> queued when handed
// back or while the user still has items running.
enum class OffboardingStatus { kQueued, kRunning, kSucceeded, kFailed };
// A webhook notification in the outbox: pending -> delivered | dead (retries exhausted).
enum class NotificationStatus { kPending, kDelivered, kDead };

// The stable lower-case names stored in the database and used by the REST API ("queued", ...),
// and their inverses (nullopt for an unknown name).
std::string_view ItemKindName(ItemKind kind);
std::string_view ItemStatusName(ItemStatus status);
std::string_view RolloutStatusName(RolloutStatus status);
std::optional<ItemKind> ParseItemKind(std::string_view name);
std::optional<ItemStatus> ParseItemStatus(std::string_view name);
std::optional<RolloutStatus> ParseRolloutStatus(std::string_view name);
std::string_view OffboardingStatusName(OffboardingStatus status);
std::optional<OffboardingStatus> ParseOffboardingStatus(std::string_view name);
std::string_view NotificationStatusName(NotificationStatus status);
std::optional<NotificationStatus> ParseNotificationStatus(std::string_view name);

// The structs below give every member an initializer ({} or a value) so that callers can use
// designated initializers (`{.id = id, .owner = me}`) warning-free under -Wextra.

// One certificate to import for one user. Value type.
struct WorkItem {
  std::string id{};  // Chosen by the caller (a random GUID); unique.
  ItemKind kind = ItemKind::kEnrollment;
  std::optional<std::string> rollout_id{};  // Set exactly when kind == kRollout.
  int wave = 0;                             // Rollout wave, from 1; 0 for enrollments.
  int manifest_line = 0;                    // Manifest line number; 0 for enrollments.
  std::string user_principal_name{};
  std::string intended_purpose{};  // e.g. "smimeEncryption".
  std::string thumbprint{};        // Lowercase hex SHA-1 of the certificate.
  std::string pfx_sha256{};        // Lowercase hex SHA-256 of the PFX bytes.
  // The PFX file as received (still protected by its own password). Null once released.
  std::optional<std::vector<uint8_t>> pfx_blob{};
  // base64 RSA-OAEP ciphertext of the PFX password, sealed to the connector key. NEVER plaintext.
  std::string sealed_password{};
  std::string padding_scheme{};             // "oaepSha256" | "oaepSha384" | "oaepSha512".
  std::string connector_key_fingerprint{};  // Which connector key sealed the password.
  ItemStatus status = ItemStatus::kQueued;
  std::string step{};  // Last checkpoint of the executor, e.g. "sealed", "create-sent", "verified".
  int attempts = 0;    // Incremented by each claim.
  std::string error_code{};  // Last error (empty when none); never contains secrets.
  std::string error_message{};
  std::string request_id{};  // Graph request-id of the last write.
  // REST Idempotency-Key (unique across items) and the SHA-256 of the request body it came with.
  std::optional<std::string> idempotency_key{};
  std::string request_sha256{};
  SystemTime created_at{};  // Set by the store (millisecond precision, like all times).
  SystemTime updated_at{};
  std::string lease_owner{};                     // Empty unless running.
  std::optional<SystemTime> lease_expires_at{};  // Set only while running.

  bool operator==(const WorkItem&) const = default;
};

// Selects items; unset fields match everything.
struct ItemFilter {
  std::optional<ItemKind> kind{};
  std::optional<std::string> rollout_id{};
  std::optional<int> wave{};
  std::optional<std::string> user_principal_name{};
};

// Where a page of a list ended (keyset paging): the next page starts after this row. Items and
// rollouts are ordered newest first by created_at, then by manifest line and id ascending (so a
// rollout's items, created together, come in manifest order).
struct PagePosition {
  SystemTime created_at{};
  int manifest_line = 0;  // 0 for rollouts.
  std::string id{};

  bool operator==(const PagePosition&) const = default;
};

// What ListItems takes: a filter, a status, and where the previous page ended.
struct ItemPageQuery {
  ItemFilter filter{};
  std::optional<ItemStatus> status{};
  std::optional<PagePosition> after{};
  int limit = 50;  // 1..1000
};

// What ListRolloutPage takes.
struct RolloutPageQuery {
  std::vector<RolloutStatus> statuses{};  // Any of these; all when empty.
  std::optional<PagePosition> after{};
  int limit = 50;  // 1..1000
};

// What ListAuditPage takes: records newest first (by id), at or after `since`, with an id below
// `before_id` (where the previous page ended).
struct AuditPageQuery {
  std::optional<SystemTime> since{};
  std::optional<int64_t> before_id{};
  int limit = 50;  // 1..1000
};

// What ClaimNext takes.
struct ClaimRequest {
  std::string owner{};  // Who holds the lease (replica/worker id); must not be empty.
  Duration lease = std::chrono::minutes(5);  // Lease length from the clock's Now(); must be > 0.
  ItemFilter filter{};
  int limit = 1;  // At most this many items (1..1000).
};

// One audit record. No secrets, ever: names, thumbprints, outcomes and request-ids only.
struct AuditRecord {
  int64_t id = 0;              // Assigned by the store, increasing.
  SystemTime at{};             // Assigned by the store from the clock.
  std::string api_key_name{};  // The REST API key's name ("" for the scheduler).
  std::string action{};        // e.g. "enroll", "rollout.create", "rollout.pause", "import".
  std::string user_principal_name{};
  std::string thumbprint{};
  std::string outcome{};      // e.g. "accepted", "succeeded", "failed: <code>".
  std::string request_ids{};  // Graph request-ids, space-separated.
  std::string detail{};

  bool operator==(const AuditRecord&) const = default;
};

// One webhook delivery waiting in (or gone through) the outbox: one row per event and receiver,
// so that each receiver's retries are its own. Bodies carry names, thumbprints and outcomes only.
struct Notification {
  int64_t id = 0;       // Assigned by the store, increasing; sent as the delivery id.
  std::string event{};  // e.g. "enrollment.failed", "certificate.expiring".
  // Unique among all notifications ever enqueued, when set: a second enqueue with the same key
  // is dropped (certificate.expiring is sent once per certificate, threshold and receiver).
  std::optional<std::string> dedupe_key{};
  std::string url{};         // The receiver.
  std::string secret_env{};  // The environment variable holding its signing secret (a name).
  std::string body{};        // The JSON text to POST, signed as is.
  NotificationStatus status = NotificationStatus::kPending;
  int attempts = 0;
  SystemTime next_attempt_at{};  // Set by the store to Now() at enqueue.
  std::string last_error{};
  SystemTime created_at{};  // Set by the store.
  SystemTime updated_at{};

  bool operator==(const Notification&) const = default;
};

// A state change reported by the lease holder (or, for a queued item, by anyone).
struct CheckpointUpdate {
  std::string id{};
  // The lease holder. Empty only to change a queued item (e.g. cancel it before it ran).
  std::string owner{};
  ItemStatus status = ItemStatus::kRunning;
  std::string step{};  // Replaces the stored step: pass the current one to keep it.
  // Replace the stored error and request-id (empty clears them). Never put secrets here.
  std::string error_code{};
  std::string error_message{};
  std::string request_id{};
  // With status kRunning: the lease is renewed to Now() + lease (must be > 0). Any other status
  // ends the lease (kQueued hands the item back for someone else to claim).
  Duration lease = std::chrono::minutes(5);
  // Null pfx_blob in the same transaction: after success unless retainPfxAfterSuccess.
  bool release_pfx = false;
  // Appended to the audit log in the same transaction (its id and at are assigned), so that a
  // crash can never keep an item's outcome without its audit record, or the reverse.
  std::optional<AuditRecord> audit{};
  // Enqueued in the same transaction (a crash loses neither the outcome nor its notification).
  std::vector<Notification> notify{};
};

// Per-status counts of the items matching a filter, and the first failures.
struct ItemFailure {
  std::string id{};
  int wave = 0;
  int manifest_line = 0;
  std::string user_principal_name{};
  std::string thumbprint{};
  std::string error_code{};
  std::string error_message{};
  std::string request_id{};
  int attempts = 0;

  bool operator==(const ItemFailure&) const = default;
};
// `failed` counts deployments that failed; `invalid` counts rows refused at intake (stored as
// failed items whose step is kInvalidStep), which were never sent to Graph.
struct ItemSummary {
  int64_t queued = 0;
  int64_t running = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t cancelled = 0;
  int64_t invalid = 0;
  std::vector<ItemFailure> failures{};  // Invalid rows and failures, by wave, manifest line, id.

  int64_t total() const { return queued + running + succeeded + failed + cancelled + invalid; }
};

// The step of a rollout item whose manifest row was refused when the rollout was created (its
// status is failed): counted as ItemSummary::invalid, never claimed.
inline constexpr std::string_view kInvalidStep = "invalid";

// When one wave of a rollout started and finished (unset until it did).
struct WaveTimes {
  std::optional<SystemTime> started_at{};
  std::optional<SystemTime> finished_at{};

  bool operator==(const WaveTimes&) const = default;
};

// A scheduled bulk deployment.
struct Rollout {
  std::string id{};  // Chosen by the caller; unique.
  std::string name{};
  std::string manifest_path{};
  SystemTime start_at{};
  std::string waves_json{};  // The waves as JSON text, e.g. [{"percent":10},{"percent":100}].
  int halt_on_failure_percent = 5;
  bool dry_run = false;
  RolloutStatus status = RolloutStatus::kScheduled;
  int current_wave = 0;  // 0 before the first wave starts, then 1..N.
  std::optional<SystemTime> wave_started_at{};   // Of the current wave.
  std::optional<SystemTime> wave_finished_at{};  // Of the current wave.
  // Every wave that started, index wave - 1 (so its size is current_wave once one started):
  // kept by the store from the wave updates, so earlier waves keep their times. Read-only for
  // callers (CreateRollout ignores it); rollouts stored before schema version 3 have no times
  // for the waves before their current one.
  std::vector<WaveTimes> wave_times{};
  // REST Idempotency-Key ("<api key name>/<header>", unique across rollouts) and the SHA-256 of
  // the request body it came with, as for work items.
  std::optional<std::string> idempotency_key{};
  std::string request_sha256{};
  SystemTime created_at{};  // Set by the store.
  SystemTime updated_at{};

  bool operator==(const Rollout&) const = default;
};

// A rollout state change, applied only if the rollout is still in the expected status.
struct RolloutUpdate {
  RolloutStatus expected_status = RolloutStatus::kScheduled;
  RolloutStatus status = RolloutStatus::kScheduled;
  // Wave progress; when unset the stored wave fields are left alone (pause/resume/cancel). When
  // set, the store also records these times as wave current_wave's in Rollout::wave_times.
  struct Wave {
    int current_wave = 0;
    std::optional<SystemTime> started_at{};
    std::optional<SystemTime> finished_at{};
  };
  std::optional<Wave> wave{};
  // Enqueued in the same transaction as the update (e.g. rollout.finished).
  std::vector<Notification> notify{};
};

// A request to delete a user's certificates from the tenant (HR offboarding), run by the
// dispatcher like a work item: durable, leased, resumable after a crash.
struct Offboarding {
  std::string id{};  // Chosen by the caller (a random GUID); unique.
  std::string user_principal_name{};
  std::vector<std::string> thumbprints{};  // Lowercase hex; empty means all of the user's.
  OffboardingStatus status = OffboardingStatus::kQueued;
  std::string step{};
  int attempts = 0;
  // Thumbprints of the records deleted (and verified gone), filled in as the work proceeds.
  std::vector<std::string> removed{};
  int cancelled_items = 0;  // Queued work items of the user cancelled when it was created.
  std::string error_code{};
  std::string error_message{};
  std::string request_ids{};  // Graph request-ids of the deletes, space-separated.
  std::string api_key_name{};
  std::optional<std::string> idempotency_key{};  // Unique across offboardings.
  std::string request_sha256{};
  SystemTime created_at{};  // Set by the store.
  SystemTime updated_at{};
  std::string lease_owner{};
  std::optional<SystemTime> lease_expires_at{};

  bool operator==(const Offboarding&) const = default;
};

// A state change of an offboarding by its lease holder.
struct OffboardingUpdate {
  std::string id{};
  std::string owner{};  // Must hold the lease.
  OffboardingStatus status = OffboardingStatus::kRunning;
  std::string step{};
  std::vector<std::string> removed{};  // Replaces the stored list.
  std::string error_code{};
  std::string error_message{};
  std::string request_ids{};
  Duration lease = std::chrono::minutes(5);  // With kRunning: renewed to Now() + lease.
  // False for a claim that did no work (it waited for the user's running items, or the daemon
  // was stopping): the claim's attempt is given back, so waiting never uses up max_attempts.
  bool counts_as_attempt = true;
  std::optional<AuditRecord> audit{};  // Appended in the same transaction.
  std::vector<Notification> notify{};  // Enqueued in the same transaction.
};

// A CA certificate the daemon has deployed as a trusted-root profile, remembered so that drift
// repair can restore its profiles after the user's PFX bytes were released.
struct DeployedCa {
  std::string thumbprint{};  // Lowercase hex SHA-1; the key.
  std::string der_base64{};  // The certificate (public data).
  bool root = false;         // Chain role: root, else intermediate.
  bool self_signed = false;
  SystemTime first_deployed_at{};  // Set by the store at the first record.

  bool operator==(const DeployedCa&) const = default;
};

}  // namespace certdeploy::store
