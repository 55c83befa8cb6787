// sandbox/internal/core.h: what the resource handlers share, and the handlers themselves.
//
// TenantCore owns the directory, the connector, the state and its journal. Handlers validate a
// request without the lock (including the connector's RSA and PKCS#12 work), then take `mu` to
// check for conflicts and Commit the change: journal first, then memory, so what a client was
// told is always what a restarted sandbox replays.

#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <variant>

#include "base/clock.h"
#include "base/strings.h"
#include "base/random.h"
#include "sandbox/internal/connector.h"
#include "sandbox/internal/directory.h"
#include "sandbox/internal/journal.h"
#include "sandbox/internal/odata.h"
#include "sandbox/internal/state.h"
#include "sandbox/internal/wire.h"

namespace certdeploy::sandbox::internal {

class TenantCore {
 public:
  // `outlook_apps`: the state starts (and every reset restarts) with the Outlook mobileApps.
  TenantCore(Clock& clock, Random& random, int page_size, std::unique_ptr<Directory> directory,
             std::unique_ptr<Connector> connector, std::unique_ptr<Journal> journal,
             bool outlook_apps)
      : clock(clock),
        random(random),
        page_size(page_size),
        state(outlook_apps),
        directory_(std::move(directory)),
        connector_(std::move(connector)),
        journal_(std::move(journal)) {}

  Clock& clock;
  Random& random;
  const int page_size;
  const Directory& directory() const { return *directory_; }
  const Connector& connector() const { return *connector_; }

  std::mutex mu;
  TenantState state;  // Guarded by mu.

  // Journals `entry` (if a journal is configured) and applies it. Requires mu held.
  Status Commit(json entry);

 private:
  std::unique_ptr<Directory> directory_;
  std::unique_ptr<Connector> connector_;
  std::unique_ptr<Journal> journal_;
};

// The request body as a JSON object, or a refusal: 415 without a JSON Content-Type, 400 for a
// body that is not a JSON object.
std::variant<json, Refusal> ParseJsonBody(const Operation& op, std::string_view resource);
// 500 for a failed commit (the journal could not be written).
Reply CommitFailed(const RequestContext& ctx, const Status& status);
// 405 for a method the route does not support.
Reply MethodNotAllowed(const Operation& op);
// 400 "Resource not found for the segment '<segment>'." (what Graph says for unknown paths).
Reply UnknownSegment(const Operation& op, const std::string& segment);
// The path after a collection segment (op.segments[1], "name" or "name('key')"): the entity
// key, from the parentheses or the next segment, and the segments after it. False when the
// collection segment is malformed.
struct EntityPath {
  std::optional<std::string> id;
  std::vector<std::string> rest;
};
bool ParseEntityPath(const Operation& op, EntityPath* out);
// A collection's paging key for a creation sequence number: zero-padded, so keys sort as numbers.
std::string SeqKey(uint64_t seq);

// --- Resource handlers (op.segments start at the resource) -----------------------------------

// /users, /users/{upn-or-id}.
Reply HandleUsers(const Operation& op, TenantCore& core);
// /groups, /groups/{id} (groups.cc)
Reply HandleGroups(const Operation& op, TenantCore& core);
// /deviceManagement/deviceConfigurations[...]
Reply HandleDeviceConfigurations(const Operation& op, TenantCore& core);
// /deviceManagement/userPfxCertificates[...]
Reply HandleUserPfxCertificates(const Operation& op, TenantCore& core);
// /deviceAppManagement/mobileApps[...] (mobile_apps.cc)
Reply HandleMobileApps(const Operation& op, TenantCore& core);
// /deviceAppManagement/mobileAppConfigurations[...] (app_configurations.cc)
Reply HandleMobileAppConfigurations(const Operation& op, TenantCore& core);

// GET of a collection a deviceConfiguration holds, `record.*member` (its assignments or its device
// reports), addressed as ".../deviceConfigurations/{id}/<segment>": paged ($top, $skiptoken,
// $select; other $-options 400), 404 for an unknown profile. (device_configurations.cc)
Reply ListProfileMembers(const Operation& op, TenantCore& core, const std::string& id,
                         json ConfigRecord::*member, const std::string& segment);
// .../deviceConfigurations/{config_id}/deviceStatuses[/{statusId}] (device_statuses.cc); `rest`
// starts at "deviceStatuses". GET only; 404 for an unknown profile.
Reply HandleDeviceStatuses(const Operation& op, TenantCore& core, const std::string& config_id,
                           const std::vector<std::string>& rest);
// POST /_sandbox/deviceStatuses (device_statuses.cc): a device reports `status` for a profile
// and a user. Body {"configurationId", "userPrincipalName", "deviceDisplayName", "status"
// (a complianceStatus member), optional "lastReportedDateTime" (default now), "deviceModel",
// "platform" (Int32), "userName"}. 201 + the entry as Graph lists it; 400 for a bad body or an
// unknown user, 404 for an unknown profile. A second report of the same user and device in the
// same profile replaces the first (same id).
Reply SeedDeviceStatus(const std::string& body, const RequestContext& ctx, TenantCore& core);

// Graph representations (secrets masked), shared with /_sandbox/state. `beta` selects the
// /beta property set (a superset of v1.0's).
json RenderConfig(const ConfigRecord& record, bool with_assignments);
json RenderPfx(const PfxRecord& record);
json RenderMobileApp(const ConfigRecord& record, bool beta);
json RenderAppConfiguration(const ConfigRecord& record, bool beta, bool with_assignments);

}  // namespace certdeploy::sandbox::internal
