// Reading the observed tenant state through graph::IntuneApi (GET requests only).

#include "deploy/observe.h"

#include <algorithm>
#include <set>

#include "base/encoding.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "pkcs/certificate.h"
#include "pkcs/digest.h"

namespace certdeploy::deploy {
namespace {

constexpr config::Platform kPlatforms[] = {
    config::Platform::kIos, config::Platform::kMacOs, config::Platform::kAndroidWorkProfile,
    config::Platform::kAndroidDeviceOwner, config::Platform::kWindows};

bool IsTrustedType(const std::string& type) {
  for (config::Platform p : kPlatforms) {
    if (type == TrustedRootType(p)) return true;
  }
  return false;
}

std::string StringField(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The SHA-1 of the certificate a trusted profile carries: `base64` is the Edm.Binary
// trustedRootCertificate, which holds the bytes of the file the profile was made from. certdeploy
// uploads DER; the Intune portal uploads a ".cer" as given, which is often PEM text. "" when the
// value is absent (null) or is neither.
std::string CarriedCertificateSha1(const std::string& base64) {
  std::optional<std::string> bytes = Base64Decode(base64, kLenientBase64);
  if (!bytes || bytes->empty()) return "";
  if (bytes->find("-----BEGIN CERTIFICATE-----") != std::string::npos) {
    Result<std::vector<pkcs::Certificate>> pem = pkcs::ParseCertificatesPem(*bytes);
    return pem.ok() && pem->size() == 1 ? pem->front().sha1 : "";
  }
  return pkcs::Sha1Hex(*bytes);
}

ObservedUserPfx FromRecord(const graph::UserPfxCertificate& r) {
  ObservedUserPfx out;
  out.id = r.id;
  out.upn = r.user_principal_name;
  out.thumbprint = AsciiToLower(r.thumbprint);
  // The two enums share their names ("smimeEncryption", ...).
  Result<pkcs::Purpose> purpose = pkcs::ParsePurpose(graph::ToString(r.intended_purpose));
  out.purpose = purpose.ok() ? *purpose : pkcs::Purpose::kUnassigned;
  out.not_before = r.start_date_time;
  out.not_after = r.expiration_date_time;
  out.provider_name = r.provider_name;
  out.key_name = r.key_name;
  out.padding_scheme = std::string(graph::ToString(r.padding_scheme));
  return out;
}

Result<std::vector<ObservedUserPfx>> ReadUserPfx(graph::IntuneApi& intune,
                                                 const std::set<std::string>& users,
                                                 const ObserveOptions& options) {
  std::vector<ObservedUserPfx> out;
  if (users.empty()) return out;
  if (static_cast<int>(users.size()) <= options.per_user_query_limit) {
    for (const std::string& upn : users) {
      Result<std::vector<graph::UserPfxCertificate>> records =
          intune.ListUserPfxCertificatesForUser(upn);
      if (!records.ok()) {
        return records.status().WithContext("reading the userPfxCertificates of " + upn);
      }
      for (const graph::UserPfxCertificate& r : *records) out.push_back(FromRecord(r));
    }
    return out;
  }
  Result<std::vector<graph::UserPfxCertificate>> all = intune.ListUserPfxCertificates();
  if (!all.ok()) return all.status().WithContext("listing userPfxCertificates");
  for (const graph::UserPfxCertificate& r : *all) {
    if (users.count(AsciiToLower(r.user_principal_name))) out.push_back(FromRecord(r));
  }
  return out;
}

}  // namespace

std::optional<ObservedProfile> ObservedProfileFromJson(const nlohmann::json& configuration) {
  if (!configuration.is_object()) return std::nullopt;
  const std::string type = StringField(configuration, "@odata.type");
  const bool trusted = IsTrustedType(type);
  const bool imported = ImportedPfxPlatform(type).has_value();
  if (!trusted && !imported) return std::nullopt;
  ObservedProfile profile;
  profile.id = StringField(configuration, "id");
  profile.odata_type = type;
  profile.display_name = StringField(configuration, "displayName");
  profile.assignments_owner = ParseAssignmentsOwner(StringField(configuration, "description"));
  if (trusted) {
    profile.cert_sha1 = CarriedCertificateSha1(StringField(configuration, "trustedRootCertificate"));
  } else {
    Result<pkcs::Purpose> purpose =
        pkcs::ParsePurpose(StringField(configuration, "intendedPurpose"));
    if (purpose.ok()) profile.purpose = *purpose;
    if (type == ImportedPfxType(config::Platform::kAndroidDeviceOwner)) {
      profile.outlook_silent_access = GrantsOutlookSilentAccess(configuration);
    }
  }
  return profile;
}

std::vector<ObservedAssignment> ObservedAssignmentsFromJson(
    const std::vector<nlohmann::json>& assignments) {
  std::vector<ObservedAssignment> out;
  for (const nlohmann::json& a : assignments) {
    if (!a.is_object() || !a.contains("target") || !a["target"].is_object()) continue;
    const nlohmann::json& target = a["target"];
    out.push_back(
        {StringField(target, "@odata.type"), AsciiToLower(StringField(target, "groupId"))});
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<ObservedProfile>> ListManagedProfiles(graph::IntuneApi& intune) {
  Result<std::vector<nlohmann::json>> configurations = intune.ListDeviceConfigurations();
  if (!configurations.ok()) {
    return configurations.status().WithContext("listing deviceConfigurations");
  }
  std::vector<ObservedProfile> profiles;
  for (const nlohmann::json& c : *configurations) {
    std::optional<ObservedProfile> profile = ObservedProfileFromJson(c);
    if (!profile) continue;
    if (profile->id.empty()) {
      return InternalError("a deviceConfiguration of type " + profile->odata_type +
                           " from Graph has no id");
    }
    // A list may leave the certificate out (or null); the single GET carries it.
    auto carried = c.find("trustedRootCertificate");
    if (IsTrustedType(profile->odata_type) && (carried == c.end() || carried->is_null())) {
      Result<nlohmann::json> full = intune.GetDeviceConfiguration(profile->id);
      if (!full.ok()) return full.status().WithContext("reading profile " + profile->id);
      std::optional<ObservedProfile> read = ObservedProfileFromJson(*full);
      if (read) profile->cert_sha1 = read->cert_sha1;
    }
    profiles.push_back(std::move(*profile));
  }
  std::sort(profiles.begin(), profiles.end(),
            [](const ObservedProfile& a, const ObservedProfile& b) { return a.id < b.id; });
  return profiles;
}

ObserveOptions ObserveOptionsFor(const config::Config& config) {
  ObserveOptions options;
  options.outlook = config.outlook.has_value();
  return options;
}

Result<ObservedState> ReadObservedState(graph::IntuneApi& intune,
                                        const std::vector<std::string>& manifest_upns,
                                        const ObserveOptions& options) {
  ObservedState observed;
  ASSIGN_OR_RETURN(observed.profiles, ListManagedProfiles(intune));
  for (ObservedProfile& profile : observed.profiles) {
    Result<std::vector<nlohmann::json>> assignments = intune.ListAssignments(profile.id);
    if (!assignments.ok()) {
      return assignments.status().WithContext("reading the assignments of profile " + profile.id);
    }
    profile.assignments = ObservedAssignmentsFromJson(*assignments);
  }

  std::set<std::string> users;
  for (const std::string& upn : manifest_upns) {
    if (!upn.empty()) users.insert(AsciiToLower(upn));
  }
  ASSIGN_OR_RETURN(observed.pfx, ReadUserPfx(intune, users, options));
  Result<std::map<std::string, graph::UserMailbox>> mailboxes = intune.GetUserMailboxes(
      std::vector<std::string>(users.begin(), users.end()), options.per_user_query_limit);
  if (!mailboxes.ok()) {
    return mailboxes.status().WithContext(
        "reading the users' mailbox addresses (the app needs User.Read.All)");
  }
  for (const auto& [upn, mailbox] : *mailboxes) {
    observed.users[upn] = {mailbox.found, mailbox.PrimarySmtp()};
  }
  std::sort(observed.pfx.begin(), observed.pfx.end(),
            [](const ObservedUserPfx& a, const ObservedUserPfx& b) { return a.id < b.id; });
  if (options.outlook) {
    RETURN_IF_ERROR(ReadOutlookAppConfigurations(intune, observed, /*with_assignments=*/true));
  }
  return observed;
}

}  // namespace certdeploy::deploy
