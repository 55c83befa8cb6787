// GET /v1/certificates?upn=...&devices=true: each certificate with what devices reported for the
// imported-PFX profile that delivers it (seeded in the in-process sandbox), and the refusals.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/service/daemon_harness.h"

namespace certdeploy::service::testing {
namespace {

using ::testing::HasSubstr;

class ApiCertificatesDevicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_ = std::make_unique<DaemonHarness>(HarnessOptions{});
    ASSERT_TRUE(h_->ok()) << h_->error();
    ASSERT_EQ(h_->EnrollAliceAndBob().size(), 2u);
    h_->Dispatch();
  }

  // The id of the imported-PFX profile the dispatcher made.
  std::string ImportedProfileId() {
    const nlohmann::json state = h_->sandbox().tenant().State();
    for (const nlohmann::json& c : state["deviceConfigurations"]) {
      if (c["@odata.type"] == "#microsoft.graph.iosImportedPFXCertificateProfile") return c["id"];
    }
    ADD_FAILURE() << "no imported-PFX profile";
    return "";
  }

  // A device reports through the sandbox's seeding endpoint.
  void Report(const std::string& upn, const std::string& device, const std::string& status) {
    http::ServerRequest r;
    r.method = "POST";
    r.target = "/_sandbox/deviceStatuses";
    r.headers.emplace("content-type", "application/json");
    r.body = nlohmann::json{{"configurationId", ImportedProfileId()},
                            {"userPrincipalName", upn},
                            {"deviceDisplayName", device},
                            {"status", status},
                            {"lastReportedDateTime", "2026-12-01T09:30:00Z"}}
                 .dump();
    http::ServerResponse answer = h_->sandbox().tenant().Handle(r);
    ASSERT_EQ(answer.status, 201) << answer.body;
  }

  std::unique_ptr<DaemonHarness> h_;
};

TEST_F(ApiCertificatesDevicesTest, DevicesAddsTheUsersReportsToEachCertificate) {
  // Nothing reported yet: an empty array, not an absent one.
  nlohmann::json none = h_->Json(
      h_->Request("GET", "/v1/certificates?upn=alice%40contoso.com&devices=true", kReaderKey));
  ASSERT_EQ(none["value"].size(), 1u) << none.dump();
  EXPECT_EQ(none["value"][0]["devices"], nlohmann::json::array());

  Report("alice@contoso.com", "Alice's iPhone", "compliant");
  Report("bob@contoso.com", "Bob's iPhone", "error");
  RawResponse r =
      h_->Request("GET", "/v1/certificates?upn=Alice%40Contoso.com&devices=true", kReaderKey);
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json body = h_->Json(r);
  ASSERT_EQ(body["value"].size(), 1u);
  EXPECT_EQ(body["value"][0]["devices"],
            (nlohmann::json::array({{{"deviceDisplayName", "Alice's iPhone"},
                                     {"platform", "ios"},
                                     {"status", "compliant"},
                                     {"lastReportedDateTime", "2026-12-01T09:30:00Z"}}})));

  // Without devices=true (or with false) the objects are as before.
  nlohmann::json plain =
      h_->Json(h_->Request("GET", "/v1/certificates?upn=alice%40contoso.com", kReaderKey));
  EXPECT_FALSE(plain["value"][0].contains("devices"));
  nlohmann::json off = h_->Json(
      h_->Request("GET", "/v1/certificates?upn=alice%40contoso.com&devices=false", kReaderKey));
  EXPECT_FALSE(off["value"][0].contains("devices"));
}

TEST_F(ApiCertificatesDevicesTest, DevicesWithoutUpnOrNotABooleanIsA400) {
  RawResponse no_upn = h_->Request("GET", "/v1/certificates?devices=true", kReaderKey);
  EXPECT_EQ(no_upn.status, 400);
  EXPECT_EQ(no_upn.Header("content-type"), "application/problem+json");
  EXPECT_EQ(h_->Json(no_upn)["type"], "urn:certdeploy:problem:devices-require-upn");
  EXPECT_THAT(h_->Json(no_upn)["detail"].get<std::string>(), HasSubstr("upn"));

  RawResponse bad = h_->Request("GET", "/v1/certificates?upn=alice%40contoso.com&devices=yes",
                                kReaderKey);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(h_->Json(bad)["type"], "urn:certdeploy:problem:invalid-request");
}

TEST_F(ApiCertificatesDevicesTest, TheOpenApiDocumentDescribesDevices) {
  nlohmann::json doc = h_->Json(h_->Request("GET", "/openapi.json", kReaderKey));
  bool documented = false;
  for (const nlohmann::json& p : doc["paths"]["/v1/certificates"]["get"]["parameters"]) {
    documented = documented || p["name"] == "devices";
  }
  EXPECT_TRUE(documented);
  EXPECT_TRUE(doc["components"]["schemas"]["Certificate"]["properties"].contains("devices"));
  EXPECT_TRUE(doc["components"]["schemas"].contains("DeviceDelivery"));
}

}  // namespace
}  // namespace certdeploy::service::testing
