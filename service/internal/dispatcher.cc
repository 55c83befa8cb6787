// The dispatcher: claim a batch, plan it against the tenant, ensure profiles, import, record.

#include "service/dispatcher.h"

#include <map>

#include "base/encoding.h"
#include "base/log.h"
#include "base/mutex.h"
#include "deploy/executor.h"
#include "deploy/observe.h"
#include "deploy/plan.h"
#include "graph/intune.h"
#include "service/internal/status_fields.h"
#include "service/internal/dispatcher_item.h"
#include "service/internal/notifier.h"

namespace certdeploy::service {

struct Dispatcher::Entry {
  store::WorkItem item;
  StoredPfx stored;
  bool owned = true;  // False once the lease was lost or an outcome was recorded.
  std::string step;
};

// One claimed batch. While the executor runs, its worker threads call back into the batch
// (lease renewals, password reads); the dispatcher thread itself waits in ExecutePlan.
struct Dispatcher::Batch {
  // Entry i plans as line i + 1. The vector is fixed once claimed. Executor callbacks read and
  // write an entry's `owned` and `step` only under mu; the dispatcher thread also uses them
  // without mu, but only while no executor runs.
  std::vector<Entry> entries;
  Mutex mu;
  SteadyTime last_renewal GUARDED_BY(mu) = {};

  // The entry whose plan line `a` carries, or null.
  Entry* EntryFor(const deploy::Action& a) {
    if (a.line < 1 || a.line > static_cast<int>(entries.size())) return nullptr;
    return &entries[static_cast<size_t>(a.line - 1)];
  }
};

namespace {

// A plan cut in two: the profile actions (trusted roots, imported-PFX profiles, assignments),
// which must all succeed before any record is imported, and the rest (the user records).
struct PhasedPlan {
  deploy::Plan profiles;
  deploy::Plan imports;
};

PhasedPlan SplitByPhase(const deploy::Plan& plan) {
  PhasedPlan phases{plan, plan};
  phases.profiles.actions.clear();
  phases.imports.actions.clear();
  for (const deploy::Action& a : plan.actions) {
    (deploy::IsProfileAction(a.kind) ? phases.profiles : phases.imports).actions.push_back(a);
  }
  return phases;
}

std::vector<store::DeployedCa> DeployedCas(const std::vector<PlannedItem>& planned) {
  std::vector<store::DeployedCa> out;
  for (const PlannedItem& p : planned) {
    for (const pkcs::ChainElement& e : p.facts.chain) {
      out.push_back({.thumbprint = e.cert.sha1,
                     .der_base64 = Base64Encode(e.cert.der),
                     .root = e.role == pkcs::ChainRole::kRoot,
                     .self_signed = e.self_signed});
    }
  }
  return out;
}

// The actions that write a work item's record: an import, or the re-seal of its record.
bool Writes(deploy::ActionKind kind) {
  return kind == deploy::ActionKind::kImportUserPfx || kind == deploy::ActionKind::kUpdateUserPfx;
}

// Item problems that another attempt cannot fix.
bool ItemProblem(StatusCode code) {
  return code == StatusCode::kInvalidArgument || code == StatusCode::kFailedPrecondition ||
         code == StatusCode::kNotFound || code == StatusCode::kDataLoss ||
         code == StatusCode::kAlreadyExists;
}

// Tenant-wide or passing problems: the item waits in the queue, however often.
bool Passing(StatusCode code) {
  return code == StatusCode::kCancelled || code == StatusCode::kUnavailable ||
         code == StatusCode::kResourceExhausted || code == StatusCode::kDeadlineExceeded ||
         code == StatusCode::kUnauthenticated || code == StatusCode::kPermissionDenied;
}

}  // namespace

Dispatcher::Dispatcher(store::JobStore& store, graph::GraphClient& graph, const config::Config& config,
                       Clock& clock, Metrics* metrics, DispatcherOptions options)
    : store_(store),
      graph_(graph),
      config_(config),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)) {}

