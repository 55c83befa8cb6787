// IntuneApi: the per-device report of a deviceConfiguration (deviceConfigurationDeviceStatus).
//
// Sources (beta):
//   resource  https://learn.microsoft.com/graph/api/resources/intune-deviceconfig-deviceconfigurationdevicestatus?view=graph-rest-beta
//   list      https://learn.microsoft.com/graph/api/intune-deviceconfig-deviceconfigurationdevicestatus-list?view=graph-rest-beta
//   enum      https://learn.microsoft.com/graph/api/resources/intune-shared-compliancestatus?view=graph-rest-beta
// The list page documents no optional query parameters, so no $filter is sent: the caller's user
// is picked out here, after every page was read.

#include <array>

#include "base/status_macros.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "graph/intune.h"

namespace certdeploy::graph {
namespace {

constexpr std::array<std::string_view, 8> kComplianceNames = {
    "unknown", "notApplicable", "compliant", "remediated",
    "nonCompliant", "error", "conflict", "notAssigned"};

Status BadField(std::string_view field) {
  return InternalError("deviceConfigurationDeviceStatus from Graph has a malformed \"" +
                       std::string(field) + "\"");
}

// A string property: "" when absent or null; an error for any other JSON type.
Result<std::string> TextOf(const nlohmann::json& json, std::string_view field) {
  auto it = json.find(field);
  if (it == json.end() || it->is_null()) return std::string();
  if (!it->is_string()) return BadField(field);
  return it->get<std::string>();
}

// An Edm.DateTimeOffset property: nullopt when absent or null. Graph's "no date"
// (0001-01-01T00:00:00Z) clamps to what SystemTime holds.
Result<std::optional<SystemTime>> InstantOf(const nlohmann::json& json, std::string_view field) {
  ASSIGN_OR_RETURN(std::string text, TextOf(json, field));
  if (text.empty()) return std::optional<SystemTime>();
  Result<SystemTime> t = ParseRfc3339(text, {.clamp_to_representable = true});
  if (!t.ok()) return BadField(field);
  return std::optional<SystemTime>(*t);
}

std::string StatusesPath(std::string_view configuration_id) {
  return "/deviceManagement/deviceConfigurations/" + PercentEncodePathSegment(configuration_id) +
         "/deviceStatuses";
}

}  // namespace

std::string_view ToString(ComplianceStatus status) {
  if (status == ComplianceStatus::kUnrecognized) return "unrecognized";
  return kComplianceNames[static_cast<size_t>(status)];
}

ComplianceStatus ParseComplianceStatus(std::string_view name) {
  for (size_t i = 0; i < kComplianceNames.size(); ++i) {
    if (kComplianceNames[i] == name) return static_cast<ComplianceStatus>(i);
  }
  return ComplianceStatus::kUnrecognized;
}

Result<DeviceConfigurationDeviceStatus> DeviceConfigurationDeviceStatusFromJson(
    const nlohmann::json& json) {
  if (!json.is_object()) {
    return InternalError("deviceConfigurationDeviceStatus from Graph is not an object");
  }
  DeviceConfigurationDeviceStatus s;
  ASSIGN_OR_RETURN(s.id, TextOf(json, "id"));
  if (s.id.empty()) return BadField("id");
  ASSIGN_OR_RETURN(s.device_display_name, TextOf(json, "deviceDisplayName"));
  ASSIGN_OR_RETURN(s.user_name, TextOf(json, "userName"));
  ASSIGN_OR_RETURN(s.device_model, TextOf(json, "deviceModel"));
  ASSIGN_OR_RETURN(s.user_principal_name, TextOf(json, "userPrincipalName"));
  auto platform = json.find("platform");
  if (platform != json.end() && !platform->is_null()) {
    if (!platform->is_number_integer()) return BadField("platform");
    s.platform = platform->get<int>();
  }
  ASSIGN_OR_RETURN(s.status_text, TextOf(json, "status"));
  s.status = s.status_text.empty() ? ComplianceStatus::kUnknown
                                   : ParseComplianceStatus(s.status_text);
  ASSIGN_OR_RETURN(s.compliance_grace_period_expiration_date_time,
                   InstantOf(json, "complianceGracePeriodExpirationDateTime"));
  ASSIGN_OR_RETURN(s.last_reported_date_time, InstantOf(json, "lastReportedDateTime"));
  return s;
}

Result<std::vector<DeviceConfigurationDeviceStatus>> IntuneApi::ListDeviceStatuses(
    std::string_view configuration_id) {
  ASSIGN_OR_RETURN(std::vector<nlohmann::json> items,
                   client_.ListAll(StatusesPath(configuration_id)));
  std::vector<DeviceConfigurationDeviceStatus> out;
  out.reserve(items.size());
  for (const nlohmann::json& item : items) {
    ASSIGN_OR_RETURN(DeviceConfigurationDeviceStatus status,
                     DeviceConfigurationDeviceStatusFromJson(item));
    out.push_back(std::move(status));
  }
  return out;
}

Result<std::vector<DeviceConfigurationDeviceStatus>> IntuneApi::ListDeviceStatusesForUser(
    std::string_view configuration_id, std::string_view upn) {
  ASSIGN_OR_RETURN(std::vector<DeviceConfigurationDeviceStatus> all,
                   ListDeviceStatuses(configuration_id));
  std::erase_if(all, [&](const DeviceConfigurationDeviceStatus& s) {
    return !EqualsIgnoreCaseAscii(s.user_principal_name, upn);
  });
  return all;
}

}  // namespace certdeploy::graph
