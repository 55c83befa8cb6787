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
         << (p.purpose ? pkcs::PurposeName(*p.purpose) : "");
    for (const ObservedAssignment& x : a) line << "|" << x.target_type << ":" << x.group_id;
    lines.push_back(line.str());
  }
  for (const ObservedUserPfx& r : observed.pfx) {
    std::ostringstream line;
    line << "pfx|" << r.id << "|" << r.thumbprint << "|" << pkcs::PurposeName(r.purpose) << "|"
         << FormatRfc3339Utc(r.not_after) << "|" << r.provider_name << "|" << r.key_name << "|"
         << r.padding_scheme;
    lines.push_back(line.str());
  }
  std::sort(lines.begin(), lines.end());
  std::string all;
  for (const std::string& l : lines) all += l + "\n";
  return pkcs::Sha256Hex(all);
}

}  // namespace certdeploy::deploy