Result<std::vector<store::WorkItem>> Dispatcher::Claim(std::optional<store::Rollout>& rollout) {
  store::ClaimRequest claim;
  claim.owner = options_.owner;
  claim.lease = options_.lease;
  claim.limit = options_.batch_size;
  claim.filter.kind = store::ItemKind::kEnrollment;
  Result<std::vector<store::WorkItem>> items = store_.ClaimNext(claim);
  if (!items.ok() || !items->empty()) return items;
  const store::RolloutStatus running[] = {store::RolloutStatus::kRunning};
  Result<std::vector<store::Rollout>> rollouts = store_.ListRollouts(running, 1000);
  if (!rollouts.ok()) return rollouts.status();
  for (store::Rollout& r : *rollouts) {
    if (r.current_wave < 1 || r.wave_finished_at) continue;
    claim.filter = store::ItemFilter{store::ItemKind::kRollout, r.id, r.current_wave};
    items = store_.ClaimNext(claim);
    if (!items.ok() || !items->empty()) {
      rollout = std::move(r);
      return items;
    }
  }
  return std::vector<store::WorkItem>{};
}

Result<DispatchResult> Dispatcher::RunOnce() {
  DispatchResult result;
  if (stop_.load()) return result;
  std::optional<store::Rollout> rollout;
  Result<std::vector<store::WorkItem>> items = Claim(rollout);
  if (!items.ok()) return items.status();
  if (items->empty()) return result;
  result.claimed = static_cast<int>(items->size());
  Batch batch;
  for (store::WorkItem& item : *items) batch.entries.push_back(Entry{std::move(item), {}, true, ""});
  if (rollout) {
    // Re-read: the rollout may have been paused or cancelled since it was listed.
    Result<store::Rollout> now = store_.GetRollout(rollout->id);
    if (!now.ok() || now->status != store::RolloutStatus::kRunning) {
      const bool cancelled = now.ok() && now->status == store::RolloutStatus::kCancelled;
      for (Entry& e : batch.entries) {
        if (cancelled) {
          Finish(e, CancelledError("the rollout was cancelled before this item ran"), result);
        } else {
          HandBack(e,
                   now.ok() ? FailedPreconditionError("the rollout is not running") : now.status(),
                   result);
        }
      }
      return result;
    }
  }
  Process(batch, result);
  return result;
}

void Dispatcher::Process(Batch& batch, DispatchResult& result) {
  for (Entry& e : batch.entries) {
    const store::WorkItem& item = e.item;
    if (!item.pfx_blob) {
      Finish(e, DataLossError("the stored PFX of this item is gone"), result);
      continue;
    }
    if (item.connector_key_fingerprint != options_.connector_key_fingerprint ||
        item.padding_scheme != pkcs::PaddingSchemeName(config_.connector.padding)) {
      Finish(e,
             FailedPreconditionError(
                 "the password was sealed to another connector key or padding than the "
                 "configured one; submit the PFX again"),
             result);
      continue;
    }
    Result<StoredPfx> stored = DecodeStoredPfx(*item.pfx_blob);
    if (!stored.ok() || !stored->has_facts) {
      Finish(
          e,
          stored.ok() ? DataLossError("the stored PFX has no certificate facts") : stored.status(),
          result);
      continue;
    }
    e.stored = std::move(*stored);
  }
  CheckpointAll(batch, "planning");
  RunPlan(batch, result);
}

void Dispatcher::RunPlan(Batch& batch, DispatchResult& result) {
  const std::vector<PlannedItem> planned = PlannedItems(batch, result);
  if (planned.empty()) return;
  Result<deploy::Plan> plan = PlanAgainstTenant(planned);
  if (!plan.ok()) {
    HandBackAll(batch, plan.status(), result);
    return;
  }
  for (const deploy::Action& a : plan->actions) {
    if (a.kind == deploy::ActionKind::kInvalid && a.line == 0) {
      const std::string code = a.findings.empty() ? "invalid" : a.findings.front().code;
      if (code == deploy::kAssignmentsOwnedElsewhere) {
        // Another config's profiles section owns these assignments: never replaced silently,
        // and no half delivery. The items fail (retrying cannot help until the configs agree,
        // or profiles.takeOverAssignments is set); nothing is written.
        const Status why(StatusCode::kFailedPrecondition, a.findings.front().message,
                         StatusDetails{0, code, "", std::nullopt});
        for (Entry& e : batch.entries) {
          if (e.owned) Finish(e, why, result);
        }
        return;
      }
      // The Outlook app configuration cannot be made (Outlook is not in the tenant): a
      // certificate Outlook would ignore is no rollout, so the items wait like on a profile
      // failure.
      HandBackAll(batch,
                  Status(StatusCode::kFailedPrecondition, a.description,
                         StatusDetails{0, code, "", std::nullopt}),
                  result);
      return;
    }
  }
  const PhasedPlan phases = SplitByPhase(*plan);
  deploy::ExecutorOptions options = ExecutorOptionsFor(batch);
  if (!EnsureProfiles(batch, phases.profiles, options, result)) return;
  // Drift repair restores the profiles of every chain deployed, long after the PFX envelopes
  // that carried the chains are released: remember the chains before any import.
  if (Status remembered = store_.RecordDeployedCas(DeployedCas(planned)); !remembered.ok()) {
    HandBackAll(batch, remembered.WithContext("recording the deployed CA certificates"), result);
    return;
  }
  if (stop_.load()) {
    HandBackAll(batch, CancelledError("the daemon is shutting down"), result);
    return;
  }
  const deploy::ExecutionReport report = Import(batch, phases.imports, std::move(options));
  RecordImportOutcomes(batch, phases.imports, report, result);
  for (Entry& e : batch.entries) {
    if (e.owned) HandBack(e, InternalError("the plan had no action for this item"), result);
  }
}

