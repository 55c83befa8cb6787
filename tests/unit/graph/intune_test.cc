// IntuneApi over the real GraphClient and a fake transport: exact paths, filters and bodies;
// deviceStatuses: paging through @odata.nextLink, every documented property, complianceStatus
// values the doc does not list, and the client-side user filter (no $filter is documented).

#include "graph/intune.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/time_format.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_http_transport.h"
#include "tests/support/status_matchers.h"
#include "tests/unit/graph/graph_test_util.h"

namespace certdeploy::graph {
namespace {

using certdeploy::testing::FakeClock;
using certdeploy::testing::FakeHttpTransport;
using certdeploy::testing::IsOk;
using certdeploy::testing::Response;
using certdeploy::testing::StatusIs;
using nlohmann::json;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr char kPfx[] = "https://graph.test/beta/deviceManagement/userPfxCertificates";
const SystemTime kStart = SystemTime(seconds(1767225600));              // 2026-01-01T00:00:00Z
const SystemTime kEnd = SystemTime(seconds(1767225600 + 365 * 86400));  // 2027-01-01T00:00:00Z

class IntuneApiTest : public ::testing::Test {
 public:
  IntuneApiTest() {
    GraphClientOptions options;
    options.graph_url = "https://graph.test";
    client_ = NewGraphClient(options, http_, tokens_, budget_, clock_, random_);
  }

  static UserPfxCertificate Record() {
    UserPfxCertificate r;
    r.thumbprint = "0123456789abcdef0123456789abcdef01234567";
    r.intended_purpose = UserPfxIntendedPurpose::kSmimeEncryption;
    r.user_principal_name = "o'neil@contoso.com";
    r.start_date_time = kStart;
    r.expiration_date_time = kEnd;
    r.provider_name = "Microsoft Software Key Storage Provider";
    r.key_name = "PFXEncryptionKey";
    r.padding_scheme = UserPfxPaddingScheme::kOaepSha256;
    r.encrypted_pfx_blob = "MIIK";
    r.encrypted_pfx_password = "c2VhbGVk";
    return r;
  }

