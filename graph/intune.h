// graph/intune.h: typed Intune and user endpoints over GraphClient.
//
// The Intune objects certdeploy manages: users (looked up by UPN), device configuration profiles
// (trusted root and imported-PFX profiles, kept as JSON because their @odata.type varies) with
// their assignments, and userPfxCertificates (beta only). Paths are relative to the client's API
// root
// ("beta" by default); users are read from "/v1.0".
//
//   IntuneApi intune(*client);
//   ASSIGN_OR_RETURN(User user, intune.GetUser("o'neil@contoso.com"));
//   ASSIGN_OR_RETURN(auto records, intune.ListUserPfxCertificatesForUser(user.user_principal_name,
//                                                                         thumbprint));

#pragma once

#include <nlohmann/json.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "graph/graph_client.h"

namespace certdeploy::graph {

// ---- URL and OData helpers ----------------------------------------------------------------------

// An OData string literal: `s` in single quotes with every ' doubled. "o'neil" -> "'o''neil'".
std::string ODataStringLiteral(std::string_view s);

// Percent-encodes every byte except the RFC 3986 unreserved set (A-Z a-z 0-9 - . _ ~), for a query
// parameter value: "tolower(upn) eq 'a'" -> "tolower%28upn%29%20eq%20%27a%27".
std::string PercentEncodeQueryValue(std::string_view s);

// Percent-encodes one path segment: unreserved characters and '@' stay, everything else ('/', '?',
// '#', '%', '\'', spaces, non-ASCII bytes...) is encoded: "o'neil@contoso.com" ->
// "o%27neil@contoso.com".
std::string PercentEncodePathSegment(std::string_view s);

// ---- Records ------------------------------------------------------------------------------------

struct User {
  std::string id;
  std::string user_principal_name;
  std::string mail;  // Empty when the user has none.
  bool operator==(const User&) const = default;
};

// A directory group (https://learn.microsoft.com/graph/api/resources/group?view=graph-rest-1.0).
struct Group {
  std::string id;  // Object id (GUID).
  std::string display_name;
};

// What the directory says of a user's mailbox addresses
// (https://learn.microsoft.com/graph/api/resources/user?view=graph-rest-1.0: `mail` is the SMTP
// address; `proxyAddresses` lists "SMTP:" for the primary address and "smtp:" for aliases, and is
// returned only on $select).
struct UserMailbox {
  bool found = false;  // False: no such user (404).
  std::string id;
  std::string user_principal_name;
  std::string mail;                          // "" when the user has none.
  std::vector<std::string> proxy_addresses;  // As Graph returns them.

  // The primary SMTP address Outlook matches a certificate against: the "SMTP:" entry of
  // proxyAddresses, else `mail`; "" when the user has no mailbox address.
  std::string PrimarySmtp() const;
};

// userPfxIntendedPurpose; JSON values are the camelCase names ("smimeEncryption").
enum class UserPfxIntendedPurpose { kUnassigned, kSmimeEncryption, kSmimeSigning, kVpn, kWifi };
// userPfxPaddingScheme. Intune accepts only the oaepSha256/384/512 schemes for new records.
enum class UserPfxPaddingScheme { kNone, kPkcs1, kOaepSha1, kOaepSha256, kOaepSha384, kOaepSha512 };

std::string_view ToString(UserPfxIntendedPurpose purpose);
std::string_view ToString(UserPfxPaddingScheme scheme);
// camelCase names, compared ignoring case (the IntunePfxImport module sends "SmimeEncryption").
// Errors: kInvalidArgument.
Result<UserPfxIntendedPurpose> ParseUserPfxIntendedPurpose(std::string_view name);
Result<UserPfxPaddingScheme> ParseUserPfxPaddingScheme(std::string_view name);

// #microsoft.graph.userPFXCertificate. JSON names are the field names in camelCase.
struct UserPfxCertificate {
  std::string id;          // "{userIdWithoutHyphens}-{thumbprint}"; empty before creation.
  std::string thumbprint;  // SHA-1, 40 lowercase hex characters.
  UserPfxIntendedPurpose intended_purpose = UserPfxIntendedPurpose::kSmimeEncryption;
  std::string user_principal_name;
  SystemTime start_date_time{};       // Certificate NotBefore.
  SystemTime expiration_date_time{};  // Certificate NotAfter.
  std::string provider_name;          // KSP holding the connector's key.
  std::string key_name;               // Key name inside that provider.
  UserPfxPaddingScheme padding_scheme = UserPfxPaddingScheme::kOaepSha512;
  std::string encrypted_pfx_blob;      // Base64 of the .pfx bytes. GET returns "AA==".
  std::string encrypted_pfx_password;  // Base64 of the RSA-OAEP-wrapped password. GET returns "".
  std::optional<SystemTime> created_date_time;
  std::optional<SystemTime> last_modified_date_time;

