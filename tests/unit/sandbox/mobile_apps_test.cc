// deviceAppManagement/mobileApps: the seeded Outlook apps, store app CRUD, v1.0 vs beta types,
// strict validation, filters and paging.

#include "tests/unit/sandbox/app_management_test_support.h"

namespace certdeploy::sandbox::testing {
namespace {

class MobileAppsTest : public SandboxTest {
 protected:
  void ExpectRejected(const std::string& target, const json& body, const std::string& reason) {
    ServerResponse r = Call("POST", target, body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(BodyOf(r)["error"]["code"], "BadRequest") << r.body;
    EXPECT_EQ(Stats().rejections[reason], 1u) << reason << ": " << r.body;
  }

  std::vector<std::string> ListedIds(const std::string& target) {
    ServerResponse r = Call("GET", target);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    const json body = BodyOf(r);
    for (const auto& app : body["value"]) ids.push_back(app["id"]);
    return ids;
  }
};

TEST_F(MobileAppsTest, SeedsOutlookForIosAndAndroidWithoutWriting) {
  Start();
  EXPECT_EQ(ListedIds(kApps), (std::vector<std::string>{kOutlookIos, kOutlookAndroid}));
  json ios = BodyOf(Call("GET", std::string(kApps) + "/" + kOutlookIos));
  EXPECT_EQ(ios["@odata.type"], "#microsoft.graph.iosStoreApp");
  EXPECT_EQ(ios["displayName"], "Microsoft Outlook");
  EXPECT_EQ(ios["publisher"], "Microsoft Corporation");
  EXPECT_EQ(ios["bundleId"], "com.microsoft.Office.Outlook");
  EXPECT_EQ(ios["applicableDeviceType"], (json{{"iPad", true}, {"iPhoneAndIPod", true}}));
  EXPECT_EQ(ios["minimumSupportedOperatingSystem"]["v16_0"], true);
  EXPECT_EQ(ios["minimumSupportedOperatingSystem"]["v8_0"], false);
  EXPECT_EQ(ios["publishingState"], "published");
  json android = BodyOf(Call("GET", std::string(kApps) + "('" + kOutlookAndroid + "')"));
  EXPECT_EQ(android["@odata.type"], "#microsoft.graph.androidManagedStoreApp");
  EXPECT_EQ(android["displayName"], "Microsoft Outlook");
  EXPECT_EQ(android["publisher"], "Microsoft Corporation");
  EXPECT_EQ(android["packageId"], "com.microsoft.office.outlook");
  EXPECT_EQ(android["appIdentifier"], "com.microsoft.office.outlook");

  SandboxStats stats = Stats();
  EXPECT_EQ(stats.writes, 0u);
  EXPECT_EQ(stats.writes_applied, 0u);
  json state = tenant_->State()["mobileApps"];
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0]["id"], kOutlookIos);
  EXPECT_TRUE(tenant_->State()["mobileAppConfigurations"].empty());
}

TEST_F(MobileAppsTest, NoSeededAppsWithoutOutlookApps) {
  options_.outlook_apps = false;
  Start();
  EXPECT_TRUE(ListedIds(kApps).empty());
  EXPECT_EQ(Call("GET", std::string(kApps) + "/" + kOutlookIos).status, 404);
  EXPECT_TRUE(tenant_->State()["mobileApps"].empty());
  // Nor does a reset bring them.
  EXPECT_EQ(tenant_->Handle(MakeRequest("POST", "/_sandbox/reset")).status, 204);
  EXPECT_TRUE(ListedIds(kApps).empty());
}

TEST_F(MobileAppsTest, ResetReseedsTheOutlookApps) {
  Start();
  ASSERT_EQ(Call("DELETE", std::string(kApps) + "/" + kOutlookIos).status, 204);
  ASSERT_EQ(Call("POST", kApps, IosStoreAppBody()).status, 201);
  EXPECT_EQ(ListedIds(kApps).size(), 2u);  // Android Outlook + Contoso Mail.
  EXPECT_EQ(tenant_->Handle(MakeRequest("POST", "/_sandbox/reset")).status, 204);
  EXPECT_EQ(ListedIds(kApps), (std::vector<std::string>{kOutlookIos, kOutlookAndroid}));
  EXPECT_EQ(Stats().writes, 0u);
  EXPECT_EQ(Stats().writes_applied, 0u);
}

TEST_F(MobileAppsTest, CreatesReadsUpdatesAndDeletesAnIosStoreApp) {
  Start();
  clock_.Advance(std::chrono::seconds(5));
  ServerResponse r = Call("POST", kApps, IosStoreAppBody());
  ASSERT_EQ(r.status, 201) << r.body;
  json created = BodyOf(r);
  const std::string id = created["id"];
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(created["@odata.type"], "#microsoft.graph.iosStoreApp");
  EXPECT_EQ(created["@odata.context"],
            std::string(kBase) + "/beta/$metadata#deviceAppManagement/mobileApps/$entity");
  EXPECT_EQ(created["bundleId"], "com.contoso.mail");
  EXPECT_EQ(created["minimumSupportedOperatingSystem"]["v15_0"], true);
  EXPECT_FALSE(created["minimumSupportedOperatingSystem"].contains("@odata.type"));
  EXPECT_EQ(created["isFeatured"], false);
  EXPECT_EQ(created["roleScopeTagIds"], json::array({"0"}));
  EXPECT_EQ(created["createdDateTime"], created["lastModifiedDateTime"]);
  EXPECT_EQ(Stats().writes_applied, 1u);

  clock_.Advance(std::chrono::seconds(5));
  r = Call("PATCH", std::string(kApps) + "/" + id,
           {{"@odata.type", "#microsoft.graph.iosStoreApp"},
            {"notes", "renamed"},
            {"isFeatured", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r)["notes"], "renamed");
  EXPECT_EQ(BodyOf(r)["isFeatured"], true);
  EXPECT_EQ(BodyOf(r)["bundleId"], "com.contoso.mail");
  EXPECT_NE(BodyOf(r)["lastModifiedDateTime"], created["lastModifiedDateTime"]);
  EXPECT_EQ(Call("PATCH", std::string(kApps) + "/" + id,
                 {{"@odata.type", "#microsoft.graph.androidManagedStoreApp"}, {"notes", "x"}})
                .status,
            400);
  // Without @odata.type only mobileApp's own properties are known.
  EXPECT_EQ(Call("PATCH", std::string(kApps) + "/" + id, {{"bundleId", "x"}}).status, 400);

  EXPECT_EQ(Call("DELETE", std::string(kApps) + "/" + id).status, 204);
  EXPECT_EQ(Call("GET", std::string(kApps) + "/" + id).status, 404);
  EXPECT_EQ(Call("DELETE", std::string(kApps) + "/" + id).status, 404);
  EXPECT_EQ(Call("PUT", std::string(kApps) + "/" + id, IosStoreAppBody()).status, 405);
}

TEST_F(MobileAppsTest, AndroidManagedStoreAppsExistOnlyInBeta) {
  Start();
  json body = {{"@odata.type", "#microsoft.graph.androidManagedStoreApp"},
               {"displayName", "Contoso Mail"},
               {"publisher", "Contoso"},
               {"packageId", "com.contoso.mail"},
               {"appIdentifier", "com.contoso.mail"},
               {"isSystemApp", false}};
  ServerResponse r = Call("POST", kApps, body);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(BodyOf(r)["packageId"], "com.contoso.mail");
  ExpectRejected(kV1Apps, body, "mobileApp: unsupported @odata.type");
  // Under v1.0 the Android apps are invisible and the beta-only properties absent.
  EXPECT_EQ(ListedIds(kV1Apps), (std::vector<std::string>{kOutlookIos}));
  EXPECT_EQ(Call("GET", std::string(kV1Apps) + "/" + kOutlookAndroid).status, 404);
  json ios = BodyOf(Call("GET", std::string(kV1Apps) + "/" + kOutlookIos));
  EXPECT_EQ(ios["bundleId"], "com.microsoft.Office.Outlook");
  EXPECT_FALSE(ios.contains("roleScopeTagIds"));
  EXPECT_FALSE(ios.contains("uploadState"));
  json with_tags = IosStoreAppBody();
  with_tags["roleScopeTagIds"] = json::array({"0"});
  ExpectRejected(kV1Apps, with_tags, "mobileApp: unknown property");
  EXPECT_EQ(Call("POST", kV1Apps, IosStoreAppBody()).status, 201);
}

TEST_F(MobileAppsTest, StrictValidation) {
  Start();
  json unknown = IosStoreAppBody();
  unknown["bundleIdentifier"] = "x";
  ExpectRejected(kApps, unknown, "mobileApp: unknown property");
  json no_bundle = IosStoreAppBody();
  no_bundle.erase("bundleId");
  ExpectRejected(kApps, no_bundle, "mobileApp: missing property");
  json no_type = IosStoreAppBody();
  no_type.erase("@odata.type");
  ExpectRejected(kApps, no_type, "mobileApp: missing @odata.type");
  json vpp = IosStoreAppBody();
  vpp["@odata.type"] = "#microsoft.graph.iosVppApp";  // Synced from Apple, never created.
  ExpectRejected(kApps, vpp, "mobileApp: unsupported @odata.type");
  json device = IosStoreAppBody();
  device["applicableDeviceType"]["appleWatch"] = true;
  ExpectRejected(kApps, device, "mobileApp: invalid applicableDeviceType");
  json icon = IosStoreAppBody();
  icon["largeIcon"] = {{"type", "image/png"}, {"value", "not base64!"}};
  ExpectRejected(kApps, icon, "mobileApp: invalid largeIcon");
  json featured = IosStoreAppBody();
  featured["isFeatured"] = nullptr;
  ExpectRejected(kApps, featured, "mobileApp: invalid isFeatured");
  json state = IosStoreAppBody();
  state["publishingState"] = "live";
  ExpectRejected(kApps, state, "mobileApp: invalid publishingState");
  EXPECT_EQ(tenant_->State()["mobileApps"].size(), 2u);  // Only the seeded ones.

  // Read-only properties are accepted and ignored, enums in any case.
  json read_only = IosStoreAppBody();
  read_only["publishingState"] = "Processing";
  read_only["id"] = "ignored";
  ServerResponse r = Call("POST", kApps, read_only);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(BodyOf(r)["publishingState"], "published");
  EXPECT_NE(BodyOf(r)["id"], "ignored");
}

TEST_F(MobileAppsTest, FiltersByTypeAndIdentifierAndPages) {
  options_.page_size = 5;
  Start();
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(Call("POST", kApps, IosStoreAppBody("App " + std::to_string(i))).status, 201);
  }
  std::string isof = PercentEncode("isof('microsoft.graph.androidManagedStoreApp')");
  EXPECT_EQ(ListedIds(std::string(kApps) + "?$filter=" + isof),
            (std::vector<std::string>{kOutlookAndroid}));
  std::string bundle = PercentEncode("bundleId eq 'com.microsoft.Office.Outlook'");
  EXPECT_EQ(ListedIds(std::string(kApps) + "?$filter=" + bundle),
            (std::vector<std::string>{kOutlookIos}));
  std::string lower = PercentEncode("tolower(packageId) eq 'com.microsoft.office.outlook'");
  EXPECT_EQ(ListedIds(std::string(kApps) + "?$filter=" + lower),
            (std::vector<std::string>{kOutlookAndroid}));

  std::vector<std::string> all;
  std::string target = kApps;
  int pages = 0;
  while (!target.empty()) {
    json page = BodyOf(Call("GET", target));
    for (const auto& app : page["value"]) all.push_back(app["id"]);
    ++pages;
    target = page.contains("@odata.nextLink")
                 ? page["@odata.nextLink"].get<std::string>().substr(std::string(kBase).size())
                 : "";
  }
  EXPECT_EQ(pages, 2);
  ASSERT_EQ(all.size(), 8u);
  EXPECT_EQ(all[0], kOutlookIos);
  EXPECT_EQ(all[1], kOutlookAndroid);
  EXPECT_EQ(Call("GET", std::string(kApps) + "?$expand=assignments").status, 400);
}

}  // namespace
}  // namespace certdeploy::sandbox::testing
