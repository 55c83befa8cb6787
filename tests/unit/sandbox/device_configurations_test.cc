// deviceConfigurations: strict profile validation, CRUD, /assign, /assignments and paging.

#include "tests/unit/sandbox/sandbox_test_support.h"

namespace certdeploy::sandbox::testing {
namespace {

constexpr char kConfigs[] = "/beta/deviceManagement/deviceConfigurations";
constexpr char kGroup1[] = "11111111-0000-0000-0000-000000000001";
constexpr char kGroup2[] = "11111111-0000-0000-0000-000000000002";
constexpr char kGroup3[] = "11111111-0000-0000-0000-000000000003";

class DeviceConfigurationsTest : public SandboxTest {
 protected:
  void SetUp() override { Start(); }

  void ExpectRejected(const json& body, const std::string& reason) {
    ServerResponse r = Call("POST", kConfigs, body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(BodyOf(r)["error"]["code"], "BadRequest");
    EXPECT_EQ(Stats().rejections[reason], 1u) << reason << ": " << r.body;
  }

  std::string CreateRoot() {
    ServerResponse r = Call("POST", kConfigs, RootBody());
    EXPECT_EQ(r.status, 201) << r.body;
    return BodyOf(r).value("id", "");
  }

  static json GroupTarget(const std::string& group, bool exclude = false) {
    return {{"target",
             {{"@odata.type", exclude ? "#microsoft.graph.exclusionGroupAssignmentTarget"
                                      : "#microsoft.graph.groupAssignmentTarget"},
              {"groupId", group}}}};
  }
};

TEST_F(DeviceConfigurationsTest, CreatesAndReadsATrustedRootProfile) {
  ServerResponse r = Call("POST", kConfigs, RootBody("windows81TrustedRootCertificate"));
  ASSERT_EQ(r.status, 201) << r.body;
  json created = BodyOf(r);
  EXPECT_EQ(created["@odata.type"], "#microsoft.graph.windows81TrustedRootCertificate");
  EXPECT_EQ(created["displayName"], "Test CA R36");
  EXPECT_EQ(created["destinationStore"], "computerCertStoreRoot");  // Documented default.
  EXPECT_EQ(created["version"], 1);
  EXPECT_FALSE(created["createdDateTime"].get<std::string>().empty());
  std::string id = created["id"];
  EXPECT_EQ(id.size(), 36u);

  json got = BodyOf(Call("GET", std::string(kConfigs) + "/" + id));
  EXPECT_EQ(got["trustedRootCertificate"], RootBody()["trustedRootCertificate"]);
  EXPECT_EQ(got["certFileName"], "ca.der");
  EXPECT_EQ(BodyOf(Call("GET", std::string(kConfigs) + "('" + id + "')"))["id"], id);
}

TEST_F(DeviceConfigurationsTest, CreatesImportedPfxProfiles) {
  json ios = {{"@odata.type", "#microsoft.graph.iosImportedPFXCertificateProfile"},
              {"displayName", "S/MIME encryption"},
              {"intendedPurpose", "smimeEncryption"}};
  EXPECT_EQ(Call("POST", kConfigs, ios).status, 201);
  json win = {{"@odata.type", "#microsoft.graph.windows10ImportedPFXCertificateProfile"},
              {"displayName", "S/MIME encryption"},
              {"intendedPurpose", "smimeEncryption"},
              {"keyStorageProvider", "useSoftwareKsp"},
              {"subjectAlternativeNameType", "emailAddress,userPrincipalName"},
              {"renewalThresholdPercentage", 20}};
  EXPECT_EQ(Call("POST", kConfigs, win).status, 201);
  json android = {
      {"@odata.type", "#microsoft.graph.androidDeviceOwnerImportedPFXCertificateProfile"},
      {"displayName", "S/MIME"},
      {"certificateAccessType", "specificApps"},
      {"silentCertificateAccessDetails",
       json::array({json{{"packageId", "com.microsoft.outlook"}}})},
      {"extendedKeyUsages",
       json::array({json{{"name", "Email"}, {"objectIdentifier", "1.3.6.1.5.5.7.3.4"}}})}};
  EXPECT_EQ(Call("POST", kConfigs, android).status, 201);
}

TEST_F(DeviceConfigurationsTest, StrictValidation) {
  json unknown = RootBody();
  unknown["trustedCertificate"] = "x";
  ExpectRejected(unknown, "deviceConfiguration: unknown property");

  json no_name = RootBody();
  no_name.erase("displayName");
  ExpectRejected(no_name, "deviceConfiguration: missing property");

  json bad_store = RootBody("windows81TrustedRootCertificate");
  bad_store["destinationStore"] = "ComputerCertStoreRoot";
  ExpectRejected(bad_store, "deviceConfiguration: invalid destinationStore");

  json bad_purpose = {{"@odata.type", "#microsoft.graph.iosImportedPFXCertificateProfile"},
                      {"displayName", "x"},
                      {"intendedPurpose", "smime"}};
  ExpectRejected(bad_purpose, "deviceConfiguration: invalid intendedPurpose");

  json type = RootBody();
  type["@odata.type"] = "#microsoft.graph.iosPkcsCertificateProfile";
  ExpectRejected(type, "deviceConfiguration: unsupported @odata.type");

  json no_type = RootBody();
  no_type.erase("@odata.type");
  ExpectRejected(no_type, "deviceConfiguration: missing @odata.type");

  // macOS-only property on an iOS profile.
  json foreign = RootBody();
  foreign["deploymentChannel"] = "deviceChannel";
  EXPECT_EQ(Call("POST", kConfigs, foreign).status, 400);

  json bad_range = {{"@odata.type", "#microsoft.graph.androidImportedPFXCertificateProfile"},
                    {"displayName", "x"},
                    {"renewalThresholdPercentage", 100}};
  ExpectRejected(bad_range, "deviceConfiguration: invalid renewalThresholdPercentage");
  EXPECT_TRUE(tenant_->State()["deviceConfigurations"].empty());
}

TEST_F(DeviceConfigurationsTest, TrustedRootMustBeBase64DerOfACa) {
  ExpectRejected(RootBody("iosTrustedRootCertificate", "alice.der"),
                 "deviceConfiguration: trustedRootCertificate not a CA");
  json not_b64 = RootBody();
  not_b64["trustedRootCertificate"] = "-----BEGIN CERTIFICATE-----";
  ExpectRejected(not_b64, "deviceConfiguration: trustedRootCertificate not base64");
  json garbage = RootBody();
  garbage["trustedRootCertificate"] = Base64Encode("not a certificate at all");
  ExpectRejected(garbage, "deviceConfiguration: trustedRootCertificate not a certificate");
  json missing = RootBody();
  missing.erase("trustedRootCertificate");
  ExpectRejected(missing, "deviceConfiguration: missing property");
  // Roots and the cross-signed root are CAs.
  EXPECT_EQ(Call("POST", kConfigs, RootBody("iosTrustedRootCertificate", "root-a.der")).status,
            201);
  EXPECT_EQ(
      Call("POST", kConfigs, RootBody("macOSTrustedRootCertificate", "root-b-cross.der")).status,
      201);
}

TEST_F(DeviceConfigurationsTest, TrustedRootMadeFromAPemFileIsKeptAsUploaded) {
  // The portal uploads a .cer as given; PEM text is a certificate file too.
  const std::string pem = certdeploy::testing::ReadPkiText("ca.pem");
  json body = RootBody();
  body["trustedRootCertificate"] = Base64Encode(pem);
  ServerResponse r = Call("POST", kConfigs, body);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(BodyOf(r)["trustedRootCertificate"], Base64Encode(pem));
  json two = RootBody();  // A bundle is not one certificate.
  two["trustedRootCertificate"] = Base64Encode(pem + certdeploy::testing::ReadPkiText("root-a.pem"));
  ExpectRejected(two, "deviceConfiguration: trustedRootCertificate not a certificate");
}

TEST_F(DeviceConfigurationsTest, DuplicateTrustedRootsAreCounted) {
  CreateRoot();
  EXPECT_EQ(Stats().duplicates, 0u);
  CreateRoot();  // Same type, same certificate: Graph accepts it, the stats flag it.
  EXPECT_EQ(Stats().duplicates, 1u);
  EXPECT_EQ(Call("POST", kConfigs, RootBody("macOSTrustedRootCertificate")).status, 201);
  EXPECT_EQ(Stats().duplicates, 1u);  // Another platform is not a duplicate.
}

TEST_F(DeviceConfigurationsTest, PatchAndDelete) {
  std::string id = CreateRoot();
  ServerResponse r = Call("PATCH", std::string(kConfigs) + "/" + id,
                          {{"@odata.type", "#microsoft.graph.iosTrustedRootCertificate"},
                           {"displayName", "Renamed"},
                           {"certFileName", "renamed.cer"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(BodyOf(r)["version"], 2);
  EXPECT_EQ(BodyOf(r)["certFileName"], "renamed.cer");
  // Without @odata.type only base properties are known.
  EXPECT_EQ(Call("PATCH", std::string(kConfigs) + "/" + id, {{"description", "d"}}).status, 200);
  EXPECT_EQ(Call("PATCH", std::string(kConfigs) + "/" + id, {{"certFileName", "x"}}).status, 400);
  // The type cannot change.
  EXPECT_EQ(Call("PATCH", std::string(kConfigs) + "/" + id,
                 {{"@odata.type", "#microsoft.graph.macOSTrustedRootCertificate"}})
                .status,
            400);
  EXPECT_EQ(Call("PATCH", std::string(kConfigs) + "/" + id,
                 {{"@odata.type", "#microsoft.graph.iosTrustedRootCertificate"},
                  {"trustedRootCertificate", RootBody("x", "alice.der")["trustedRootCertificate"]}})
                .status,
            400);
  EXPECT_EQ(Call("DELETE", std::string(kConfigs) + "/" + id).status, 204);
  EXPECT_EQ(Call("GET", std::string(kConfigs) + "/" + id).status, 404);
  EXPECT_EQ(Call("PATCH", std::string(kConfigs) + "/missing", {{"description", "d"}}).status, 404);
}

TEST_F(DeviceConfigurationsTest, AssignReplacesTheWholeSet) {
  std::string id = CreateRoot();
  std::string assign = std::string(kConfigs) + "/" + id + "/assign";
  ServerResponse r =
      Call("POST", assign,
           {{"assignments", json::array({GroupTarget(kGroup1), GroupTarget(kGroup2, true)})}});
  ASSERT_EQ(r.status, 200) << r.body;
  json value = BodyOf(r)["value"];
  ASSERT_EQ(value.size(), 2u);
  EXPECT_EQ(value[0]["id"], id + "_" + kGroup1);
  EXPECT_EQ(value[1]["target"]["@odata.type"], "#microsoft.graph.exclusionGroupAssignmentTarget");

  r = Call("POST", assign, {{"assignments", json::array({GroupTarget(kGroup3)})}});
  ASSERT_EQ(r.status, 200) << r.body;
  json listed = BodyOf(Call("GET", std::string(kConfigs) + "/" + id + "/assignments"));
  ASSERT_EQ(listed["value"].size(), 1u);
  EXPECT_EQ(listed["value"][0]["target"]["groupId"], kGroup3);
  json state = tenant_->State()["deviceConfigurations"][0]["assignments"];
  ASSERT_EQ(state.size(), 1u);

  // An empty set removes every assignment.
  EXPECT_EQ(Call("POST", assign, {{"assignments", json::array()}}).status, 200);
  EXPECT_TRUE(
      BodyOf(Call("GET", std::string(kConfigs) + "/" + id + "/assignments"))["value"].empty());
}

TEST_F(DeviceConfigurationsTest, AssignValidation) {
  std::string id = CreateRoot();
  std::string assign = std::string(kConfigs) + "/" + id + "/assign";
  EXPECT_EQ(
      Call("POST", assign, {{"assignments", json::array({GroupTarget("not-a-guid")})}}).status,
      400);
  EXPECT_EQ(Call("POST", assign,
                 {{"assignments", json::array({GroupTarget(kGroup1), GroupTarget(kGroup1)})}})
                .status,
            400);
  EXPECT_EQ(Call("POST", assign, {{"target", "x"}}).status, 400);
  json all_users = {
      {"target", {{"@odata.type", "#microsoft.graph.allLicensedUsersAssignmentTarget"}}}};
  EXPECT_EQ(Call("POST", assign, {{"assignments", json::array({all_users})}}).status, 200);
  EXPECT_EQ(
      Call("POST", std::string(kConfigs) + "/missing/assign", {{"assignments", json::array()}})
          .status,
      404);
  EXPECT_EQ(Call("GET", assign).status, 405);
}

TEST_F(DeviceConfigurationsTest, PagesTwentyFiveProfilesWithNextLinks) {
  for (int i = 0; i < 25; ++i) {
    json body = RootBody();
    body["displayName"] = "Root " + std::to_string(i);
    ASSERT_EQ(Call("POST", kConfigs, body).status, 201);
  }
  std::vector<std::string> names;
  std::string target = kConfigs;
  int pages = 0;
  while (!target.empty()) {
    ServerResponse r = Call("GET", target);
    ASSERT_EQ(r.status, 200) << r.body;
    json page = BodyOf(r);
    EXPECT_LE(page["value"].size(), 10u);
    for (const auto& item : page["value"]) names.push_back(item["displayName"]);
    ++pages;
    target.clear();
    if (page.contains("@odata.nextLink")) {
      std::string link = page["@odata.nextLink"];
      ASSERT_EQ(link.rfind(kBase, 0), 0u) << link;  // Absolute, from the Host header.
      target = link.substr(std::string(kBase).size());
    }
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(names.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(names[i], "Root " + std::to_string(i));

  json top = BodyOf(Call("GET", std::string(kConfigs) + "?$top=4"));
  EXPECT_EQ(top["value"].size(), 4u);
  std::string link = top["@odata.nextLink"];
  EXPECT_NE(link.find("$top=4"), std::string::npos) << link;
  json big = BodyOf(Call("GET", std::string(kConfigs) + "?$top=999"));
  EXPECT_EQ(big["value"].size(), 10u);  // Capped at the server page size.
  EXPECT_EQ(Call("GET", std::string(kConfigs) + "?$top=abc").status, 400);
  EXPECT_EQ(Call("GET", std::string(kConfigs) + "?$skiptoken=%25%25").status, 400);
}

TEST_F(DeviceConfigurationsTest, FiltersByTypeAndIgnoresUnsupportedFilters) {
  CreateRoot();
  ASSERT_EQ(Call("POST", kConfigs, RootBody("macOSTrustedRootCertificate")).status, 201);
  std::string isof = PercentEncode("isof('microsoft.graph.macOSTrustedRootCertificate')");
  json mac = BodyOf(Call("GET", std::string(kConfigs) + "?$filter=" + isof));
  ASSERT_EQ(mac["value"].size(), 1u);
  EXPECT_EQ(mac["value"][0]["@odata.type"], "#microsoft.graph.macOSTrustedRootCertificate");
  // Like Intune, an unsupported filter is ignored: clients must check what they get.
  std::string odd = PercentEncode("version gt 3");
  EXPECT_EQ(BodyOf(Call("GET", std::string(kConfigs) + "?$filter=" + odd))["value"].size(), 2u);
  json expanded = BodyOf(Call("GET", std::string(kConfigs) + "?$expand=assignments"));
  EXPECT_TRUE(expanded["value"][0].contains("assignments"));
}

TEST_F(DeviceConfigurationsTest, ServesDeviceManagementUnderBetaOnly) {
  EXPECT_EQ(Call("GET", "/v1.0/deviceManagement/userPfxCertificates").status, 400);
  EXPECT_EQ(Call("GET", "/beta/deviceManagement/somethingElse").status, 400);
  EXPECT_EQ(Call("PUT", kConfigs, json::object()).status, 405);
}

}  // namespace
}  // namespace certdeploy::sandbox::testing
