// The tenant's userPfxCertificates as inventory rows, optionally with the per-device reports of
// the imported-PFX profiles that deliver them.

#include "deploy/inventory.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "base/status_macros.h"
#include "base/strings.h"
#include "base/time_format.h"
#include "config/config.h"
#include "deploy/model.h"
#include "deploy/observe.h"

namespace certdeploy::deploy {
namespace {

DeviceDelivery FromReport(const graph::DeviceConfigurationDeviceStatus& s,
                          config::Platform platform) {
  DeviceDelivery d;
  d.device_display_name = s.device_display_name;
  d.platform = std::string(config::PlatformName(platform));
  d.status = s.status_text.empty() ? std::string(graph::ToString(s.status)) : s.status_text;
  // Graph writes DateTimeOffset.MinValue (0001-01-01) for "never"; nothing reports before 1970.
  if (s.last_reported_date_time && *s.last_reported_date_time > SystemTime{}) {
    d.last_reported = s.last_reported_date_time;
  }
  return d;
}

// Reads the deviceStatuses of `upn` in every managed imported-PFX profile whose purpose one of
// `rows` has, and attaches them to the rows of that purpose.
Status AttachDevices(graph::IntuneApi& intune, std::string_view upn,
                     std::vector<InventoryRow>& rows) {
  std::set<std::string> purposes;
  for (const InventoryRow& row : rows) purposes.insert(row.intended_purpose);
  if (purposes.empty()) return OkStatus();
  Result<std::vector<nlohmann::json>> configurations = intune.ListDeviceConfigurations();
  if (!configurations.ok()) {
    return configurations.status().WithContext("listing deviceConfigurations");
  }
  std::map<std::string, std::vector<DeviceDelivery>> by_purpose;
  for (const nlohmann::json& c : *configurations) {
    std::optional<ObservedProfile> profile = ObservedProfileFromJson(c);
    if (!profile || !profile->purpose || profile->id.empty()) continue;
    std::optional<config::Platform> platform = ImportedPfxPlatform(profile->odata_type);
    const std::string purpose(pkcs::PurposeName(*profile->purpose));
    if (!platform || !purposes.count(purpose)) continue;
    Result<std::vector<graph::DeviceConfigurationDeviceStatus>> reports =
        intune.ListDeviceStatusesForUser(profile->id, upn);
    if (!reports.ok()) {
      return reports.status().WithContext("reading the deviceStatuses of profile " + profile->id);
    }
    for (const auto& report : *reports) {
      by_purpose[purpose].push_back(FromReport(report, *platform));
    }
  }
  for (auto& [purpose, devices] : by_purpose) {
    std::sort(devices.begin(), devices.end(), [](const DeviceDelivery& a, const DeviceDelivery& b) {
      return std::tie(a.device_display_name, a.platform) <
             std::tie(b.device_display_name, b.platform);
    });
  }
  for (InventoryRow& row : rows) row.devices = by_purpose[row.intended_purpose];
  return OkStatus();
}

void RenderDevices(const std::vector<DeviceDelivery>& devices, std::ostream& out) {
  if (devices.empty()) out << "    no device reported\n";
  for (const DeviceDelivery& d : devices) {
    out << "    device " << d.device_display_name << "  " << d.platform << "  " << d.status
        << "  reported " << (d.last_reported ? FormatRfc3339Utc(*d.last_reported) : "never")
        << "\n";
  }
}

}  // namespace

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
  if (options.devices && !options.upn) {
    return InvalidArgumentError(std::string(kDevicesRequireUpn) +
                                ": the per-device report is read for one user only; give a UPN");
  }
  std::vector<graph::UserPfxCertificate> records;
  if (options.upn) {
    ASSIGN_OR_RETURN(records, intune.ListUserPfxCertificatesForUser(*options.upn));
  } else {
    ASSIGN_OR_RETURN(records, intune.ListUserPfxCertificates());
  }
  std::vector<InventoryRow> rows = BuildInventory(records, options);
  if (options.devices) RETURN_IF_ERROR(AttachDevices(intune, *options.upn, rows));
  return rows;
}

nlohmann::json InventoryRowJson(const InventoryRow& row, bool with_devices) {
  nlohmann::json out = {{"userPrincipalName", row.user_principal_name},
          {"thumbprint", row.thumbprint},
          {"intendedPurpose", row.intended_purpose},
          {"startDateTime", FormatRfc3339Utc(row.start)},
          {"expirationDateTime", FormatRfc3339Utc(row.expiration)},
          {"status", CertificateStatusName(row.status)},
          {"supersededBy",
           row.superseded_by.empty() ? nlohmann::json(nullptr) : nlohmann::json(row.superseded_by)},
          {"id", row.id}};
  if (with_devices) {
    nlohmann::json devices = nlohmann::json::array();
    for (const DeviceDelivery& d : row.devices) {
      devices.push_back({{"deviceDisplayName", d.device_display_name},
                         {"platform", d.platform},
                         {"status", d.status},
                         {"lastReportedDateTime", d.last_reported
                                                      ? nlohmann::json(FormatRfc3339Utc(*d.last_reported))
                                                      : nlohmann::json(nullptr)}});
    }
    out["devices"] = std::move(devices);
  }
  return out;
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
    if (options.devices) RenderDevices(r.devices, out);
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