  bool operator==(const UserPfxCertificate&) const = default;
};

// The JSON body for a create: "@odata.type" plus every field; "id" only when non-empty, the two
// server timestamps only when set. Dates are RFC 3339 UTC ("2026-01-01T00:00:00Z").
nlohmann::json ToJson(const UserPfxCertificate& record);
// Parses a record from Graph. Dates must carry an offset ("Z" or "+01:00", fractions allowed).
// Errors: kInternal naming the missing or malformed field.
Result<UserPfxCertificate> UserPfxCertificateFromJson(const nlohmann::json& json);

// ---- Reports: deviceConfigurationDeviceStatus (beta) ------------------------------------------
//
// Per-device state of one deviceConfiguration, read from
// GET /beta/deviceManagement/deviceConfigurations/{id}/deviceStatuses
// (https://learn.microsoft.com/graph/api/intune-deviceconfig-deviceconfigurationdevicestatus-list
// ?view=graph-rest-beta; resource:
// https://learn.microsoft.com/graph/api/resources/intune-deviceconfig-deviceconfigurationdevicestatus
// ?view=graph-rest-beta). The resource page says support for the entity "is being deprecated
// starting May 2026"; whether Intune fills it for imported-PFX profiles is not documented.

// complianceStatus (https://learn.microsoft.com/graph/api/resources/intune-shared-compliancestatus
// ?view=graph-rest-beta): the eight members the resource lists, plus kUnrecognized for a value
// the doc does not list (Graph may add members); its text is kept in status_text.
enum class ComplianceStatus {
  kUnknown,
  kNotApplicable,
  kCompliant,
  kRemediated,
  kNonCompliant,
  kError,
  kConflict,
  kNotAssigned,
  kUnrecognized,
};
// The camelCase member name ("nonCompliant"); "unrecognized" for kUnrecognized.
std::string_view ToString(ComplianceStatus status);
// Exact (case-sensitive) member names; anything else is kUnrecognized.
ComplianceStatus ParseComplianceStatus(std::string_view name);

// #microsoft.graph.deviceConfigurationDeviceStatus: every property the beta resource lists.
struct DeviceConfigurationDeviceStatus {
  std::string id;
  std::string device_display_name;
  std::string user_name;  // The user's display name as reported.
  std::string device_model;
  std::optional<int> platform;  // Int32; the doc gives no mapping of its values.
  std::optional<SystemTime> compliance_grace_period_expiration_date_time;
  ComplianceStatus status = ComplianceStatus::kUnknown;
  std::string status_text;  // As Graph sent it ("" when absent or null).
  std::optional<SystemTime> last_reported_date_time;
  std::string user_principal_name;

  bool operator==(const DeviceConfigurationDeviceStatus&) const = default;
};

// Parses one entry. "id" is required; the other properties may be absent or null. Errors:
// kInternal naming a missing id, a property of the wrong JSON type or a malformed date.
Result<DeviceConfigurationDeviceStatus> DeviceConfigurationDeviceStatusFromJson(
    const nlohmann::json& json);

// ---- Endpoints ----------------------------------------------------------------------------------

// Stateless wrapper: thread-safe as far as `client` is. `client` must outlive it.
class IntuneApi {
 public:
  explicit IntuneApi(GraphClient& client) : client_(client) {}

  // GET /v1.0/users/{upn}. Errors: kNotFound "no such user: <upn>" (details kept), others as
  // GraphClient.
  Result<User> GetUser(std::string_view upn);

  // The mailbox addresses of each of `upns` (keyed by lower-cased UPN; every UPN gets an entry,
  // found or not). Up to `per_user_limit` users are read one by one inside $batch requests
  // (GET /users/{upn}?$select=id,userPrincipalName,mail,proxyAddresses, 20 per request); more are
  // read by listing all users with the same $select (999 per page). Needs User.Read.All.
  Result<std::map<std::string, UserMailbox>> GetUserMailboxes(const std::vector<std::string>& upns,
                                                              int per_user_limit = 25);

  // The groups whose displayName is `display_name`, all pages:
  //   GET /v1.0/groups?$filter=displayName eq '<name>'&$select=id,displayName
  // ("List groups", https://learn.microsoft.com/graph/api/group-list?view=graph-rest-1.0; the
  // group resource's displayName supports $filter eq as a default query, without ConsistencyLevel:
  // https://learn.microsoft.com/graph/api/resources/group?view=graph-rest-1.0). The name is sent
  // as an OData string literal. Needs GroupMember.Read.All (least privileged; Group.Read.All and
  // Directory.Read.All also do). Errors as GraphClient; kInternal for a group without an id.
  Result<std::vector<Group>> FindGroupsByDisplayName(std::string_view display_name);

