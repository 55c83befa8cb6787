// service/job_store.h: the daemon's durable state: work items, rollouts, audit, leadership.
//
// Everything `certdeploy serve` must not lose when it is killed lives behind JobStore: the work
// items (one per user certificate to deploy, from an enrollment or a rollout manifest line) with
// their checkpoints and leases, the rollouts and their wave progress, and the append-only audit
// log. Two implementations share one schema (docs/store-schema.md): SQLite, the embedded default
// (one process at a time), and PostgreSQL (several replicas; one dispatcher elected by an advisory
// lock).
//
// At rest an item holds the PFX bytes (protected by their own password) and that password only as
// ciphertext sealed to the Intune connector key (pkcs::SealPassword). The store never receives a
// plaintext password, and nothing it returns in an error message comes from a secret field.
//
// Typical dispatcher loop:
//
//   auto store = OpenJobStore(config.store, RealClock());          // migrates the schema
//   if (!store.ok()) return store.status();
//   if (*(*store)->TryBecomeDispatcher(me)) {
//     ASSIGN_OR_RETURN(auto items, (*store)->ClaimNext({.owner = me, .lease = minutes(5)}));
//     for (WorkItem& item : items) {
//       ... deploy, calling Checkpoint({.id = item.id, .owner = me, .status = kRunning,
//                                       .step = "create-sent", .lease = minutes(5)}) ...
//     }
//   }

#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/status.h"

namespace certdeploy::service {

// Where a work item came from.
enum class ItemKind { kEnrollment, kRollout };
// queued -> running (claimed, leased) -> succeeded | failed | cancelled; running -> queued when
// handed back. An expired lease makes a running item claimable again.
enum class ItemStatus { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
enum class RolloutStatus { kScheduled, kRunning, kPaused, kSucceeded, kFailed, kCancelled };

// The stable lower-case names stored in the database and used by the REST API ("queued", ...),
// and their inverses (nullopt for an unknown name).
std::string_view ItemKindName(ItemKind kind);
std::string_view ItemStatusName(ItemStatus status);
std::string_view RolloutStatusName(RolloutStatus status);
std::optional<ItemKind> ParseItemKind(std::string_view name);
std::optional<ItemStatus> ParseItemStatus(std::string_view name);
std::optional<RolloutStatus> ParseRolloutStatus(std::string_view name);

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
struct ItemSummary {
  int64_t queued = 0;
  int64_t running = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t cancelled = 0;
  std::vector<ItemFailure> failures{};  // Ordered by wave, manifest line, id.

  int64_t total() const { return queued + running + succeeded + failed + cancelled; }
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
  std::optional<SystemTime> wave_started_at{};
  std::optional<SystemTime> wave_finished_at{};
  SystemTime created_at{};  // Set by the store.
  SystemTime updated_at{};

  bool operator==(const Rollout&) const = default;
};

// A rollout state change, applied only if the rollout is still in the expected status.
struct RolloutUpdate {
  RolloutStatus expected_status = RolloutStatus::kScheduled;
  RolloutStatus status = RolloutStatus::kScheduled;
  // Wave progress; when unset the stored wave fields are left alone (pause/resume/cancel).
  struct Wave {
    int current_wave = 0;
    std::optional<SystemTime> started_at{};
    std::optional<SystemTime> finished_at{};
  };
  std::optional<Wave> wave{};
};

// All methods are thread-safe. Every write is durable when it returns OK (committed and synced by
// the database). Errors: Unavailable when the database cannot be reached or is busy (retry);
// DataLoss when stored data cannot be decoded; Internal for anything unexpected.
class JobStore {
 public:
  virtual ~JobStore() = default;
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // ---- Work items ----