std::vector<PlannedItem> Dispatcher::PlannedItems(Batch& batch, DispatchResult& result) {
  std::vector<PlannedItem> planned;
  for (size_t i = 0; i < batch.entries.size(); ++i) {
    Entry& e = batch.entries[i];
    if (!e.owned) continue;
    Result<pkcs::Purpose> purpose = pkcs::ParsePurpose(e.item.intended_purpose);
    if (!purpose.ok()) {
      Finish(e, purpose.status(), result);
      continue;
    }
    planned.push_back({static_cast<int>(i) + 1, e.item.user_principal_name, *purpose,
                       e.item.thumbprint, e.item.pfx_sha256, e.stored.facts});
  }
  return planned;
}

Result<deploy::Plan> Dispatcher::PlanAgainstTenant(const std::vector<PlannedItem>& planned) {
  std::vector<std::string> upns;
  for (const PlannedItem& p : planned) upns.push_back(p.upn);
  graph::IntuneApi intune(graph_);
  Result<deploy::ObservedState> observed =
      deploy::ReadObservedState(intune, upns, deploy::ObserveOptionsFor(config_));
  if (!observed.ok()) return observed.status().WithContext("reading the tenant");
  return deploy::ComputePlan(DesiredStateForItems(config_, planned), *observed, clock_.Now());
}

deploy::ExecutorOptions Dispatcher::ExecutorOptionsFor(Batch& batch) {
  deploy::ExecutorOptions options = deploy::ExecutorOptionsFromConfig(config_);
  options.on_progress = [this, &batch](const deploy::ExecutionProgress&) {
    RenewLeasesIfDue(batch);
  };
  return options;
}

void Dispatcher::RenewLeasesIfDue(Batch& batch) {
  MutexLock lock(batch.mu);
  if (clock_.SteadyNow() - batch.last_renewal < options_.lease / 3) return;
  for (Entry& e : batch.entries) {
    if (!e.owned) continue;
    store::CheckpointUpdate c{.id = e.item.id,
                              .owner = options_.owner,
                              .status = store::ItemStatus::kRunning,
                              .step = e.step,
                              .lease = options_.lease};
    if (store_.Checkpoint(c).code() == StatusCode::kAborted) e.owned = false;
  }
  batch.last_renewal = clock_.SteadyNow();
}

bool Dispatcher::EnsureProfiles(Batch& batch, const deploy::Plan& profiles,
                                const deploy::ExecutorOptions& options, DispatchResult& result) {
  if (!profiles.HasWrites()) return true;
  CheckpointAll(batch, "ensuring-profiles");
  deploy::ExecutionReport report = deploy::ExecutePlan(profiles, graph_, options);
  for (const deploy::ItemResult& r : report.items) {
    if (r.ok) continue;
    HandBackAll(batch, r.status.WithContext(r.description), result);
    return false;
  }
  return true;
}

deploy::ExecutionReport Dispatcher::Import(Batch& batch, const deploy::Plan& imports,
                                           deploy::ExecutorOptions options) {
  CheckpointAll(batch, "importing");
  options.pfx_bytes = [&batch](const deploy::Action& a) -> Result<std::string> {
    Entry* e = batch.EntryFor(a);
    if (e == nullptr) return InternalError("no work item for plan line " + std::to_string(a.line));
    return e->stored.pfx;
  };
  options.sealed_password = [this, &batch](const deploy::Action& a) -> Result<std::string> {
    if (stop_.load()) return CancelledError("the daemon is shutting down");
    Entry* e = batch.EntryFor(a);
    if (e == nullptr) return InternalError("no work item for plan line " + std::to_string(a.line));
    MutexLock lock(batch.mu);
    if (!e->owned) return AbortedError("the lease on this item was lost");
    return e->item.sealed_password;
  };
  return deploy::ExecutePlan(imports, graph_, options);
}

