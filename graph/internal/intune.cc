#include "graph/intune.h"

#include <array>

#include "base/encoding.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/time_format.h"

namespace certdeploy::graph {
namespace {

constexpr std::string_view kUserPfxPath = "/deviceManagement/userPfxCertificates";
constexpr std::string_view kConfigurationsPath = "/deviceManagement/deviceConfigurations";
constexpr std::string_view kMobileAppsPath = "/deviceAppManagement/mobileApps";
constexpr std::string_view kAppConfigurationsPath = "/deviceAppManagement/mobileAppConfigurations";

constexpr std::array<std::string_view, 5> kPurposeNames = {"unassigned", "smimeEncryption",
                                                           "smimeSigning", "vpn", "wifi"};
constexpr std::array<std::string_view, 6> kPaddingNames = {
    "none", "pkcs1", "oaepSha1", "oaepSha256", "oaepSha384", "oaepSha512"};

Status Malformed(std::string_view field) {
  return InternalError("userPfxCertificate from Graph has a missing or malformed \"" +
                       std::string(field) + "\"");
}

Result<std::string> RequiredString(const nlohmann::json& json, std::string_view field) {
  auto it = json.find(field);
  if (it == json.end() || !it->is_string()) return Malformed(field);
  return it->get<std::string>();
}

std::string OptionalString(const nlohmann::json& json, std::string_view field) {
  auto it = json.find(field);
  return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// `t` rounded down to the microsecond. Graph sends up to seven fraction digits (100 ns); this
// client has always kept microseconds. SystemTime::min() has no microsecond below it and stays.
SystemTime ToMicroseconds(SystemTime t) {
  Duration rest = t.time_since_epoch() % std::chrono::microseconds(1);
  if (rest < Duration::zero()) rest += std::chrono::microseconds(1);
  return t < SystemTime::min() + rest ? t : t - rest;
}

Result<SystemTime> RequiredTime(const nlohmann::json& json, std::string_view field) {
  ASSIGN_OR_RETURN(std::string text, RequiredString(json, field));
  // Graph writes DateTimeOffset.MinValue/MaxValue (0001-01-01T00:00:00Z, 9999-12-31T23:59:59Z)
  // for "no date"; they clamp to what SystemTime holds rather than failing the whole listing.
  Result<SystemTime> t = ParseRfc3339(text, {.clamp_to_representable = true});
  if (!t.ok()) return Malformed(field);
  return ToMicroseconds(*t);
}

Result<std::optional<SystemTime>> OptionalTime(const nlohmann::json& json, std::string_view field) {
  auto it = json.find(field);
  if (it == json.end() || it->is_null()) return std::optional<SystemTime>();
  ASSIGN_OR_RETURN(SystemTime t, RequiredTime(json, field));
  return std::optional<SystemTime>(t);
}

std::string ConfigurationPath(std::string_view id) {
  return std::string(kConfigurationsPath) + "/" + PercentEncodePathSegment(id);
}

std::string AppConfigurationPath(std::string_view id) {
  return std::string(kAppConfigurationsPath) + "/" + PercentEncodePathSegment(id);
}

std::string UserPfxPath(std::string_view id) {
  return std::string(kUserPfxPath) + "/" + PercentEncodePathSegment(id);
}

Result<std::vector<UserPfxCertificate>> ParseUserPfxList(const std::vector<nlohmann::json>& items) {
  std::vector<UserPfxCertificate> out;
  out.reserve(items.size());
  for (const nlohmann::json& item : items) {
    ASSIGN_OR_RETURN(UserPfxCertificate record, UserPfxCertificateFromJson(item));
    out.push_back(std::move(record));
  }
  return out;
}

}  // namespace

std::string ODataStringLiteral(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    out.push_back(c);
    if (c == '\'') out.push_back('\'');
  }
  out.push_back('\'');
  return out;
}

std::string PercentEncodeQueryValue(std::string_view s) { return PercentEncode(s); }

std::string PercentEncodePathSegment(std::string_view s) { return PercentEncode(s, "@"); }

std::string_view ToString(UserPfxIntendedPurpose purpose) {
  return kPurposeNames[static_cast<size_t>(purpose)];
}

std::string_view ToString(UserPfxPaddingScheme scheme) {
  return kPaddingNames[static_cast<size_t>(scheme)];
}

Result<UserPfxIntendedPurpose> ParseUserPfxIntendedPurpose(std::string_view name) {
  for (size_t i = 0; i < kPurposeNames.size(); ++i) {
    if (EqualsIgnoreCaseAscii(kPurposeNames[i], name)) {
      return static_cast<UserPfxIntendedPurpose>(i);
    }
  }
  return InvalidArgumentError("unknown userPfxIntendedPurpose \"" + std::string(name) + "\"");
}

Result<UserPfxPaddingScheme> ParseUserPfxPaddingScheme(std::string_view name) {
  for (size_t i = 0; i < kPaddingNames.size(); ++i) {
    if (EqualsIgnoreCaseAscii(kPaddingNames[i], name)) return static_cast<UserPfxPaddingScheme>(i);
  }
  return InvalidArgumentError("unknown userPfxPaddingScheme \"" + std::string(name) + "\"");
}

nlohmann::json ToJson(const UserPfxCertificate& r) {
  nlohmann::json json = {
      {"@odata.type", "#microsoft.graph.userPFXCertificate"},
      {"thumbprint", r.thumbprint},
      {"intendedPurpose", ToString(r.intended_purpose)},
      {"userPrincipalName", r.user_principal_name},
      {"startDateTime", FormatRfc3339Utc(r.start_date_time)},
      {"expirationDateTime", FormatRfc3339Utc(r.expiration_date_time)},
      {"providerName", r.provider_name},
      {"keyName", r.key_name},
      {"paddingScheme", ToString(r.padding_scheme)},
      {"encryptedPfxBlob", r.encrypted_pfx_blob},
      {"encryptedPfxPassword", r.encrypted_pfx_password},
  };
  if (!r.id.empty()) json["id"] = r.id;
  if (r.created_date_time) json["createdDateTime"] = FormatRfc3339Utc(*r.created_date_time);
  if (r.last_modified_date_time) {
    json["lastModifiedDateTime"] = FormatRfc3339Utc(*r.last_modified_date_time);
  }
  return json;
}

Result<UserPfxCertificate> UserPfxCertificateFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return InternalError("userPfxCertificate from Graph is not an object");
  UserPfxCertificate r;
  ASSIGN_OR_RETURN(r.id, RequiredString(json, "id"));
  ASSIGN_OR_RETURN(r.thumbprint, RequiredString(json, "thumbprint"));
  ASSIGN_OR_RETURN(r.user_principal_name, RequiredString(json, "userPrincipalName"));
  ASSIGN_OR_RETURN(std::string purpose, RequiredString(json, "intendedPurpose"));
  Result<UserPfxIntendedPurpose> parsed_purpose = ParseUserPfxIntendedPurpose(purpose);
  if (!parsed_purpose.ok()) return Malformed("intendedPurpose");
  r.intended_purpose = *parsed_purpose;
  ASSIGN_OR_RETURN(std::string padding, RequiredString(json, "paddingScheme"));
  Result<UserPfxPaddingScheme> parsed_padding = ParseUserPfxPaddingScheme(padding);
  if (!parsed_padding.ok()) return Malformed("paddingScheme");
  r.padding_scheme = *parsed_padding;
  ASSIGN_OR_RETURN(r.start_date_time, RequiredTime(json, "startDateTime"));
  ASSIGN_OR_RETURN(r.expiration_date_time, RequiredTime(json, "expirationDateTime"));
  r.provider_name = OptionalString(json, "providerName");
  r.key_name = OptionalString(json, "keyName");
  r.encrypted_pfx_blob = OptionalString(json, "encryptedPfxBlob");
  r.encrypted_pfx_password = OptionalString(json, "encryptedPfxPassword");
  ASSIGN_OR_RETURN(r.created_date_time, OptionalTime(json, "createdDateTime"));
  ASSIGN_OR_RETURN(r.last_modified_date_time, OptionalTime(json, "lastModifiedDateTime"));
  return r;
}

