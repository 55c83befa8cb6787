// The Outlook app configuration end to end in memory: settings from config, reading Outlook's
// apps and policies, planning create / update / unchanged / Outlook-missing, the plan file, and
// executing against tests/support/fake_graph_client.h (read-modify-write, lost responses).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/encoding.h"
#include "deploy/executor.h"
#include "deploy/observe.h"
#include "deploy/plan.h"
#include "tests/support/fake_graph_client.h"
#include "tests/support/status_matchers.h"

namespace certdeploy::deploy {
namespace {

using ::certdeploy::testing::FakeGraphClient;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using config::OutlookPlatform;
using Fault = FakeGraphClient::Fault;

const SystemTime kNow = SystemTime(std::chrono::seconds(1798000000));
constexpr char kGroup[] = "0b1c2d3e-0000-4000-8000-000000000001";
constexpr char kKey[] = "com.microsoft.outlook.Mail.SMIMEEnabled";

config::OutlookConfig Outlook(std::vector<OutlookPlatform> platforms) {
  config::OutlookConfig o;
  o.platforms = std::move(platforms);
  return o;
}

DesiredState Desired(std::vector<OutlookPlatform> platforms, bool smime = true) {
  DesiredState d;
  config::OutlookConfig o = Outlook(platforms);
  o.smime_enabled = smime;
  for (OutlookPlatform p : platforms) {
    d.outlook.push_back({p, "S/MIME Outlook S/MIME (" + std::string(config::OutlookPlatformName(p)) +
                                ")",
                         OutlookSmimeSettings(o)});
  }
  d.assign_to.groups = {kGroup};
  return d;
}

std::vector<std::string> Kinds(const Plan& p) {
  std::vector<std::string> out;
  for (const Action& a : p.actions) out.push_back(std::string(ActionKindName(a.kind)) + " " + a.key);
  return out;
}

nlohmann::json IosOutlook(const std::string& id, const std::string& bundle_id) {
  return {{"id", id},
          {"@odata.type", "#microsoft.graph.iosStoreApp"},
          {"displayName", "Microsoft Outlook"},
          {"bundleId", bundle_id}};
}

nlohmann::json AndroidOutlook(const std::string& id) {
  return {{"id", id},
          {"@odata.type", "#microsoft.graph.androidManagedStoreApp"},
          {"displayName", "Microsoft Outlook"},
          {"packageId", "com.microsoft.office.outlook"},
          {"appIdentifier", "com.microsoft.office.outlook"}};
}

nlohmann::json Setting(const std::string& key, const std::string& value,
                       const std::string& type = "booleanType") {
  return {{"appConfigKey", key}, {"appConfigKeyType", type}, {"appConfigKeyValue", value}};
}

TEST(OutlookSettingsTest, TheSixDocumentedKeysInOrder) {
  config::OutlookConfig o;
  o.encrypt_all_mail = true;
  AppSettings s = OutlookSmimeSettings(o);
  ASSERT_THAT(s, SizeIs(6));
  EXPECT_EQ(s[0], (std::pair<std::string, bool>{kKey, true}));
  EXPECT_EQ(s[1], (std::pair<std::string, bool>{std::string(kKey) + ".UserChangeAllowed", false}));
  EXPECT_EQ(s[2], (std::pair<std::string, bool>{std::string(kKey) + ".EncryptAllMail", true}));
  EXPECT_EQ(s[3].first, std::string(kKey) + ".EncryptAllMail.UserChangeAllowed");
  EXPECT_EQ(s[4].first, std::string(kKey) + ".SignAllMail");
  EXPECT_EQ(s[5].first, std::string(kKey) + ".SignAllMail.UserChangeAllowed");
}

TEST(OutlookPlannerTest, OutlookMissingFromTheTenantIsAClearInvalidAction) {
  ObservedState o;
  o.apps_read = true;
  Plan p = ComputePlan(Desired({OutlookPlatform::kIos}), o, kNow);
  ASSERT_THAT(Kinds(p), ElementsAre("invalid outlook/ios"));
  EXPECT_THAT(p.actions[0].description, HasSubstr("com.microsoft.Office.Outlook"));
  ASSERT_THAT(p.actions[0].findings, SizeIs(1));
  EXPECT_EQ(p.actions[0].findings[0].code, "outlook-not-in-tenant");
  EXPECT_EQ(p.Summary().invalid, 1);
  EXPECT_FALSE(p.HasWrites());
}

TEST(OutlookPlannerTest, ExistingPolicyWithOtherValuesIsUpdatedAndDriftedAssignmentsReplaced) {
  ObservedState o;
  o.apps_read = true;
  o.outlook_apps[OutlookPlatform::kIos] = "app-1";
  ObservedAppConfiguration c;
  c.id = "cfg-9";
  c.odata_type = AppConfigurationType(OutlookPlatform::kIos);
  c.display_name = "Portal-made Outlook policy";
  c.smime = {{kKey, "false"}};
  o.app_configurations.push_back(c);
  Plan p = ComputePlan(Desired({OutlookPlatform::kIos}), o, kNow);
  ASSERT_THAT(Kinds(p), ElementsAre("updateAppConfiguration outlook/ios",
                                    "assignProfile outlook/ios"));
  EXPECT_EQ(p.actions[0].profile_id, "cfg-9");
  EXPECT_THAT(p.actions[0].description, HasSubstr(std::string(kKey) + " false -> true"));
  EXPECT_THAT(p.actions[0].description, HasSubstr(".SignAllMail (unset) -> false"));
  EXPECT_EQ(p.Summary(), (PlanSummary{0, 2, 0, 0, 0}));

  // As wanted (values compared ignoring case) and assigned: unchanged.
  for (const auto& [key, value] : OutlookSmimeSettings(Outlook({}))) {
    o.app_configurations[0].smime[key] = value ? "True" : "false";
  }
  o.app_configurations[0].assignments = {{"#microsoft.graph.groupAssignmentTarget", kGroup}};
  p = ComputePlan(Desired({OutlookPlatform::kIos}), o, kNow);
  EXPECT_THAT(Kinds(p), ElementsAre("unchangedProfile outlook/ios"));
  EXPECT_FALSE(p.HasWrites());
}

TEST(OutlookPlannerTest, PlanFileKeepsAppConfigurationActions) {
  ObservedState o;
  o.apps_read = true;
  o.outlook_apps[OutlookPlatform::kAndroid] = "app-a";
  Plan p = ComputePlan(Desired({OutlookPlatform::kIos, OutlookPlatform::kAndroid}), o, kNow);
  ASSERT_THAT(Kinds(p), ElementsAre("createAppConfiguration outlook/android",
                                    "assignProfile outlook/android", "invalid outlook/ios"));
  EXPECT_THAT(RenderPlanText(p), HasSubstr("+ createAppConfiguration"));
  Result<Plan> back = PlanFromJson(PlanToJson(p));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_THAT(back->actions, SizeIs(3));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back->actions[i].kind, p.actions[i].kind);
    EXPECT_EQ(back->actions[i].key, p.actions[i].key);
    EXPECT_EQ(back->actions[i].odata_type, p.actions[i].odata_type);
    EXPECT_EQ(back->actions[i].app_id, p.actions[i].app_id);
    EXPECT_EQ(back->actions[i].app_settings, p.actions[i].app_settings);
    EXPECT_EQ(back->actions[i].assignments_after, p.actions[i].assignments_after);
  }
  EXPECT_EQ(back->actions[0].app_id, "app-a");
  EXPECT_EQ(back->Summary(), p.Summary());
}

