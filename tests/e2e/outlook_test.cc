// End-to-end tests of the Outlook app configuration (config `outlook:`) against
// `certdeploy sandbox`: the policies `apply` creates for iOS and Android Enterprise, that a second
// apply writes nothing, a settings change, a policy an admin made in the portal, and a tenant
// without Outlook. Types and keys are Graph's and Exchange's (docs/outlook.md cites them).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "base/encoding.h"
#include "tests/e2e/plan_apply_fixtures.h"

namespace certdeploy::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kSmime[] = "com.microsoft.outlook.Mail.SMIMEEnabled";

class OutlookTest : public ::testing::Test {
 protected:
  void Start(const std::vector<std::string>& platforms, const std::string& outlook,
             std::vector<std::string> sandbox_flags = {}) {
    sandbox_ = std::make_unique<SandboxProcess>(dir_.path().string(), std::move(sandbox_flags));
    ASSERT_TRUE(sandbox_->started()) << ReadText(dir_.File("sandbox.log"));
    options_.platforms = platforms;
    options_.extra = outlook;
    config_ = WriteConfig(dir_, sandbox_->url(), options_);
    std::string csv = "userPrincipalName,pfxFile,passwordFile\n";
    for (const char* n : {"alice", "bob"}) {
      csv += std::string(n) + "@contoso.com," + kPki + "/" + n + ".pfx," + kPki + "/password.txt\n";
    }
    manifest_ = dir_.Write("manifest.csv", csv);
  }
  void Reconfigure(const std::string& outlook) {
    options_.extra = outlook;
    config_ = WriteConfig(dir_, sandbox_->url(), options_);
  }
  CommandResult Apply() {
    return Certdeploy({"apply", "--config", config_, "--manifest", manifest_, "--yes"});
  }
  CommandResult Plan() {
    return Certdeploy({"plan", "--config", config_, "--manifest", manifest_});
  }
  uint64_t Writes() { return Counter(sandbox_->Stats(), "writes"); }
  // The app configurations by @odata.type.
  std::map<std::string, nlohmann::json> Policies() {
    std::map<std::string, nlohmann::json> out;
    const nlohmann::json state = sandbox_->State();
    for (const nlohmann::json& c : state["mobileAppConfigurations"]) {
      out[c["@odata.type"].get<std::string>()] = c;
    }
    return out;
  }
  std::string AppId(const std::string& odata_type) {
    const nlohmann::json state = sandbox_->State();
    for (const nlohmann::json& app : state["mobileApps"]) {
      if (app["@odata.type"] == odata_type) return app["id"];
    }
    return "";
  }
  static std::map<std::string, std::string> IosSettings(const nlohmann::json& policy) {
    std::map<std::string, std::string> out;
    for (const nlohmann::json& s : policy["settings"]) {
      out[s["appConfigKey"].get<std::string>()] = s["appConfigKeyValue"].get<std::string>();
    }
    return out;
  }

  TempDir dir_;
  ConfigOptions options_;
  std::unique_ptr<SandboxProcess> sandbox_;
  std::string config_;
  std::string manifest_;
};

TEST_F(OutlookTest, EveryPlatformWithOutlookCreatesDocumentedTypesAndASecondApplyWritesNothing) {
  Start({"ios", "macos", "androidWorkProfile", "androidDeviceOwner", "windows"},
        "outlook:\n  smimeEnabled: true\n  signAllMail: true\n");
  CommandResult first = Apply();
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_THAT(first.out, HasSubstr("createAppConfiguration"));

  std::map<std::string, nlohmann::json> policies = Policies();
  ASSERT_EQ(policies.size(), 2u);
  const nlohmann::json& ios = policies["#microsoft.graph.iosMobileAppConfiguration"];
  ASSERT_TRUE(ios.is_object());
  EXPECT_EQ(ios["targetedMobileApps"], nlohmann::json::array({AppId("#microsoft.graph.iosStoreApp")}));
  std::map<std::string, std::string> settings = IosSettings(ios);
  EXPECT_EQ(settings.size(), 6u);
  EXPECT_EQ(settings[kSmime], "true");
  EXPECT_EQ(settings[std::string(kSmime) + ".UserChangeAllowed"], "false");
  EXPECT_EQ(settings[std::string(kSmime) + ".SignAllMail"], "true");
  for (const nlohmann::json& s : ios["settings"]) EXPECT_EQ(s["appConfigKeyType"], "booleanType");

  const nlohmann::json& android = policies["#microsoft.graph.androidManagedStoreAppConfiguration"];
  ASSERT_TRUE(android.is_object());
  EXPECT_EQ(android["targetedMobileApps"],
            nlohmann::json::array({AppId("#microsoft.graph.androidManagedStoreApp")}));
  std::optional<std::string> payload = Base64Decode(android["payloadJson"].get<std::string>());
  ASSERT_TRUE(payload.has_value());
  nlohmann::json managed = nlohmann::json::parse(*payload);
  EXPECT_EQ(managed["productId"], "app:com.microsoft.office.outlook");
  EXPECT_EQ(managed["managedProperty"][0], (nlohmann::json{{"key", kSmime}, {"valueBool", true}}));
  for (const auto& [type, policy] : policies) {
    ASSERT_EQ(policy["assignments"].size(), 1u) << policy.dump();
    EXPECT_EQ(policy["assignments"][0]["target"]["groupId"], kGroupId);
  }
  // The certificate profiles of all five platforms are there too, and nothing was refused.
  EXPECT_EQ(CountByType(sandbox_->State()).size(), 10u);
  EXPECT_EQ(sandbox_->State()["userPfxCertificates"].size(), 2u);
  EXPECT_TRUE(sandbox_->Stats()["rejections"].empty()) << sandbox_->Stats().dump();

  const uint64_t writes = Writes();
  CommandResult second = Apply();
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_THAT(second.out, HasSubstr("No changes"));
  EXPECT_EQ(Writes(), writes);
}

