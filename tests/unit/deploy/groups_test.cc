// ResolveGroupNames against an in-memory Graph: names become ids, ids stay, and a name that
// matches no group or several is a config error naming it and the count.

#include "deploy/groups.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fake_graph_client.h"
#include "tests/support/status_matchers.h"

namespace certdeploy::deploy {
namespace {

using ::certdeploy::testing::FakeGraphClient;
using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kIos[] = "0b4a7c1e-2f3d-4e5a-9b8c-7d6e5f4a3b2c";
constexpr char kHr[] = "6f0c9a1e-5b1d-4c8e-9f3a-2b7d8e1c4a50";

config::Config WithGroups(std::vector<std::string> groups, std::vector<std::string> exclude = {}) {
  config::Config c;
  c.path = "/etc/certdeploy.yaml";
  c.profiles.assign_to.groups = std::move(groups);
  c.profiles.assign_to.exclude_groups = std::move(exclude);
  return c;
}

int GroupReads(const FakeGraphClient& graph) {
  int n = 0;
  for (const auto& r : graph.Requests()) n += r.path == "/v1.0/groups" ? 1 : 0;
  return n;
}

TEST(GroupsTest, NamesBecomeIdsAndIdsStayWithoutAnyRequest) {
  FakeGraphClient graph;
  graph.AddGroup(kIos, "All iOS users");
  graph.AddGroup(kHr, "O'Neil's team");
  graph::IntuneApi intune(graph);
  config::Config c = WithGroups({"All iOS users", "9A1E0B4A-7C1E-4F3D-8E5A-9B8C7D6E5F4A"},
                                {"O'Neil's team", "All iOS users"});
  Result<std::vector<GroupResolution>> r = ResolveGroupNames(intune, c);
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(c.profiles.assign_to.groups,
              ElementsAre(kIos, "9A1E0B4A-7C1E-4F3D-8E5A-9B8C7D6E5F4A"));
  EXPECT_THAT(c.profiles.assign_to.exclude_groups, ElementsAre(kHr, kIos));
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].name, "All iOS users");
  EXPECT_EQ((*r)[0].id, kIos);
  EXPECT_EQ((*r)[1].name, "O'Neil's team");
  EXPECT_EQ(GroupReads(graph), 2);  // Each distinct name once; ids need no request.
  ASSERT_FALSE(graph.Requests().empty());
  EXPECT_THAT(graph.Requests()[0].query, HasSubstr("$select=id,displayName"));
  // The apostrophe travels doubled inside the OData literal.
  EXPECT_THAT(graph.Requests()[1].query, HasSubstr("displayName eq 'O''Neil''s team'"));

  FakeGraphClient empty;
  graph::IntuneApi no_names(empty);
  config::Config ids_only = WithGroups({kIos});
  ASSERT_THAT(ResolveGroupNames(no_names, ids_only), IsOk());
  EXPECT_TRUE(empty.Requests().empty());
}

TEST(GroupsTest, ANameOfNoGroupOrOfSeveralIsAConfigErrorNamingItAndTheCount) {
  FakeGraphClient graph;
  graph.AddGroup(kIos, "Sales");
  graph.AddGroup(kHr, "Sales");
  graph::IntuneApi intune(graph);
  config::Config missing = WithGroups({"all ios users"});
  EXPECT_THAT(ResolveGroupNames(intune, missing),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("/etc/certdeploy.yaml: profiles.assignTo.groups: no group is "
                                 "named 'all ios users' (0 matches)")));
  config::Config ambiguous = WithGroups({kIos}, {"Sales"});
  EXPECT_THAT(ResolveGroupNames(intune, ambiguous),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("profiles.assignTo.excludeGroups: 2 groups are named 'Sales' (" +
                                 std::string(kIos) + ", " + kHr + ")")));
}

TEST(GroupsTest, AGraphFailureKeepsItsDetailsAndSaysWhichPermissionIsNeeded) {
  FakeGraphClient graph;
  StatusDetails d;
  d.http_status = 403;
  d.service_code = "Authorization_RequestDenied";
  graph.Inject({"GET", "/v1.0/groups", FakeGraphClient::Fault::kError,
                Status(StatusCode::kPermissionDenied, "Insufficient privileges", d)});
  graph::IntuneApi intune(graph);
  config::Config c = WithGroups({"All iOS users"});
  Result<std::vector<GroupResolution>> r = ResolveGroupNames(intune, c);
  EXPECT_THAT(r, StatusIs(StatusCode::kPermissionDenied, HasSubstr("GroupMember.Read.All")));
  ASSERT_NE(r.status().details(), nullptr);
  EXPECT_EQ(r.status().details()->http_status, 403);
}

}  // namespace
}  // namespace certdeploy::deploy
