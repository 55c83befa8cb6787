// deviceConfigurations/{id}/deviceStatuses: seeded through POST /_sandbox/deviceStatuses, read
// with GET exactly as the beta list page documents it (paged, 404 for an unknown profile, no
// writes, no $filter), kept across a PATCH of the profile, dropped with it, and journaled.

#include <cstdio>
#include <filesystem>

#include "tests/unit/sandbox/sandbox_test_support.h"

namespace certdeploy::sandbox::testing {
namespace {

constexpr char kConfigs[] = "/beta/deviceManagement/deviceConfigurations";

class DeviceStatusesTest : public SandboxTest {
 protected:
  void SetUp() override {
    options_.page_size = 2;
    Start();
    profile_ = CreateProfile();
  }

  std::string CreateProfile() {
    ServerResponse r = Call("POST", kConfigs,
                            {{"@odata.type", "#microsoft.graph.iosImportedPFXCertificateProfile"},
                             {"displayName", "S/MIME encryption"},
                             {"intendedPurpose", "smimeEncryption"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return BodyOf(r).value("id", "");
  }

  // POST /_sandbox/deviceStatuses (no token, as the other /_sandbox endpoints).
  ServerResponse Seed(json body) {
    if (!body.contains("configurationId")) body["configurationId"] = profile_;
    return tenant_->Handle(MakeRequest("POST", "/_sandbox/deviceStatuses", body.dump(),
                                       {{"Content-Type", "application/json"}}));
  }

  static json Report(const std::string& upn, const std::string& device,
                     const std::string& status = "compliant") {
    return {{"userPrincipalName", upn}, {"deviceDisplayName", device}, {"status", status}};
  }

  std::string Statuses(const std::string& profile) {
    return std::string(kConfigs) + "/" + profile + "/deviceStatuses";
  }

  std::string profile_;
};

TEST_F(DeviceStatusesTest, ANewProfileHasNoReportsAndAnUnknownProfileIs404) {
  ServerResponse empty = Call("GET", Statuses(profile_));
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(BodyOf(empty)["value"], json::array());
  EXPECT_FALSE(BodyOf(empty).contains("@odata.nextLink"));

  ServerResponse unknown = Call("GET", Statuses("00000000-0000-0000-0000-00000000dead"));
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(BodyOf(unknown)["error"]["code"], "ResourceNotFound");
  EXPECT_EQ(Seed({{"configurationId", "00000000-0000-0000-0000-00000000dead"},
                  {"userPrincipalName", "alice@contoso.com"},
                  {"deviceDisplayName", "x"},
                  {"status", "compliant"}})
                .status,
            404);
}

TEST_F(DeviceStatusesTest, SeededReportsAreListedWithTheDocumentedPropertiesAndPaged) {
  clock_.Advance(std::chrono::minutes(30));  // Within the token's lifetime.
  ServerResponse seeded = Seed(Report("alice@contoso.com", "Alice's iPhone"));
  ASSERT_EQ(seeded.status, 201) << seeded.body;
  ASSERT_EQ(Seed(Report("bob@contoso.com", "Bob's iPad", "error")).status, 201);
  json explicit_time = Report("alice@contoso.com", "Alice's iPad", "notApplicable");
  explicit_time["lastReportedDateTime"] = "2026-11-30T08:00:00-08:00";
  explicit_time["platform"] = 8;
  explicit_time["deviceModel"] = "iPad Air";
  ASSERT_EQ(Seed(explicit_time).status, 201);

  // Page size 2: two pages, the nextLink followed as given.
  ServerResponse first = Call("GET", Statuses(profile_));
  ASSERT_EQ(first.status, 200) << first.body;
  json page = BodyOf(first);
  ASSERT_EQ(page["value"].size(), 2u);
  ASSERT_TRUE(page["@odata.nextLink"].is_string()) << page.dump();
  std::string next = page["@odata.nextLink"];
  ASSERT_EQ(next.rfind(kBase, 0), 0u) << next;
  json second = BodyOf(Call("GET", next.substr(std::string(kBase).size())));
  ASSERT_EQ(second["value"].size(), 1u) << second.dump();
  EXPECT_FALSE(second.contains("@odata.nextLink"));

  const json& alice = page["value"][0];
  EXPECT_EQ(alice["@odata.type"], "#microsoft.graph.deviceConfigurationDeviceStatus");
  EXPECT_EQ(alice["deviceDisplayName"], "Alice's iPhone");
  EXPECT_EQ(alice["userPrincipalName"], "alice@contoso.com");
  EXPECT_EQ(alice["status"], "compliant");
  EXPECT_EQ(alice["lastReportedDateTime"],
            FormatRfc3339UtcTicks(certdeploy::testing::FixtureNow() + std::chrono::minutes(30)));
  for (const char* key : {"id", "deviceDisplayName", "userName", "deviceModel", "platform",
                          "complianceGracePeriodExpirationDateTime", "status",
                          "lastReportedDateTime", "userPrincipalName"}) {
    EXPECT_TRUE(alice.contains(key)) << key;
  }
  EXPECT_EQ(second["value"][0]["lastReportedDateTime"], "2026-11-30T16:00:00Z");
  EXPECT_EQ(second["value"][0]["platform"], 8);

  // One entry by id; $top lowers the page.
  const std::string id = alice["id"];
  EXPECT_EQ(BodyOf(Call("GET", Statuses(profile_) + "/" + id))["deviceDisplayName"],
            "Alice's iPhone");
  EXPECT_EQ(Call("GET", Statuses(profile_) + "/nope").status, 404);
  EXPECT_EQ(BodyOf(Call("GET", Statuses(profile_) + "?$top=1"))["value"].size(), 1u);
}

TEST_F(DeviceStatusesTest, IsReadOnlyAndTakesNoFilter) {
  ASSERT_EQ(Seed(Report("alice@contoso.com", "iPhone")).status, 201);
  EXPECT_EQ(Call("POST", Statuses(profile_), Report("alice@contoso.com", "x")).status, 405);
  EXPECT_EQ(Call("DELETE", Statuses(profile_)).status, 405);
  ServerResponse filtered =
      Call("GET", Statuses(profile_) + "?$filter=userPrincipalName%20eq%20%27alice%40contoso.com%27");
  EXPECT_EQ(filtered.status, 400) << filtered.body;
  EXPECT_EQ(Call("GET", Statuses(profile_) + "?$orderby=status").status, 400);
  // Without a token, like every Graph path.
  EXPECT_EQ(tenant_->Handle(MakeRequest("GET", Statuses(profile_))).status, 401);
}

TEST_F(DeviceStatusesTest, SeedingIsStrictAndASecondReportReplacesTheFirst) {
  EXPECT_EQ(Seed(Report("alice@contoso.com", "iPhone", "Compliant")).status, 400);
  EXPECT_EQ(Seed(Report("alice@contoso.com", "iPhone", "installed")).status, 400);
  EXPECT_EQ(Seed(Report("not a upn", "iPhone")).status, 400);
  json unknown = Report("alice@contoso.com", "iPhone");
  unknown["certificateThumbprint"] = "ab";
  EXPECT_EQ(Seed(unknown).status, 400);
  json bad_time = Report("alice@contoso.com", "iPhone");
  bad_time["lastReportedDateTime"] = "2026-11-30T08:00:00";
  EXPECT_EQ(Seed(bad_time).status, 400);

  ServerResponse first = Seed(Report("alice@contoso.com", "iPhone", "unknown"));
  ServerResponse second = Seed(Report("ALICE@contoso.com", "iPhone", "compliant"));
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(BodyOf(first)["id"], BodyOf(second)["id"]);
  json listed = BodyOf(Call("GET", Statuses(profile_)))["value"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["status"], "compliant");
  EXPECT_EQ(Stats().writes, 1u);  // Only the profile's create: seeding is not a Graph write.
}

TEST_F(DeviceStatusesTest, ReportsSurviveAPatchAndGoWithTheProfile) {
  ASSERT_EQ(Seed(Report("alice@contoso.com", "iPhone")).status, 201);
  ASSERT_EQ(Call("PATCH", std::string(kConfigs) + "/" + profile_,
                 {{"@odata.type", "#microsoft.graph.iosImportedPFXCertificateProfile"},
                  {"displayName", "renamed"}})
                .status,
            200);
  EXPECT_EQ(BodyOf(Call("GET", Statuses(profile_)))["value"].size(), 1u);
  EXPECT_EQ(tenant_->State()["deviceConfigurations"][0]["deviceStatuses"].size(), 1u);
  ASSERT_EQ(Call("DELETE", std::string(kConfigs) + "/" + profile_).status, 204);
  EXPECT_EQ(Call("GET", Statuses(profile_)).status, 404);
}

TEST_F(DeviceStatusesTest, ARestartedSandboxReplaysTheReports) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("device-statuses-" + profile_ + ".jsonl"))
          .string();
  options_.state_file = path;
  Start();
  profile_ = CreateProfile();
  ASSERT_EQ(Seed(Report("alice@contoso.com", "iPhone", "error")).status, 201);
  Start();  // A second tenant over the same journal.
  json listed = BodyOf(Call("GET", Statuses(profile_)))["value"];
  std::remove(path.c_str());
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["status"], "error");
}

}  // namespace
}  // namespace certdeploy::sandbox::testing
