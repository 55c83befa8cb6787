// ReadInventory with devices: the per-device reports of the imported-PFX profiles matching each
// row's purpose, the user picked out client-side, the refusal without a UPN, and the renderings.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "deploy/inventory.h"
#include "tests/support/status_matchers.h"

namespace certdeploy::deploy {
namespace {

using certdeploy::testing::IsOk;
using certdeploy::testing::StatusIs;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kConfigs[] = "/deviceManagement/deviceConfigurations";
constexpr char kPfx[] = "/deviceManagement/userPfxCertificates";

// Answers ListAll from fixed collections (by path, query ignored) and records the paths read.
class ListOnlyGraph : public graph::GraphClient {
 public:
  std::map<std::string, std::vector<json>> collections;
  std::vector<std::string> listed;

  Result<graph::GraphResponse> Get(std::string_view) override {
    return InternalError("unexpected get");
  }
  Result<graph::GraphResponse> Post(std::string_view, const json&) override {
    return InternalError("unexpected post");
  }
  Result<graph::GraphResponse> Patch(std::string_view, const json&) override {
    return InternalError("unexpected patch");
  }
  Result<graph::GraphResponse> Delete(std::string_view) override {
    return InternalError("unexpected delete");
  }
  Result<std::vector<json>> ListAll(std::string_view path) override {
    std::string p(path.substr(0, path.find('?')));
    listed.push_back(p);
    auto it = collections.find(p);
    if (it == collections.end()) return NotFoundError("no " + p);
    return it->second;
  }
  Result<std::vector<graph::BatchItemResult>> Batch(const std::vector<graph::BatchItem>&) override {
    return InternalError("unexpected batch");
  }
};

json Record(const std::string& thumbprint, const std::string& purpose) {
  return {{"id", "u-" + thumbprint},
          {"thumbprint", thumbprint},
          {"userPrincipalName", "alice@contoso.com"},
          {"intendedPurpose", purpose},
          {"paddingScheme", "oaepSha512"},
          {"startDateTime", "2026-01-01T00:00:00Z"},
          {"expirationDateTime", "2027-01-01T00:00:00Z"}};
}

json Profile(const std::string& id, const std::string& type, const std::string& purpose) {
  return {{"id", id}, {"@odata.type", "#microsoft.graph." + type}, {"intendedPurpose", purpose}};
}

json Report(const std::string& upn, const std::string& device, const std::string& status,
            const json& reported = "2026-12-01T10:00:00Z") {
  return {{"id", device}, {"userPrincipalName", upn}, {"deviceDisplayName", device},
          {"status", status}, {"lastReportedDateTime", reported}, {"platform", 0}};
}

class InventoryDevicesTest : public ::testing::Test {
 protected:
  InventoryDevicesTest() {
    graph_.collections[kPfx] = {Record("a1", "smimeEncryption"), Record("a2", "smimeSigning")};
    graph_.collections[kConfigs] = {
        Profile("enc-ios", "iosImportedPFXCertificateProfile", "smimeEncryption"),
        Profile("enc-mac", "macOSImportedPFXCertificateProfile", "smimeEncryption"),
        Profile("sign-ios", "iosImportedPFXCertificateProfile", "smimeSigning"),
        Profile("wifi-ios", "iosImportedPFXCertificateProfile", "wifi"),
        // Not a type certdeploy manages: never read.
        Profile("enc-legacy", "androidImportedPFXCertificateProfile", "smimeEncryption"),
        {{"id", "root"}, {"@odata.type", "#microsoft.graph.iosTrustedRootCertificate"}}};
    graph_.collections[std::string(kConfigs) + "/enc-ios/deviceStatuses"] = {
        Report("Alice@Contoso.com", "iPhone B", "compliant"),
        Report("bob@contoso.com", "Bob's iPhone", "compliant"),
        Report("alice@contoso.com", "iPhone A", "pendingSomething", nullptr)};
    graph_.collections[std::string(kConfigs) + "/enc-mac/deviceStatuses"] = {
        Report("alice@contoso.com", "MacBook", "error", "0001-01-01T00:00:00Z")};
    graph_.collections[std::string(kConfigs) + "/sign-ios/deviceStatuses"] = {};
  }

