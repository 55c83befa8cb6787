// tests/unit/sandbox/app_management_test_support.h: paths, seeded ids and bodies shared by the
// /deviceAppManagement tests (mobile_apps_test.cc, app_configurations_test.cc).

#pragma once

#include "tests/unit/sandbox/sandbox_test_support.h"

namespace certdeploy::sandbox::testing {

inline constexpr char kApps[] = "/beta/deviceAppManagement/mobileApps";
inline constexpr char kAppConfigs[] = "/beta/deviceAppManagement/mobileAppConfigurations";
inline constexpr char kV1Apps[] = "/v1.0/deviceAppManagement/mobileApps";
inline constexpr char kV1AppConfigs[] = "/v1.0/deviceAppManagement/mobileAppConfigurations";
// The seeded Outlook apps (SandboxOptions::outlook_apps).
inline constexpr char kOutlookIos[] = "0071ee10-0105-4000-8000-000000000001";
inline constexpr char kOutlookAndroid[] = "0071ee10-0ad0-4000-8000-000000000002";

inline json SettingItem(
    const std::string& key, const std::string& type, const std::string& value,
    const std::string& odata_type = "#microsoft.graph.appConfigurationSettingItem") {
  return {{"@odata.type", odata_type},
          {"appConfigKey", key},
          {"appConfigKeyType", type},
          {"appConfigKeyValue", value}};
}

// The Outlook S/MIME policy of graph-intune.md section 4.2, targeting `app_id`. One setting item
// carries a '#'-less @odata.type, as Graph's own examples write it.
inline json IosConfigBody(const std::string& app_id = kOutlookIos) {
  return {
      {"@odata.type", "#microsoft.graph.iosMobileAppConfiguration"},
      {"displayName", "Outlook S/MIME"},
      {"description", "certdeploy"},
      {"targetedMobileApps", json::array({app_id})},
      {"settings",
       json::array(
           {SettingItem("com.microsoft.outlook.Mail.SMIMEEnabled", "booleanType", "true"),
            SettingItem("com.microsoft.outlook.Mail.SMIMEEnabled."
                        "UserChangeAllowed",
                        "booleanType", "false", "microsoft.graph.appConfigurationSettingItem")})}};
}

inline json AndroidConfigBody(const std::string& app_id = kOutlookAndroid) {
  return {{"@odata.type", "#microsoft.graph.androidManagedStoreAppConfiguration"},
          {"displayName", "Outlook S/MIME (Android)"},
          {"targetedMobileApps", json::array({app_id})},
          {"packageId", "app:com.microsoft.office.outlook"},
          {"payloadJson", "e30="},
          {"profileApplicability", "androidWorkProfile"},
          {"connectedAppsEnabled", false},
          {"permissionActions",
           json::array({json{{"@odata.type", "#microsoft.graph.androidPermissionAction"},
                             {"permission", "android.permission.READ_CONTACTS"},
                             {"action", "autoGrant"}}})}};
}

inline json IosStoreAppBody(const std::string& name = "Contoso Mail") {
  return {
      {"@odata.type", "#microsoft.graph.iosStoreApp"},
      {"displayName", name},
      {"publisher", "Contoso"},
      {"bundleId", "com.contoso.mail"},
      {"appStoreUrl", "https://apps.apple.com/app/id1"},
      {"applicableDeviceType",
       {{"@odata.type", "microsoft.graph.iosDeviceType"}, {"iPad", true}, {"iPhoneAndIPod", true}}},
      {"minimumSupportedOperatingSystem",
       {{"@odata.type", "microsoft.graph.iosMinimumOperatingSystem"}, {"v15_0", true}}}};
}

inline json GroupAssignment(const std::string& group, bool exclude = false, bool hash = true) {
  std::string type = exclude ? "microsoft.graph.exclusionGroupAssignmentTarget"
                             : "microsoft.graph.groupAssignmentTarget";
  return {{"@odata.type", "#microsoft.graph.managedDeviceMobileAppConfigurationAssignment"},
          {"target", {{"@odata.type", (hash ? "#" : "") + type}, {"groupId", group}}}};
}

}  // namespace certdeploy::sandbox::testing