 protected:
  FakeClock clock_;
  FakeHttpTransport http_;
  testing::FakeTokenSource tokens_;
  testing::FixedRandom random_;
  WriteBudget budget_{WriteBudgetOptions{}, clock_};
  std::unique_ptr<GraphClient> client_;
};

TEST(ODataTest, EscapesQuotesInStringLiterals) {
  EXPECT_EQ(ODataStringLiteral("o'neil@contoso.com"), "'o''neil@contoso.com'");
  EXPECT_EQ(ODataStringLiteral("''"), "''''''");
  EXPECT_EQ(ODataStringLiteral(""), "''");
}

TEST(ODataTest, PercentEncodesQueryValuesAndPathSegments) {
  EXPECT_EQ(PercentEncodeQueryValue("tolower(userPrincipalName) eq 'o''neil@contoso.com'"),
            "tolower%28userPrincipalName%29%20eq%20%27o%27%27neil%40contoso.com%27");
  EXPECT_EQ(PercentEncodeQueryValue("a+b&c=d/é"), "a%2Bb%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(PercentEncodePathSegment("o'neil@contoso.com"), "o%27neil@contoso.com");
  EXPECT_EQ(PercentEncodePathSegment("a/b?c#d%e f"), "a%2Fb%3Fc%23d%25e%20f");
  EXPECT_EQ(PercentEncodePathSegment("Ab-9._~"), "Ab-9._~");
}

TEST(UserPfxCertificateJsonTest, SerializesWithGraphNamesAndCamelCaseEnums) {
  UserPfxCertificate r = IntuneApiTest::Record();
  EXPECT_EQ(ToJson(r), json::parse(R"({
    "@odata.type": "#microsoft.graph.userPFXCertificate",
    "thumbprint": "0123456789abcdef0123456789abcdef01234567",
    "intendedPurpose": "smimeEncryption",
    "userPrincipalName": "o'neil@contoso.com",
    "startDateTime": "2026-01-01T00:00:00Z",
    "expirationDateTime": "2027-01-01T00:00:00Z",
    "providerName": "Microsoft Software Key Storage Provider",
    "keyName": "PFXEncryptionKey",
    "paddingScheme": "oaepSha256",
    "encryptedPfxBlob": "MIIK",
    "encryptedPfxPassword": "c2VhbGVk"})"));
  r.id = "abc-0123";
  r.created_date_time = kStart;
  json with_id = ToJson(r);
  EXPECT_EQ(with_id["id"], "abc-0123");
  EXPECT_EQ(with_id["createdDateTime"], "2026-01-01T00:00:00Z");
  EXPECT_FALSE(with_id.contains("lastModifiedDateTime"));
}

TEST(UserPfxCertificateJsonTest, ParsesGraphRecordsWithOffsetsAndFractions) {
  json j = ToJson(IntuneApiTest::Record());
  j["id"] = "u1-0123";
  j["startDateTime"] = "2026-01-01T01:30:00.1234567+01:30";
  j["expirationDateTime"] = "2026-12-31T19:00:00-05:00";
  j["createdDateTime"] = "2026-01-02T00:00:00Z";
  j["encryptedPfxBlob"] = "AA==";
  j["encryptedPfxPassword"] = "";
  Result<UserPfxCertificate> r = UserPfxCertificateFromJson(j);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->id, "u1-0123");
  EXPECT_EQ(r->start_date_time, kStart + std::chrono::microseconds(123456));
  EXPECT_EQ(r->expiration_date_time, kEnd);
  EXPECT_EQ(r->created_date_time, kStart + std::chrono::hours(24));
  EXPECT_EQ(r->last_modified_date_time, std::nullopt);
  EXPECT_EQ(r->padding_scheme, UserPfxPaddingScheme::kOaepSha256);
  EXPECT_EQ(r->encrypted_pfx_blob, "AA==");
}

TEST(UserPfxCertificateJsonTest, RejectsMalformedRecords) {
  json j = ToJson(IntuneApiTest::Record());
  j["id"] = "x";
  j["startDateTime"] = "2026-01-01T00:00:00";  // No offset.
  EXPECT_THAT(UserPfxCertificateFromJson(j),
              StatusIs(StatusCode::kInternal, HasSubstr("startDateTime")));
  j["startDateTime"] = "2026-01-01T00:00:00Z";
  j["paddingScheme"] = "oaepSha257";
  EXPECT_THAT(UserPfxCertificateFromJson(j),
              StatusIs(StatusCode::kInternal, HasSubstr("paddingScheme")));
  j["paddingScheme"] = "OaepSha256";  // The IntunePfxImport module's spelling.
  ASSERT_THAT(UserPfxCertificateFromJson(j), IsOk());
  EXPECT_EQ(UserPfxCertificateFromJson(j)->padding_scheme, UserPfxPaddingScheme::kOaepSha256);
  j.erase("id");
  EXPECT_THAT(UserPfxCertificateFromJson(j), StatusIs(StatusCode::kInternal, HasSubstr("id")));
}

TEST(UserPfxCertificateJsonTest, EnumNamesRoundTrip) {
  for (auto p : {UserPfxIntendedPurpose::kUnassigned, UserPfxIntendedPurpose::kSmimeEncryption,
                 UserPfxIntendedPurpose::kSmimeSigning, UserPfxIntendedPurpose::kVpn,
                 UserPfxIntendedPurpose::kWifi}) {
    EXPECT_EQ(*ParseUserPfxIntendedPurpose(ToString(p)), p);
  }
  for (auto s : {UserPfxPaddingScheme::kNone, UserPfxPaddingScheme::kPkcs1,
                 UserPfxPaddingScheme::kOaepSha1, UserPfxPaddingScheme::kOaepSha256,
                 UserPfxPaddingScheme::kOaepSha384, UserPfxPaddingScheme::kOaepSha512}) {
    EXPECT_EQ(*ParseUserPfxPaddingScheme(ToString(s)), s);
  }
  EXPECT_EQ(ToString(UserPfxPaddingScheme::kOaepSha512), "oaepSha512");
  // The module's PascalCase spellings name the same members; anything else is refused.
  EXPECT_EQ(*ParseUserPfxIntendedPurpose("SmimeSigning"), UserPfxIntendedPurpose::kSmimeSigning);
  EXPECT_EQ(*ParseUserPfxPaddingScheme("OaepSha512"), UserPfxPaddingScheme::kOaepSha512);
  EXPECT_THAT(ParseUserPfxIntendedPurpose("smime-signing"),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(IntuneApiTest, GetsAUserWithAnApostropheInTheUpn) {
  http_.Enqueue(Response(
      200, R"({"id":"u-1","userPrincipalName":"O'Neil@contoso.com","mail":"oneil@contoso.com"})"));
  Result<User> user = IntuneApi(*client_).GetUser("O'Neil@contoso.com");
  ASSERT_THAT(user, IsOk());
  EXPECT_EQ(*user, (User{"u-1", "O'Neil@contoso.com", "oneil@contoso.com"}));
  EXPECT_EQ(http_.requests().at(0).url, "https://graph.test/v1.0/users/O%27Neil@contoso.com");
}

TEST_F(IntuneApiTest, UnknownUserIsNotFound) {
  http_.Enqueue(Response(404, R"({"error":{"code":"Request_ResourceNotFound","message":"x"}})")
                    .WithHeader("request-id", "rid-u"));
  Result<User> user = IntuneApi(*client_).GetUser("ghost@contoso.com");
  EXPECT_THAT(user, StatusIs(StatusCode::kNotFound, "no such user: ghost@contoso.com"));
  EXPECT_EQ(user.status().details()->request_id, "rid-u");
}

TEST_F(IntuneApiTest, ListsPfxRecordsForAUserWithAnEscapedFilter) {
  json mine = ToJson(Record());
  mine["id"] = "u1-0123";
  json other = mine;
  other["id"] = "u2-0123";
  other["userPrincipalName"] = "someone@contoso.com";  // A filter the service ignored.
  http_.Enqueue(Response(200, json{{"value", {mine, other}}}.dump()));
  Result<std::vector<UserPfxCertificate>> records =
      IntuneApi(*client_).ListUserPfxCertificatesForUser(
          "O'Neil@Contoso.com", "0123456789ABCDEF0123456789ABCDEF01234567");
  ASSERT_THAT(records, IsOk());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].id, "u1-0123");
  EXPECT_EQ(
      http_.requests().at(0).url,
      std::string(kPfx) +
          "?$filter=tolower%28userPrincipalName%29%20eq%20%27o%27%27neil%40contoso.com%27"
          "%20and%20tolower%28thumbprint%29%20eq%20%270123456789abcdef0123456789abcdef01234567"
          "%27");
}

TEST_F(IntuneApiTest, CreatesAPfxRecord) {
  json created = ToJson(Record());
  created["id"] = "u1-0123";
  created["encryptedPfxBlob"] = "AA==";
  http_.Enqueue(Response(201, created.dump()));
  Result<UserPfxCertificate> r = IntuneApi(*client_).CreateUserPfxCertificate(Record());
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->id, "u1-0123");
  const HttpRequest request = http_.requests().at(0);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, kPfx);
  EXPECT_EQ(json::parse(request.body), ToJson(Record()));
  EXPECT_EQ(budget_.Stats().writes_granted, 1u);
}

TEST_F(IntuneApiTest, PatchesAndDeletesByEncodedId) {
  http_.Enqueue(Response(204)).Enqueue(Response(204).WithHeader("request-id", "rid-del"));
  IntuneApi intune(*client_);
  EXPECT_THAT(intune.PatchUserPfxCertificate("u1-0123", {{"keyName", "k2"}}), IsOk());
  Result<std::string> deleted = intune.DeleteUserPfxCertificate("a b");
  ASSERT_THAT(deleted, IsOk());
  EXPECT_EQ(*deleted, "rid-del");  // Kept for the offboarding's audit trail.
  EXPECT_EQ(http_.requests().at(0).url, std::string(kPfx) + "/u1-0123");
  EXPECT_EQ(http_.requests().at(0).method, "PATCH");
  EXPECT_EQ(http_.requests().at(1).url, std::string(kPfx) + "/a%20b");
  EXPECT_EQ(http_.requests().at(1).method, "DELETE");
}

TEST_F(IntuneApiTest, AssignPostsTheWholeSet) {
  http_.Enqueue(Response(200, R"({"value":[]})"));
  std::vector<json> set = {
      {{"target", {{"@odata.type", "#microsoft.graph.groupAssignmentTarget"}, {"groupId", "g1"}}}},
      {{"target", {{"@odata.type", "#microsoft.graph.groupAssignmentTarget"}, {"groupId", "g2"}}}}};
  EXPECT_THAT(IntuneApi(*client_).Assign("cfg-1", set), IsOk());
  const HttpRequest request = http_.requests().at(0);
  EXPECT_EQ(request.url,
            "https://graph.test/beta/deviceManagement/deviceConfigurations/cfg-1/assign");
  EXPECT_EQ(json::parse(request.body), (json{{"assignments", set}}));
}

TEST_F(IntuneApiTest, DeviceConfigurationCalls) {
  http_.Enqueue(Response(200, R"({"value":[{"id":"a"}]})"))
      .Enqueue(Response(201, R"({"id":"new"})"))
      .Enqueue(Response(200, R"({"id":"new","displayName":"Root"})"))
      .Enqueue(Response(200, R"({"value":[{"id":"as1"}]})"));
  IntuneApi intune(*client_);
  EXPECT_EQ(intune.ListDeviceConfigurations()->size(), 1u);
  EXPECT_EQ((*intune.CreateDeviceConfiguration({{"displayName", "Root"}}))["id"], "new");
  EXPECT_EQ((*intune.GetDeviceConfiguration("new"))["displayName"], "Root");
  EXPECT_EQ(intune.ListAssignments("new")->at(0)["id"], "as1");
  auto requests = http_.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[3].url,
            "https://graph.test/beta/deviceManagement/deviceConfigurations/new/assignments");
}

// ---- deviceStatuses ----------------------------------------------------------------------------

constexpr char kStatuses[] =
    "https://graph.test/beta/deviceManagement/deviceConfigurations/p%201/deviceStatuses";

json Entry(const std::string& id, const std::string& upn, const std::string& status) {
  return {{"@odata.type", "#microsoft.graph.deviceConfigurationDeviceStatus"},
          {"id", id},
          {"deviceDisplayName", "iPhone of " + upn},
          {"userName", "Some User"},
          {"deviceModel", "iPhone 15"},
          {"platform", 8},
          {"complianceGracePeriodExpirationDateTime", "0001-01-01T00:00:00Z"},
          {"status", status},
          {"lastReportedDateTime", "2026-11-30T08:15:00.1234567-08:00"},
          {"userPrincipalName", upn}};
}

TEST(ComplianceStatusTest, DocumentedMembersRoundTripOthersAreUnrecognized) {
  for (auto s : {ComplianceStatus::kUnknown, ComplianceStatus::kNotApplicable,
                 ComplianceStatus::kCompliant, ComplianceStatus::kRemediated,
                 ComplianceStatus::kNonCompliant, ComplianceStatus::kError,
                 ComplianceStatus::kConflict, ComplianceStatus::kNotAssigned}) {
    EXPECT_EQ(ParseComplianceStatus(ToString(s)), s) << ToString(s);
  }
  EXPECT_EQ(ToString(ComplianceStatus::kNonCompliant), "nonCompliant");
  EXPECT_EQ(ParseComplianceStatus("Compliant"), ComplianceStatus::kUnrecognized);
  EXPECT_EQ(ParseComplianceStatus("unknownFutureValue"), ComplianceStatus::kUnrecognized);
}

TEST(DeviceStatusJsonTest, ParsesEveryDocumentedProperty) {
  Result<DeviceConfigurationDeviceStatus> s =
      DeviceConfigurationDeviceStatusFromJson(Entry("d1", "alice@contoso.com", "compliant"));
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->id, "d1");
  EXPECT_EQ(s->device_display_name, "iPhone of alice@contoso.com");
  EXPECT_EQ(s->user_name, "Some User");
  EXPECT_EQ(s->device_model, "iPhone 15");
  EXPECT_EQ(s->platform, 8);
  EXPECT_EQ(s->status, ComplianceStatus::kCompliant);
  EXPECT_EQ(s->status_text, "compliant");
  EXPECT_EQ(s->user_principal_name, "alice@contoso.com");
  ASSERT_TRUE(s->last_reported_date_time.has_value());
  EXPECT_EQ(FormatRfc3339UtcMillis(*s->last_reported_date_time), "2026-11-30T16:15:00.123Z");
  EXPECT_TRUE(s->compliance_grace_period_expiration_date_time.has_value());
}

