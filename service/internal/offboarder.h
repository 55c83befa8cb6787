// service/internal/offboarder.h: running the offboardings of POST /v1/offboardings.
//
// Only the elected dispatcher runs it, before each dispatcher batch, claiming one offboarding at
// a time (leased like a work item, so kill -9 loses nothing: the next claim starts over and
// deleting is idempotent). While it is queued or running, the store claims none of the user's
// queued items (JobStore::ClaimOffboardings). For each claimed offboarding:
//   1. cancel the user's items created before it that are queued again (running when it was
//      created, handed back since: JobStore::CancelQueuedItemsOf);
//   2. while one of the user's items is still running, hand it back (step
//      "waiting-for-running-items") to be claimed again at the next pass; waiting does not
//      count as an attempt;
//   3. read the user's userPfxCertificates and delete them (those named, when any), each delete
//      read back and resent while the record stays (deploy/offboard.h, deploy/executor.h);
//   4. succeeded when every record is gone, with the thumbprints removed and the request-ids of
//      the deletes; a passing problem (throttling, an outage, a record Graph still shows after
//      its DELETE was answered) hands it back, up to max_attempts; anything else fails it.
// RequestStop makes it hand back what it has claimed and claim nothing more.
// The final update appends the audit record ("offboard") and enqueues offboarding.finished in
// one transaction.

#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/result.h"
#include "config/config.h"
#include "graph/graph_client.h"
#include "service/metrics.h"
#include "store/job_store.h"

namespace certdeploy::service {

struct OffboarderOptions {
  std::string owner;  // Lease owner: this replica. Required.
  Duration lease = std::chrono::minutes(2);
  int max_attempts = 10;  // Attempts before a passing Graph problem becomes final.
  int max_per_pass = 10;  // Offboardings run per RunOnce.
  // The notifications of an event for the subscribed webhooks (may be empty).
  std::function<std::vector<store::Notification>(std::string_view event,
                                                 const nlohmann::json& data)>
      notify;
};

class Offboarder {
 public:
  // All references must outlive the offboarder; `metrics` may be null.
  Offboarder(store::JobStore& store, graph::GraphClient& graph, const config::Config& config,
             Metrics* metrics, OffboarderOptions options);

  // Claims and runs the offboardings due; returns how many ended (succeeded or failed). Errors
  // only when the store cannot be read.
  Result<int> RunOnce();
  // Thread-safe: RunOnce stops before its next offboarding (a delete under way is finished).
  void RequestStop() { stop_.store(true); }

 private:
  // Back to the queue unchanged, its attempt given back.
  void HandBack(const store::Offboarding& o, const std::string& step);
  // Runs one claimed offboarding; true when it ended.
  bool Run(const store::Offboarding& o);
  bool End(const store::Offboarding& o, store::OffboardingStatus status,
           const std::vector<std::string>& removed, const Status& why,
           const std::string& request_ids, const std::string& detail);

  store::JobStore& store_;
  graph::GraphClient& graph_;
  const config::Config& config_;
  Metrics* metrics_;
  const OffboarderOptions options_;
  std::atomic<bool> stop_{false};
};

}  // namespace certdeploy::service
