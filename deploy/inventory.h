// deploy/inventory.h: what the tenant holds, one row per userPfxCertificate, with expiry status.
//
// `certdeploy inventory` and the daemon's GET /v1/certificates show the same rows:
//
//   ASSIGN_OR_RETURN(std::vector<InventoryRow> rows,
//                    ReadInventory(intune, {.upn = "alice@contoso.com", .now = clock.Now()}));
//   std::cout << RenderInventoryText(rows, options);
//
// Reads only (GET requests). A record's status is `expired` once its expirationDateTime has
// passed, `expiring` within InventoryOptions::expiring_days of it, `valid` otherwise;
// `supersededBy` names the newest certificate of the same user and intended purpose when that one
// expires later.
//
// With InventoryOptions::devices (only together with a UPN), each row also lists what devices
// reported for the imported-PFX profile that delivers it: the deviceStatuses (beta) of every
// imported-PFX profile certdeploy manages whose intendedPurpose is the row's. That is the state of
// the PROFILE on the device, so every certificate of the user with that purpose shows the same
// devices. Whether Intune fills deviceStatuses for imported-PFX profiles is not documented (and
// the entity is marked deprecated from May 2026): an empty list means "nothing reported", never
// "not delivered". See docs/graph-types.md.

#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/result.h"
#include "graph/intune.h"

namespace certdeploy::deploy {

enum class CertificateStatus { kValid, kExpiring, kExpired };

// The error code (message prefix, kInvalidArgument) of a devices read without a UPN: reading every
// profile's report for a whole tenant is too costly, so it is refused.
inline constexpr std::string_view kDevicesRequireUpn = "devices-require-upn";

// One device's report for the imported-PFX profile that delivers a row's certificate.
struct DeviceDelivery {
  std::string device_display_name;
  std::string platform;  // The profile's platform (config::PlatformName: "ios", "macos", ...).
  std::string status;    // complianceStatus as Graph sent it ("compliant", "error", ...).
  std::optional<SystemTime> last_reported;  // nullopt when Graph gave none (or its "no date").
  bool operator==(const DeviceDelivery&) const = default;
};
std::string_view CertificateStatusName(CertificateStatus status);  // "valid" | "expiring" | ...

struct InventoryRow {
  std::string id;  // The record id.
  std::string user_principal_name;
  std::string thumbprint;  // Lowercase.
  std::string intended_purpose;  // "smimeEncryption", ...
  SystemTime start;
  SystemTime expiration;
  CertificateStatus status = CertificateStatus::kValid;
  std::string superseded_by;  // Thumbprint, or "".
  std::vector<DeviceDelivery> devices;  // InventoryOptions::devices only; sorted by device name.
};

struct InventoryOptions {
  std::optional<std::string> upn;  // Only this user's records ($filter on the UPN).
  SystemTime now{};
  int expiring_days = 30;  // A record expiring within this many days is `expiring`.
  // Only records expiring within this many days, expired ones included; nullopt: all.
  std::optional<int> expiring_within;
  // Also read the per-device reports (see the banner). REQUIRES `upn`, else ReadInventory fails
  // with kInvalidArgument "devices-require-upn: ...".
  bool devices = false;
};

// Rows from records, sorted by user (ignoring case), intended purpose, then expiration.
std::vector<InventoryRow> BuildInventory(const std::vector<graph::UserPfxCertificate>& records,
                                         const InventoryOptions& options);

// Lists the tenant's userPfxCertificates (all pages; those of options.upn only when set) and
// builds the rows. With options.devices, also lists the deviceConfigurations and the
// deviceStatuses of each matching imported-PFX profile (all pages, filtered to the user here).
// Errors: kInvalidArgument (kDevicesRequireUpn) for devices without a UPN; else as IntuneApi.
Result<std::vector<InventoryRow>> ReadInventory(graph::IntuneApi& intune,
                                                const InventoryOptions& options);

// One JSON object per row: userPrincipalName, thumbprint, intendedPurpose, startDateTime,
// expirationDateTime (RFC 3339 UTC), status, supersededBy (null when none), id; with
// `with_devices` also "devices": [{deviceDisplayName, platform, status, lastReportedDateTime
// (null when none)}].
nlohmann::json InventoryRowJson(const InventoryRow& row, bool with_devices = false);

// A line per row (with options.devices, followed by an indented line per device, or
// "    no device reported"), then "412 certificates, 37 expiring within 30 days, 5 expired."
std::string RenderInventoryText(const std::vector<InventoryRow>& rows,
                                const InventoryOptions& options);
// RFC 4180 CSV (never with devices: the CLI refuses csv with --devices) with the header
// userPrincipalName,thumbprint,intendedPurpose,startDateTime,expirationDateTime,status,supersededBy
std::string RenderInventoryCsv(const std::vector<InventoryRow>& rows);

}  // namespace certdeploy::deploy
