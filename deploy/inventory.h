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
};

struct InventoryOptions {
  std::optional<std::string> upn;  // Only this user's records ($filter on the UPN).
  SystemTime now{};
  int expiring_days = 30;  // A record expiring within this many days is `expiring`.
  // Only records expiring within this many days, expired ones included; nullopt: all.
  std::optional<int> expiring_within;
};

// Rows from records, sorted by user (ignoring case), intended purpose, then expiration.
std::vector<InventoryRow> BuildInventory(const std::vector<graph::UserPfxCertificate>& records,
                                         const InventoryOptions& options);

// Lists the tenant's userPfxCertificates (all pages; those of options.upn only when set) and
// builds the rows. Errors: as IntuneApi.
Result<std::vector<InventoryRow>> ReadInventory(graph::IntuneApi& intune,
                                                const InventoryOptions& options);

// One JSON object per row: userPrincipalName, thumbprint, intendedPurpose, startDateTime,
// expirationDateTime (RFC 3339 UTC), status, supersededBy (null when none), id.
nlohmann::json InventoryRowJson(const InventoryRow& row);

// A line per row, then "412 certificates, 37 expiring within 30 days, 5 expired."
std::string RenderInventoryText(const std::vector<InventoryRow>& rows,
                                const InventoryOptions& options);
// RFC 4180 CSV with the header
// userPrincipalName,thumbprint,intendedPurpose,startDateTime,expirationDateTime,status,supersededBy
std::string RenderInventoryCsv(const std::vector<InventoryRow>& rows);

}  // namespace certdeploy::deploy
