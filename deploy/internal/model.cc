#include "deploy/model.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "base/strings.h"
#include "base/time_format.h"
#include "pkcs/digest.h"

namespace certdeploy::deploy {

// Every type below is a Graph beta deviceConfiguration subtype; docs/graph-types.md lists each
// with its Microsoft Graph reference page. Android Enterprise work profile is the one platform
// whose two types differ in prefix: the trusted root is androidWorkProfileTrustedRootCertificate,
// the imported PFX is androidForWorkImportedPFXCertificateProfile (Graph has no
// androidWorkProfileImportedPFXCertificateProfile).
std::string TrustedRootType(config::Platform platform) {
  switch (platform) {
    case config::Platform::kIos: return "#microsoft.graph.iosTrustedRootCertificate";
    case config::Platform::kMacOs: return "#microsoft.graph.macOSTrustedRootCertificate";
    case config::Platform::kAndroidWorkProfile:
      return "#microsoft.graph.androidWorkProfileTrustedRootCertificate";
    case config::Platform::kAndroidDeviceOwner:
      return "#microsoft.graph.androidDeviceOwnerTrustedRootCertificate";
    case config::Platform::kWindows: return "#microsoft.graph.windows81TrustedRootCertificate";
  }
  return "";
}

std::string ImportedPfxType(config::Platform platform) {
  switch (platform) {
    case config::Platform::kIos: return "#microsoft.graph.iosImportedPFXCertificateProfile";
    case config::Platform::kMacOs: return "#microsoft.graph.macOSImportedPFXCertificateProfile";
    case config::Platform::kAndroidWorkProfile:
      return "#microsoft.graph.androidForWorkImportedPFXCertificateProfile";
    case config::Platform::kAndroidDeviceOwner:
      return "#microsoft.graph.androidDeviceOwnerImportedPFXCertificateProfile";
    case config::Platform::kWindows: return "#microsoft.graph.windows10ImportedPFXCertificateProfile";
  }
  return "";
}

std::optional<config::Platform> ImportedPfxPlatform(std::string_view odata_type) {
  for (config::Platform p : {config::Platform::kIos, config::Platform::kMacOs,
                             config::Platform::kAndroidWorkProfile,
                             config::Platform::kAndroidDeviceOwner, config::Platform::kWindows}) {
    if (odata_type == ImportedPfxType(p)) return p;
  }
  return std::nullopt;
}

std::optional<pkcs::Finding> AddressFinding(std::string_view upn,
                                            const std::vector<std::string>& emails,
                                            const ObservedUser* user) {
  if (user != nullptr && !user->found) {
    return pkcs::Finding{"user-not-found", pkcs::Severity::kError,
                         "Entra ID has no user '" + std::string(upn) +
                             "'; Intune imports certificates for existing users only"};
  }
  // Outlook for iOS and Android picks the S/MIME certificate by comparing the primary SMTP
  // address of the account with the certificate's addresses ("S/MIME for Outlook for iOS and
  // Android in Exchange Online", learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/
  // outlook-for-ios-and-android/smime-outlook-for-ios-and-android). The primary address is the
  // "SMTP:" proxy address, else Entra `mail`; the UPN only stands in when the directory was not
  // asked.
  const bool directory = user != nullptr && !user->primary_smtp.empty();
  const std::string want = directory ? user->primary_smtp : std::string(upn);
  for (const std::string& e : emails) {
    if (EqualsIgnoreCaseAscii(e, want)) return std::nullopt;
  }
  std::string carried;
  for (const std::string& e : emails) carried += (carried.empty() ? "" : ", ") + e;
  if (carried.empty()) carried = "no address";
  if (!directory) {
    return pkcs::Finding{"email-mismatch", pkcs::Severity::kError,
                         "the certificate carries " + carried + ", not the UPN '" +
                             std::string(upn) +
                             "'; Outlook picks the certificate by the account's address"};
  }
  return pkcs::Finding{"email-not-primary-smtp", pkcs::Severity::kError,
                       "Outlook looks for the mailbox's primary SMTP address '" + want +
                           "', and the certificate carries " + carried + "; issue it for '" +
                           want + "'"};
}

std::vector<ObservedAssignment> DesiredAssignments(const config::AssignTo& assign_to) {
  std::vector<ObservedAssignment> out;
  // Graph returns group ids in lower case; compare them that way.
  for (const std::string& g : assign_to.groups) {
    out.push_back({"#microsoft.graph.groupAssignmentTarget", AsciiToLower(g)});
  }
  for (const std::string& g : assign_to.exclude_groups) {
    out.push_back({"#microsoft.graph.exclusionGroupAssignmentTarget", AsciiToLower(g)});
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string DigestObservedState(const ObservedState& observed) {
  std::vector<std::string> lines;
  lines.reserve(observed.profiles.size() + observed.pfx.size());
  for (const ObservedProfile& p : observed.profiles) {
    std::vector<ObservedAssignment> a = p.assignments;
    std::sort(a.begin(), a.end());
    std::ostringstream line;
    line << "profile|" << p.id << "|" << p.odata_type << "|" << p.cert_sha1 << "|"
         << (p.purpose ? pkcs::PurposeName(*p.purpose) : "") << "|"
         << (p.outlook_silent_access ? (*p.outlook_silent_access ? "silent" : "ask") : "");
    for (const ObservedAssignment& x : a) line << "|" << x.target_type << ":" << x.group_id;
    if (!p.assignments_owner.empty()) line << "|owner:" << p.assignments_owner;
    lines.push_back(line.str());
  }
  for (const ObservedUserPfx& r : observed.pfx) {
    std::ostringstream line;
    line << "pfx|" << r.id << "|" << r.thumbprint << "|" << pkcs::PurposeName(r.purpose) << "|"
         << FormatRfc3339Utc(r.not_after) << "|" << r.provider_name << "|" << r.key_name << "|"
         << r.padding_scheme;
    lines.push_back(line.str());
  }
  for (const auto& [upn, user] : observed.users) {
    lines.push_back("user|" + upn + "|" + (user.found ? "1" : "0") + "|" + user.primary_smtp);
  }
  if (observed.apps_read) lines.push_back("apps-read");
  for (const auto& [platform, id] : observed.outlook_apps) {
    lines.push_back("outlook|" + std::string(config::OutlookPlatformName(platform)) + "|" + id);
  }
  for (const ObservedAppConfiguration& c : observed.app_configurations) {
    std::vector<ObservedAssignment> a = c.assignments;
    std::sort(a.begin(), a.end());
    std::ostringstream line;
    line << "appconfig|" << c.id << "|" << c.odata_type << "|" << c.made_by_certdeploy;
    for (const auto& [key, value] : c.smime) line << "|" << key << "=" << value;
    for (const ObservedAssignment& x : a) line << "|" << x.target_type << ":" << x.group_id;
    lines.push_back(line.str());
  }
  std::sort(lines.begin(), lines.end());
  std::string all;
  for (const std::string& l : lines) all += l + "\n";
  return pkcs::Sha256Hex(all);
}

}  // namespace certdeploy::deploy