TEST(DeviceStatusJsonTest, KeepsAStatusTheDocDoesNotListAndToleratesNulls) {
  json j = Entry("d2", "bob@contoso.com", "pendingInstall");
  j["lastReportedDateTime"] = nullptr;
  j["platform"] = nullptr;
  j.erase("deviceModel");
  Result<DeviceConfigurationDeviceStatus> s = DeviceConfigurationDeviceStatusFromJson(j);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->status, ComplianceStatus::kUnrecognized);
  EXPECT_EQ(s->status_text, "pendingInstall");
  EXPECT_FALSE(s->last_reported_date_time.has_value());
  EXPECT_FALSE(s->platform.has_value());
  EXPECT_EQ(s->device_model, "");
}

TEST(DeviceStatusJsonTest, RejectsMalformedEntries) {
  json no_id = Entry("x", "a@contoso.com", "compliant");
  no_id.erase("id");
  EXPECT_THAT(DeviceConfigurationDeviceStatusFromJson(no_id),
              StatusIs(StatusCode::kInternal, HasSubstr("\"id\"")));
  json bad_date = Entry("x", "a@contoso.com", "compliant");
  bad_date["lastReportedDateTime"] = "2026-11-30T08:15:00";  // No offset.
  EXPECT_THAT(DeviceConfigurationDeviceStatusFromJson(bad_date),
              StatusIs(StatusCode::kInternal, HasSubstr("lastReportedDateTime")));
  json bad_platform = Entry("x", "a@contoso.com", "compliant");
  bad_platform["platform"] = "iOS";
  EXPECT_THAT(DeviceConfigurationDeviceStatusFromJson(bad_platform),
              StatusIs(StatusCode::kInternal, HasSubstr("platform")));
  EXPECT_THAT(DeviceConfigurationDeviceStatusFromJson(json::array()),
              StatusIs(StatusCode::kInternal));
}

