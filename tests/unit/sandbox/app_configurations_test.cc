// deviceAppManagement/mobileAppConfigurations: iOS and Android Enterprise app configuration
// policies, strict validation, targeted apps, PATCH, /assign (the type-cast form; the short form
// is refused as the service refuses it), /assignments, the budget and statistics, $batch and
// journal replay.

#include <unistd.h>

#include <cstdio>

#include "tests/unit/sandbox/app_management_test_support.h"

namespace certdeploy::sandbox::testing {
namespace {

// The assign action as the service accepts it: through the type cast.
constexpr char kAssign[] = "/microsoft.graph.managedDeviceMobileAppConfiguration/assign";

constexpr char kGroup1[] = "11111111-0000-0000-0000-000000000001";
constexpr char kGroup2[] = "11111111-0000-0000-0000-000000000002";
constexpr char kGroup3[] = "11111111-0000-0000-0000-000000000003";

class AppConfigurationsTest : public SandboxTest {
 protected:
  void ExpectRejected(const std::string& target, const json& body, const std::string& reason,
                      const std::string& method = "POST") {
    ServerResponse r = Call(method, target, body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(BodyOf(r)["error"]["code"], "BadRequest") << r.body;
    EXPECT_EQ(Stats().rejections[reason], 1u) << reason << ": " << r.body;
  }

  std::string CreateIos() {
    ServerResponse r = Call("POST", kAppConfigs, IosConfigBody());
    EXPECT_EQ(r.status, 201) << r.body;
    return BodyOf(r).value("id", "");
  }

  std::string Path(const std::string& id, const std::string& suffix = "") {
    return std::string(kAppConfigs) + "/" + id + suffix;
  }
};

TEST_F(AppConfigurationsTest, CreatesAnIosPolicyForOutlook) {
  Start();
  ServerResponse r = Call("POST", kAppConfigs, IosConfigBody());
  ASSERT_EQ(r.status, 201) << r.body;
  json created = BodyOf(r);
  const std::string id = created["id"];
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(created["@odata.type"], "#microsoft.graph.iosMobileAppConfiguration");
  EXPECT_EQ(
      created["@odata.context"],
      std::string(kBase) + "/beta/$metadata#deviceAppManagement/mobileAppConfigurations/$entity");
  EXPECT_EQ(created["version"], 1);
  EXPECT_EQ(created["displayName"], "Outlook S/MIME");
  EXPECT_EQ(created["targetedMobileApps"], json::array({kOutlookIos}));
  EXPECT_EQ(created["roleScopeTagIds"], json::array({"0"}));
  EXPECT_EQ(created["encodedSettingXml"], nullptr);
  EXPECT_EQ(created["createdDateTime"], FormatRfc3339Utc(clock_.Now()));
  EXPECT_EQ(created["lastModifiedDateTime"], created["createdDateTime"]);
  ASSERT_EQ(created["settings"].size(), 2u);
  EXPECT_EQ(created["settings"][0],
            (json{{"appConfigKey", "com.microsoft.outlook.Mail.SMIMEEnabled"},
                  {"appConfigKeyType", "booleanType"},
                  {"appConfigKeyValue", "true"}}));
  EXPECT_EQ(created["settings"][1]["appConfigKeyValue"], "false");

  json got = BodyOf(Call("GET", Path(id)));
  EXPECT_EQ(got["settings"], created["settings"]);
  EXPECT_FALSE(got.contains("assignments"));
  EXPECT_EQ(BodyOf(Call("GET", std::string(kAppConfigs) + "('" + id + "')"))["id"], id);
  json list = BodyOf(Call("GET", kAppConfigs));
  ASSERT_EQ(list["value"].size(), 1u);
  EXPECT_EQ(list["value"][0]["id"], id);

  SandboxStats stats = Stats();
  EXPECT_EQ(stats.writes, 1u);
  EXPECT_EQ(stats.writes_applied, 1u);
  ASSERT_EQ(tenant_->State()["mobileAppConfigurations"].size(), 1u);
  EXPECT_EQ(tenant_->State()["mobileAppConfigurations"][0]["assignments"], json::array());
}

TEST_F(AppConfigurationsTest, CreatesAnAndroidEnterprisePolicyInBetaOnly) {
  Start();
  ServerResponse r = Call("POST", kAppConfigs, AndroidConfigBody());
  ASSERT_EQ(r.status, 201) << r.body;
  json created = BodyOf(r);
  EXPECT_EQ(created["@odata.type"], "#microsoft.graph.androidManagedStoreAppConfiguration");
  EXPECT_EQ(created["packageId"], "app:com.microsoft.office.outlook");
  EXPECT_EQ(created["profileApplicability"], "androidWorkProfile");
  EXPECT_EQ(created["appSupportsOemConfig"], false);
  EXPECT_EQ(created["permissionActions"][0]["action"], "autoGrant");
  const std::string id = created["id"];
  // Graph has no androidManagedStoreAppConfiguration in v1.0.
  EXPECT_EQ(Call("GET", std::string(kV1AppConfigs) + "/" + id).status, 404);
  EXPECT_TRUE(BodyOf(Call("GET", kV1AppConfigs))["value"].empty());
  ExpectRejected(kV1AppConfigs, AndroidConfigBody(),
                 "mobileAppConfiguration: unsupported @odata.type");
}

TEST_F(AppConfigurationsTest, ServesIosPoliciesUnderV1WithoutBetaProperties) {
  Start();
  ServerResponse r = Call("POST", kV1AppConfigs, IosConfigBody());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_FALSE(BodyOf(r).contains("roleScopeTagIds"));
  const std::string id = BodyOf(r)["id"];
  EXPECT_EQ(BodyOf(Call("GET", Path(id)))["roleScopeTagIds"], json::array({"0"}));
  json with_tags = IosConfigBody();
  with_tags["roleScopeTagIds"] = json::array({"0"});
  ExpectRejected(kV1AppConfigs, with_tags, "mobileAppConfiguration: unknown property");
  EXPECT_EQ(Call("POST", kAppConfigs, with_tags).status, 201);
}

TEST_F(AppConfigurationsTest, AcceptsEnumsInAnyCaseAndAnswersCamelCase) {
  Start();
  json ios = IosConfigBody();
  ios["settings"] =
      json::array({SettingItem("k1", "BooleanType", "true"), SettingItem("k2", "INTEGERTYPE", "3"),
                   SettingItem("k3", "tokentype", "{{mail}}")});
  ServerResponse r = Call("POST", kAppConfigs, ios);
  ASSERT_EQ(r.status, 201) << r.body;
  json settings = BodyOf(r)["settings"];
  EXPECT_EQ(settings[0]["appConfigKeyType"], "booleanType");
  EXPECT_EQ(settings[1]["appConfigKeyType"], "integerType");
  EXPECT_EQ(settings[2]["appConfigKeyType"], "tokenType");

  json android = AndroidConfigBody();
  android["profileApplicability"] = "AndroidDeviceOwner";
  android["permissionActions"][0]["action"] = "AutoDeny";
  r = Call("POST", kAppConfigs, android);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(BodyOf(r)["profileApplicability"], "androidDeviceOwner");
  EXPECT_EQ(BodyOf(r)["permissionActions"][0]["action"], "autoDeny");
}

TEST_F(AppConfigurationsTest, StrictValidation) {
  Start();
  json type = IosConfigBody();
  type["@odata.type"] = "#microsoft.graph.windowsMobileAppConfiguration";
  ExpectRejected(kAppConfigs, type, "mobileAppConfiguration: unsupported @odata.type");
  json no_type = IosConfigBody();
  no_type.erase("@odata.type");
  ExpectRejected(kAppConfigs, no_type, "mobileAppConfiguration: missing @odata.type");
  json unknown = IosConfigBody();
  unknown["customSettings"] = json::array();  // A targetedManagedAppConfiguration property.
  ExpectRejected(kAppConfigs, unknown, "mobileAppConfiguration: unknown property");
  json no_name = IosConfigBody();
  no_name.erase("displayName");
  ExpectRejected(kAppConfigs, no_name, "mobileAppConfiguration: missing property");
  json bad_enum = IosConfigBody();
  bad_enum["settings"][0]["appConfigKeyType"] = "bool";
  ExpectRejected(kAppConfigs, bad_enum, "mobileAppConfiguration: invalid settings");
  json item_field = IosConfigBody();
  item_field["settings"][0]["name"] = "x";
  json item_type = IosConfigBody();
  item_type["settings"][0]["@odata.type"] = "#microsoft.graph.keyValuePair";
  json value_type = IosConfigBody();
  value_type["settings"][0]["appConfigKeyValue"] = true;  // Always a string.
  json null_settings = IosConfigBody();
  null_settings["settings"] = nullptr;
  for (const json& body : {item_field, item_type, value_type, null_settings}) {
    EXPECT_EQ(Call("POST", kAppConfigs, body).status, 400) << body.dump();
  }
  json xml = IosConfigBody();
  xml["encodedSettingXml"] = "<dict/>";
  ExpectRejected(kAppConfigs, xml, "mobileAppConfiguration: invalid encodedSettingXml");
  json bad_applicability = AndroidConfigBody();
  bad_applicability["profileApplicability"] = "workProfile";
  ExpectRejected(kAppConfigs, bad_applicability,
                 "mobileAppConfiguration: invalid profileApplicability");
  EXPECT_TRUE(tenant_->State()["mobileAppConfigurations"].empty());

  json good_xml = IosConfigBody();
  good_xml["encodedSettingXml"] = Base64Encode("<dict><key>k</key><string>v</string></dict>");
  EXPECT_EQ(Call("POST", kAppConfigs, good_xml).status, 201);
}

TEST_F(AppConfigurationsTest, TargetedAppsMustExistAndMatchThePlatform) {
  Start();
  ExpectRejected(kAppConfigs, IosConfigBody("22222222-0000-0000-0000-000000000000"),
                 "mobileAppConfiguration: targeted app not found");
  ExpectRejected(kAppConfigs, IosConfigBody(kOutlookAndroid),
                 "mobileAppConfiguration: targeted app of another platform");
  EXPECT_EQ(Call("POST", kAppConfigs, AndroidConfigBody(kOutlookIos)).status, 400);
  EXPECT_TRUE(tenant_->State()["mobileAppConfigurations"].empty());

  // Without the seeded apps, Outlook must be added first.
  tenant_.reset();
  options_.outlook_apps = false;
  Start();
  EXPECT_EQ(Call("POST", kAppConfigs, IosConfigBody()).status, 400);
  ServerResponse app = Call("POST", kApps, IosStoreAppBody());
  ASSERT_EQ(app.status, 201) << app.body;
  EXPECT_EQ(Call("POST", kAppConfigs, IosConfigBody(BodyOf(app)["id"])).status, 201);
}

TEST_F(AppConfigurationsTest, PatchReplacesSettingsAndBumpsTheVersion) {
  Start();
  const std::string id = CreateIos();
  clock_.Advance(std::chrono::seconds(30));
  json patch = {{"@odata.type", "#microsoft.graph.iosMobileAppConfiguration"},
                {"settings", json::array({SettingItem("com.microsoft.outlook.Mail.SMIMEEnabled."
                                                      "EncryptAllMail",
                                                      "booleanType", "true")})}};
  ServerResponse r = Call("PATCH", Path(id), patch);
  ASSERT_EQ(r.status, 200) << r.body;
  json updated = BodyOf(r);
  EXPECT_EQ(updated["version"], 2);
  ASSERT_EQ(updated["settings"].size(), 1u);  // Replaced whole, not merged.
  EXPECT_EQ(updated["settings"][0]["appConfigKey"],
            "com.microsoft.outlook.Mail.SMIMEEnabled.EncryptAllMail");
  EXPECT_EQ(updated["displayName"], "Outlook S/MIME");
  EXPECT_EQ(updated["lastModifiedDateTime"], FormatRfc3339Utc(clock_.Now()));
  EXPECT_NE(updated["lastModifiedDateTime"], updated["createdDateTime"]);
  EXPECT_EQ(BodyOf(Call("GET", Path(id)))["settings"], updated["settings"]);

  // Without @odata.type only the base type's properties are known.
  r = Call("PATCH", Path(id), {{"displayName", "Renamed"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r)["version"], 3);
  EXPECT_EQ(Call("PATCH", Path(id), {{"settings", json::array()}}).status, 400);
  ExpectRejected(Path(id),
                 {{"@odata.type", "#microsoft.graph.androidManagedStoreAppConfiguration"}},
                 "mobileAppConfiguration: type change", "PATCH");
  EXPECT_EQ(
      Call("PATCH", Path(id), {{"targetedMobileApps", json::array({kOutlookAndroid})}}).status,
      400);
  EXPECT_EQ(
      Call("PATCH", Path("33333333-0000-0000-0000-000000000000"), {{"description", "d"}}).status,
      404);
  EXPECT_EQ(BodyOf(Call("GET", Path(id)))["version"], 3);  // Refusals changed nothing.

  EXPECT_EQ(Call("DELETE", Path(id)).status, 204);
  EXPECT_EQ(Call("GET", Path(id)).status, 404);
  EXPECT_EQ(Call("DELETE", Path(id)).status, 404);
}

TEST_F(AppConfigurationsTest, AssignThroughTheTypeCastReplacesTheSetAndAnswers204) {
  Start();
  const std::string id = CreateIos();
  // The documented short form is refused as the service refuses it; nothing is assigned.
  ServerResponse r = Call("POST", Path(id, "/assign"),
                          {{"assignments", json::array({GroupAssignment(kGroup1)})}});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, ::testing::HasSubstr("No method match route template"));
  EXPECT_TRUE(BodyOf(Call("GET", Path(id, "/assignments")))["value"].empty());
  r = Call(
      "POST", Path(id, "/microsoft.graph.managedDeviceMobileAppConfiguration/assign"),
      {{"assignments", json::array({GroupAssignment(kGroup1), GroupAssignment(kGroup2, true)})}});
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_TRUE(r.body.empty());
  json listed = BodyOf(Call("GET", Path(id, "/assignments")));
  ASSERT_EQ(listed["value"].size(), 2u);
  EXPECT_EQ(listed["value"][0]["id"], id + "_" + kGroup1);
  EXPECT_EQ(listed["value"][0]["@odata.type"],
            "#microsoft.graph.managedDeviceMobileAppConfigurationAssignment");
  EXPECT_EQ(listed["value"][1]["target"]["@odata.type"],
            "#microsoft.graph.exclusionGroupAssignmentTarget");
  EXPECT_EQ(listed["value"][1]["target"]["deviceAndAppManagementAssignmentFilterType"], "none");

  // The cast-segment form, with the '#'-less target type of Graph's own example.
  r = Call("POST", Path(id, "/microsoft.graph.managedDeviceMobileAppConfiguration/assign"),
           {{"assignments", json::array({GroupAssignment(kGroup3, false, false)})}});
  ASSERT_EQ(r.status, 204) << r.body;
  listed = BodyOf(Call("GET", Path(id, "/assignments")));
  ASSERT_EQ(listed["value"].size(), 1u);
  EXPECT_EQ(listed["value"][0]["target"]["groupId"], kGroup3);
  EXPECT_EQ(listed["value"][0]["target"]["@odata.type"], "#microsoft.graph.groupAssignmentTarget");
  json one = BodyOf(Call("GET", Path(id, "/assignments/" + id + "_" + kGroup3)));
  EXPECT_EQ(one["target"]["groupId"], kGroup3);
  EXPECT_EQ(Call("GET", Path(id, "/assignments/nope")).status, 404);

  json expanded = BodyOf(Call("GET", Path(id) + "?$expand=assignments"));
  ASSERT_EQ(expanded["assignments"].size(), 1u);
  json expanded_list = BodyOf(Call("GET", std::string(kAppConfigs) + "?$expand=assignments"));
  EXPECT_EQ(expanded_list["value"][0]["assignments"].size(), 1u);
  json state = tenant_->State()["mobileAppConfigurations"][0]["assignments"];
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0]["id"], id + "_" + kGroup3);