  // deviceConfigurations: profiles are JSON objects carrying their "@odata.type".
  Result<std::vector<nlohmann::json>> ListDeviceConfigurations();
  Result<nlohmann::json> GetDeviceConfiguration(std::string_view id);
  // Returns the created profile (with its id).
  Result<nlohmann::json> CreateDeviceConfiguration(const nlohmann::json& profile);
  // `fields` must include "@odata.type" (Graph requires it on PATCH of a subtype).
  Status PatchDeviceConfiguration(std::string_view id, const nlohmann::json& fields);
  Status DeleteDeviceConfiguration(std::string_view id);

  // GET .../deviceConfigurations/{id}/assignments (all pages).
  Result<std::vector<nlohmann::json>> ListAssignments(std::string_view configuration_id);
  // POST .../deviceConfigurations/{id}/assign with {"assignments": [...]}. REPLACES the whole set:
  // assignments not listed are removed. Do read-modify-write: ListAssignments, edit, Assign all.
  Status Assign(std::string_view configuration_id, const std::vector<nlohmann::json>& assignments);

  // deviceAppManagement (needs DeviceManagementApps.Read.All, .ReadWrite.All to write).
  // GET /deviceAppManagement/mobileApps (all pages): every app of the tenant, with its
  // "@odata.type" and type-specific fields (bundleId for iOS store and VPP apps, packageId for
  // managed Google Play apps). No $filter: the caller matches on those fields.
  // https://learn.microsoft.com/graph/api/intune-apps-mobileapp-list
  Result<std::vector<nlohmann::json>> ListMobileApps();
  // mobileAppConfigurations: app configuration policies for managed devices
  // (#microsoft.graph.iosMobileAppConfiguration, #microsoft.graph.androidManagedStoreAppConfiguration).
  // https://learn.microsoft.com/graph/api/resources/intune-apps-manageddevicemobileappconfiguration
  Result<std::vector<nlohmann::json>> ListMobileAppConfigurations();
  Result<nlohmann::json> GetMobileAppConfiguration(std::string_view id);
  Result<nlohmann::json> CreateMobileAppConfiguration(const nlohmann::json& configuration);
  // `fields` must include "@odata.type".
  Status PatchMobileAppConfiguration(std::string_view id, const nlohmann::json& fields);
  Result<std::vector<nlohmann::json>> ListMobileAppConfigurationAssignments(std::string_view id);
  // POST .../mobileAppConfigurations/{id}/microsoft.graph.managedDeviceMobileAppConfiguration/assign
  // with {"assignments": [...]}: REPLACES the whole set, like Assign. The action is addressed
  // through the type cast: Graph answers the documented short form ".../{id}/assign" with 400
  // "No method match route template" (microsoftgraph/msgraph-sdk-powershell#2985,
  // microsoft-graph-docs#15359); the cast form is the same bound action, valid OData.
  Status AssignMobileAppConfiguration(std::string_view id,
                                      const std::vector<nlohmann::json>& assignments);

  // GET .../deviceConfigurations/{id}/deviceStatuses (all pages, @odata.nextLink followed). Needs
  // DeviceManagementConfiguration.Read.All. Errors: kNotFound for an unknown profile, else as
  // GraphClient; kInternal for a malformed entry.
  Result<std::vector<DeviceConfigurationDeviceStatus>> ListDeviceStatuses(
      std::string_view configuration_id);
  // The entries of ListDeviceStatuses whose userPrincipalName equals `upn` ignoring ASCII case.
  // The list doc documents no $filter for this collection, so all pages are read and filtered
  // here.
  Result<std::vector<DeviceConfigurationDeviceStatus>> ListDeviceStatusesForUser(
      std::string_view configuration_id, std::string_view upn);

  // userPfxCertificates.
  Result<std::vector<UserPfxCertificate>> ListUserPfxCertificates();
  // $filter=tolower(userPrincipalName) eq '<upn lowercased>'[ and tolower(thumbprint) eq '<t>'].
  // Intune may ignore filters it does not support, so results are also checked client-side.
  Result<std::vector<UserPfxCertificate>> ListUserPfxCertificatesForUser(
      std::string_view upn, std::optional<std::string_view> thumbprint = std::nullopt);
  // POST; returns the record as created (with its id).
  Result<UserPfxCertificate> CreateUserPfxCertificate(const UserPfxCertificate& record);
  Status PatchUserPfxCertificate(std::string_view id, const nlohmann::json& fields);
  // DELETE; returns Graph's request-id of the answer ("" when it sent none).
  Result<std::string> DeleteUserPfxCertificate(std::string_view id);

 private:
  GraphClient& client_;
};

}  // namespace certdeploy::graph
