// deploy/executor.h: carrying out a reviewed Plan against Graph.
//
// ExecutePlan runs the plan's write actions in four phases, each finished before the next starts:
//   1. trusted-root profiles   2. imported-PFX profiles   3. Outlook app configurations
//   4. assignments   5. user PFX records (imports, then deletes of superseded expired records).
// Within a phase up to `concurrency` worker threads share the one GraphClient, and so its
// WriteBudget: the tenant's write budget holds however many workers run. Non-write actions
// (unchanged, skip, invalid) are not executed.
//
// No duplicates, ever. When a write's outcome is unknown (kUnknownOutcome: sent, then the
// response was lost), the executor READS before any resend: a profile by listing profiles and
// matching @odata.type + certificate SHA-1 (or intendedPurpose), an assignment by reading the
// profile's assignments, a PFX record by user + thumbprint, a delete by GETting the record (404
// means done). Only a read that shows the write absent allows another attempt; a read that fails
// leaves the item failed and unsent. A 409 or 400 on a PFX create is verified the same way and
// then counts as done. A delete answered with success is read back too: a record still there is
// deleted again, and reported once the attempts are spent. Attempts per item are bounded
// (ExecutorOptions::max_attempts).
//
// User PFX imports re-read the PFX file and refuse the item (kFailedPrecondition) if its SHA-256
// is not the plan's; the password comes from ExecutorOptions::passwords, is sealed to the
// connector key by ExecutorOptions::seal and lives only in SecretBytes (wiped on release). It
// never appears in logs, results or errors.
//
//   ExecutorOptions options;
//   options.concurrency = config.limits.concurrency;
//   options.passwords = [&](const Action& a) { return RowFor(a).ReadPassword(); };
//   options.seal = ConnectorSealer(key, config.connector.padding);
//   ExecutionReport report = ExecutePlan(plan, client, options);
//   if (!report.ok()) ListFailures(report);

#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/secret.h"
#include "config/config.h"
#include "deploy/plan.h"
#include "graph/graph_client.h"
#include "pkcs/seal.h"

namespace certdeploy::deploy {

// The password of an importUserPfx action's PFX. Called from worker threads.
using PasswordSource = std::function<Result<SecretBytes>(const Action& import)>;
// Returns encryptedPfxPassword: base64 of the password sealed to the connector key. Called from
// worker threads.
using PasswordSealer = std::function<Result<std::string>(const SecretBytes& password)>;

// pkcs::SealPassword with `key` and `scheme`.
PasswordSealer ConnectorSealer(pkcs::ConnectorPublicKey key, pkcs::PaddingScheme scheme);

// Counters reported after every finished item.
struct ExecutionProgress {
  int total = 0;      // Write actions in the plan.
  int succeeded = 0;  // Finished and done (including reconciled ones).
  int failed = 0;
  std::string phase;  // "trusted profiles", "imported-PFX profiles", "assignments", "user PFX".
};

struct ExecutorOptions {
  int concurrency = 8;   // Worker threads per phase (at least 1).
  int max_attempts = 3;  // Writes sent per item, at most (each after a read showed none applied).
  // userPfxCertificate fields describing the connector's key.
  std::string provider_name = "Microsoft Software Key Storage Provider";
  std::string key_name = "PFXEncryptionKey";
  pkcs::PaddingScheme padding_scheme = pkcs::PaddingScheme::kOaepSha512;
  PasswordSource passwords;  // Required when the plan imports PFX records (unless sealed_password).
  PasswordSealer seal;       // Required when the plan imports PFX records (unless sealed_password).
  // Optional: the bytes of an import's PFX from elsewhere than Action::pfx_file (the daemon keeps
  // them in its job store). The SHA-256 check against Action::pfx_sha256 still applies. Called
  // from worker threads. Unset: the file is read.
  std::function<Result<std::string>(const Action& import)> pfx_bytes;
  // Optional: an import's encryptedPfxPassword, already sealed to the connector key (the daemon
  // seals on receipt and never holds the password afterwards). When set, `passwords` and `seal`
  // are not used. Called from worker threads just before the record is sent; an error fails the
  // item without sending anything.
  std::function<Result<std::string>(const Action& import)> sealed_password;
  // Called after each item, serialised (never concurrently). Optional.
  std::function<void(const ExecutionProgress&)> on_progress;
  // Optional stop token (`apply` sets it from its SIGINT/SIGTERM handler). Checked before each
  // item is started: once it is true no further write is sent, items already started finish
  // (their writes and the reads that reconcile them), and the items never started are reported
  // with not_run set. Must outlive ExecutePlan.
  const std::atomic<bool>* stop = nullptr;
};

// What the config file says about execution: limits.concurrency, and the connector's
// providerName, keyName and paddingScheme for the userPfxCertificate records. The one place
// config becomes ExecutorOptions (`apply` and the daemon); callers add the callbacks (passwords
// and seal, or sealed_password; on_progress).
ExecutorOptions ExecutorOptionsFromConfig(const config::Config& config);

// The outcome of one write action.
struct ItemResult {
  size_t action_index = 0;  // Position in Plan::actions.
  ActionKind kind = ActionKind::kInvalid;
  std::string key;
  std::string description;
  bool ok = false;
  // The effect was established by reading after an unknown outcome, a 409 or a 404 on delete.
  bool reconciled = false;
  // Never started: the stop token was set first (status kCancelled, no request sent). Counted
  // neither as succeeded nor as failed.
  bool not_run = false;
  int attempts = 0;       // Writes sent.
  std::string object_id;  // Profile or record id, when known.
  // Graph request-ids of the successful DELETEs of a userPfxCertificate, for the audit trail.
  std::vector<std::string> request_ids;
  // Why it failed. Graph failures keep their details (HTTP status, Graph error code, request-id).
  Status status;
};

struct ExecutionReport {
  std::vector<ItemResult> items;  // One per write action, in plan order.