TEST_F(OutlookTest, ASettingsChangeIsOnePatchAndPortalKeysAreKept) {
  Start({"ios"}, "");
  // An admin made an Outlook policy in the portal: account setup plus S/MIME off.
  const std::string outlook_app = AppId("#microsoft.graph.iosStoreApp");
  ASSERT_FALSE(outlook_app.empty());
  auto [status, made] = sandbox_->Post(
      "/beta/deviceAppManagement/mobileAppConfigurations",
      {{"@odata.type", "#microsoft.graph.iosMobileAppConfiguration"},
       {"displayName", "Outlook (portal)"},
       {"targetedMobileApps", {outlook_app}},
       {"settings",
        {{{"appConfigKey", "com.microsoft.outlook.EmailProfile.AccountType"},
          {"appConfigKeyType", "stringType"},
          {"appConfigKeyValue", "ModernAuth"}},
         {{"appConfigKey", kSmime},
          {"appConfigKeyType", "booleanType"},
          {"appConfigKeyValue", "false"}}}}});
  ASSERT_EQ(status, 201) << made.dump();
  // It is assigned to every licensed user: that assignment must stay.
  auto [assigned, answer] = sandbox_->Post(
      "/beta/deviceAppManagement/mobileAppConfigurations/" + made["id"].get<std::string>() +
          "/microsoft.graph.managedDeviceMobileAppConfiguration/assign",
      {{"assignments",
        {{{"@odata.type", "#microsoft.graph.managedDeviceMobileAppConfigurationAssignment"},
          {"target", {{"@odata.type", "#microsoft.graph.allLicensedUsersAssignmentTarget"}}}}}}});
  ASSERT_EQ(assigned, 204) << answer.dump();

  Reconfigure("outlook:\n  smimeEnabled: true\n");
  CommandResult plan = Plan();
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("~ updateAppConfiguration"));
  EXPECT_THAT(plan.out, HasSubstr(std::string(kSmime) + " false -> true"));
  CommandResult apply = Apply();
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  std::map<std::string, nlohmann::json> policies = Policies();
  ASSERT_EQ(policies.size(), 1u);  // The portal's policy, not a second one.
  std::map<std::string, std::string> settings =
      IosSettings(policies["#microsoft.graph.iosMobileAppConfiguration"]);
  EXPECT_EQ(settings["com.microsoft.outlook.EmailProfile.AccountType"], "ModernAuth");
  EXPECT_EQ(settings[kSmime], "true");
  const nlohmann::json& assignments =
      policies["#microsoft.graph.iosMobileAppConfiguration"]["assignments"];
  ASSERT_EQ(assignments.size(), 2u) << assignments.dump();
  std::set<std::string> targets;
  for (const nlohmann::json& a : assignments) targets.insert(a["target"]["@odata.type"]);
  EXPECT_EQ(targets, (std::set<std::string>{"#microsoft.graph.allLicensedUsersAssignmentTarget",
                                            "#microsoft.graph.groupAssignmentTarget"}));

  // Encrypt everything from now on: one PATCH, nothing else.
  Reconfigure("outlook:\n  encryptAllMail: true\n");
  const uint64_t writes = Writes();
  CommandResult change = Apply();
  ASSERT_EQ(change.exit_code, 0) << change.out << change.err;
  EXPECT_EQ(Writes(), writes + 1);
  EXPECT_EQ(IosSettings(Policies()["#microsoft.graph.iosMobileAppConfiguration"])
                [std::string(kSmime) + ".EncryptAllMail"],
            "true");
  EXPECT_THAT(Apply().out, HasSubstr("No changes"));
}

TEST_F(OutlookTest, ATenantWithoutOutlookIsRefusedClearly) {
  Start({"ios", "androidWorkProfile"}, "outlook:\n  platforms: [ios, android]\n",
        {"--without-outlook"});
  CommandResult plan = Plan();
  EXPECT_EQ(plan.exit_code, 1) << plan.out << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("! invalid"));
  EXPECT_THAT(plan.out, HasSubstr("Outlook for iOS (bundle id com.microsoft.Office.Outlook) is "
                                  "not among the tenant's apps"));
  EXPECT_THAT(plan.out, HasSubstr("com.microsoft.office.outlook"));
  EXPECT_THAT(plan.out, HasSubstr("outlook-not-in-tenant"));
  CommandResult apply = Apply();
  EXPECT_EQ(apply.exit_code, 1) << apply.out << apply.err;
  EXPECT_THAT(apply.out, HasSubstr("Not done: Outlook app configuration (ios)"));
  EXPECT_TRUE(sandbox_->State()["mobileAppConfigurations"].empty());
}

}  // namespace
}  // namespace certdeploy::testing