Result<User> IntuneApi::GetUser(std::string_view upn) {
  Result<GraphResponse> response = client_.Get("/v1.0/users/" + PercentEncodePathSegment(upn));
  if (!response.ok()) {
    if (response.status().code() == StatusCode::kNotFound) {
      const StatusDetails* details = response.status().details();
      return Status(StatusCode::kNotFound, "no such user: " + std::string(upn),
                    details ? *details : StatusDetails{});
    }
    return response.status();
  }
  User user;
  user.id = OptionalString(response->body, "id");
  user.user_principal_name = OptionalString(response->body, "userPrincipalName");
  user.mail = OptionalString(response->body, "mail");
  if (user.id.empty()) {
    return InternalError("user " + std::string(upn) + " from Graph has no id (request-id " +
                         response->request_id + ")");
  }
  return user;
}

Result<std::vector<Group>> IntuneApi::FindGroupsByDisplayName(std::string_view display_name) {
  const std::string filter = "displayName eq " + ODataStringLiteral(display_name);
  ASSIGN_OR_RETURN(std::vector<nlohmann::json> items,
                   client_.ListAll("/v1.0/groups?$filter=" + PercentEncodeQueryValue(filter) +
                                   "&$select=id,displayName"));
  std::vector<Group> groups;
  for (const nlohmann::json& item : items) {
    Group group{OptionalString(item, "id"), OptionalString(item, "displayName")};
    if (group.id.empty()) return InternalError("a group from Graph has no id");
    groups.push_back(std::move(group));
  }
  return groups;
}