  int succeeded() const;
  int failed() const;  // Finished and not done (not_run items aside).
  int reconciled() const;
  int not_run() const;  // Left unstarted by the stop token.
  bool interrupted() const { return not_run() > 0; }
  bool ok() const { return failed() == 0 && !interrupted(); }
};

// Executes the write actions of `plan` (see the file comment). Never fails as a whole: per-item
// problems are in the report. With options.stop set during the run, the report holds every
// write action, those never started marked not_run. `client` must be thread-safe (the real one is).
ExecutionReport ExecutePlan(const Plan& plan, graph::GraphClient& client,
                            const ExecutorOptions& options);

// The description of a trusted or imported-PFX profile: "Managed by certdeploy: ..." (role and
// SHA-1, or the purpose) and, when the action carries one, AssignmentsOwnerMark. An assign
// action reads the profile first and, unless it already carries the action's mark, PATCHes the
// description (with @odata.type; the admin's text kept, the old mark replaced) before it
// replaces the set.
std::string ProfileDescription(const Action& profile);

// The create bodies, exposed for tests and documentation.
// Trusted profile: @odata.type, displayName, description (managed by certdeploy, role, SHA-1),
// trustedRootCertificate (base64 DER), certFileName "<CN>.cer"; windows81 adds destinationStore
// computerCertStoreRoot / computerCertStoreIntermediate by role.
nlohmann::json TrustedProfileBody(const Action& create);
// Imported-PFX profile: @odata.type, displayName, description, intendedPurpose; on fully managed
// Android also OutlookSilentAccessFields({}).
nlohmann::json ImportedProfileBody(const Action& create);
// The fields that grant Outlook silent access on a fully managed Android imported-PFX profile
// (`existing` as read; {} for a new one): certificateAccessType specificApps, and
// silentCertificateAccessDetails with the existing entries plus Outlook's package.
nlohmann::json OutlookSilentAccessFields(const nlohmann::json& existing);
// The /assign body's assignments: one {"target": {...}} per entry of assignments_after.
std::vector<nlohmann::json> AssignmentBodies(const Action& assign);
// Outlook app configuration policy (createAppConfiguration): @odata.type, displayName,
// description, targetedMobileApps [app_id], and the S/MIME settings as AppConfigurationPatch
// gives them; Android adds packageId "app:com.microsoft.office.outlook" and
// profileApplicability "default".
nlohmann::json AppConfigurationBody(const Action& create);
// The PATCH fields that set the action's S/MIME keys on `existing` (the policy as read; {} for a
// new one) and keep every other key it has (S/MIME keys certdeploy does not set included, e.g.
// SMIMEEnabled.LDAPHostName): iOS "settings" (appConfigKeyType booleanType), Android
// "payloadJson" (base64 of the managedConfiguration, managedProperty valueBool).
// Errors: kFailedPrecondition when an Android policy's payloadJson cannot be read (rebuilding it
// would lose its other settings); kInvalidArgument when the action is not an app configuration.
Result<nlohmann::json> AppConfigurationPatch(const nlohmann::json& existing, const Action& update);
// AssignmentBodies typed as managedDeviceMobileAppConfigurationAssignment.
std::vector<nlohmann::json> AppConfigurationAssignmentBodies(const Action& assign);

}  // namespace certdeploy::deploy