TEST_F(IntuneApiTest, FollowsNextLinkAndFiltersTheUserClientSide) {
  const std::string next = std::string(kStatuses) + "?$skiptoken=abc";
  http_.Enqueue(Response(200, json{{"value", {Entry("d1", "Alice@Contoso.com", "compliant"),
                                              Entry("d2", "bob@contoso.com", "error")}},
                                   {"@odata.nextLink", next}}
                                  .dump()))
      .Enqueue(Response(200, json{{"value", json::array()}, {"@odata.nextLink", next + "2"}}.dump()))
      .Enqueue(Response(200, json{{"value", {Entry("d3", "alice@contoso.com", "bogus")}}}.dump()));
  Result<std::vector<DeviceConfigurationDeviceStatus>> mine =
      IntuneApi(*client_).ListDeviceStatusesForUser("p 1", "ALICE@contoso.com");
  ASSERT_THAT(mine, IsOk());
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].id, "d1");
  EXPECT_EQ((*mine)[1].id, "d3");
  EXPECT_EQ((*mine)[1].status, ComplianceStatus::kUnrecognized);
  ASSERT_EQ(http_.requests().size(), 3u);
  EXPECT_EQ(http_.requests()[0].url, kStatuses);  // No $filter: none is documented.
  EXPECT_EQ(http_.requests()[0].method, "GET");
  EXPECT_EQ(http_.requests()[1].url, next);
  EXPECT_EQ(http_.requests()[2].url, next + "2");
}

TEST_F(IntuneApiTest, UnknownProfileIsNotFoundAndAMalformedEntryFailsTheList) {
  http_.Enqueue(Response(404, R"({"error":{"code":"ResourceNotFound","message":"x"}})"))
      .Enqueue(Response(200, R"({"value":[{"deviceDisplayName":"no id"}]})"));
  EXPECT_THAT(IntuneApi(*client_).ListDeviceStatuses("p 1"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(IntuneApi(*client_).ListDeviceStatuses("p 1"), StatusIs(StatusCode::kInternal));
}

}  // namespace
}  // namespace certdeploy::graph
