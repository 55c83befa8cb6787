// service/metrics.h: the daemon's counters, rendered in the Prometheus text format.
//
// GET /metrics (scope read) exposes:
//   certdeploy_queue_depth                          gauge   queued work items (all kinds)
//   certdeploy_items{kind,status}                   gauge   work items by kind and status
//   certdeploy_graph_requests_total{code}           counter Graph responses by HTTP status
//   certdeploy_graph_throttled_total                counter Graph 429 answers
//   certdeploy_graph_transport_errors_total         counter Graph sends without a response
//   certdeploy_graph_write_budget_wait_seconds_total counter time spent waiting for the budget
//   certdeploy_dispatched_items_total{outcome}      counter dispatcher outcomes
//   certdeploy_dispatcher_leader                    gauge   1 while this replica dispatches
//   certdeploy_webhook_deliveries_total{event,outcome} counter webhook delivery attempts
//   certdeploy_http_requests_total{route,method,code} counter
//   certdeploy_http_request_duration_seconds{route,method} histogram
// Gauges about items are read from the JobStore at scrape time; Graph counters from the tenant's
// WriteBudget. Label values are route templates ("/v1/enrollments/{id}") or "unmatched", never
// raw paths, and methods outside the known set are "other", so the number of series stays
// bounded whatever clients send.

#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "graph/write_budget.h"
#include "store/job_store.h"

namespace certdeploy::service {

// Thread-safe.
class Metrics {
 public:
  // Upper bounds (seconds) of the latency histogram buckets; +Inf is implied.
  static constexpr std::array<double, 11> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10};

  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The method as a label: one of GET HEAD POST PUT PATCH DELETE OPTIONS, else "other". A
  // client chooses the method, so the raw text never becomes a label (each distinct value would
  // be a new series, kept forever).
  static std::string_view MethodLabel(std::string_view method);

  // One REST request handled. `route` must be a route template or "unmatched" (never the raw
  // path); `method` is labelled with MethodLabel; `status` is the status sent. Together they keep
  // the number of series bounded.
  void ObserveHttp(std::string_view route, std::string_view method, int status, Duration latency)
      LOCKS_EXCLUDED(mu_);
  // One dispatcher outcome: "succeeded", "failed", "retried", "cancelled", "reconciled".
  void CountDispatch(std::string_view outcome, int n = 1) LOCKS_EXCLUDED(mu_);
  void SetLeader(bool leader) LOCKS_EXCLUDED(mu_);
  // One profile, assignment or app configuration restored by drift repair; `kind` is the plan
  // action's name (createTrustedProfile, assignProfile, ...).
  void CountDriftRepair(std::string_view kind) LOCKS_EXCLUDED(mu_);
  // One offboarding ended: "succeeded" or "failed".
  void CountOffboarding(std::string_view outcome) LOCKS_EXCLUDED(mu_);
  // One webhook delivery attempt: outcome "delivered", "retried" or "dead". An event outside
  // config::kWebhookEvents is labelled "other".
  void CountWebhookDelivery(std::string_view event, std::string_view outcome)
      LOCKS_EXCLUDED(mu_);
  // The tenant's certificates by expiry status, from the last inventory read.
  struct CertificateCounts {
    int valid = 0, expiring = 0, expired = 0;
    std::optional<SystemTime> earliest_expiry;  // Of those not yet expired.
  };
  void SetCertificates(const CertificateCounts& counts) LOCKS_EXCLUDED(mu_);

  // The exposition text. `store` (nullable) supplies the item gauges (a store error adds
  // certdeploy_store_up 0 instead); `graph` (nullable) the Graph counters.
  std::string Render(store::JobStore* store, const graph::WriteBudgetStats* graph) const
      LOCKS_EXCLUDED(mu_);

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};  // Non-cumulative counts per bucket.
    uint64_t count = 0;
    double sum = 0;
  };
  mutable Mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_ GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, Histogram> latency_ GUARDED_BY(mu_);
  std::map<std::string, uint64_t> dispatched_ GUARDED_BY(mu_);
  std::map<std::string, uint64_t> drift_repairs_ GUARDED_BY(mu_);
  std::map<std::string, uint64_t> offboardings_ GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, uint64_t> webhooks_ GUARDED_BY(mu_);
  bool leader_ GUARDED_BY(mu_) = false;
  std::optional<CertificateCounts> certificates_ GUARDED_BY(mu_);
};

}  // namespace certdeploy::service
