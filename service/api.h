// service/api.h: the daemon's REST API (`certdeploy serve`), as one request handler.
//
// Api::Handle is the http::Handler given to the HTTP server. It authenticates the caller
// (Authorization: Bearer <key>; the key's SHA-256 is compared, in constant time, with every
// configured service.apiKeys hash), checks the route's scope, and dispatches:
//
//   GET  /healthz                          none      process alive
//   GET  /readyz                           any key   store reachable and a Graph token obtainable
//   GET  /metrics                          read      Prometheus text (metrics.h)
//   GET  /openapi.json                     read      OpenAPI 3.1 description of all of this
//   POST /v1/enrollments                   enroll    validate + seal + queue one PFX (202), or
//                                                    dryRun: the plan for that user (200)
//   GET  /v1/me                            any key   the key's name and scopes
//   GET  /v1/enrollments                   read      paged list (?upn=&status=&limit=&cursor=)
//   GET  /v1/enrollments/{id}              read
//   POST /v1/rollouts                      rollouts  schedule a manifest from the inbox (201)
//   GET  /v1/rollouts                      read      paged list (?status=&limit=&cursor=)
//   GET  /v1/rollouts/{id}                 read      status, current wave, counts, failures
//   GET  /v1/rollouts/{id}/items           read      paged items (?status=&upn=), with findings
//   GET  /v1/rollouts/{id}/plan            read      dry-run plan, JSON or text (Accept)
//   POST /v1/rollouts/{id}/pause|resume|cancel  rollouts
//   GET  /v1/audit                         read      paged audit log (?since=&limit=&cursor=)
//   GET  /v1/throughput                    read      Graph writes per window, queue depth (1 h)
//   GET  /ui/...                           none      the operator console's static files; every
//                                                    call it makes needs a key like any client's
//
// Errors are application/problem+json {type, title, status, detail[, findings]}: 400 malformed
// JSON or fields (a userPrincipalName that is not UPN-shaped among them), 401 no/unknown key (on
// every path, routed or not, but /healthz and /ui/), 403 missing scope, 404, 405, 409 state conflict, 413/431 (by the
// HTTP server, before the body is buffered), 422 not deployable (with findings), Idempotency-Key
// reused with another body, or a manifest or manifest row outside service.inbox, 503 store/Graph
// unavailable. Bodies and passwords are never logged;
// audit records name the key, the action, the user and the thumbprint only.

#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "config/config.h"
#include "graph/graph_client.h"
#include "graph/write_budget.h"
#include "pkcs/certificate.h"
#include "pkcs/seal.h"
#include "http/server.h"
#include "service/metrics.h"
#include "store/job_store.h"

namespace certdeploy::service {

class Notifier;           // service/internal/notifier.h
class ThroughputHistory;  // service/internal/throughput.h

// Everything the handlers use. References and pointers must outlive the Api.
struct ApiDeps {
  const config::Config* config = nullptr;  // Its `service` section must be present.
  store::JobStore* store = nullptr;
  Clock* clock = nullptr;
  Random* random = nullptr;
  const pkcs::ConnectorPublicKey* connector_key = nullptr;
  std::vector<pkcs::Certificate> trust_bundle;  // profiles.trustBundle, loaded.
  // Graph, for dry runs and rollout plans (reads only). Null: those answer 503.
  graph::GraphClient* graph = nullptr;
  graph::WriteBudget* budget = nullptr;  // For /metrics; may be null.
  Metrics* metrics = nullptr;
  // The last hour of Graph throughput (GET /v1/throughput); null: that answers an empty history.
  const ThroughputHistory* throughput = nullptr;
  // Whether a Graph token can be obtained (for /readyz); null skips the check.
  std::function<Status()> graph_ready;
  // Called after work was queued (wakes the dispatcher loop); may be null.
  std::function<void()> wake;
  // Lease owner name used when cancelling a rollout's queued items.
  std::string owner = "api";
  // Webhooks (rollout.finished when a rollout is cancelled); null: none.
  const Notifier* notifier = nullptr;
};

class Api {
 public:
  explicit Api(ApiDeps deps);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Thread-safe: the HTTP server calls it from many worker threads.
  http::ServerResponse Handle(const http::ServerRequest& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The OpenAPI 3.1 document served at /openapi.json (defined in openapi.cc).
nlohmann::json OpenApiDocument();

}  // namespace certdeploy::service