  // An empty set removes every assignment; all-users and all-devices targets are accepted.
  EXPECT_EQ(Call("POST", Path(id, kAssign), {{"assignments", json::array()}}).status, 204);
  EXPECT_TRUE(BodyOf(Call("GET", Path(id, "/assignments")))["value"].empty());
  json all = {
      {"assignments",
       json::array(
           {json{{"target", {{"@odata.type", "microsoft.graph.allLicensedUsersAssignmentTarget"}}}},
            json{{"target", {{"@odata.type", "#microsoft.graph.allDevicesAssignmentTarget"}}}}})}};
  EXPECT_EQ(Call("POST", Path(id, kAssign), all).status, 204);
  EXPECT_EQ(BodyOf(Call("GET", Path(id, "/assignments")))["value"].size(), 2u);
  EXPECT_EQ(Stats().writes_applied, 5u);  // create + 4 assigns.
}

TEST_F(AppConfigurationsTest, AssignValidation) {
  Start();
  const std::string id = CreateIos();
  const std::string assign = Path(id, kAssign);
  ExpectRejected(assign, {{"assignments", json::array({GroupAssignment("not-a-guid")})}},
                 "mobileAppConfiguration: invalid assignment target");
  json intent = GroupAssignment(kGroup1);
  intent["intent"] = "apply";  // A deviceConfigurationAssignment property, not this type's.
  ExpectRejected(assign, {{"assignments", json::array({intent})}},
                 "mobileAppConfiguration: unknown property");
  ExpectRejected(
      assign, {{"assignments", json::array({GroupAssignment(kGroup1), GroupAssignment(kGroup1)})}},
      "mobileAppConfiguration: duplicate assignment target");
  json wrong_type = GroupAssignment(kGroup1);
  wrong_type["@odata.type"] = "#microsoft.graph.deviceConfigurationAssignment";
  EXPECT_EQ(Call("POST", assign, {{"assignments", json::array({wrong_type})}}).status, 400);
  json user_target = {{"target", {{"@odata.type", "#microsoft.graph.userAssignmentTarget"}}}};
  EXPECT_EQ(Call("POST", assign, {{"assignments", json::array({user_target})}}).status, 400);
  EXPECT_EQ(Call("POST", assign, {{"target", "x"}}).status, 400);
  EXPECT_EQ(Call("POST", assign, json::object()).status, 400);
  EXPECT_EQ(Call("POST", Path("33333333-0000-0000-0000-000000000000", kAssign),
                 {{"assignments", json::array()}})
                .status,
            404);
  EXPECT_EQ(Call("GET", assign).status, 405);
  EXPECT_EQ(Call("POST", Path(id, "/microsoft.graph.iosMobileAppConfiguration/assign"),
                 {{"assignments", json::array()}})
                .status,
            400);
  EXPECT_TRUE(BodyOf(Call("GET", Path(id, "/assignments")))["value"].empty());
}

TEST_F(AppConfigurationsTest, WritesTakeTheBudgetAndBatchItemsWork) {
  options_.write_limit = 2;
  Start();
  json batch = {
      {"requests",
       json::array(
           {json{{"id", "1"},
                 {"method", "POST"},
                 {"url", "/deviceAppManagement/mobileAppConfigurations"},
                 {"headers", {{"Content-Type", "application/json"}}},
                 {"body", IosConfigBody()}},
            json{{"id", "2"}, {"method", "GET"}, {"url", "/deviceAppManagement/mobileApps"}}})}};
  ServerResponse r = Call("POST", "/beta/$batch", batch);
  ASSERT_EQ(r.status, 200) << r.body;
  json responses = BodyOf(r)["responses"];
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0]["status"], 201) << responses.dump();
  EXPECT_EQ(responses[1]["body"]["value"].size(), 2u);
  const std::string id = responses[0]["body"]["id"];
  EXPECT_EQ(Call("POST", Path(id, kAssign), {{"assignments", json::array()}}).status, 204);
  ServerResponse throttled = Call("PATCH", Path(id), {{"displayName", "x"}});
  EXPECT_EQ(throttled.status, 429);
  EXPECT_FALSE(HeaderOf(throttled, "retry-after").empty());
  SandboxStats stats = Stats();
  EXPECT_EQ(stats.writes, 2u);
  EXPECT_EQ(stats.writes_applied, 2u);
  EXPECT_EQ(stats.throttled, 1u);
  EXPECT_EQ(stats.batch_items, 2u);
  EXPECT_EQ(BodyOf(Call("GET", Path(id)))["displayName"], "Outlook S/MIME");
}

