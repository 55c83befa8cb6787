// deploy/model.h: what certdeploy wants the tenant to hold (DesiredState), what it holds
// (ObservedState), and the Graph type names that connect them.
//
// Desired state is derived from the config and the manifest's valid rows; observed state is read
// from Graph. Objects are recognised by content, never by display name: a trusted profile by its
// @odata.type and the SHA-1 of the certificate it carries, an imported-PFX profile by its
// @odata.type and intendedPurpose, a user PFX record by user and thumbprint.

#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "config/config.h"
#include "pkcs/certificate.h"
#include "pkcs/chain.h"
#include "pkcs/validate.h"

namespace certdeploy::deploy {

// Outlook's identifiers in the stores: the Android package (Google Play) and the iOS bundle id
// (App Store), as Intune's app configuration and certificate access settings name them.
inline constexpr char kOutlookAndroidPackage[] = "com.microsoft.office.outlook";
inline constexpr char kOutlookIosBundleId[] = "com.microsoft.Office.Outlook";

// Outlook's S/MIME settings for managed devices, as Outlook's app configuration keys name them
// (case-sensitive, all booleans): "Deploying Outlook for iOS and Android app configuration
// settings", section S/MIME settings,
// https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/outlook-for-ios-and-android/outlook-for-ios-and-android-configuration-with-microsoft-intune
inline constexpr char kOutlookSmimeEnabledKey[] = "com.microsoft.outlook.Mail.SMIMEEnabled";
// Every key certdeploy manages starts with this (SMIMEEnabled and its sub-keys).
inline constexpr char kOutlookSmimeKeyPrefix[] = "com.microsoft.outlook.Mail.SMIMEEnabled";

// App configuration settings: key -> boolean value, in the order the documentation lists them.
using AppSettings = std::vector<std::pair<std::string, bool>>;
// The six documented S/MIME keys with the values of `outlook`.
AppSettings OutlookSmimeSettings(const config::OutlookConfig& outlook);

// "#microsoft.graph.iosMobileAppConfiguration" (v1.0 and beta) or
// "#microsoft.graph.androidManagedStoreAppConfiguration" (beta only):
// https://learn.microsoft.com/graph/api/resources/intune-apps-iosmobileappconfiguration
// https://learn.microsoft.com/graph/api/resources/intune-apps-androidmanagedstoreappconfiguration?view=graph-rest-beta
std::string AppConfigurationType(config::OutlookPlatform platform);
// Outlook's identifier on the platform: the iOS bundle id or the Android package.
std::string_view OutlookAppIdentifier(config::OutlookPlatform platform);
// Whether `odata_type` is one of the two above (it is assigned through the
// mobileAppConfigurations endpoints, not deviceConfigurations).
bool IsAppConfigurationType(std::string_view odata_type);
// Whether `have` (key -> value text, as observed) sets every key of `want` to its value
// ("true"/"false", compared ignoring case). Keys `want` does not name are not compared.
bool SmimeSettingsMatch(const std::map<std::string, std::string>& have, const AppSettings& want);

// "#microsoft.graph.iosTrustedRootCertificate", "#microsoft.graph.windows81TrustedRootCertificate".
std::string TrustedRootType(config::Platform platform);
// "#microsoft.graph.iosImportedPFXCertificateProfile", ...
std::string ImportedPfxType(config::Platform platform);
// The platform whose ImportedPfxType is `odata_type`; nullopt for any other type.
std::optional<config::Platform> ImportedPfxPlatform(std::string_view odata_type);

struct DesiredTrustedProfile {
  config::Platform platform = config::Platform::kIos;
  pkcs::Certificate cert;
  pkcs::ChainRole role = pkcs::ChainRole::kIntermediate;
  std::string display_name;  // "<prefix> <CA common name> [<sha1 start>] (<platform>)"
};

struct DesiredImportedProfile {
  config::Platform platform = config::Platform::kIos;
  pkcs::Purpose purpose = pkcs::Purpose::kSmimeEncryption;
  std::string display_name;  // "<prefix> imported PFX <purpose> (<platform>)"
};

// The Outlook app configuration policy of one platform (config `outlook:`).
struct DesiredAppConfiguration {
  config::OutlookPlatform platform = config::OutlookPlatform::kIos;
  std::string display_name;  // "<prefix> Outlook S/MIME (<platform>)"
  AppSettings settings;      // OutlookSmimeSettings.
};

struct DesiredUserPfx {
  int line = 0;              // Manifest line.
  std::string upn;
  std::string pfx_file;
  std::string pfx_sha256;    // Of the file bytes: apply refuses a changed file.
  std::string thumbprint;    // Lowercase SHA-1 of the user certificate.
  SystemTime not_before;
  SystemTime not_after;
  pkcs::Purpose purpose = pkcs::Purpose::kSmimeEncryption;
  std::vector<pkcs::Finding> warnings;  // e.g. expires-soon.
  // The certificate's addresses when the row check left the address check to the planner (which
  // compares them with the mailbox's primary SMTP address); nullopt when it was done already.
  std::optional<std::vector<std::string>> emails;
};

struct InvalidRow {
  int line = 0;
  std::string upn;
  std::string pfx_file;
  std::vector<pkcs::Finding> findings;  // At least one error.
};

// The connector key every record should be sealed to (config.connector). Empty fields are not
// compared (a DesiredState built without a config).
struct DesiredSeal {
  std::string provider_name;
  std::string key_name;
  std::string padding_scheme;  // "oaepSha512", ...
};

struct DesiredState {
  std::vector<DesiredTrustedProfile> trusted;    // One per CA certificate per platform.
  std::vector<DesiredImportedProfile> imported;  // One per purpose per platform (if enabled).
  std::vector<DesiredUserPfx> pfx;
  std::vector<InvalidRow> invalid;
  std::vector<DesiredAppConfiguration> outlook;  // One per Outlook platform (if configured).
  DesiredSeal seal;            // Records sealed otherwise are re-sealed (updateUserPfx).
  config::AssignTo assign_to;  // Applied to every profile above; empty groups: leave as is.
  // profiles.takeOverAssignments / --take-over-assignments: rewrite the assignments of profiles
  // whose owner mark names another profiles section (and claim them).
  bool take_over_assignments = false;
  bool prune_expired = false;             // Superseded expired records, encryption ones aside.
  bool prune_expired_encryption = false;  // ... and encryption ones too (breaks old mail).
};

struct ObservedAssignment {
  std::string target_type;  // "#microsoft.graph.groupAssignmentTarget", exclusion..., allDevices...
  std::string group_id;     // "" for targets without a group.

