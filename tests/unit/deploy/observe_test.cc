// ReadObservedState against an in-memory Graph: what is kept, how trusted profiles are
// recognised, how the number of userPfxCertificate reads scales, and that only GETs are sent.

#include "deploy/observe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/encoding.h"
#include "pkcs/digest.h"
#include "tests/support/fake_graph_client.h"
#include "tests/support/status_matchers.h"

namespace certdeploy::deploy {
namespace {

using ::certdeploy::testing::FakeGraphClient;
using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

nlohmann::json Record(const std::string& id, const std::string& upn, const std::string& thumb) {
  return {{"id", id},
          {"userPrincipalName", upn},
          {"thumbprint", thumb},
          {"intendedPurpose", "smimeEncryption"},
          {"paddingScheme", "oaepSha512"},
          {"startDateTime", "2026-01-01T00:00:00Z"},
          {"expirationDateTime", "2027-01-01T00:00:00Z"}};
}

int CountRequests(const FakeGraphClient& graph, const std::string& path) {
  int n = 0;
  for (const auto& r : graph.Requests()) n += r.path == path ? 1 : 0;
  return n;
}

TEST(ObserveTest, KeepsManagedProfileTypesAndRecognisesTrustedOnesByCertificate) {
  FakeGraphClient graph;
  const std::string der = "\x30\x03\x02\x01\x07";
  graph.AddConfiguration(
      {{"id", "t1"},
       {"@odata.type", "#microsoft.graph.iosTrustedRootCertificate"},
       {"displayName", "Renamed by someone"},
       {"trustedRootCertificate", Base64Encode(der)}},
      {{{"target",
         {{"@odata.type", "#microsoft.graph.groupAssignmentTarget"}, {"groupId", "AAAA-Group"}}}}});
  graph.AddConfiguration({{"id", "w1"},
                          {"@odata.type", "#microsoft.graph.windows81TrustedRootCertificate"},
                          {"displayName", "win"},
                          {"trustedRootCertificate", Base64Encode(der)}});
  graph.AddConfiguration({{"id", "p1"},
                          {"@odata.type", "#microsoft.graph.iosImportedPFXCertificateProfile"},
                          {"displayName", "pfx"},
                          {"intendedPurpose", "smimeSigning"}});
  graph.AddConfiguration({{"id", "x1"},
                          {"@odata.type", "#microsoft.graph.iosGeneralDeviceConfiguration"},
                          {"displayName", "not ours"}});
  graph.AddConfiguration({{"id", "a1"},
                          {"@odata.type", "#microsoft.graph.androidTrustedRootCertificate"},
                          {"displayName", "device admin: a platform certdeploy does not manage"},
                          {"trustedRootCertificate", Base64Encode(der)}});
  Result<ObservedState> observed = [&] {
    graph::IntuneApi intune(graph);
    return ReadObservedState(intune, {});
  }();
  ASSERT_THAT(observed, IsOk());
  ASSERT_THAT(observed->profiles, SizeIs(3));
  const ObservedProfile& p1 = observed->profiles[0];
  EXPECT_EQ(p1.id, "p1");
  EXPECT_EQ(p1.purpose, pkcs::Purpose::kSmimeSigning);
  const ObservedProfile& t1 = observed->profiles[1];
  EXPECT_EQ(t1.id, "t1");
  EXPECT_EQ(t1.cert_sha1, pkcs::Sha1Hex(der));
  EXPECT_THAT(t1.assignments, ElementsAre(ObservedAssignment{
                                  "#microsoft.graph.groupAssignmentTarget", "aaaa-group"}));
  EXPECT_EQ(observed->profiles[2].id, "w1");
  // Assignments are read for the kept profiles only.
  EXPECT_EQ(CountRequests(graph, "/deviceManagement/deviceConfigurations/x1/assignments"), 0);
  EXPECT_EQ(CountRequests(graph, "/deviceManagement/deviceConfigurations/t1/assignments"), 1);
}

TEST(ObserveTest, TrustedProfileListedWithoutItsCertificateIsReadIndividually) {
  FakeGraphClient graph;
  const std::string der = "\x30\x03\x02\x01\x09";
  graph.AddConfiguration({{"id", "t1"},
                          {"@odata.type", "#microsoft.graph.iosTrustedRootCertificate"},
                          {"displayName", "root"},
                          {"trustedRootCertificate", Base64Encode(der)}});
  graph.OmitFromLists("trustedRootCertificate");
  graph::IntuneApi intune(graph);
  Result<std::vector<ObservedProfile>> profiles = ListManagedProfiles(intune);
  ASSERT_THAT(profiles, IsOk());
  ASSERT_THAT(*profiles, SizeIs(1));
  EXPECT_EQ((*profiles)[0].cert_sha1, pkcs::Sha1Hex(der));
  EXPECT_EQ(CountRequests(graph, "/deviceManagement/deviceConfigurations/t1"), 1);
}

TEST(ObserveTest, FewUsersAreQueriedOneFilterEachAndOnlyTheirRecordsKept) {
  FakeGraphClient graph;
  graph.AddPfx(Record("r1", "O'Neil@contoso.com", "AAAA"));
  graph.AddPfx(Record("r2", "bob@contoso.com", "bbbb"));
  graph.AddPfx(Record("r3", "stranger@contoso.com", "cccc"));
  graph::IntuneApi intune(graph);
  Result<ObservedState> observed =
      ReadObservedState(intune, {"o'neil@contoso.com", "BOB@contoso.com", "bob@contoso.com"});
  ASSERT_THAT(observed, IsOk());
  ASSERT_THAT(observed->pfx, SizeIs(2));
  EXPECT_EQ(observed->pfx[0].id, "r1");
  EXPECT_EQ(observed->pfx[0].thumbprint, "aaaa");  // Lower case, as the planner compares.
  EXPECT_EQ(observed->pfx[0].purpose, pkcs::Purpose::kSmimeEncryption);
  EXPECT_EQ(observed->pfx[1].id, "r2");
  int filtered = 0;
  for (const auto& r : graph.Requests()) {
    if (r.path == "/deviceManagement/userPfxCertificates") {
      EXPECT_THAT(r.query, HasSubstr("tolower(userPrincipalName) eq"));
      ++filtered;
    }
  }
  EXPECT_EQ(filtered, 2);  // Duplicates (any case) are read once.
}

TEST(ObserveTest, ManyUsersAreReadWithOneListNotOneQueryEach) {
  FakeGraphClient graph;
  std::vector<std::string> upns;
  for (int i = 0; i < 300; ++i) {
    upns.push_back("user" + std::to_string(i) + "@contoso.com");
    if (i % 3 == 0) graph.AddPfx(Record("r" + std::to_string(i), upns.back(), "ab"));
  }
  graph.AddPfx(Record("zz", "stranger@contoso.com", "cd"));
  graph.AddUsers(upns);
  graph::IntuneApi intune(graph);
  Result<ObservedState> observed = ReadObservedState(intune, upns);
  ASSERT_THAT(observed, IsOk());
  EXPECT_THAT(observed->pfx, SizeIs(100));
  EXPECT_EQ(CountRequests(graph, "/deviceManagement/userPfxCertificates"), 1);
  EXPECT_EQ(CountRequests(graph, "/v1.0/users"), 1);  // And one list of the directory.
  EXPECT_EQ(observed->users.size(), 300u);
  EXPECT_TRUE(observed->users.at("user299@contoso.com").found);
  for (const auto& r : graph.Requests()) EXPECT_EQ(r.method, "GET");
}

TEST(ObserveTest, SameTenantGivesTheSameDigestWhicheverReadStrategy) {
  FakeGraphClient graph;
  std::vector<std::string> upns;
  for (int i = 0; i < 30; ++i) {
    upns.push_back("user" + std::to_string(i) + "@contoso.com");
    graph.AddPfx(Record("r" + std::to_string(i), upns.back(), "ab"));
  }
  graph.AddUsers(upns);
  graph::IntuneApi intune(graph);
  Result<ObservedState> listed = ReadObservedState(intune, upns);
  Result<ObservedState> filtered = ReadObservedState(intune, upns, {.per_user_query_limit = 100});
  ASSERT_THAT(listed, IsOk());
  ASSERT_THAT(filtered, IsOk());
  EXPECT_EQ(DigestObservedState(*listed), DigestObservedState(*filtered));
}

TEST(ObserveTest, GraphFailuresKeepTheirCodeAndSayWhichStep) {
  FakeGraphClient graph;
  graph.Inject({"GET", "/deviceManagement/deviceConfigurations", FakeGraphClient::Fault::kError,
                PermissionDeniedError("HTTP 403")});
  graph::IntuneApi intune(graph);
  EXPECT_THAT(ReadObservedState(intune, {"a@contoso.com"}),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("deviceConfigurations")));
}

}  // namespace
}  // namespace certdeploy::deploy
