// The daemon's lifecycle work against the in-process sandbox: POST /v1/offboardings (the user
// left with no certificate, queued enrollments cancelled, idempotency, bad input) and drift
// repair (a profile and an assignment removed in the "portal" are restored by the daemon).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/service/daemon_harness.h"

namespace certdeploy::service::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kConfigs[] = "/beta/deviceManagement/deviceConfigurations";
constexpr char kGroup[] = "6f0c9a1e-5b1d-4c8e-9f3a-2b7d8e1c4a50";

// The user's userPfxCertificates in the sandbox.
std::vector<nlohmann::json> RecordsOf(DaemonHarness& h, const std::string& upn) {
  std::vector<nlohmann::json> out;
  const nlohmann::json state = h.sandbox().tenant().State();
  for (const nlohmann::json& r : state["userPfxCertificates"]) {
    if (r.value("userPrincipalName", "") == upn) out.push_back(r);
  }
  return out;
}

std::string Offboard(const std::string& upn) {
  return nlohmann::json{{"userPrincipalName", upn}}.dump();
}

TEST(OffboardingApiTest, RemovesEveryCertificateOfTheUserAndOnlyTheirs) {
  DaemonHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  ASSERT_EQ(h.EnrollAliceAndBob().size(), 2u);
  h.Dispatch();
  ASSERT_THAT(RecordsOf(h, "alice@contoso.com"), SizeIs(1));

  RawResponse r = h.Request("POST", "/v1/offboardings", kHrKey, Offboard("alice@contoso.com"));
  ASSERT_EQ(r.status, 202) << r.body;
  const nlohmann::json accepted = h.Json(r);
  const std::string id = accepted["id"];
  EXPECT_EQ(accepted["status"], "queued");
  EXPECT_EQ(r.Header("location"), "/v1/offboardings/" + id);
  // Stored, not done: nothing deleted until the dispatcher runs.
  EXPECT_THAT(RecordsOf(h, "alice@contoso.com"), SizeIs(1));
  h.Dispatch(2);

  EXPECT_THAT(RecordsOf(h, "alice@contoso.com"), SizeIs(0));
  EXPECT_THAT(RecordsOf(h, "bob@contoso.com"), SizeIs(1));
  nlohmann::json done = h.Json(h.Request("GET", "/v1/offboardings/" + id, kReaderKey));
  EXPECT_EQ(done["status"], "succeeded") << done.dump();
  ASSERT_EQ(done["removed"].size(), 1u);
  EXPECT_EQ(done["removed"][0].get<std::string>().size(), 40u);
  Result<std::vector<store::AuditRecord>> audit = h.store().ListAudit(20);
  ASSERT_TRUE(audit.ok());
  bool audited = false;
  for (const store::AuditRecord& a : *audit) {
    audited |= a.action == "offboard" && a.outcome == "succeeded" &&
               a.user_principal_name == "alice@contoso.com" && a.api_key_name == "hr";
  }
  EXPECT_TRUE(audited);
  EXPECT_THAT(h.Request("GET", "/metrics", kReaderKey).body,
              HasSubstr("certdeploy_offboardings_total{outcome=\"succeeded\"} 1"));

  // Offboarding someone with nothing left succeeds with nothing removed.
  r = h.Request("POST", "/v1/offboardings", kHrKey, Offboard("alice@contoso.com"));
  ASSERT_EQ(r.status, 202) << r.body;
  h.Dispatch(2);
  done = h.Json(h.Request("GET", "/v1/offboardings/" + h.Json(r)["id"].get<std::string>(),
                          kReaderKey));
  EXPECT_EQ(done["status"], "succeeded");
  EXPECT_EQ(done["removed"], nlohmann::json::array());
}

TEST(OffboardingApiTest, CancelsTheUsersQueuedEnrollments) {
  DaemonHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  const std::vector<std::string> ids = h.EnrollAliceAndBob();  // Queued, not dispatched.
  ASSERT_EQ(ids.size(), 2u);
  RawResponse r = h.Request("POST", "/v1/offboardings", kHrKey, Offboard("alice@contoso.com"));
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(h.Json(r)["cancelledItems"], 1);
  h.Dispatch();
  const nlohmann::json alice = h.Json(h.Request("GET", "/v1/enrollments/" + ids[0], kReaderKey));
  EXPECT_EQ(alice["status"], "cancelled");
  EXPECT_EQ(alice["error"]["code"], "offboarded");
  EXPECT_THAT(RecordsOf(h, "alice@contoso.com"), SizeIs(0));  // Never imported.
  EXPECT_THAT(RecordsOf(h, "bob@contoso.com"), SizeIs(1));
}

TEST(OffboardingApiTest, IdempotencyKeyReplaysTheSameOffboarding) {
  DaemonHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  const std::map<std::string, std::string> key = {{"Idempotency-Key", "leaver-42"}};
  RawResponse first =
      h.Request("POST", "/v1/offboardings", kHrKey, Offboard("alice@contoso.com"), key);
  ASSERT_EQ(first.status, 202) << first.body;
  RawResponse again =
      h.Request("POST", "/v1/offboardings", kHrKey, Offboard("alice@contoso.com"), key);
  ASSERT_EQ(again.status, 202) << again.body;
  EXPECT_EQ(h.Json(again)["id"], h.Json(first)["id"]);
  EXPECT_EQ(h.Json(again)["status"], "queued");
  // Once it has run, a replay answers its current status, not that of the first answer.
  h.Dispatch();
  RawResponse later =
      h.Request("POST", "/v1/offboardings", kHrKey, Offboard("alice@contoso.com"), key);
  ASSERT_EQ(later.status, 202) << later.body;
  EXPECT_EQ(h.Json(later)["id"], h.Json(first)["id"]);
  EXPECT_EQ(h.Json(later)["status"], "succeeded");
  RawResponse other =
      h.Request("POST", "/v1/offboardings", kHrKey, Offboard("bob@contoso.com"), key);
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_THAT(other.body, HasSubstr("idempotency-key-reused"));
}

