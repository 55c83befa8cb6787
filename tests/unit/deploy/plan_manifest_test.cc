// The plan file names its manifest (path + SHA-256) so that apply --plan can find passwords
// without the plan holding any.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "deploy/plan.h"
#include "tests/support/status_matchers.h"

namespace certdeploy::deploy {
namespace {

using ::certdeploy::testing::IsOk;

TEST(PlanManifestTest, ManifestPathAndDigestRoundTrip) {
  Plan plan;
  plan.tenant = "contoso.onmicrosoft.com";
  plan.observed_digest = "abc";
  plan.manifest_path = "/srv/rollout/manifest.csv";
  plan.manifest_sha256 = "0f0f";
  nlohmann::json j = PlanToJson(plan);
  EXPECT_EQ(j["manifest"]["path"], "/srv/rollout/manifest.csv");
  EXPECT_EQ(j["manifest"]["sha256"], "0f0f");
  Result<Plan> back = PlanFromJson(j);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->manifest_path, plan.manifest_path);
  EXPECT_EQ(back->manifest_sha256, plan.manifest_sha256);
}

TEST(PlanManifestTest, PlanWithoutManifestReadsAsEmpty) {
  Plan plan;
  plan.tenant = "t";
  nlohmann::json j = PlanToJson(plan);
  j.erase("manifest");
  Result<Plan> back = PlanFromJson(j);
  ASSERT_THAT(back, IsOk());
  EXPECT_TRUE(back->manifest_path.empty());
}

}  // namespace
}  // namespace certdeploy::deploy
