// The tenant's userPfxCertificates as inventory rows.

#include "deploy/inventory.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "base/status_macros.h"
#include "base/strings.h"
#include "base/time_format.h"

namespace certdeploy::deploy {

std::string_view CertificateStatusName(CertificateStatus status) {
  switch (status) {
    case CertificateStatus::kValid: return "valid";
    case CertificateStatus::kExpiring: return "expiring";
    case CertificateStatus::kExpired: return "expired";
  }
  return "valid";
}

std::vector<InventoryRow> BuildInventory(const std::vector<graph::UserPfxCertificate>& records,
                                         const InventoryOptions& options) {
  const auto soon = options.now + std::chrono::hours(24) * options.expiring_days;
  // The newest certificate (latest expiration) per user and purpose.
  std::map<std::pair<std::string, std::string>, const graph::UserPfxCertificate*> newest;
  for (const graph::UserPfxCertificate& r : records) {
    auto key = std::make_pair(AsciiToLower(r.user_principal_name),
                              std::string(graph::ToString(r.intended_purpose)));
    auto [it, inserted] = newest.emplace(key, &r);
    if (!inserted && it->second->expiration_date_time < r.expiration_date_time) it->second = &r;
  }
  std::vector<InventoryRow> rows;
  for (const graph::UserPfxCertificate& r : records) {
    if (options.expiring_within &&
        r.expiration_date_time >
            options.now + std::chrono::hours(24) * *options.expiring_within) {
      continue;
    }
    InventoryRow row;
    row.id = r.id;
    row.user_principal_name = r.user_principal_name;
    row.thumbprint = AsciiToLower(r.thumbprint);
    row.intended_purpose = std::string(graph::ToString(r.intended_purpose));
    row.start = r.start_date_time;
    row.expiration = r.expiration_date_time;
    row.status = r.expiration_date_time <= options.now ? CertificateStatus::kExpired
                 : r.expiration_date_time <= soon      ? CertificateStatus::kExpiring
                                                       : CertificateStatus::kValid;
    const graph::UserPfxCertificate* latest =
        newest[{AsciiToLower(r.user_principal_name), row.intended_purpose}];
    if (latest != &r && latest->expiration_date_time > r.expiration_date_time) {
      row.superseded_by = AsciiToLower(latest->thumbprint);
    }
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const InventoryRow& a, const InventoryRow& b) {
    const std::string ua = AsciiToLower(a.user_principal_name);
    const std::string ub = AsciiToLower(b.user_principal_name);
    if (ua != ub) return ua < ub;
    if (a.intended_purpose != b.intended_purpose) return a.intended_purpose < b.intended_purpose;
    if (a.expiration != b.expiration) return a.expiration < b.expiration;
    return a.thumbprint < b.thumbprint;
  });
  return rows;
}

Result<std::vector<InventoryRow>> ReadInventory(graph::IntuneApi& intune,
                                                const InventoryOptions& options) {
  std::vector<graph::UserPfxCertificate> records;
  if (options.upn) {
    ASSIGN_OR_RETURN(records, intune.ListUserPfxCertificatesForUser(*options.upn));
  } else {
    ASSIGN_OR_RETURN(records, intune.ListUserPfxCertificates());
  }
  return BuildInventory(records, options);
}

nlohmann::json InventoryRowJson(const InventoryRow& row) {
  return {{"userPrincipalName", row.user_principal_name},
          {"thumbprint", row.thumbprint},
          {"intendedPurpose", row.intended_purpose},
          {"startDateTime", FormatRfc3339Utc(row.start)},
          {"expirationDateTime", FormatRfc3339Utc(row.expiration)},
          {"status", CertificateStatusName(row.status)},
          {"supersededBy",
           row.superseded_by.empty() ? nlohmann::json(nullptr) : nlohmann::json(row.superseded_by)},
          {"id", row.id}};
}

std::string RenderInventoryText(const std::vector<InventoryRow>& rows,
                                const InventoryOptions& options) {
  std::ostringstream out;
  int expiring = 0, expired = 0;
  for (const InventoryRow& r : rows) {
    expiring += r.status == CertificateStatus::kExpiring;
    expired += r.status == CertificateStatus::kExpired;
    out << r.user_principal_name << "  " << r.thumbprint << "  " << r.intended_purpose
        << "  expires " << FormatRfc3339Utc(r.expiration) << "  " << CertificateStatusName(r.status);
    if (!r.superseded_by.empty()) out << "  superseded by " << r.superseded_by;
    out << "\n";
  }
  out << rows.size() << (rows.size() == 1 ? " certificate, " : " certificates, ") << expiring
      << " expiring within " << options.expiring_days << " days, " << expired << " expired.\n";
  return out.str();
}

std::string RenderInventoryCsv(const std::vector<InventoryRow>& rows) {
  std::ostringstream out;
  out << "userPrincipalName,thumbprint,intendedPurpose,startDateTime,expirationDateTime,status,"
         "supersededBy\r\n";
  for (const InventoryRow& r : rows) {
    out << CsvField(r.user_principal_name) << "," << r.thumbprint << "," << r.intended_purpose
        << "," << FormatRfc3339Utc(r.start) << "," << FormatRfc3339Utc(r.expiration) << ","
        << CertificateStatusName(r.status) << "," << r.superseded_by << "\r\n";
  }
  return out.str();
}

}  // namespace certdeploy::deploy
