// Outlook app configuration writes. Like every write they go through Write(): an unknown outcome
// is read back before anything is resent.
//
// Endpoints (https://learn.microsoft.com/graph/api/resources/intune-apps-manageddevicemobileappconfiguration):
// POST /deviceAppManagement/mobileAppConfigurations (201), PATCH .../{id} (200 in the docs; any
// 2xx is success), POST .../{id}/microsoft.graph.managedDeviceMobileAppConfiguration/assign (204).

#include <algorithm>

#include "base/status_macros.h"
#include "deploy/internal/executor_items.h"
#include "deploy/observe.h"

namespace certdeploy::deploy::internal {
namespace {

std::string IdOf(const nlohmann::json& j) {
  auto it = j.is_object() ? j.find("id") : j.end();
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The id of the policy that now sets Outlook's S/MIME keys on the action's platform, if any.
Result<std::optional<std::string>> FindAppConfiguration(ItemContext& ctx, const Action& a) {
  ObservedState now;
  RETURN_IF_ERROR(ReadOutlookAppConfigurations(ctx.intune, now, /*with_assignments=*/false));
  const ObservedAppConfiguration* found = ManagedAppConfiguration(now, a.odata_type);
  return found ? std::optional<std::string>(found->id) : std::optional<std::string>();
}

}  // namespace

Status CreateAppConfiguration(const Action& a, ItemContext& ctx, Tally& tally, std::string& id) {
  const nlohmann::json body = AppConfigurationBody(a);
  auto send = [&]() -> Status {
    ASSIGN_OR_RETURN(nlohmann::json created, ctx.intune.CreateMobileAppConfiguration(body));
    id = IdOf(created);
    return OkStatus();
  };
  auto applied = [&]() -> Result<bool> {
    ASSIGN_OR_RETURN(std::optional<std::string> found, FindAppConfiguration(ctx, a));
    if (found) id = *found;
    return found.has_value();
  };
  RETURN_IF_ERROR(Write(ctx.options.max_attempts, ctx.options.stop, send, applied, false, tally));
  if (id.empty()) {  // Created, but the answer carried no id: look it up.
    ASSIGN_OR_RETURN(std::optional<std::string> found, FindAppConfiguration(ctx, a));
    if (!found) return InternalError("the app configuration was created but Graph returned no id");
    id = *found;
  }
  ctx.created.Set(a.key, id);
  return OkStatus();
}

Status UpdateAppConfiguration(const Action& a, ItemContext& ctx, Tally& tally) {
  // Read-modify-write: the policy may carry keys that are not certdeploy's; they stay.
  Result<nlohmann::json> existing = ctx.intune.GetMobileAppConfiguration(a.profile_id);
  if (!existing.ok()) {
    return existing.status().WithContext("reading app configuration " + a.profile_id);
  }
  ASSIGN_OR_RETURN(const nlohmann::json fields, AppConfigurationPatch(*existing, a));
  auto send = [&] { return ctx.intune.PatchMobileAppConfiguration(a.profile_id, fields); };
  auto applied = [&]() -> Result<bool> {
    ASSIGN_OR_RETURN(nlohmann::json now, ctx.intune.GetMobileAppConfiguration(a.profile_id));
    return SmimeSettingsMatch(SmimeSettingsOf(now), a.app_settings);
  };
  return Write(ctx.options.max_attempts, ctx.options.stop, send, applied, false, tally);
}

Status AssignAppConfiguration(const Action& a, ItemContext& ctx, Tally& tally, std::string& id) {
  id = a.profile_id;
  if (id.empty()) id = ctx.created.Get(a.key).value_or("");
  if (id.empty()) {
    return FailedPreconditionError("app configuration " + a.key +
                                   " was not created in this run, so it cannot be assigned");
  }
  std::vector<ObservedAssignment> want = a.assignments_after;
  std::sort(want.begin(), want.end());
  auto send = [&] {
    return ctx.intune.AssignMobileAppConfiguration(id, AppConfigurationAssignmentBodies(a));
  };
  auto applied = [&]() -> Result<bool> {
    ASSIGN_OR_RETURN(std::vector<nlohmann::json> now,
                     ctx.intune.ListMobileAppConfigurationAssignments(id));
    return ObservedAssignmentsFromJson(now) == want;
  };
  return Write(ctx.options.max_attempts, ctx.options.stop, send, applied, false, tally);
}

}  // namespace certdeploy::deploy::internal
