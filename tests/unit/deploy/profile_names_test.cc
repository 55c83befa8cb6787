// Trusted-profile display names: distinct for CAs that share a name, the same on every run, and
// never a reason to create or rename a profile the tenant already has (found by thumbprint).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "config/config.h"
#include "deploy/desired_state.h"
#include "deploy/plan.h"

namespace certdeploy::deploy {
namespace {

using ::testing::ElementsAre;

const SystemTime kNow = SystemTime(std::chrono::seconds(1798000000));

pkcs::ChainElement Root(const std::string& sha1) {
  pkcs::ChainElement e;
  e.cert.sha1 = sha1;
  e.cert.common_name = "Contoso Root CA";
  e.cert.subject = "CN=Contoso Root CA,O=Contoso";
  e.cert.der = {0x30, 0x03, 0x02, 0x01, static_cast<uint8_t>(sha1[0])};
  e.cert.is_ca = true;
  e.cert.not_after = kNow + std::chrono::hours(24 * 3650);
  e.role = pkcs::ChainRole::kRoot;
  e.self_signed = true;
  return e;
}

// sha1 -> display name of the trusted profiles of `cas`.
std::map<std::string, std::string> Names(const config::Config& config,
                                         std::vector<pkcs::ChainElement> cas) {
  std::map<std::string, std::string> out;
  for (const DesiredTrustedProfile& t : AssembleProfileState(config, cas, {}).trusted) {
    out[t.cert.sha1] = t.display_name;
  }
  return out;
}

TEST(ProfileNamesTest, CasSharingASubjectGetDistinctNamesStableAcrossRuns) {
  config::Config config;
  config.profiles.platforms = {config::Platform::kIos};
  const pkcs::ChainElement old_root = Root("0a1b2c3d4e5f60718293a4b5c6d7e8f901234567");
  const pkcs::ChainElement new_root = Root("f9e8d7c6b5a4039281706f5e4d3c2b1a09876543");

  const std::map<std::string, std::string> first = Names(config, {old_root, new_root});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first.at(old_root.cert.sha1), "S/MIME Contoso Root CA [0a1b2c3d] (ios)");
  EXPECT_EQ(first.at(new_root.cert.sha1), "S/MIME Contoso Root CA [f9e8d7c6] (ios)");
  // Another run, the CAs in another order or one of them alone: the same names.
  EXPECT_EQ(Names(config, {new_root, old_root}), first);
  EXPECT_EQ(Names(config, {new_root}).at(new_root.cert.sha1), first.at(new_root.cert.sha1));

  // Both plans create two profiles with two names.
  DesiredState desired = AssembleProfileState(config, std::vector{old_root, new_root}, {});
  std::set<std::string> created;
  for (int run = 0; run < 2; ++run) {
    for (const Action& a : ComputePlan(desired, {}, kNow).actions) {
      if (a.kind == ActionKind::kCreateTrustedProfile) created.insert(a.display_name);
    }
  }
  EXPECT_THAT(created, ElementsAre("S/MIME Contoso Root CA [0a1b2c3d] (ios)",
                                   "S/MIME Contoso Root CA [f9e8d7c6] (ios)"));
}

TEST(ProfileNamesTest, AProfileCreatedUnderTheOldNameIsKeptNotDuplicatedOrRenamed) {
  config::Config config;
  config.profiles.platforms = {config::Platform::kIos};
  const pkcs::ChainElement root = Root("0a1b2c3d4e5f60718293a4b5c6d7e8f901234567");
  ObservedState observed;
  observed.profiles.push_back({"p1", "#microsoft.graph.iosTrustedRootCertificate",
                               "S/MIME Contoso Root CA (ios)", root.cert.sha1, std::nullopt, {}});
  const Plan plan =
      ComputePlan(AssembleProfileState(config, std::vector{root}, {}), observed, kNow);
  for (const Action& a : plan.actions) {
    EXPECT_NE(a.kind, ActionKind::kCreateTrustedProfile) << a.display_name;
    if (a.key == "trusted/ios/" + root.cert.sha1) {
      EXPECT_EQ(a.display_name, "S/MIME Contoso Root CA (ios)") << "the tenant's name, kept";
    }
  }
}

}  // namespace
}  // namespace certdeploy::deploy