std::string UserMailbox::PrimarySmtp() const {
  for (const std::string& a : proxy_addresses) {
    if (a.size() > 5 && a.compare(0, 5, "SMTP:") == 0) return a.substr(5);  // Case matters.
  }
  return mail;
}

namespace {

constexpr char kMailboxSelect[] = "$select=id,userPrincipalName,mail,proxyAddresses";

UserMailbox MailboxFromJson(const nlohmann::json& j) {
  UserMailbox out;
  out.found = true;
  out.id = OptionalString(j, "id");
  out.user_principal_name = OptionalString(j, "userPrincipalName");
  out.mail = OptionalString(j, "mail");
  auto proxies = j.find("proxyAddresses");
  if (proxies != j.end() && proxies->is_array()) {
    for (const nlohmann::json& p : *proxies) {
      if (p.is_string()) out.proxy_addresses.push_back(p.get<std::string>());
    }
  }
  return out;
}

}  // namespace

Result<std::map<std::string, UserMailbox>> IntuneApi::GetUserMailboxes(
    const std::vector<std::string>& upns, int per_user_limit) {
  std::map<std::string, UserMailbox> out;
  for (const std::string& upn : upns) out[AsciiToLower(upn)];  // found = false until read.
  if (out.empty()) return out;
  if (static_cast<int>(out.size()) > per_user_limit) {
    ASSIGN_OR_RETURN(std::vector<nlohmann::json> users,
                     client_.ListAll(std::string("/v1.0/users?") + kMailboxSelect + "&$top=999"));
    for (const nlohmann::json& u : users) {
      auto it = out.find(AsciiToLower(OptionalString(u, "userPrincipalName")));
      if (it != out.end()) it->second = MailboxFromJson(u);
    }
  }
  // Read one by one (in $batch requests): every user when there are few, and otherwise those the
  // list did not show, so that "no such user" always rests on a 404 of the user itself.
  std::vector<std::map<std::string, UserMailbox>::iterator> unread;
  for (auto it = out.begin(); it != out.end(); ++it) {
    if (!it->second.found) unread.push_back(it);
  }
  std::vector<BatchItem> items;
  for (size_t i = 0; i < unread.size(); ++i) {
    items.push_back({std::to_string(i), "GET",
                     "/users/" + PercentEncodePathSegment(unread[i]->first) + "?" + kMailboxSelect,
                     std::nullopt});
  }
  if (items.empty()) return out;
  ASSIGN_OR_RETURN(std::vector<BatchItemResult> results, client_.Batch(items));
  for (const BatchItemResult& r : results) {
    auto it = unread.at(std::stoul(r.id));
    if (r.status.code() == StatusCode::kNotFound) continue;
    if (!r.status.ok()) return Status(r.status).WithContext("reading user " + it->first);
    it->second = MailboxFromJson(r.body);
  }
  return out;
}

Result<std::vector<nlohmann::json>> IntuneApi::ListDeviceConfigurations() {
  return client_.ListAll(kConfigurationsPath);
}

Result<nlohmann::json> IntuneApi::GetDeviceConfiguration(std::string_view id) {
  ASSIGN_OR_RETURN(GraphResponse response, client_.Get(ConfigurationPath(id)));
  return std::move(response.body);
}

Result<nlohmann::json> IntuneApi::CreateDeviceConfiguration(const nlohmann::json& profile) {
  ASSIGN_OR_RETURN(GraphResponse response, client_.Post(kConfigurationsPath, profile));
  return std::move(response.body);
}

Status IntuneApi::PatchDeviceConfiguration(std::string_view id, const nlohmann::json& fields) {
  return client_.Patch(ConfigurationPath(id), fields).status();
}

Status IntuneApi::DeleteDeviceConfiguration(std::string_view id) {
  return client_.Delete(ConfigurationPath(id)).status();
}

Result<std::vector<nlohmann::json>> IntuneApi::ListAssignments(std::string_view configuration_id) {
  return client_.ListAll(ConfigurationPath(configuration_id) + "/assignments");
}

