// deploy/offboard.h: the deletes that offboard a user, shared by `certdeploy remove` and the
// daemon's POST /v1/offboardings.
//
//   ASSIGN_OR_RETURN(RemovalPlan removal, PlanRemoval(intune, "alice@contoso.com", {}));
//   ExecutionReport report = ExecutePlan(removal.plan, client, options);
//
// The executor deletes each record by id and reads it back afterwards; a record still there is
// deleted again before the action is reported (deploy/executor.h).

#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "deploy/plan.h"
#include "graph/intune.h"

namespace certdeploy::deploy {

// `text` as a lowercase thumbprint: InvalidArgument unless it is 40 hex digits (a SHA-1).
Result<std::string> ParseThumbprint(std::string_view text);

struct RemovalPlan {
  Plan plan;  // One kDeleteUserPfx action per record to delete.
  // Requested thumbprints the user has no record of (already gone, or never imported).
  std::vector<std::string> missing;
};

// Reads the user's userPfxCertificates and plans the deletion of all of them, or of those whose
// thumbprint is in `thumbprints` (lowercase) when it is not empty. Errors: as IntuneApi.
Result<RemovalPlan> PlanRemoval(graph::IntuneApi& intune, std::string_view upn,
                                const std::vector<std::string>& thumbprints);

}  // namespace certdeploy::deploy
