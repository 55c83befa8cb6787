#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

namespace certdeploy::config {
namespace {

using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kFull[] = R"(tenant:   { id: contoso.onmicrosoft.com, cloud: usgov }
auth:     { clientId: 11111111-2222-3333-4444-555555555555, clientSecretEnv: CERTDEPLOY_CLIENT_SECRET }
connector:
  providerName: "Microsoft Software Key Storage Provider"
  keyName: PFXEncryptionKey
  publicKeyFile: keys/connector.pub
  paddingScheme: oaepSha256
profiles:
  platforms: [ios, macos]
  namePrefix: "Corp S/MIME"
  assignTo: { groups: [g1, g2], excludeGroups: [g3] }
  importedPfxProfile: false
  trustBundle: /etc/certdeploy/extra.pem
pfx:      { intendedPurpose: smimeSigning, expiresSoonDays: 14, pruneExpired: true }
limits:   { writesPer20s: 50, requestsPer20s: 500, concurrency: 4 }
)";

TEST(ConfigTest, LoadsEveryField) {
  Result<Config> c = ParseConfig(kFull, "/etc/certdeploy/config.yaml");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->tenant.id, "contoso.onmicrosoft.com");
  EXPECT_EQ(c->tenant.cloud, "usgov");
  EXPECT_EQ(c->auth.client_secret_env, "CERTDEPLOY_CLIENT_SECRET");
  EXPECT_EQ(c->connector.public_key_file, "/etc/certdeploy/keys/connector.pub");
  EXPECT_EQ(c->connector.padding, pkcs::PaddingScheme::kOaepSha256);
  EXPECT_THAT(c->profiles.platforms, ElementsAre(Platform::kIos, Platform::kMacOs));
  EXPECT_EQ(c->profiles.name_prefix, "Corp S/MIME");
  EXPECT_THAT(c->profiles.assign_to.groups, ElementsAre("g1", "g2"));
  EXPECT_THAT(c->profiles.assign_to.exclude_groups, ElementsAre("g3"));
  EXPECT_FALSE(c->profiles.imported_pfx_profile);
  EXPECT_EQ(c->profiles.trust_bundle, "/etc/certdeploy/extra.pem");
  EXPECT_EQ(c->pfx.intended_purpose, pkcs::Purpose::kSmimeSigning);
  EXPECT_EQ(c->pfx.expires_soon_days, 14);
  EXPECT_TRUE(c->pfx.prune_expired);
  EXPECT_EQ(c->limits.writes_per_20s, 50);
  EXPECT_EQ(c->limits.concurrency, 4);
}

TEST(ConfigTest, DefaultsForOptionalSections) {
  Result<Config> c = ParseConfig(
      "tenant: {id: t}\nauth: {clientId: c, certificateFile: app.pem, keyFile: app.key}\n"
      "connector: {publicKeyFile: c.pub}\n",
      "/srv/cfg.yaml");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->tenant.cloud, "global");
  EXPECT_EQ(c->auth.certificate_file, "/srv/app.pem");
  EXPECT_EQ(c->connector.padding, pkcs::PaddingScheme::kOaepSha512);
  EXPECT_EQ(c->connector.key_name, "PFXEncryptionKey");
  EXPECT_THAT(c->profiles.platforms, ElementsAre(Platform::kIos));
  EXPECT_TRUE(c->profiles.imported_pfx_profile);
  EXPECT_EQ(c->pfx.intended_purpose, pkcs::Purpose::kSmimeEncryption);
  EXPECT_EQ(c->limits.writes_per_20s, 100);
  EXPECT_EQ(c->limits.requests_per_20s, 1000);
}

struct BadCase {
  const char* yaml;
  const char* expected;
};

class ConfigErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConfigErrorTest, NamesKeyPathAndLine) {
  Result<Config> c = ParseConfig(GetParam().yaml, "cfg.yaml");
  EXPECT_THAT(c, StatusIs(StatusCode::kInvalidArgument, HasSubstr(GetParam().expected)));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConfigErrorTest,
    ::testing::Values(
        BadCase{"tenant: {id: t}\nauth: {clientId: c, clientSecret: hunter2}\n"
                "connector: {publicKeyFile: k}\n",
                "cfg.yaml:2: auth.clientSecret: secrets are never written"},
        BadCase{"tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\n"
                "connector:\n  publicKeyFile: k\n  paddingScheme: pkcs1\n",
                "cfg.yaml:5: connector.paddingScheme"},
        BadCase{"tenant: {id: t, cloud: mars}\nauth: {clientId: c, clientSecretEnv: E}\n"
                "connector: {publicKeyFile: k}\n",
                "tenant.cloud: 'mars' is not one of"},
        BadCase{"tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\n"
                "connector: {publicKeyFile: k}\nlimits:\n  concurency: 3\n",
                "cfg.yaml:5: limits.concurency: unknown key"},
        BadCase{"tenant: {id: t}\nauth: {clientId: c}\nconnector: {publicKeyFile: k}\n",
                "auth: give exactly one credential"},
        BadCase{"tenant: {id: t}\nauth: {clientId: c, certificateFile: a}\n"
                "connector: {publicKeyFile: k}\n",
                "certificateFile and keyFile go together"},
        BadCase{"auth: {clientId: c, clientSecretEnv: E}\nconnector: {publicKeyFile: k}\n",
                "tenant: section is required"},
        BadCase{"tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\nconnector: {}\n",
                "connector.publicKeyFile: is required"},
        BadCase{"tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\n"
                "connector: {publicKeyFile: k}\nprofiles: {platforms: [ios, blackberry]}\n",
                "profiles.platforms: 'blackberry' is not a platform"},
        BadCase{"tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\n"
                "connector: {publicKeyFile: k}\nlimits: {concurrency: many}\n",
                "limits.concurrency: expected an integer"},
        BadCase{"tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\n"
                "connector: {publicKeyFile: k}\npfx: {intendedPurpose: email}\n",
                "pfx.intendedPurpose"},
        BadCase{"tenant: [unclosed\n", "cfg.yaml"},
        BadCase{"- a\n- b\n", "expected a mapping"}));

TEST(ConfigTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadConfig("/nonexistent/config.yaml"), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace certdeploy::config