  // Inserts all items in one transaction (all or nothing); created_at/updated_at come from the
  // clock, lease fields are cleared, the rest is stored as given (normally status kQueued,
  // attempts 0). InvalidArgument for an empty id or a kind/rollout_id mismatch; AlreadyExists
  // if an id or an idempotency key is taken (nothing is inserted); FailedPrecondition if a
  // rollout_id names no rollout.
  virtual Status CreateItems(std::span<const WorkItem> items) = 0;
  // NotFound if there is no such item.
  virtual Result<WorkItem> GetItem(std::string_view id) = 0;
  // The item created with this Idempotency-Key; NotFound if none. The REST API keeps its
  // idempotency records here: the key and request_sha256 live on the item (docs/store-schema.md).
  virtual Result<WorkItem> FindByIdempotencyKey(std::string_view key) = 0;
  // Atomically claims up to `limit` items matching the filter that are queued, or running with
  // an expired lease (lease_expires_at <= Now()): each becomes running, leased to `owner` until
  // Now() + lease, with attempts + 1. Oldest first (created_at, wave, manifest line, id). Two
  // concurrent claimers, in this process or another, never get the same item. Empty when none.
  virtual Result<std::vector<WorkItem>> ClaimNext(const ClaimRequest& request) = 0;
  // Records progress. For a running item `owner` must hold its lease (an expired lease still
  // counts until someone else claims the item); for a queued item `owner` must be empty.
  // Aborted when that does not hold (the lease was lost: stop working on the item); NotFound if
  // there is no such item; InvalidArgument for a running update without a positive lease.
  virtual Status Checkpoint(const CheckpointUpdate& update) = 0;
  // Counts by status and up to `max_failures` failed items, for a rollout, a wave or the queue.
  // The counts and the failures are read separately and may be a moment apart.
  virtual Result<ItemSummary> SummarizeItems(const ItemFilter& filter, int max_failures) = 0;

  // ---- Rollouts ----

  // Inserts the rollout and its items in one transaction (items may be empty; each must have
  // kind kRollout and rollout_id == rollout.id). Errors as for CreateItems.
  virtual Status CreateRollout(const Rollout& rollout, std::span<const WorkItem> items) = 0;
  // NotFound if there is no such rollout.
  virtual Result<Rollout> GetRollout(std::string_view id) = 0;
  // Rollouts in any of `statuses` (all when empty), oldest first, at most `limit`.
  virtual Result<std::vector<Rollout>> ListRollouts(std::span<const RolloutStatus> statuses,
                                                    int limit) = 0;
  // Compare-and-set: applies `update` only if the rollout's status is still
  // update.expected_status, and returns the rollout as stored afterwards. Aborted (naming the
  // actual status) if it is not, so concurrent pause/resume/cancel cannot overwrite each other;
  // NotFound if there is no such rollout.
  virtual Result<Rollout> UpdateRollout(std::string_view id, const RolloutUpdate& update) = 0;

  // ---- Audit (append-only: the schema refuses UPDATE and DELETE) ----

  // Appends `record` (its id and at are assigned) and returns the new id.
  virtual Result<int64_t> AppendAudit(const AuditRecord& record) = 0;
  // The newest `limit` records, newest first.
  virtual Result<std::vector<AuditRecord>> ListAudit(int limit) = 0;

  // ---- Dispatcher election (only the dispatcher claims and runs Graph work) ----

  // Tries to become the one dispatcher among the processes sharing this database; true if this
  // store is (or already was) the dispatcher. SQLite: always true (the file lock already makes
  // this process the only one). PostgreSQL: a session advisory lock on a dedicated connection;
  // false while another replica holds it, which lasts until that replica releases it, closes
  // its store, or dies (its session ends). `owner` names this replica in pg_stat_activity.
  virtual Result<bool> TryBecomeDispatcher(std::string_view owner) = 0;
  // Whether this store is still the dispatcher. PostgreSQL: checks the dedicated connection
  // with a round trip; if it dropped, the role is lost (another replica may take it) and this
  // returns false until TryBecomeDispatcher succeeds again. Leases fence any work in flight.
  virtual bool StillDispatcher() = 0;
  // Gives the role up (no-op if not held). Destroying the store also gives it up.
  virtual Status ReleaseDispatcher() = 0;

 protected:
  JobStore() = default;
};

// Opens (creating if needed) the store named by `url` and brings its schema up to date, each
// migration in its own transaction:
//   "sqlite:/var/lib/certdeploy/state.db"  SQLite file (a relative path is taken relative to the
//                                          working directory: callers resolve it first). Takes an
//                                          exclusive lock on "<path>.lock": FailedPrecondition
//                                          "another certdeploy serve holds <path>" if held.
//   "postgresql://..." / "postgres://..."  libpq connection URI, e.g.
//                                          "postgresql:///certdeploy?host=/run/postgresql".
// InvalidArgument for any other scheme; Unavailable if the database cannot be reached;
// FailedPrecondition if its schema is newer than this binary knows. `clock` must outlive the
// store. Error messages never include a password from the URL.
Result<std::unique_ptr<JobStore>> OpenJobStore(std::string_view url, Clock& clock);

}  // namespace certdeploy::service
