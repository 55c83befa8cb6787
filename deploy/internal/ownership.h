// deploy/internal/ownership.h: the planner's side of "one owner per assignment set" (the owner
// mark itself is declared in deploy/model.h).

#pragma once

#include <vector>

#include "deploy/plan.h"

namespace certdeploy::deploy::internal {

// Whether `existing` carries the owner mark of another profiles section than the one wanting
// `wanted`, and the run was not told to take over. App configurations are never owned elsewhere
// (their ownership is ObservedAppConfiguration::made_by_certdeploy).
bool OwnedElsewhere(const ObservedProfile& existing, const std::vector<ObservedAssignment>& wanted,
                    bool take_over);

// The `!` action that replaces the assign of `profile_action` when OwnedElsewhere: key
// "owner/<profile key>", finding kAssignmentsOwnedElsewhere whose message names the difference
// between `before` (the tenant's set, as its owner wrote it) and `wanted`, per key of the
// profiles section, and the way to take over.
Action OwnershipConflict(const Action& profile_action, const ObservedProfile& existing,
                         const std::vector<ObservedAssignment>& before,
                         const std::vector<ObservedAssignment>& wanted);

}  // namespace certdeploy::deploy::internal