class OutlookExecutorTest : public ::testing::Test {
 protected:
  Plan PlanNow(const DesiredState& d) {
    graph::IntuneApi intune(graph_);
    ObserveOptions options;
    options.outlook = true;
    Result<ObservedState> o = ReadObservedState(intune, {}, options);
    EXPECT_TRUE(o.ok()) << o.status();
    return ComputePlan(d, o.ok() ? *o : ObservedState{}, kNow);
  }
  ExecutionReport Run(const Plan& p) {
    ExecutorOptions options;
    options.concurrency = 2;
    return ExecutePlan(p, graph_, options);
  }

  FakeGraphClient graph_;
};

TEST_F(OutlookExecutorTest, IosPolicyIsCreatedForOutlookAssignedAndThenUnchanged) {
  graph_.AddMobileApp(IosOutlook("app-other", "com.example.mail"));
  graph_.AddMobileApp(IosOutlook("app-outlook", "com.microsoft.office.outlook"));  // Any case.
  ExecutionReport report = Run(PlanNow(Desired({OutlookPlatform::kIos})));
  ASSERT_TRUE(report.ok());
  ASSERT_THAT(graph_.AppConfigurations(), SizeIs(1));
  const nlohmann::json c = graph_.AppConfigurations()[0];
  EXPECT_EQ(c["@odata.type"], "#microsoft.graph.iosMobileAppConfiguration");
  EXPECT_EQ(c["targetedMobileApps"], nlohmann::json::array({"app-outlook"}));
  ASSERT_EQ(c["settings"].size(), 6u);
  EXPECT_EQ(c["settings"][0], Setting(kKey, "true"));
  const std::vector<nlohmann::json> assigned = graph_.AppAssignmentsOf(c["id"]);
  ASSERT_THAT(assigned, SizeIs(1));
  EXPECT_EQ(assigned[0]["@odata.type"],
            "#microsoft.graph.managedDeviceMobileAppConfigurationAssignment");
  EXPECT_EQ(assigned[0]["target"]["groupId"], kGroup);

  const int writes = graph_.Writes();
  Plan again = PlanNow(Desired({OutlookPlatform::kIos}));
  EXPECT_FALSE(again.HasWrites()) << RenderPlanText(again);
  EXPECT_EQ(graph_.Writes(), writes);
}

