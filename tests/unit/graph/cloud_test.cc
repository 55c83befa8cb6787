#include "graph/cloud.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

namespace certdeploy::graph {
namespace {

using certdeploy::testing::IsOk;
using certdeploy::testing::StatusIs;

TEST(CloudTest, ParsesEveryCloudName) {
  for (Cloud cloud : {Cloud::kGlobal, Cloud::kUsGov, Cloud::kUsGovDod, Cloud::kChina}) {
    Result<Cloud> parsed = ParseCloud(CloudName(cloud));
    ASSERT_THAT(parsed, IsOk());
    EXPECT_EQ(*parsed, cloud);
  }
  EXPECT_EQ(*ParseCloud("USGov"), Cloud::kUsGov);
  EXPECT_THAT(ParseCloud("germany"),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("usgovdod")));
}

TEST(CloudTest, MapsEachCloudToItsHosts) {
  EXPECT_EQ(EndpointsFor(Cloud::kGlobal),
            (Endpoints{"https://login.microsoftonline.com", "https://graph.microsoft.com"}));
  EXPECT_EQ(EndpointsFor(Cloud::kUsGov),
            (Endpoints{"https://login.microsoftonline.us", "https://graph.microsoft.us"}));
  EXPECT_EQ(EndpointsFor(Cloud::kUsGovDod),
            (Endpoints{"https://login.microsoftonline.us", "https://dod-graph.microsoft.us"}));
  EXPECT_EQ(EndpointsFor(Cloud::kChina), (Endpoints{"https://login.chinacloudapi.cn",
                                                    "https://microsoftgraph.chinacloudapi.cn"}));
}

TEST(CloudTest, OverridesReplaceTheDefaults) {
  Result<Endpoints> e =
      ResolveEndpoints(Cloud::kUsGov, {.graph_url = "http://127.0.0.1:8443/", .authority_url = ""});
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->graph_url, "http://127.0.0.1:8443");
  EXPECT_EQ(e->authority_url, "https://login.microsoftonline.us");
  e = ResolveEndpoints(Cloud::kGlobal, {.graph_url = "https://[::1]:9000",
                                        .authority_url = "https://localhost:9000/auth"});
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->graph_url, "https://[::1]:9000");
  EXPECT_EQ(e->authority_url, "https://localhost:9000/auth");
}

TEST(CloudTest, RejectsBadOverrides) {
  EXPECT_THAT(ResolveEndpoints(Cloud::kGlobal, {.graph_url = "graph.example", .authority_url = ""}),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("graphUrl")));
  EXPECT_THAT(
      ResolveEndpoints(Cloud::kGlobal, {.graph_url = "", .authority_url = "ftp://login.example"}),
      StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("authorityUrl")));
  EXPECT_THAT(ResolveEndpoints(Cloud::kGlobal,
                               {.graph_url = "https://g.example/?x=1", .authority_url = ""}),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace certdeploy::graph