Status IntuneApi::Assign(std::string_view configuration_id,
                         const std::vector<nlohmann::json>& assignments) {
  nlohmann::json body = {{"assignments", assignments}};
  return client_.Post(ConfigurationPath(configuration_id) + "/assign", body).status();
}

Result<std::vector<nlohmann::json>> IntuneApi::ListMobileApps() {
  return client_.ListAll(kMobileAppsPath);
}

Result<std::vector<nlohmann::json>> IntuneApi::ListMobileAppConfigurations() {
  return client_.ListAll(kAppConfigurationsPath);
}

Result<nlohmann::json> IntuneApi::GetMobileAppConfiguration(std::string_view id) {
  ASSIGN_OR_RETURN(GraphResponse response, client_.Get(AppConfigurationPath(id)));
  return std::move(response.body);
}

Result<nlohmann::json> IntuneApi::CreateMobileAppConfiguration(const nlohmann::json& configuration) {
  ASSIGN_OR_RETURN(GraphResponse response, client_.Post(kAppConfigurationsPath, configuration));
  return std::move(response.body);
}

Status IntuneApi::PatchMobileAppConfiguration(std::string_view id, const nlohmann::json& fields) {
  return client_.Patch(AppConfigurationPath(id), fields).status();
}

Result<std::vector<nlohmann::json>> IntuneApi::ListMobileAppConfigurationAssignments(
    std::string_view id) {
  return client_.ListAll(AppConfigurationPath(id) + "/assignments");
}

Status IntuneApi::AssignMobileAppConfiguration(std::string_view id,
                                               const std::vector<nlohmann::json>& assignments) {
  nlohmann::json body = {{"assignments", assignments}};
  return client_
      .Post(AppConfigurationPath(id) + "/microsoft.graph.managedDeviceMobileAppConfiguration/assign",
            body)
      .status();
}

Result<std::vector<UserPfxCertificate>> IntuneApi::ListUserPfxCertificates() {
  ASSIGN_OR_RETURN(std::vector<nlohmann::json> items, client_.ListAll(kUserPfxPath));
  return ParseUserPfxList(items);
}

Result<std::vector<UserPfxCertificate>> IntuneApi::ListUserPfxCertificatesForUser(
    std::string_view upn, std::optional<std::string_view> thumbprint) {
  const std::string lower_upn = AsciiToLower(upn);
  std::string filter = "tolower(userPrincipalName) eq " + ODataStringLiteral(lower_upn);
  std::string lower_thumbprint;
  if (thumbprint) {
    lower_thumbprint = AsciiToLower(*thumbprint);
    filter += " and tolower(thumbprint) eq " + ODataStringLiteral(lower_thumbprint);
  }
  ASSIGN_OR_RETURN(
      std::vector<nlohmann::json> items,
      client_.ListAll(std::string(kUserPfxPath) + "?$filter=" + PercentEncodeQueryValue(filter)));
  ASSIGN_OR_RETURN(std::vector<UserPfxCertificate> records, ParseUserPfxList(items));
  // Intune list endpoints may ignore a filter they do not support: check again here.
  std::erase_if(records, [&](const UserPfxCertificate& r) {
    return AsciiToLower(r.user_principal_name) != lower_upn ||
           (thumbprint && AsciiToLower(r.thumbprint) != lower_thumbprint);
  });
  return records;
}

Result<UserPfxCertificate> IntuneApi::CreateUserPfxCertificate(const UserPfxCertificate& record) {
  ASSIGN_OR_RETURN(GraphResponse response, client_.Post(kUserPfxPath, ToJson(record)));
  // Any 2xx means the record was created. Nothing documents which fields the answer carries
  // (the service already redacts the blob and the password), so only the id is taken from it;
  // a missing or partial body never turns a committed import into a failure.
  UserPfxCertificate created = record;
  created.encrypted_pfx_blob.clear();
  created.encrypted_pfx_password.clear();
  if (response.body.is_object()) {
    auto id = response.body.find("id");
    if (id != response.body.end() && id->is_string()) created.id = id->get<std::string>();
  }
  return created;
}

Status IntuneApi::PatchUserPfxCertificate(std::string_view id, const nlohmann::json& fields) {
  return client_.Patch(UserPfxPath(id), fields).status();
}

Result<std::string> IntuneApi::DeleteUserPfxCertificate(std::string_view id) {
  ASSIGN_OR_RETURN(GraphResponse r, client_.Delete(UserPfxPath(id)));
  return std::move(r.request_id);
}

}  // namespace certdeploy::graph