TEST_F(OutlookExecutorTest, UpdateSetsTheSmimeKeysAndKeepsTheOthers) {
  graph_.AddMobileApp(IosOutlook("app-outlook", "com.microsoft.Office.Outlook"));
  graph_.AddAppConfiguration(
      {{"id", "mine"},
       {"@odata.type", "#microsoft.graph.iosMobileAppConfiguration"},
       {"displayName", "Outlook settings"},
       {"targetedMobileApps", {"app-outlook"}},
       {"settings",
        {Setting("com.microsoft.outlook.EmailProfile.AccountType", "ModernAuth", "stringType"),
         Setting(kKey, "false"),
         Setting(std::string(kKey) + ".LDAPHostName", "ldaps://contoso.com:636", "stringType")}}},
      {{{"target", {{"@odata.type", "#microsoft.graph.groupAssignmentTarget"},
                    {"groupId", kGroup}}}}});
  // Settings left out of the list answer are read with a GET.
  graph_.OmitFromLists("settings");
  Plan p = PlanNow(Desired({OutlookPlatform::kIos}));
  ASSERT_THAT(Kinds(p), ElementsAre("updateAppConfiguration outlook/ios"));
  ASSERT_TRUE(Run(p).ok());
  const nlohmann::json c = graph_.AppConfigurations()[0];
  ASSERT_EQ(c["settings"].size(), 8u);
  // The keys certdeploy does not set stay, S/MIME ones (LDAPHostName) included.
  EXPECT_EQ(c["settings"][0]["appConfigKey"], "com.microsoft.outlook.EmailProfile.AccountType");
  EXPECT_EQ(c["settings"][1], Setting(std::string(kKey) + ".LDAPHostName",
                                      "ldaps://contoso.com:636", "stringType"));
  EXPECT_EQ(c["settings"][2], Setting(kKey, "true"));
  EXPECT_FALSE(PlanNow(Desired({OutlookPlatform::kIos})).HasWrites());
}

