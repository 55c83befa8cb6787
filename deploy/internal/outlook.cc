// Outlook's S/MIME app configuration: the settings, how Intune holds them, and reading them.
//
// Outlook for iOS and Android switches S/MIME on only when an app configuration policy for
// managed devices says so; the keys are Exchange's ("Deploying Outlook for iOS and Android app
// configuration settings", S/MIME settings). Intune holds such a policy as a
// mobileAppConfiguration targeting the Outlook app of the tenant:
//   iOS: #microsoft.graph.iosMobileAppConfiguration, `settings` = appConfigurationSettingItem
//        {appConfigKey, appConfigKeyType (mdmAppConfigKeyType: booleanType), appConfigKeyValue}
//        https://learn.microsoft.com/graph/api/resources/intune-apps-iosmobileappconfiguration
//        https://learn.microsoft.com/graph/api/resources/intune-apps-appconfigurationsettingitem
//   Android Enterprise: #microsoft.graph.androidManagedStoreAppConfiguration (beta), `packageId`
//        and `payloadJson`, the managed Google Play managedConfiguration
//        {"kind": "androidenterprise#managedConfiguration", "productId": "app:<package>",
//         "managedProperty": [{"key", "valueBool"}]}, which Intune carries base64-encoded.
//        https://learn.microsoft.com/graph/api/resources/intune-apps-androidmanagedstoreappconfiguration?view=graph-rest-beta

#include <algorithm>

#include "base/encoding.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "deploy/executor.h"
#include "deploy/observe.h"