void Dispatcher::RecordImportOutcomes(Batch& batch, const deploy::Plan& imports,
                                      const deploy::ExecutionReport& report,
                                      DispatchResult& result) {
  // Outcome per plan key: imports decide for themselves and for duplicates of the same record.
  std::map<std::string, const deploy::ItemResult*> by_key;
  std::map<size_t, const deploy::ItemResult*> by_action;
  for (const deploy::ItemResult& r : report.items) {
    by_action[r.action_index] = &r;
    if (Writes(r.kind)) by_key[r.key] = &r;
  }
  for (size_t i = 0; i < imports.actions.size(); ++i) {
    const deploy::Action& a = imports.actions[i];
    Entry* e = batch.EntryFor(a);
    if (e == nullptr || !e->owned) continue;
    if (a.kind == deploy::ActionKind::kSkipUserPfx && !a.record_id.empty()) {
      Succeed(*e, /*reconciled=*/true, result);  // Already in the tenant (e.g. before a crash).
      continue;
    }
    if (a.kind == deploy::ActionKind::kInvalid) {
      // The directory says the certificate cannot work for this user (user-not-found,
      // email-not-primary-smtp): another attempt cannot fix it. The error code is the finding's.
      const std::string code = a.findings.empty() ? "invalid" : a.findings.front().code;
      Finish(*e,
             Status(StatusCode::kFailedPrecondition, SummarizeFindings(a.findings),
                    StatusDetails{0, code, "", std::nullopt}),
             result);
      continue;
    }
    const deploy::ItemResult* r = nullptr;
    if (Writes(a.kind)) {
      auto it = by_action.find(i);
      if (it != by_action.end()) r = it->second;
    } else if (a.kind == deploy::ActionKind::kSkipUserPfx) {
      auto it = by_key.find(a.key);
      if (it != by_key.end()) r = it->second;
    } else {
      continue;
    }
    RecordImportOutcome(*e, r, result);
  }
}

void Dispatcher::RecordImportOutcome(Entry& e, const deploy::ItemResult* r,
                                     DispatchResult& result) {
  if (r == nullptr) {
    HandBack(e, InternalError("the executor reported nothing for this item"), result);
  } else if (r->ok) {
    Succeed(e, r->reconciled, result);
  } else if (ItemProblem(r->status.code()) ||
             (!Passing(r->status.code()) && e.item.attempts >= options_.max_attempts)) {
    Finish(e, r->status, result);
  } else {
    HandBack(e, r->status, result);
  }
}

void Dispatcher::CheckpointAll(Batch& batch, const std::string& step) {
  MutexLock lock(batch.mu);
  for (Entry& e : batch.entries) {
    if (!e.owned) continue;
    e.step = step;
    store::CheckpointUpdate c{.id = e.item.id,
                       .owner = options_.owner,
                       .status = store::ItemStatus::kRunning,
                       .step = step,
                       .lease = options_.lease};
    Status s = store_.Checkpoint(c);
    if (s.code() == StatusCode::kAborted) {
      e.owned = false;
      CD_LOG_WARN("dispatcher: lost the lease on item {}", e.item.id);
    } else if (!s.ok()) {
      CD_LOG_WARN("dispatcher: checkpoint of item {}: {}", e.item.id, s);
    }
  }
  batch.last_renewal = clock_.SteadyNow();
}

void Dispatcher::Succeed(Entry& e, bool reconciled, DispatchResult& result) {
  store::CheckpointUpdate c{.id = e.item.id,
                     .owner = options_.owner,
                     .status = store::ItemStatus::kSucceeded,
                     .step = reconciled ? "verified-present" : "verified"};
  c.release_pfx = !options_.retain_pfx_after_success;
  c.audit = AuditOf(e, reconciled ? "succeeded: already present" : "succeeded", "");
  Status s = store_.Checkpoint(c);
  e.owned = false;
  if (!s.ok()) {
    // The next claim re-plans, finds the record present and succeeds then.
    CD_LOG_WARN("dispatcher: recording success of item {}: {}", e.item.id, s);
    ++result.lost;
    return;
  }
  ++result.succeeded;
  if (metrics_ != nullptr) metrics_->CountDispatch(reconciled ? "reconciled" : "succeeded");
  if (reconciled) {
    CD_LOG_INFO("item {} ({}, {}) is in the tenant: reconciled by reading, not resent", e.item.id,
                e.item.user_principal_name, e.item.thumbprint);
  } else {
    CD_LOG_INFO("imported item {} ({}, {})", e.item.id, e.item.user_principal_name,
                e.item.thumbprint);
  }
}