TEST_F(OutlookExecutorTest, PolicyForAnotherAppOrWithoutSmimeIsNotCertdeploys) {
  graph_.AddMobileApp(IosOutlook("app-outlook", "com.microsoft.Office.Outlook"));
  graph_.AddMobileApp(IosOutlook("app-other", "com.example.mail"));
  graph_.AddAppConfiguration({{"id", "other-app"},
                              {"@odata.type", "#microsoft.graph.iosMobileAppConfiguration"},
                              {"displayName", "x"},
                              {"targetedMobileApps", {"app-other"}},
                              {"settings", {Setting(kKey, "true")}}});
  graph_.AddAppConfiguration({{"id", "no-smime"},
                              {"@odata.type", "#microsoft.graph.iosMobileAppConfiguration"},
                              {"displayName", "y"},
                              {"targetedMobileApps", {"app-outlook"}},
                              {"settings", {Setting("com.microsoft.outlook.Other", "1")}}});
  Plan p = PlanNow(Desired({OutlookPlatform::kIos}));
  EXPECT_THAT(Kinds(p), ElementsAre("createAppConfiguration outlook/ios",
                                    "assignProfile outlook/ios"));
}

TEST_F(OutlookExecutorTest, AndroidPolicyCarriesTheManagedConfigurationBase64) {
  graph_.AddMobileApp(AndroidOutlook("app-android"));
  ASSERT_TRUE(Run(PlanNow(Desired({OutlookPlatform::kAndroid}))).ok());
  ASSERT_THAT(graph_.AppConfigurations(), SizeIs(1));
  const nlohmann::json c = graph_.AppConfigurations()[0];
  EXPECT_EQ(c["@odata.type"], "#microsoft.graph.androidManagedStoreAppConfiguration");
  EXPECT_EQ(c["packageId"], "app:com.microsoft.office.outlook");
  EXPECT_EQ(c["targetedMobileApps"], nlohmann::json::array({"app-android"}));
  std::optional<std::string> text = Base64Decode(c["payloadJson"].get<std::string>());
  ASSERT_TRUE(text.has_value());
  nlohmann::json payload = nlohmann::json::parse(*text);
  EXPECT_EQ(payload["kind"], "androidenterprise#managedConfiguration");
  EXPECT_EQ(payload["productId"], "app:com.microsoft.office.outlook");
  ASSERT_EQ(payload["managedProperty"].size(), 6u);
  EXPECT_EQ(payload["managedProperty"][0],
            (nlohmann::json{{"key", kKey}, {"valueBool", true}}));
  EXPECT_FALSE(PlanNow(Desired({OutlookPlatform::kAndroid})).HasWrites());

  // Switching S/MIME off is a change of the one key.
  Plan off = PlanNow(Desired({OutlookPlatform::kAndroid}, /*smime=*/false));
  ASSERT_THAT(Kinds(off), ElementsAre("updateAppConfiguration outlook/android"));
  ASSERT_TRUE(Run(off).ok());
  EXPECT_FALSE(PlanNow(Desired({OutlookPlatform::kAndroid}, false)).HasWrites());
}

TEST_F(OutlookExecutorTest, LostCreateResponseIsReadBackNotResent) {
  graph_.AddMobileApp(IosOutlook("app-outlook", "com.microsoft.Office.Outlook"));
  graph_.Inject({"POST", "/deviceAppManagement/mobileAppConfigurations", Fault::kDropAfterApply});
  ExecutionReport report = Run(PlanNow(Desired({OutlookPlatform::kIos})));
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.reconciled(), 1);
  ASSERT_THAT(graph_.AppConfigurations(), SizeIs(1));
  EXPECT_THAT(graph_.AppAssignmentsOf(graph_.AppConfigurations()[0]["id"]), SizeIs(1));
}