  InventoryOptions Options() {
    InventoryOptions options;
    options.upn = "alice@contoso.com";
    options.now = SystemTime(std::chrono::seconds(1798000000));
    options.devices = true;
    return options;
  }

  ListOnlyGraph graph_;
};

TEST_F(InventoryDevicesTest, AttachesTheUsersReportsOfTheProfilesOfEachPurpose) {
  graph::IntuneApi intune(graph_);
  Result<std::vector<InventoryRow>> rows = ReadInventory(intune, Options());
  ASSERT_THAT(rows, IsOk());
  ASSERT_EQ(rows->size(), 2u);
  const InventoryRow& enc = (*rows)[0];
  ASSERT_EQ(enc.intended_purpose, "smimeEncryption");
  std::vector<std::string> seen;
  for (const DeviceDelivery& d : enc.devices) {
    seen.push_back(d.device_display_name + "/" + d.platform + "/" + d.status + "/" +
                   (d.last_reported ? "t" : "-"));
  }
  // Sorted by device name; Bob's device left out; a status Graph may add kept as sent; no date
  // and Graph's "no date" both read as never.
  EXPECT_THAT(seen, ElementsAre("MacBook/macos/error/-", "iPhone A/ios/pendingSomething/-",
                                "iPhone B/ios/compliant/t"));
  EXPECT_TRUE((*rows)[1].devices.empty());  // The signing profile has no report.
  // The legacy Android, Wi-Fi and trusted profiles were not read.
  EXPECT_THAT(graph_.listed,
              ElementsAre(kPfx, kConfigs, std::string(kConfigs) + "/enc-ios/deviceStatuses",
                          std::string(kConfigs) + "/enc-mac/deviceStatuses",
                          std::string(kConfigs) + "/sign-ios/deviceStatuses"));

  json j = InventoryRowJson(enc, true);
  ASSERT_EQ(j["devices"].size(), 3u);
  EXPECT_EQ(j["devices"][2],
            (json{{"deviceDisplayName", "iPhone B"}, {"platform", "ios"}, {"status", "compliant"},
                  {"lastReportedDateTime", "2026-12-01T10:00:00Z"}}));
  EXPECT_TRUE(j["devices"][0]["lastReportedDateTime"].is_null());
  EXPECT_FALSE(InventoryRowJson(enc).contains("devices"));

  const std::string text = RenderInventoryText(*rows, Options());
  EXPECT_THAT(text, HasSubstr("\n    device iPhone B  ios  compliant  reported "
                              "2026-12-01T10:00:00Z\n"));
  EXPECT_THAT(text, HasSubstr("  reported never\n"));
  EXPECT_THAT(text, HasSubstr("smimeSigning"));
  EXPECT_THAT(text, HasSubstr("    no device reported\n"));
}

TEST_F(InventoryDevicesTest, DevicesWithoutAUpnAreRefusedBeforeAnyRead) {
  graph::IntuneApi intune(graph_);
  InventoryOptions options = Options();
  options.upn.reset();
  EXPECT_THAT(ReadInventory(intune, options),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("devices-require-upn")));
  EXPECT_TRUE(graph_.listed.empty());
}

TEST_F(InventoryDevicesTest, NoCertificatesMeansNoProfileReads) {
  graph_.collections[kPfx] = {};
  graph::IntuneApi intune(graph_);
  Result<std::vector<InventoryRow>> rows = ReadInventory(intune, Options());
  ASSERT_THAT(rows, IsOk());
  EXPECT_TRUE(rows->empty());
  EXPECT_THAT(graph_.listed, ElementsAre(kPfx));
}

TEST_F(InventoryDevicesTest, AFailedReportReadFailsTheInventoryWithContext) {
  graph_.collections.erase(std::string(kConfigs) + "/enc-mac/deviceStatuses");
  graph::IntuneApi intune(graph_);
  EXPECT_THAT(ReadInventory(intune, Options()),
              StatusIs(StatusCode::kNotFound, HasSubstr("profile enc-mac")));
}

}  // namespace
}  // namespace certdeploy::deploy
