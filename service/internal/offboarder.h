// service/internal/offboarder.h: running the offboardings of POST /v1/offboardings.
//
// Only the elected dispatcher runs it, before each dispatcher batch. For each claimed
// offboarding (leased like a work item, so kill -9 loses nothing: the next claim starts over and
// deleting is idempotent):
//   1. while the user still has a work item running or queued (claimed before the offboarding
//      cancelled the queued ones, and perhaps handed back since), wait: step
//      "waiting-for-running-items", retried when the lease ends;
//   2. read the user's userPfxCertificates and delete them (those named, when any), each delete
//      read back and resent while the record stays (deploy/offboard.h, deploy/executor.h);
//   3. succeeded when every record is gone, with the thumbprints removed; a passing Graph
//      problem (throttling, outage) hands it back, up to max_attempts; anything else fails it.
// The final update appends the audit record ("offboard") and enqueues offboarding.finished in
// one transaction.

#pragma once

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
  int max_attempts = 10;  // Claims before a passing Graph problem becomes final.
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

 private:
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
};

}  // namespace certdeploy::service
