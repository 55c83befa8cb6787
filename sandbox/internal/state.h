// sandbox/internal/state.h: the tenant's objects and the mutations that change them.
//
// Every change is expressed as a journal entry (a JSON object with an "op") and applied through
// TenantState::Apply, both live and when replaying a journal at start, so a restarted sandbox is
// exactly the one that stopped. Entries:
//   {"op":"putConfig","config":{...}}         create or replace a deviceConfiguration
//   {"op":"deleteConfig","id":"..."}
//   {"op":"setAssignments","id":"...","assignments":[...]}
//   {"op":"putDeviceStatus","id":"...","status":{...}}   add or replace (by id) a device report
//   {"op":"putPfx","record":{...}}            create or replace a userPfxCertificate
//   {"op":"deletePfx","id":"..."}
//   {"op":"putApp","app":{...}}              create or replace a mobileApp
//   {"op":"deleteApp","id":"..."}
//   {"op":"putAppConfig","config":{...}}     create or replace a mobileAppConfiguration
//   {"op":"deleteAppConfig","id":"..."}
//   {"op":"setAppConfigAssignments","id":"...","assignments":[...]}
//   {"op":"reset"}                            empty again (seeded apps restored)
// No entry holds a secret: PFX records keep neither the blob nor the sealed password.
// Seeded objects (the Outlook apps) are part of the initial state, not journal entries: a
// restarted sandbox seeds them again and then replays the journal over them.
// Not thread-safe: the tenant guards it with its mutex.

#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "sandbox/internal/wire.h"

namespace certdeploy::sandbox::internal {

// A deviceConfiguration, and also the shape of a mobileApp and of a mobileAppConfiguration
// (for those, root_sha1 stays empty; a mobileApp's version and assignments are unused).
struct ConfigRecord {
  std::string id;    // GUID.
  std::string type;  // Without "#microsoft.graph.", e.g. "iosTrustedRootCertificate".
  uint64_t seq = 0;  // Creation order: the collection's order and paging key.
  SystemTime created;
  SystemTime modified;
  int version = 1;
  json props = json::object();  // Validated client-settable properties (no @odata.type/id).
  std::string root_sha1;        // Trusted roots: SHA-1 of the certificate (duplicate detection).
  json assignments = json::array();  // deviceConfigurationAssignment objects as returned.
  // deviceConfigurationDeviceStatus objects as returned (deviceConfigurations only), in report
  // order. Seeded through /_sandbox/deviceStatuses; kept across PATCHes of the profile.
  json device_statuses = json::array();
};

struct PfxRecord {
  std::string id;  // "{userIdWithoutHyphens}-{thumbprint}"
  std::string user_id;
  std::string upn;
  std::string thumbprint;
  std::string intended_purpose;
  std::string provider_name;
  std::string key_name;
  std::string padding_scheme;
  SystemTime start;
  SystemTime expiration;
  SystemTime created;
  SystemTime modified;
  // What the connector found in the PFX (public facts), checked again by a PATCH that changes
  // the dates without sending a new PFX.
  std::string cert_sha1;
  SystemTime cert_not_before;
  SystemTime cert_not_after;
};

json ConfigToJournal(const ConfigRecord& record);
json PfxToJournal(const PfxRecord& record);

// Ids of the seeded Outlook apps (SandboxOptions::outlook_apps).
inline constexpr char kOutlookIosAppId[] = "0071ee10-0105-4000-8000-000000000001";
inline constexpr char kOutlookAndroidAppId[] = "0071ee10-0ad0-4000-8000-000000000002";

class TenantState {
 public:
  // With `outlook_apps`, starts (and restarts on "reset") with the two Outlook mobileApps.
  explicit TenantState(bool outlook_apps = false);

  std::map<std::string, ConfigRecord> configs;      // deviceConfigurations by id.
  std::map<std::string, PfxRecord> pfx;             // By id (lower case).
  std::map<std::string, ConfigRecord> apps;         // mobileApps by id.
  std::map<std::string, ConfigRecord> app_configs;  // mobileAppConfigurations by id.
  uint64_t next_seq = 1;

  // Applies one entry. InvalidArgument if it is malformed (nothing changed then).
  Status Apply(const json& entry);

 private:
  // Empties the state and puts the seeded objects back.
  void Reset();

  const bool outlook_apps_;
};

}  // namespace certdeploy::sandbox::internal
