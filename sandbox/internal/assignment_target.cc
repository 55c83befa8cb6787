#include "sandbox/internal/assignment_target.h"

#include "base/strings.h"
#include "sandbox/internal/core.h"

namespace certdeploy::sandbox::internal {

std::variant<ValidTarget, Refusal> ValidateAssignmentTarget(const json& t,
                                                            std::string_view resource,
                                                            bool hash_optional) {
  auto invalid = [&](const std::string& reason, const std::string& message) {
    return Refusal{400, "BadRequest", message, std::string(resource) + ": " + reason};
  };
  const json type_value = t.contains("@odata.type") ? t["@odata.type"] : json("");
  std::string type;
  for (std::string_view name : {"groupAssignmentTarget", "exclusionGroupAssignmentTarget",
                                "allLicensedUsersAssignmentTarget", "allDevicesAssignmentTarget"}) {
    if (IsGraphType(type_value, name, hash_optional))
      type = "#microsoft.graph." + std::string(name);
  }
  const bool group = type == "#microsoft.graph.groupAssignmentTarget" ||
                     type == "#microsoft.graph.exclusionGroupAssignmentTarget";
  if (type.empty()) {
    return invalid(
        "invalid assignment target",
        "Unsupported assignment target type '" +
            (type_value.is_string() ? type_value.get<std::string>() : type_value.dump()) + "'.");
  }
  json target = {{"@odata.type", type},
                 {"deviceAndAppManagementAssignmentFilterId", nullptr},
                 {"deviceAndAppManagementAssignmentFilterType", "none"}};
  for (const auto& [key, value] : t.items()) {
    if (key == "@odata.type") continue;
    if (key == "groupId" && group) {
      if (!value.is_string() || !IsGuid(value.get<std::string>())) {
        return invalid("invalid assignment target", "groupId must be a GUID.");
      }
      target["groupId"] = AsciiToLower(value.get<std::string>());
    } else if (key == "deviceAndAppManagementAssignmentFilterId") {
      if (!value.is_string() && !value.is_null()) {
        return invalid("invalid assignment target", "The filter id must be a string.");
      }
      target[key] = value;
    } else if (key == "deviceAndAppManagementAssignmentFilterType") {
      if (value != "none" && value != "include" && value != "exclude") {
        return invalid("invalid assignment target", "Invalid filter type " + value.dump() + ".");
      }
      target[key] = value;
    } else {
      return invalid("unknown property",
                     "The property '" + key + "' does not exist on type '" + type.substr(1) + "'.");
    }
  }
  if (group && !target.contains("groupId")) {
    return invalid("invalid assignment target", "A group target requires a groupId.");
  }
  std::string target_id = group ? target["groupId"].get<std::string>()
                          : type == "#microsoft.graph.allDevicesAssignmentTarget"
                              ? kAllDevicesTargetId
                              : kAllUsersTargetId;
  return ValidTarget{std::move(target), std::move(target_id)};
}

}  // namespace certdeploy::sandbox::internal