namespace certdeploy::deploy {
namespace {

constexpr char kIosAppConfigurationType[] = "#microsoft.graph.iosMobileAppConfiguration";
constexpr char kAndroidAppConfigurationType[] =
    "#microsoft.graph.androidManagedStoreAppConfiguration";
constexpr char kAssignmentType[] = "#microsoft.graph.managedDeviceMobileAppConfigurationAssignment";
// How the description of a policy certdeploy made begins.
constexpr char kMarker[] = "Managed by certdeploy:";

// mobileApp types that carry Outlook, in order of preference, with the property naming the app:
// iosStoreApp and iosVppApp have `bundleId`; androidManagedStoreApp (managed
// Google Play, beta) has `packageId` and `appIdentifier`.
// https://learn.microsoft.com/graph/api/resources/intune-apps-iosstoreapp
// https://learn.microsoft.com/graph/api/resources/intune-apps-iosvppapp
// https://learn.microsoft.com/graph/api/resources/intune-apps-androidmanagedstoreapp?view=graph-rest-beta
struct AppType {
  config::OutlookPlatform platform;
  const char* odata_type;
};
// managedIOSStoreApp is left out on purpose: it is the record of an app managed by app
// protection policies (Intune lists Microsoft's apps so in every tenant), not an app deployed to
// managed devices, so a managed-device policy for it would never reach Outlook.
constexpr AppType kOutlookAppTypes[] = {
    {config::OutlookPlatform::kIos, "#microsoft.graph.iosStoreApp"},
    {config::OutlookPlatform::kIos, "#microsoft.graph.iosVppApp"},
    {config::OutlookPlatform::kAndroid, "#microsoft.graph.androidManagedStoreApp"},
};

std::string StringField(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return "";
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "app:com.microsoft.office.outlook" and "com.microsoft.office.outlook" name the same package.
bool SameIdentifier(std::string_view have, std::string_view want) {
  if (have.rfind("app:", 0) == 0) have.remove_prefix(4);
  return EqualsIgnoreCaseAscii(have, want);
}

bool IsSmimeKey(std::string_view key) { return key.rfind(kOutlookSmimeKeyPrefix, 0) == 0; }

std::string AndroidProductId() { return "app:" + std::string(kOutlookAndroidPackage); }

// The managedConfiguration of an Android policy: payloadJson is base64 of the JSON (as Intune
// stores it); plain JSON text is read too. An empty object for an empty payload; nullopt when it
// is neither.
std::optional<nlohmann::json> DecodePayload(const std::string& payload) {
  if (payload.empty()) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) return j;
  std::optional<std::string> text = Base64Decode(payload, kLenientBase64);
  if (!text) return std::nullopt;
  j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  return j;
}

bool Managed(const AppSettings& settings, std::string_view key) {
  for (const auto& [k, v] : settings) {
    if (k == key) return true;
  }
  return false;
}

std::string ValueText(const nlohmann::json& property) {
  for (const char* field : {"valueBool", "valueString", "valueInteger"}) {
    auto it = property.find(field);
    if (it == property.end() || it->is_null()) continue;
    return it->is_string() ? it->get<std::string>() : it->dump();
  }
  return "";
}

// The S/MIME keys a policy sets (key -> value text).
std::map<std::string, std::string> SmimeKeysOf(const nlohmann::json& configuration) {
  std::map<std::string, std::string> out;
  const std::string type = StringField(configuration, "@odata.type");
  if (type == kIosAppConfigurationType) {
    auto settings = configuration.find("settings");
    if (settings == configuration.end() || !settings->is_array()) return out;
    for (const nlohmann::json& item : *settings) {
      const std::string key = StringField(item, "appConfigKey");
      if (IsSmimeKey(key)) out[key] = StringField(item, "appConfigKeyValue");
    }
  } else if (type == kAndroidAppConfigurationType) {
    nlohmann::json payload = DecodePayload(StringField(configuration, "payloadJson"))
                                 .value_or(nlohmann::json::object());
    auto props = payload.find("managedProperty");
    if (props == payload.end() || !props->is_array()) return out;
    for (const nlohmann::json& p : *props) {
      const std::string key = StringField(p, "key");
      if (IsSmimeKey(key)) out[key] = ValueText(p);
    }
  }
  return out;
}

// Whether `configuration` (of `type`) targets one of `app_ids`, or names Outlook's package.
bool TargetsOutlook(const nlohmann::json& configuration, const std::vector<std::string>& app_ids,
                    config::OutlookPlatform platform) {
  auto apps = configuration.find("targetedMobileApps");
  if (apps != configuration.end() && apps->is_array()) {
    for (const nlohmann::json& id : *apps) {
      if (id.is_string() &&
          std::find(app_ids.begin(), app_ids.end(), id.get<std::string>()) != app_ids.end()) {
        return true;
      }
    }
  }
  return platform == config::OutlookPlatform::kAndroid &&
         SameIdentifier(StringField(configuration, "packageId"), kOutlookAndroidPackage);
}

std::vector<nlohmann::json> AppAssignmentBodies(const std::vector<nlohmann::json>& assignments) {
  std::vector<nlohmann::json> out;
  for (nlohmann::json a : assignments) {
    a["@odata.type"] = kAssignmentType;
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

// certificateAccessType (userApproval | specificApps) and silentCertificateAccessDetails exist on
// androidDeviceOwnerImportedPFXCertificateProfile only:
// https://learn.microsoft.com/graph/api/resources/intune-deviceconfig-androiddeviceownerimportedpfxcertificateprofile?view=graph-rest-beta
// https://learn.microsoft.com/graph/api/resources/intune-deviceconfig-androiddeviceownersilentcertificateaccess?view=graph-rest-beta
bool GrantsOutlookSilentAccess(const nlohmann::json& profile) {
  if (StringField(profile, "certificateAccessType") != "specificApps") return false;
  auto details = profile.find("silentCertificateAccessDetails");
  if (details == profile.end() || !details->is_array()) return false;
  for (const nlohmann::json& d : *details) {
    if (SameIdentifier(StringField(d, "packageId"), kOutlookAndroidPackage)) return true;
  }
  return false;
}

nlohmann::json OutlookSilentAccessFields(const nlohmann::json& existing) {
  nlohmann::json details = nlohmann::json::array();
  auto have = existing.is_object() ? existing.find("silentCertificateAccessDetails")
                                   : existing.end();
  if (have != existing.end() && have->is_array()) {
    for (const nlohmann::json& d : *have) {
      if (!SameIdentifier(StringField(d, "packageId"), kOutlookAndroidPackage)) {
        details.push_back(d);
      }
    }
  }
  details.push_back({{"@odata.type", "#microsoft.graph.androidDeviceOwnerSilentCertificateAccess"},
                     {"packageId", kOutlookAndroidPackage}});
  return {{"certificateAccessType", "specificApps"},
          {"silentCertificateAccessDetails", std::move(details)}};
}

AppSettings OutlookSmimeSettings(const config::OutlookConfig& o) {
  const std::string k = kOutlookSmimeEnabledKey;
  return {{k, o.smime_enabled},
          {k + ".UserChangeAllowed", o.user_change_allowed},
          {k + ".EncryptAllMail", o.encrypt_all_mail},
          {k + ".EncryptAllMail.UserChangeAllowed", o.encrypt_all_mail_user_change_allowed},
          {k + ".SignAllMail", o.sign_all_mail},
          {k + ".SignAllMail.UserChangeAllowed", o.sign_all_mail_user_change_allowed}};
}

std::string AppConfigurationType(config::OutlookPlatform platform) {
  return platform == config::OutlookPlatform::kAndroid ? kAndroidAppConfigurationType
                                                        : kIosAppConfigurationType;
}

std::string_view OutlookAppIdentifier(config::OutlookPlatform platform) {
  return platform == config::OutlookPlatform::kAndroid ? kOutlookAndroidPackage
                                                        : kOutlookIosBundleId;
}

const ObservedAppConfiguration* ManagedAppConfiguration(const ObservedState& observed,
                                                        std::string_view odata_type) {
  const ObservedAppConfiguration* first = nullptr;
  for (const ObservedAppConfiguration& c : observed.app_configurations) {
    if (c.odata_type != odata_type) continue;
    if (c.made_by_certdeploy) return &c;
    if (first == nullptr) first = &c;
  }
  return first;
}

bool IsAppConfigurationType(std::string_view odata_type) {
  return odata_type == kIosAppConfigurationType || odata_type == kAndroidAppConfigurationType;
}

std::vector<nlohmann::json> AppConfigurationAssignmentBodies(const Action& assign) {
  return AppAssignmentBodies(AssignmentBodies(assign));
}

bool SmimeSettingsMatch(const std::map<std::string, std::string>& have, const AppSettings& want) {
  for (const auto& [key, value] : want) {
    auto it = have.find(key);
    if (it == have.end() || !EqualsIgnoreCaseAscii(it->second, value ? "true" : "false")) {
      return false;
    }
  }
  return true;
}

std::map<std::string, std::string> SmimeSettingsOf(const nlohmann::json& configuration) {
  return SmimeKeysOf(configuration);
}

nlohmann::json AppConfigurationBody(const Action& a) {
  nlohmann::json body = {
      {"@odata.type", a.odata_type},
      {"displayName", a.display_name},
      {"description",
       std::string(kMarker) +
           " Outlook S/MIME settings for the certificates certdeploy deploys. certdeploy "
           "recognises this policy by its app and its S/MIME keys."},
      {"targetedMobileApps", nlohmann::json::array({a.app_id})},
  };
  Result<nlohmann::json> patch = AppConfigurationPatch(nlohmann::json::object(), a);
  if (patch.ok()) {
    for (const auto& [key, value] : patch->items()) body[key] = value;
  }
  if (a.odata_type == kAndroidAppConfigurationType) {
    body["packageId"] = AndroidProductId();
    body["profileApplicability"] = "default";  // Work profile and fully managed devices alike.
  }
  return body;
}

Result<nlohmann::json> AppConfigurationPatch(const nlohmann::json& existing, const Action& a) {
  if (!IsAppConfigurationType(a.odata_type)) {
    return InvalidArgumentError("'" + a.odata_type + "' is not an app configuration type");
  }
  nlohmann::json out = {{"@odata.type", a.odata_type}};
  if (a.odata_type == kIosAppConfigurationType) {
    nlohmann::json settings = nlohmann::json::array();
    auto have = existing.find("settings");
    if (have != existing.end() && have->is_array()) {  // Keep the keys certdeploy does not set.
      for (const nlohmann::json& item : *have) {
        if (!Managed(a.app_settings, StringField(item, "appConfigKey"))) settings.push_back(item);
      }
    }
    for (const auto& [key, value] : a.app_settings) {
      settings.push_back({{"appConfigKey", key},
                          {"appConfigKeyType", "booleanType"},
                          {"appConfigKeyValue", value ? "true" : "false"}});
    }
    out["settings"] = std::move(settings);
    return out;
  }
  std::optional<nlohmann::json> decoded = DecodePayload(StringField(existing, "payloadJson"));
  if (!decoded) {
    // Rebuilding it would drop every other setting of the policy.
    return FailedPreconditionError(
        "the policy's payloadJson is neither base64 of a JSON object nor JSON; fix or delete it in "
        "the Intune portal, then re-run plan");
  }
  nlohmann::json payload = std::move(*decoded);
  nlohmann::json props = nlohmann::json::array();
  auto have = payload.find("managedProperty");
  if (have != payload.end() && have->is_array()) {
    for (const nlohmann::json& p : *have) {
      if (!Managed(a.app_settings, StringField(p, "key"))) props.push_back(p);
    }
  }
  for (const auto& [key, value] : a.app_settings) {
    props.push_back({{"key", key}, {"valueBool", value}});
  }
  payload["kind"] = "androidenterprise#managedConfiguration";
  payload["productId"] = AndroidProductId();
  payload["managedProperty"] = std::move(props);
  out["payloadJson"] = Base64Encode(payload.dump());
  return out;
}

Status ReadOutlookAppConfigurations(graph::IntuneApi& intune, ObservedState& observed,
                                    bool with_assignments) {
  Result<std::vector<nlohmann::json>> apps = intune.ListMobileApps();
  if (!apps.ok()) {
    return apps.status().WithContext(
        "listing the tenant's apps to find Outlook (the app needs DeviceManagementApps.Read.All)");
  }
  std::map<config::OutlookPlatform, std::vector<std::string>> ids;  // Preferred first.
  for (const AppType& t : kOutlookAppTypes) {
    std::vector<std::string> of_type;
    for (const nlohmann::json& app : *apps) {
      if (StringField(app, "@odata.type") != t.odata_type) continue;
      const std::string_view want = OutlookAppIdentifier(t.platform);
      const bool outlook = t.platform == config::OutlookPlatform::kIos
                               ? SameIdentifier(StringField(app, "bundleId"), want)
                               : SameIdentifier(StringField(app, "packageId"), want) ||
                                     SameIdentifier(StringField(app, "appIdentifier"), want);
      const std::string id = StringField(app, "id");
      if (outlook && !id.empty()) of_type.push_back(id);
    }
    std::sort(of_type.begin(), of_type.end());
    ids[t.platform].insert(ids[t.platform].end(), of_type.begin(), of_type.end());
  }
  observed.apps_read = true;
  observed.outlook_apps.clear();
  observed.app_configurations.clear();
  for (const auto& [platform, list] : ids) {
    if (!list.empty()) observed.outlook_apps[platform] = list.front();
  }

  Result<std::vector<nlohmann::json>> configurations = intune.ListMobileAppConfigurations();
  if (!configurations.ok()) {
    return configurations.status().WithContext("listing mobileAppConfigurations");
  }
  for (const nlohmann::json& listed : *configurations) {
    const std::string type = StringField(listed, "@odata.type");
    if (!IsAppConfigurationType(type)) continue;
    const config::OutlookPlatform platform = type == kAndroidAppConfigurationType
                                                 ? config::OutlookPlatform::kAndroid
                                                 : config::OutlookPlatform::kIos;
    if (!TargetsOutlook(listed, ids[platform], platform)) continue;
    ObservedAppConfiguration c;
    c.id = StringField(listed, "id");
    if (c.id.empty()) return InternalError("a mobileAppConfiguration from Graph has no id");
    c.odata_type = type;
    c.platform = platform;
    c.display_name = StringField(listed, "displayName");
    c.made_by_certdeploy = StringField(listed, "description").rfind(kMarker, 0) == 0;
    // A list may leave the settings out; the single GET carries them.
    const char* field = platform == config::OutlookPlatform::kIos ? "settings" : "payloadJson";
    auto carried = listed.find(field);
    if (carried == listed.end() || carried->is_null()) {
      Result<nlohmann::json> full = intune.GetMobileAppConfiguration(c.id);
      if (!full.ok()) return full.status().WithContext("reading app configuration " + c.id);
      c.smime = SmimeKeysOf(*full);
    } else {
      c.smime = SmimeKeysOf(listed);
    }
    if (c.smime.empty()) continue;  // Outlook settings, but not S/MIME: not certdeploy's.
    if (with_assignments) {
      Result<std::vector<nlohmann::json>> assignments =
          intune.ListMobileAppConfigurationAssignments(c.id);
      if (!assignments.ok()) {
        return assignments.status().WithContext("reading the assignments of app configuration " +
                                                c.id);
      }
      c.assignments = ObservedAssignmentsFromJson(*assignments);
    }
    observed.app_configurations.push_back(std::move(c));
  }
  std::sort(observed.app_configurations.begin(), observed.app_configurations.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return OkStatus();
}

}  // namespace certdeploy::deploy