TEST_F(AppConfigurationsTest, DroppedAnswersStillCommit) {
  options_.drop_rate = 1.0;
  Start();
  ServerResponse r = Call("POST", kAppConfigs, IosConfigBody());
  EXPECT_TRUE(r.drop_connection);
  EXPECT_EQ(Stats().dropped, 1u);
  EXPECT_EQ(tenant_->State()["mobileAppConfigurations"].size(), 1u);
  // A refusal commits nothing, so it is answered.
  EXPECT_EQ(Call("POST", kAppConfigs, IosConfigBody(kOutlookAndroid)).status, 400);
}

TEST_F(AppConfigurationsTest, JournalReplayKeepsAppsConfigurationsAndAssignments) {
  const std::string path =
      ::testing::TempDir() + "/sandbox_app_journal_" + std::to_string(::getpid()) + ".jsonl";
  std::remove(path.c_str());
  options_.state_file = path;
  Start();
  ServerResponse app = Call("POST", kApps, IosStoreAppBody());
  ASSERT_EQ(app.status, 201);
  ASSERT_EQ(Call("DELETE", std::string(kApps) + "/" + kOutlookAndroid).status, 204);
  const std::string id = CreateIos();
  ASSERT_EQ(Call("PATCH", Path(id), {{"description", "patched"}}).status, 200);
  ASSERT_EQ(
      Call("POST", Path(id, kAssign), {{"assignments", json::array({GroupAssignment(kGroup1)})}})
          .status,
      204);
  const std::string gone = CreateIos();
  ASSERT_EQ(Call("DELETE", Path(gone)).status, 204);
  json before = tenant_->State();
  tenant_.reset();

  Start();
  EXPECT_EQ(tenant_->State(), before);
  json configs = tenant_->State()["mobileAppConfigurations"];
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0]["version"], 2);
  EXPECT_EQ(configs[0]["description"], "patched");
  EXPECT_EQ(configs[0]["assignments"][0]["target"]["groupId"], kGroup1);
  EXPECT_EQ(Call("GET", std::string(kApps) + "/" + kOutlookAndroid).status, 404);
  EXPECT_EQ(BodyOf(Call("GET", std::string(kApps) + "/" +
                                   BodyOf(app)["id"].get<std::string>()))["bundleId"],
            "com.contoso.mail");

  // A journaled reset brings the seeded apps back on replay too.
  ASSERT_EQ(tenant_->Handle(MakeRequest("POST", "/_sandbox/reset")).status, 204);
  tenant_.reset();
  Start();
  json state = tenant_->State();
  EXPECT_TRUE(state["mobileAppConfigurations"].empty());
  ASSERT_EQ(state["mobileApps"].size(), 2u);
  EXPECT_EQ(state["mobileApps"][1]["id"], kOutlookAndroid);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace certdeploy::sandbox::testing
