#include "service/internal/offboarder.h"

#include <algorithm>
#include <set>

#include "base/log.h"
#include "base/strings.h"
#include "deploy/executor.h"
#include "deploy/offboard.h"
#include "graph/intune.h"
#include "service/internal/status_fields.h"

namespace certdeploy::service {
namespace {

// Problems another attempt may not see: the offboarding goes back to the queue.
bool Passing(StatusCode code) {
  return code == StatusCode::kCancelled || code == StatusCode::kUnavailable ||
         code == StatusCode::kResourceExhausted || code == StatusCode::kDeadlineExceeded ||
         code == StatusCode::kUnauthenticated || code == StatusCode::kPermissionDenied ||
         code == StatusCode::kAborted || code == StatusCode::kInternal;
}

std::string Words(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

Offboarder::Offboarder(store::JobStore& store, graph::GraphClient& graph,
                       const config::Config& config, Metrics* metrics, OffboarderOptions options)
    : store_(store), graph_(graph), config_(config), metrics_(metrics),
      options_(std::move(options)) {}

Result<int> Offboarder::RunOnce() {
  // One claim at a time, so that a stop request is seen between offboardings and nothing waits
  // under a lease it does not need.
  std::set<std::string> seen;
  int ended = 0;
  for (int i = 0; i < options_.max_per_pass && !stop_.load(); ++i) {
    Result<std::vector<store::Offboarding>> claimed =
        store_.ClaimOffboardings(options_.owner, options_.lease, 1);
    if (!claimed.ok()) return claimed.status();
    if (claimed->empty()) break;
    const store::Offboarding& o = claimed->front();
    if (!seen.insert(o.id).second) {  // Handed back earlier in this pass: its turn is over.
      HandBack(o, o.step);
      break;
    }
    ended += Run(o) ? 1 : 0;
  }
  return ended;
}

void Offboarder::HandBack(const store::Offboarding& o, const std::string& step) {
  store::OffboardingUpdate u{.id = o.id,
                             .owner = options_.owner,
                             .status = store::OffboardingStatus::kQueued,
                             .step = step,
                             .removed = o.removed,
                             .error_code = o.error_code,
                             .error_message = o.error_message,
                             .request_ids = o.request_ids,
                             .counts_as_attempt = false};
  if (Status s = store_.UpdateOffboarding(u); !s.ok()) {
    CD_LOG_WARN("offboarding {}: handing it back: {}", o.id, s);
  }
}

bool Offboarder::Run(const store::Offboarding& o) {
  if (stop_.load()) {
    HandBack(o, "handed-back");
    return false;
  }
  // Items of the user created before the offboarding that are queued again (running when it was
  // created, handed back since) are cancelled now; the store holds every other queued item of
  // the user until the offboarding ends, so nothing is imported while it runs.
  if (Result<int> cancelled = store_.CancelQueuedItemsOf(o); !cancelled.ok()) {
    CD_LOG_WARN("offboarding {}: {}", o.id, cancelled.status());
    HandBack(o, o.step);
    return false;
  } else if (*cancelled > 0) {
    CD_LOG_INFO("offboarding {}: cancelled {} item(s) queued again since it was created", o.id,
                *cancelled);
  }
  Result<store::ItemSummary> items =
      store_.SummarizeItems({.user_principal_name = o.user_principal_name}, 0);
  if (!items.ok() || items->running > 0) {
    // An import in flight ends first (or is reconciled after a crash), then goes with the rest.
    HandBack(o, "waiting-for-running-items");
    return false;
  }
  store::OffboardingUpdate deleting{.id = o.id,
                                    .owner = options_.owner,
                                    .status = store::OffboardingStatus::kRunning,
                                    .step = "deleting",
                                    .removed = o.removed,
                                    .lease = options_.lease};
  if (Status s = store_.UpdateOffboarding(deleting); !s.ok()) {
    CD_LOG_WARN("offboarding {}: {}", o.id, s);
    return false;
  }
  graph::IntuneApi intune(graph_);
  Result<deploy::RemovalPlan> removal =
      deploy::PlanRemoval(intune, o.user_principal_name, o.thumbprints);
  if (!removal.ok()) {
    return End(o, store::OffboardingStatus::kFailed, o.removed,
               removal.status().WithContext("reading the user's certificates"), "", "");
  }
  const deploy::ExecutionReport report = deploy::ExecutePlan(
      removal->plan, graph_, deploy::ExecutorOptionsFromConfig(config_));
  std::vector<std::string> removed = o.removed;
  std::string request_ids;
  Status first_failure;
  for (const deploy::ItemResult& r : report.items) {
    const deploy::Action& a = removal->plan.actions[r.action_index];
    if (r.ok) {
      if (std::find(removed.begin(), removed.end(), a.thumbprint) == removed.end()) {
        removed.push_back(a.thumbprint);
      }
    } else if (first_failure.ok()) {
      first_failure = r.status.WithContext(a.thumbprint);
    }
    std::vector<std::string> ids = r.request_ids;
    if (std::string id = RequestId(r.status); !id.empty()) ids.push_back(std::move(id));
    for (const std::string& id : ids) request_ids += (request_ids.empty() ? "" : " ") + id;
  }
  const std::string detail =
      "offboarding " + o.id + ": removed " + std::to_string(removed.size()) +
      (removed.empty() ? "" : " (" + Words(removed) + ")") +
      (removal->missing.empty() ? "" : "; not in Intune: " + Words(removal->missing));
  if (first_failure.ok()) {
    return End(o, store::OffboardingStatus::kSucceeded, removed, OkStatus(), request_ids, detail);
  }
  return End(o, store::OffboardingStatus::kFailed, removed, first_failure, request_ids, detail);
}

bool Offboarder::End(const store::Offboarding& o, store::OffboardingStatus status,
                     const std::vector<std::string>& removed, const Status& why,
                     const std::string& request_ids, const std::string& detail) {
  store::OffboardingUpdate u{.id = o.id,
                             .owner = options_.owner,
                             .status = status,
                             .step = status == store::OffboardingStatus::kSucceeded ? "verified"
                                                                                     : "failed",
                             .removed = removed,
                             .request_ids = request_ids};
  if (!why.ok()) {
    u.error_code = ErrorCode(why);
    u.error_message = std::string(why.message());
    if (Passing(why.code()) && o.attempts < options_.max_attempts) {
      u.status = store::OffboardingStatus::kQueued;  // Handed back: the next pass tries again.
      u.step = "handed-back";
      if (Status s = store_.UpdateOffboarding(u); !s.ok()) {
        CD_LOG_WARN("offboarding {}: {}", o.id, s);
      }
      CD_LOG_WARN("offboarding {} for {}: {} (attempt {}, will retry)", o.id,
                  ForLog(o.user_principal_name), why, o.attempts);
      return false;
    }
  }
  const bool ok = status == store::OffboardingStatus::kSucceeded;
  u.audit = store::AuditRecord{.api_key_name = o.api_key_name,
                               .action = "offboard",
                               .user_principal_name = o.user_principal_name,
                               .outcome = ok ? "succeeded" : "failed: " + u.error_code,
                               .request_ids = request_ids,
                               .detail = detail.empty() ? "offboarding " + o.id : detail};
  if (options_.notify) {
    nlohmann::json data = {{"id", o.id},
                           {"userPrincipalName", o.user_principal_name},
                           {"status", ok ? "succeeded" : "failed"},
                           {"removed", removed}};
    if (!ok) data["error"] = {{"code", u.error_code}, {"message", u.error_message}};
    u.notify = options_.notify("offboarding.finished", data);
  }
  if (Status s = store_.UpdateOffboarding(u); !s.ok()) {
    CD_LOG_WARN("offboarding {}: recording the outcome: {}", o.id, s);
    return false;
  }
  if (metrics_ != nullptr) metrics_->CountOffboarding(ok ? "succeeded" : "failed");
  CD_LOG_INFO("offboarding {} for {} {}: {}", o.id, ForLog(o.user_principal_name),
              ok ? "succeeded" : "failed", ok ? detail : why.ToString());
  return true;
}

}  // namespace certdeploy::service
