// service/internal/drift_repair.h: restoring what an admin removed in the portal.
//
// Every service.reconcileIntervalSeconds the elected dispatcher plans the profiles of everything
// it has deployed (the CA certificates in the store's deployed_cas, the imported-PFX profiles of
// the purposes of succeeded items, the Outlook app configuration when configured) against the
// tenant, as `certdeploy plan` would with no user records, and executes the profile writes that
// plan finds missing: a deleted trusted-root or imported-PFX profile is created again and
// assigned, a removed assignment is restored, changed Outlook S/MIME keys are set back. Profiles
// are matched by certificate and type as plan does, so a profile made by someone else that
// carries the same certificate is used, never duplicated, and nothing is ever deleted.
// Writes share the tenant's write budget; each is audited ("repair") and counted
// (certdeploy_drift_repairs_total{kind}).

#pragma once

#include "base/clock.h"
#include "base/result.h"
#include "config/config.h"
#include "graph/graph_client.h"
#include "service/metrics.h"
#include "store/job_store.h"

namespace certdeploy::service {

struct DriftRepairResult {
  int repaired = 0;  // Writes that succeeded.
  int failed = 0;    // Writes that failed (tried again at the next interval).
};

// One pass. Errors when the store or the tenant cannot be read (nothing was written then).
// `metrics` may be null.
Result<DriftRepairResult> RepairDrift(store::JobStore& store, graph::GraphClient& graph,
                                      const config::Config& config, Clock& clock,
                                      Metrics* metrics);

}  // namespace certdeploy::service