TEST(OffboardingApiTest, RefusesBadInputWithAClearReason) {
  DaemonHarness h;
  ASSERT_TRUE(h.ok()) << h.error();
  struct Case {
    std::string body;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"[]", "object"},
      {R"({"userPrincipalName": 7})", "userPrincipalName"},
      {R"({"userPrincipalName": "not a upn"})", "userPrincipalName"},
      {R"({"userPrincipalName": "a@contoso.com", "thumbprints": []})", "thumbprints"},
      {R"({"userPrincipalName": "a@contoso.com", "thumbprints": ["xyz"]})", "40 hex digits"},
      {R"({"userPrincipalName": "a@contoso.com", "extra": 1})", "unknown field 'extra'"},
  };
  for (const Case& c : cases) {
    RawResponse r = h.Request("POST", "/v1/offboardings", kHrKey, c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_THAT(r.body, HasSubstr(c.says)) << c.body;
  }
  // Scopes: enroll to create; a reader cannot.
  EXPECT_EQ(h.Request("POST", "/v1/offboardings", kReaderKey, Offboard("a@contoso.com")).status,
            403);
  EXPECT_EQ(h.Request("GET", "/v1/offboardings/nope", kReaderKey).status, 404);
}

TEST(DriftRepairTest, RestoresADeletedProfileAndARemovedAssignment) {
  OffsetClock clock;
  DaemonHarness h({.extra_service_yaml = "  reconcileIntervalSeconds: 60\n", .clock = &clock});
  ASSERT_TRUE(h.ok()) << h.error();
  ASSERT_EQ(h.EnrollAliceAndBob().size(), 2u);
  h.Dispatch();
  ASSERT_THAT(RecordsOf(h, "alice@contoso.com"), SizeIs(1));

  // The portal: one trusted profile deleted, the imported-PFX profile unassigned.
  nlohmann::json state = h.sandbox().tenant().State();
  std::string trusted_id, imported_id, trusted_sha1;
  size_t trusted_count = 0;
  for (const nlohmann::json& c : state["deviceConfigurations"]) {
    const std::string type = c["@odata.type"];
    if (type == "#microsoft.graph.iosTrustedRootCertificate") {
      ++trusted_count;
      trusted_id = c["id"];
    }
    if (type == "#microsoft.graph.iosImportedPFXCertificateProfile") imported_id = c["id"];
  }
  ASSERT_GE(trusted_count, 1u);
  ASSERT_FALSE(imported_id.empty());
  ASSERT_EQ(h.Graph("DELETE", std::string(kConfigs) + "/" + trusted_id).status, 204);
  ASSERT_EQ(h.Graph("POST", std::string(kConfigs) + "/" + imported_id + "/assign",
                    {{"assignments", nlohmann::json::array()}})
                .status,
            200);

  // Within the interval nothing happens; after it, the daemon restores both.
  h.Dispatch(2);
  size_t now_trusted = 0;
  state = h.sandbox().tenant().State();
  for (const nlohmann::json& c : state["deviceConfigurations"]) {
    if (c["@odata.type"] == "#microsoft.graph.iosTrustedRootCertificate") ++now_trusted;
  }
  EXPECT_EQ(now_trusted, trusted_count - 1);
  clock.Advance(std::chrono::seconds(61));
  h.Dispatch(2);

  state = h.sandbox().tenant().State();
  size_t restored = 0;
  for (const nlohmann::json& c : state["deviceConfigurations"]) {
    const std::string type = c["@odata.type"];
    if (type == "#microsoft.graph.iosTrustedRootCertificate") {
      ++restored;
      ASSERT_THAT(c["assignments"], SizeIs(1)) << c.dump();
      EXPECT_EQ(c["assignments"][0]["target"]["groupId"], kGroup);
    }
    if (type == "#microsoft.graph.iosImportedPFXCertificateProfile") {
      EXPECT_EQ(c["id"], imported_id);  // The same profile, assigned again.
      ASSERT_THAT(c["assignments"], SizeIs(1)) << c.dump();
      EXPECT_EQ(c["assignments"][0]["target"]["groupId"], kGroup);
    }
  }
  EXPECT_EQ(restored, trusted_count);
  const std::string metrics = h.Request("GET", "/metrics", kReaderKey).body;
  EXPECT_THAT(metrics, HasSubstr("certdeploy_drift_repairs_total{kind=\"createTrustedProfile\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("certdeploy_drift_repairs_total{kind=\"assignProfile\"}"));
  Result<std::vector<store::AuditRecord>> audit = h.store().ListAudit(50);
  ASSERT_TRUE(audit.ok());
  int repairs = 0;
  for (const store::AuditRecord& a : *audit) repairs += a.action == "repair" ? 1 : 0;
  EXPECT_GE(repairs, 3);  // Create, assign the new profile, assign the imported one.

  // A second pass finds nothing to do.
  clock.Advance(std::chrono::seconds(61));
  h.Dispatch(2);
  Result<std::vector<store::AuditRecord>> after = h.store().ListAudit(50);
  ASSERT_TRUE(after.ok());
  int repairs_after = 0;
  for (const store::AuditRecord& a : *after) repairs_after += a.action == "repair" ? 1 : 0;
  EXPECT_EQ(repairs_after, repairs);
}

}  // namespace
}  // namespace certdeploy::service::testing