  bool operator==(const ObservedAssignment&) const = default;
  bool operator<(const ObservedAssignment& o) const {
    return target_type != o.target_type ? target_type < o.target_type : group_id < o.group_id;
  }
};

struct ObservedProfile {
  std::string id;
  std::string odata_type;
  std::string display_name;
  std::string cert_sha1;                 // Trusted profiles: SHA-1 of the DER they carry.
  std::optional<pkcs::Purpose> purpose;  // Imported-PFX profiles.
  std::vector<ObservedAssignment> assignments;
  // Fully managed Android imported-PFX profiles: whether Outlook has silent access to the
  // certificate (certificateAccessType specificApps, Outlook's package among
  // silentCertificateAccessDetails). nullopt for the other types.
  std::optional<bool> outlook_silent_access;
  // The owner mark in its description (AssignmentsOwnerDigest of the set the writing config
  // wanted); "" when it carries none (made by hand or by an older certdeploy).
  std::string assignments_owner;
};

struct ObservedUserPfx {
  std::string id;
  std::string upn;
  std::string thumbprint;
  pkcs::Purpose purpose = pkcs::Purpose::kUnassigned;
  SystemTime not_before;
  SystemTime not_after;
  // The connector key the record is sealed to.
  std::string provider_name;
  std::string key_name;
  std::string padding_scheme;  // camelCase ("oaepSha512").
};

// An app configuration policy for Outlook that sets S/MIME: it targets an Outlook app of the
// tenant and sets at least one key starting with kOutlookSmimeKeyPrefix. Other policies (other
// apps, or Outlook settings without S/MIME) are not certdeploy's and are not read.
struct ObservedAppConfiguration {
  std::string id;
  std::string odata_type;
  std::string display_name;
  config::OutlookPlatform platform = config::OutlookPlatform::kIos;
  // The S/MIME keys it sets and their values as given ("true", "false"...).
  std::map<std::string, std::string> smime;
  std::vector<ObservedAssignment> assignments;
  // Its description carries certdeploy's mark: certdeploy made it, and owns its assignments.
  bool made_by_certdeploy = false;
};

// A manifest user as the directory knows it.
struct ObservedUser {
  bool found = false;        // False: Entra has no such user.
  std::string primary_smtp;  // The address Outlook looks for; "" when the user has no mailbox.
};

struct ObservedState {
  std::vector<ObservedProfile> profiles;  // Only the certificate profile types certdeploy knows.
  std::vector<ObservedUserPfx> pfx;
  // By lower-cased UPN; users not read are absent (their addresses are not checked).
  std::map<std::string, ObservedUser> users;
  // Read only when Outlook is configured (ObserveOptions::outlook).
  bool apps_read = false;
  std::map<config::OutlookPlatform, std::string> outlook_apps;  // Outlook's mobileApp id.
  std::vector<ObservedAppConfiguration> app_configurations;     // By id.
};

// The policy certdeploy manages for `odata_type` among observed.app_configurations: the first (by
// id) that certdeploy made, else the first; null when there is none.
const ObservedAppConfiguration* ManagedAppConfiguration(const ObservedState& observed,
                                                        std::string_view odata_type);

// Why a certificate carrying `emails` cannot work in Outlook for user `upn`, if it does:
// "user-not-found" when the directory has no such user; "email-not-primary-smtp" when it does not
// carry the mailbox's primary SMTP address (compared ignoring case), which is what Outlook
// matches the certificate by; "email-mismatch" when `user` is null (the directory was not read)
// or has no mailbox address, and the certificate does not carry the UPN. nullopt: it is fine.
std::optional<pkcs::Finding> AddressFinding(std::string_view upn,
                                            const std::vector<std::string>& emails,
                                            const ObservedUser* user);

// The assignment set certdeploy wants on each profile, sorted.
std::vector<ObservedAssignment> DesiredAssignments(const config::AssignTo& assign_to);

// Ownership of assignment sets. The trusted-root and imported-PFX profiles certdeploy writes
// carry, in their description, the digest of the assignment set the writing config's `profiles`
// section asks for (assignTo.groups and assignTo.excludeGroups, canonical): the "owner mark".
// A run whose own digest differs does not rewrite those assignments unless told to take over.
//
// The first 12 hex digits of the SHA-256 of `wanted` (DesiredAssignments order); "" for an
// empty set (a config that leaves assignments alone claims nothing).
std::string AssignmentsOwnerDigest(const std::vector<ObservedAssignment>& wanted);
// " Assignments owner: <digest>." appended to a profile description; "" for an empty digest.
std::string AssignmentsOwnerMark(std::string_view digest);
// The digest of the owner mark in `description`; "" when it has none.
std::string ParseAssignmentsOwner(std::string_view description);
// `description` with its owner mark (if any) replaced by AssignmentsOwnerMark(digest); the rest
// of the text is kept.
std::string WithAssignmentsOwner(std::string_view description, std::string_view digest);
// The finding code of an assignment set owned by another profiles section.
inline constexpr char kAssignmentsOwnedElsewhere[] = "assignments-owned-elsewhere";

// SHA-256 (lowercase hex) over a canonical, order-independent rendering of `observed`: two reads
// of an unchanged tenant give the same digest, any relevant change gives another.
std::string DigestObservedState(const ObservedState& observed);

}  // namespace certdeploy::deploy