TEST_F(OutlookExecutorTest, FullyManagedAndroidProfileWithoutSilentAccessIsGrantedIt) {
  const std::string type = ImportedPfxType(config::Platform::kAndroidDeviceOwner);
  graph_.AddConfiguration(
      {{"id", "old-profile"},
       {"@odata.type", type},
       {"displayName", "made by hand"},
       {"intendedPurpose", "smimeEncryption"},
       {"certificateAccessType", "userApproval"},
       {"silentCertificateAccessDetails",
        {{{"@odata.type", "#microsoft.graph.androidDeviceOwnerSilentCertificateAccess"},
          {"packageId", "com.example.mail"}}}}},
      {{{"target", {{"@odata.type", "#microsoft.graph.groupAssignmentTarget"},
                    {"groupId", kGroup}}}}});
  DesiredState d;
  d.imported.push_back({config::Platform::kAndroidDeviceOwner, pkcs::Purpose::kSmimeEncryption,
                        "S/MIME imported PFX smimeEncryption (androidDeviceOwner)"});
  d.assign_to.groups = {kGroup};
  Plan p = PlanNow(d);
  ASSERT_THAT(Kinds(p), ElementsAre("updateProfile imported/androidDeviceOwner/smimeEncryption"));
  EXPECT_THAT(p.actions[0].description, HasSubstr("grant Outlook silent access"));
  EXPECT_EQ(ActionMarker(p.actions[0].kind), '~');
  Result<Plan> back = PlanFromJson(PlanToJson(p));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->actions[0].profile_id, "old-profile");

  ASSERT_TRUE(Run(*back).ok());
  const nlohmann::json c = graph_.Configurations()[0];
  EXPECT_EQ(c["certificateAccessType"], "specificApps");
  ASSERT_EQ(c["silentCertificateAccessDetails"].size(), 2u) << c.dump();
  EXPECT_EQ(c["silentCertificateAccessDetails"][0]["packageId"], "com.example.mail");
  EXPECT_EQ(c["silentCertificateAccessDetails"][1]["packageId"], "com.microsoft.office.outlook");
  EXPECT_FALSE(PlanNow(d).HasWrites());
}

TEST(OutlookPlannerTest, APortalPolicyKeepsItsAssignmentsAndGainsTheGroups) {
  ObservedState o;
  o.apps_read = true;
  o.outlook_apps[OutlookPlatform::kIos] = "app-1";
  ObservedAppConfiguration c;
  c.id = "portal";
  c.odata_type = AppConfigurationType(OutlookPlatform::kIos);
  c.display_name = "Outlook for everyone";
  for (const auto& [key, value] : OutlookSmimeSettings(Outlook({}))) {
    c.smime[key] = value ? "true" : "false";
  }
  c.assignments = {{"#microsoft.graph.allLicensedUsersAssignmentTarget", ""}};
  o.app_configurations.push_back(c);
  Plan p = ComputePlan(Desired({OutlookPlatform::kIos}), o, kNow);
  ASSERT_THAT(Kinds(p), ElementsAre("unchangedProfile outlook/ios", "assignProfile outlook/ios"));
  EXPECT_THAT(p.actions[1].assignments_after,
              ElementsAre(ObservedAssignment{"#microsoft.graph.allLicensedUsersAssignmentTarget", ""},
                          ObservedAssignment{"#microsoft.graph.groupAssignmentTarget", kGroup}));

  // The same policy made by certdeploy: its assignments are exactly the configured groups.
  o.app_configurations[0].made_by_certdeploy = true;
  p = ComputePlan(Desired({OutlookPlatform::kIos}), o, kNow);
  ASSERT_THAT(Kinds(p), ElementsAre("unchangedProfile outlook/ios", "assignProfile outlook/ios"));
  EXPECT_THAT(p.actions[1].assignments_after,
              ElementsAre(ObservedAssignment{"#microsoft.graph.groupAssignmentTarget", kGroup}));
}