bool Dispatcher::Release(Entry& e, store::ItemStatus status, const char* step, const Status& why,
                         std::optional<store::AuditRecord> audit, DispatchResult& result,
                         std::vector<store::Notification> notify) {
  store::CheckpointUpdate c{.id = e.item.id,
                     .owner = options_.owner,
                     .status = status,
                     .step = step,
                     .error_code = ErrorCode(why),
                     .error_message = std::string(why.message()),
                     .request_id = RequestId(why),
                     .audit = std::move(audit),
                     .notify = std::move(notify)};
  Status s = store_.Checkpoint(c);
  e.owned = false;
  if (!s.ok()) ++result.lost;
  return s.ok();
}

void Dispatcher::Finish(Entry& e, const Status& why, DispatchResult& result) {
  const bool cancelled = why.code() == StatusCode::kCancelled;
  if (!Release(e, cancelled ? store::ItemStatus::kCancelled : store::ItemStatus::kFailed,
               cancelled ? "cancelled" : "failed", why,
               AuditOf(e, (cancelled ? "cancelled: " : "failed: ") + ErrorCode(why), RequestId(why)),
               result,
               cancelled ? std::vector<store::Notification>{} : FailureNotifications(e, why))) {
    return;
  }
  ++(cancelled ? result.cancelled : result.failed);
  if (metrics_ != nullptr) metrics_->CountDispatch(cancelled ? "cancelled" : "failed");
  const std::string where =
      e.item.rollout_id ? "rollout " + *e.item.rollout_id + " wave " + std::to_string(e.item.wave) +
                              " line " + std::to_string(e.item.manifest_line) + " "
                        : std::string();
  CD_LOG_WARN("{}item {} ({}) {}: {}", where, e.item.id, e.item.user_principal_name,
              cancelled ? "cancelled" : "failed", why);
}

std::vector<store::Notification> Dispatcher::FailureNotifications(const Entry& e,
                                                                 const Status& why) const {
  if (options_.notifier == nullptr || e.item.kind != store::ItemKind::kEnrollment) return {};
  // Names, ids and error codes only: the error message never carries a secret (store/job.h).
  const nlohmann::json data = {
      {"id", e.item.id},
      {"userPrincipalName", e.item.user_principal_name},
      {"thumbprint", e.item.thumbprint},
      {"intendedPurpose", e.item.intended_purpose},
      {"error",
       {{"code", ErrorCode(why)},
        {"message", std::string(why.message())},
        {"requestId", RequestId(why)}}}};
  // An item fails once; the dedupe key makes sure of it should the outcome ever be recorded twice.
  return options_.notifier->For("enrollment.failed", data, e.item.id);
}

void Dispatcher::HandBack(Entry& e, const Status& why, DispatchResult& result) {
  if (!Release(e, store::ItemStatus::kQueued, "retry", why, std::nullopt, result)) return;
  ++result.handed_back;
  if (metrics_ != nullptr) metrics_->CountDispatch("retried");
  CD_LOG_INFO("item {} back in the queue: {}", e.item.id, why);
}

void Dispatcher::HandBackAll(Batch& batch, const Status& why, DispatchResult& result) {
  for (Entry& e : batch.entries) {
    if (e.owned) HandBack(e, why, result);
  }
}

store::AuditRecord Dispatcher::AuditOf(const Entry& e, const std::string& outcome,
                                const std::string& request_id) {
  store::AuditRecord record;
  record.action = "import";
  record.user_principal_name = e.item.user_principal_name;
  record.thumbprint = e.item.thumbprint;
  record.outcome = outcome;
  record.request_ids = request_id;
  record.detail = e.item.kind == store::ItemKind::kEnrollment
                      ? "enrollment " + e.item.id
                      : "rollout " + e.item.rollout_id.value_or("") + " wave " +
                            std::to_string(e.item.wave) + " line " +
                            std::to_string(e.item.manifest_line) + " item " + e.item.id;
  return record;
}

}  // namespace certdeploy::service
