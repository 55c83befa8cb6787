// Prometheus text exposition (format 0.0.4) of the daemon's counters.

#include "service/metrics.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <sstream>

#include "config/config.h"

namespace certdeploy::service {
namespace {

// Label values escape backslash, double quote and newline.
std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

void Header(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

void ItemGauges(std::ostringstream& out, store::JobStore& store) {
  struct Kind {
    const char* name;
    store::ItemKind kind;
  };
  const Kind kinds[] = {{"enrollment", store::ItemKind::kEnrollment}, {"rollout", store::ItemKind::kRollout}};
  std::ostringstream items;
  int64_t queued = 0;
  for (const Kind& k : kinds) {
    store::ItemFilter filter;
    filter.kind = k.kind;
    Result<store::ItemSummary> s = store.SummarizeItems(filter, 0);
    if (!s.ok()) {
      Header(out, "certdeploy_store_up", "gauge", "1 when the job store answered this scrape.");
      out << "certdeploy_store_up 0\n";
      return;
    }
    queued += s->queued;
    const std::pair<const char*, int64_t> rows[] = {{"queued", s->queued},
                                                    {"running", s->running},
                                                    {"succeeded", s->succeeded},
                                                    {"failed", s->failed},
                                                    {"invalid", s->invalid},
                                                    {"cancelled", s->cancelled}};
    for (const auto& [status, n] : rows) {
      items << "certdeploy_items{kind=\"" << k.name << "\",status=\"" << status << "\"} " << n
            << "\n";
    }
  }
  Header(out, "certdeploy_store_up", "gauge", "1 when the job store answered this scrape.");
  out << "certdeploy_store_up 1\n";
  Header(out, "certdeploy_queue_depth", "gauge", "Work items waiting to be dispatched.");
  out << "certdeploy_queue_depth " << queued << "\n";
  Header(out, "certdeploy_items", "gauge", "Work items by kind and status.");
  out << items.str();
}

void GraphCounters(std::ostringstream& out, const graph::WriteBudgetStats& g) {
  Header(out, "certdeploy_graph_requests_total", "counter",
         "Microsoft Graph responses by HTTP status code ($batch items included).");
  for (const auto& [code, n] : g.responses_by_status) {
    out << "certdeploy_graph_requests_total{code=\"" << code << "\"} " << n << "\n";
  }
  Header(out, "certdeploy_graph_throttled_total", "counter", "Graph 429 Too Many Requests.");
  out << "certdeploy_graph_throttled_total " << g.throttled << "\n";
  Header(out, "certdeploy_graph_transport_errors_total", "counter",
         "Graph sends that got no HTTP response.");
  out << "certdeploy_graph_transport_errors_total " << g.transport_errors << "\n";
  Header(out, "certdeploy_graph_writes_granted_total", "counter",
         "Writes granted by the tenant write budget.");
  out << "certdeploy_graph_writes_granted_total " << g.writes_granted << "\n";
  Header(out, "certdeploy_graph_write_budget_wait_seconds_total", "counter",
         "Time callers spent waiting for the shared Graph request/write budget.");
  out << "certdeploy_graph_write_budget_wait_seconds_total "
      << Number(std::chrono::duration<double>(g.time_waiting).count()) << "\n";
}

}  // namespace

std::string_view Metrics::MethodLabel(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    if (method == known) return known;
  }
  return "other";
}

void Metrics::ObserveHttp(std::string_view route, std::string_view method, int status,
                          Duration latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  const std::string_view method_label = MethodLabel(method);
  MutexLock lock(mu_);
  ++requests_[{std::string(route), std::string(method_label), status}];
  Histogram& h = latency_[{std::string(route), std::string(method_label)}];
  ++h.count;
  h.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
}

void Metrics::CountDispatch(std::string_view outcome, int n) {
  MutexLock lock(mu_);
  dispatched_[std::string(outcome)] += static_cast<uint64_t>(n);
}

void Metrics::CountDriftRepair(std::string_view kind) {
  MutexLock lock(mu_);
  ++drift_repairs_[std::string(kind)];
}

void Metrics::CountOffboarding(std::string_view outcome) {
  MutexLock lock(mu_);
  ++offboardings_[std::string(outcome)];
}

void Metrics::CountWebhookDelivery(std::string_view event, std::string_view outcome) {
  const bool known = std::find(std::begin(config::kWebhookEvents), std::end(config::kWebhookEvents),
                               event) != std::end(config::kWebhookEvents);
  MutexLock lock(mu_);
  ++webhooks_[{known ? std::string(event) : "other", std::string(outcome)}];
}

void Metrics::SetLeader(bool leader) {
  MutexLock lock(mu_);
  leader_ = leader;
}

void Metrics::SetCertificates(const CertificateCounts& counts) {
  MutexLock lock(mu_);
  certificates_ = counts;
}

std::string Metrics::Render(store::JobStore* store, const graph::WriteBudgetStats* graph) const {
  std::ostringstream out;
  if (store != nullptr) ItemGauges(out, *store);
  if (graph != nullptr) GraphCounters(out, *graph);
  MutexLock lock(mu_);
  Header(out, "certdeploy_dispatcher_leader", "gauge",
         "Whether this replica is the elected dispatcher (1) or not (0).");
  out << "certdeploy_dispatcher_leader " << (leader_ ? 1 : 0) << "\n";
  if (certificates_) {
    Header(out, "certdeploy_certificates", "gauge",
           "The tenant's user certificates by expiry status (service.reconcileIntervalSeconds).");
    out << "certdeploy_certificates{status=\"valid\"} " << certificates_->valid << "\n"
        << "certdeploy_certificates{status=\"expiring\"} " << certificates_->expiring << "\n"
        << "certdeploy_certificates{status=\"expired\"} " << certificates_->expired << "\n";
    if (certificates_->earliest_expiry) {
      Header(out, "certdeploy_certificate_earliest_expiry_timestamp_seconds", "gauge",
             "When the first certificate not yet expired expires (Unix time).");
      out << "certdeploy_certificate_earliest_expiry_timestamp_seconds "
          << std::chrono::duration_cast<std::chrono::seconds>(
                 certificates_->earliest_expiry->time_since_epoch())
                 .count()
          << "\n";
    }
  }
  Header(out, "certdeploy_dispatched_items_total", "counter", "Dispatcher outcomes per item.");
  for (const auto& [outcome, n] : dispatched_) {
    out << "certdeploy_dispatched_items_total{outcome=\"" << Escape(outcome) << "\"} " << n << "\n";
  }
  Header(out, "certdeploy_drift_repairs_total", "counter",
         "Profiles, assignments and app configurations restored by drift repair, by action.");
  for (const auto& [kind, n] : drift_repairs_) {
    out << "certdeploy_drift_repairs_total{kind=\"" << Escape(kind) << "\"} " << n << "\n";
  }
  Header(out, "certdeploy_offboardings_total", "counter", "Offboardings ended, by outcome.");
  for (const auto& [outcome, n] : offboardings_) {
    out << "certdeploy_offboardings_total{outcome=\"" << Escape(outcome) << "\"} " << n << "\n";
  }
  if (!webhooks_.empty()) {
    Header(out, "certdeploy_webhook_deliveries_total", "counter",
           "Webhook delivery attempts by event and outcome (delivered, retried, dead).");
    for (const auto& [key, n] : webhooks_) {
      out << "certdeploy_webhook_deliveries_total{event=\"" << Escape(key.first)
          << "\",outcome=\"" << Escape(key.second) << "\"} " << n << "\n";
    }
  }
  Header(out, "certdeploy_http_requests_total", "counter", "REST requests by route and status.");
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, code] = key;
    out << "certdeploy_http_requests_total{route=\"" << Escape(route) << "\",method=\""
        << Escape(method) << "\",code=\"" << code << "\"} " << n << "\n";
  }
  Header(out, "certdeploy_http_request_duration_seconds", "histogram",
         "REST request latency, from the handler's start to its response.");
  for (const auto& [key, h] : latency_) {
    const std::string labels =
        "route=\"" + Escape(key.first) + "\",method=\"" + Escape(key.second) + "\"";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out << "certdeploy_http_request_duration_seconds_bucket{" << labels << ",le=\""
          << Number(kBuckets[i]) << "\"} " << cumulative << "\n";
    }
    out << "certdeploy_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} "
        << h.count << "\n";
    out << "certdeploy_http_request_duration_seconds_sum{" << labels << "} " << Number(h.sum)
        << "\n";
    out << "certdeploy_http_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
  }
  return out.str();
}

}  // namespace certdeploy::service
