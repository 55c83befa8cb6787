// sandbox/internal/assignment_target.h: the deviceAndAppManagementAssignmentTarget of an Intune
// assignment, shared by deviceConfiguration and managedDeviceMobileAppConfiguration assignments.
//
// Accepted targets
// (https://learn.microsoft.com/graph/api/resources/intune-shared-deviceandappmanagementassignmenttarget?view=graph-rest-beta):
// groupAssignmentTarget and exclusionGroupAssignmentTarget (with a GUID `groupId`),
// allLicensedUsersAssignmentTarget and allDevicesAssignmentTarget, each optionally with
// `deviceAndAppManagementAssignmentFilterId` (string or null) and
// `deviceAndAppManagementAssignmentFilterType` (none|include|exclude). Anything else is refused.

#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "sandbox/internal/wire.h"

namespace certdeploy::sandbox::internal {

// Intune's fixed target ids for the "all users" / "all devices" virtual groups.
inline constexpr char kAllUsersTargetId[] = "adadadad-808e-44e2-905a-0b7873a8a531";
inline constexpr char kAllDevicesTargetId[] = "acacacac-9df4-4c7d-9d50-4ef0226f57a9";

struct ValidTarget {
  json target;            // Stored form: "#"-prefixed @odata.type, filter fields filled in.
  std::string target_id;  // Lower-cased groupId, or the fixed id of an "all ..." target.
};

// Validates `target` (the value of an assignment's "target"). `resource` prefixes the refusal
// reasons ("deviceConfiguration: invalid assignment target"). With `hash_optional`, a target
// @odata.type may omit the leading '#', as Graph's own request examples do for
// managedDeviceMobileAppConfiguration assignments.
std::variant<ValidTarget, Refusal> ValidateAssignmentTarget(const json& target,
                                                            std::string_view resource,
                                                            bool hash_optional);

}  // namespace certdeploy::sandbox::internal