TEST(OutlookPlannerTest, ThePolicyCertdeployMadeIsPreferredAndTheOthersNamed) {
  ObservedState o;
  o.apps_read = true;
  o.outlook_apps[OutlookPlatform::kIos] = "app-1";
  for (const char* id : {"a-portal", "b-mine"}) {
    ObservedAppConfiguration c;
    c.id = id;
    c.odata_type = AppConfigurationType(OutlookPlatform::kIos);
    c.display_name = id;
    c.smime = {{kKey, "false"}};
    c.made_by_certdeploy = std::string(id) == "b-mine";
    o.app_configurations.push_back(c);
  }
  Plan p = ComputePlan(Desired({OutlookPlatform::kIos}), o, kNow);
  ASSERT_THAT(Kinds(p), ElementsAre("updateAppConfiguration outlook/ios",
                                    "assignProfile outlook/ios"));
  EXPECT_EQ(p.actions[0].profile_id, "b-mine");
  EXPECT_THAT(p.actions[0].description, HasSubstr("which conflict with this one: a-portal"));
  Result<Plan> back = PlanFromJson(PlanToJson(p));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->actions[0].kind, ActionKind::kUpdateAppConfiguration);
  EXPECT_EQ(back->actions[0].profile_id, "b-mine");
  EXPECT_EQ(back->actions[0].display_name, "b-mine");
  EXPECT_EQ(back->actions[0].app_settings, p.actions[0].app_settings);
}

TEST_F(OutlookExecutorTest, TheAppProtectionRecordOfOutlookIsNotATarget) {
  graph_.AddMobileApp({{"id", "mam-outlook"},
                       {"@odata.type", "#microsoft.graph.managedIOSStoreApp"},
                       {"bundleId", "com.microsoft.Office.Outlook"}});
  Plan p = PlanNow(Desired({OutlookPlatform::kIos}));
  EXPECT_THAT(Kinds(p), ElementsAre("invalid outlook/ios"));
  graph_.AddMobileApp({{"id", "vpp-outlook"},
                       {"@odata.type", "#microsoft.graph.iosVppApp"},
                       {"bundleId", "com.microsoft.Office.Outlook"}});
  p = PlanNow(Desired({OutlookPlatform::kIos}));
  ASSERT_THAT(Kinds(p), ElementsAre("createAppConfiguration outlook/ios",
                                    "assignProfile outlook/ios"));
  EXPECT_EQ(p.actions[0].app_id, "vpp-outlook");
}

TEST_F(OutlookExecutorTest, AndroidUpdateKeepsOtherPropertiesAndRefusesAnUnreadablePayload) {
  graph_.AddMobileApp(AndroidOutlook("app-android"));
  const nlohmann::json managed = {
      {"kind", "androidenterprise#managedConfiguration"},
      {"productId", "app:com.microsoft.office.outlook"},
      {"managedProperty",
       {{{"key", "com.microsoft.outlook.EmailProfile.AccountType"}, {"valueString", "ModernAuth"}},
        {{"key", kKey}, {"valueBool", false}}}}};
  graph_.AddAppConfiguration({{"id", "android-policy"},
                              {"@odata.type", "#microsoft.graph.androidManagedStoreAppConfiguration"},
                              {"displayName", "Outlook (portal)"},
                              {"targetedMobileApps", {"app-android"}},
                              {"packageId", "app:com.microsoft.office.outlook"},
                              {"payloadJson", Base64Encode(managed.dump())}});
  Plan p = PlanNow(Desired({OutlookPlatform::kAndroid}));
  ASSERT_THAT(Kinds(p), ElementsAre("updateAppConfiguration outlook/android",
                                    "assignProfile outlook/android"));
  ASSERT_TRUE(Run(p).ok());
  std::optional<std::string> text =
      Base64Decode(graph_.AppConfigurations()[0]["payloadJson"].get<std::string>());
  ASSERT_TRUE(text.has_value());
  nlohmann::json now = nlohmann::json::parse(*text);
  ASSERT_EQ(now["managedProperty"].size(), 7u);
  EXPECT_EQ(now["managedProperty"][0]["valueString"], "ModernAuth");
  EXPECT_EQ(now["managedProperty"][1], (nlohmann::json{{"key", kKey}, {"valueBool", true}}));

  // A payload that is neither base64 of JSON nor JSON is never rebuilt.
  Action update = p.actions[0];
  update.app_settings = OutlookSmimeSettings(Outlook({}));
  EXPECT_EQ(AppConfigurationPatch({{"payloadJson", "%%% not a payload"}}, update).status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace certdeploy::deploy
