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
  takeOverAssignments: true
  trustBundle: /etc/certdeploy/extra.pem
pfx:      { intendedPurpose: smimeSigning, expiresSoonDays: 14, pruneExpired: true,
            pruneExpiredEncryption: true }
limits:   { writesPer20s: 50, requestsPer20s: 500, windowSeconds: 2, concurrency: 4 }
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
  EXPECT_TRUE(c->profiles.take_over_assignments);
  EXPECT_EQ(c->profiles.trust_bundle, "/etc/certdeploy/extra.pem");
  EXPECT_EQ(c->pfx.intended_purpose, pkcs::Purpose::kSmimeSigning);
  EXPECT_EQ(c->pfx.expires_soon_days, 14);
  EXPECT_TRUE(c->pfx.prune_expired);
  EXPECT_TRUE(c->pfx.prune_expired_encryption);
  EXPECT_EQ(c->limits.writes_per_20s, 50);
  EXPECT_EQ(c->limits.window, std::chrono::seconds(2));
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
  EXPECT_FALSE(c->profiles.take_over_assignments);
  EXPECT_EQ(c->pfx.intended_purpose, pkcs::Purpose::kSmimeEncryption);
  EXPECT_EQ(c->limits.writes_per_20s, 100);
  EXPECT_EQ(c->limits.requests_per_20s, 1000);
  EXPECT_EQ(c->limits.window, std::chrono::seconds(20));
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
        BadCase{"tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\n"
                "connector: {publicKeyFile: k}\npfx: {intendedPurpose: vpn}\n",
                "'vpn' is not supported for imported PFX"},
        BadCase{"tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\n"
                "connector: {publicKeyFile: k}\noutlook: {platforms: [ios, windows]}\n",
                "cfg.yaml:4: outlook.platforms: 'windows' is not an Outlook platform"},
        BadCase{"tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\n"
                "connector: {publicKeyFile: k}\nprofiles: {platforms: [macos]}\n"
                "outlook: {smimeEnabled: true}\n",
                "outlook.platforms: profiles.platforms names neither ios nor an Android"},
        BadCase{"tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\n"
                "connector: {publicKeyFile: k}\noutlook: {smimeEnabled: yes please}\n",
                "outlook.smimeEnabled: expected true or false"},
        BadCase{"tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\n"
                "connector: {publicKeyFile: k}\noutlook: {encryptAll: true}\n",
                "outlook.encryptAll: unknown key"},
        BadCase{"tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\n"
                "connector: {publicKeyFile: k}\npfx: {pruneExpiredEncryption: true}\n",
                "pfx.pruneExpiredEncryption: takes effect only with pruneExpired: true"},
        BadCase{"tenant: [unclosed\n", "cfg.yaml"},
        BadCase{"- a\n- b\n", "expected a mapping"}));

TEST(ConfigOutlookTest, AbsentSectionManagesNoAppConfiguration) {
  Result<Config> c = ParseConfig(kFull, "/etc/certdeploy/config.yaml");
  ASSERT_THAT(c, IsOk());
  EXPECT_FALSE(c->outlook.has_value());
}

TEST(ConfigOutlookTest, DefaultsFollowTheProfilesPlatforms) {
  Result<Config> c = ParseConfig(
      "tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\nconnector: {publicKeyFile: k}\n"
      "profiles: {platforms: [windows, androidDeviceOwner, ios, androidWorkProfile]}\n"
      "outlook: {}\n",
      "cfg.yaml");
  ASSERT_THAT(c, IsOk());
  // `outlook: {}` is present, so configured with the defaults.
  ASSERT_TRUE(c->outlook.has_value());
  EXPECT_TRUE(c->outlook->smime_enabled);
  EXPECT_FALSE(c->outlook->user_change_allowed);
  EXPECT_FALSE(c->outlook->encrypt_all_mail);
  EXPECT_TRUE(c->outlook->encrypt_all_mail_user_change_allowed);
  EXPECT_FALSE(c->outlook->sign_all_mail);
  EXPECT_TRUE(c->outlook->sign_all_mail_user_change_allowed);
  EXPECT_THAT(c->outlook->platforms, ElementsAre(OutlookPlatform::kIos, OutlookPlatform::kAndroid));
}

TEST(ConfigOutlookTest, LoadsEveryField) {
  Result<Config> c = ParseConfig(
      "tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\nconnector: {publicKeyFile: k}\n"
      "outlook:\n  smimeEnabled: false\n  userChangeAllowed: true\n  encryptAllMail: true\n"
      "  encryptAllMailUserChangeAllowed: false\n  signAllMail: true\n"
      "  signAllMailUserChangeAllowed: false\n  platforms: [Android]\n",
      "cfg.yaml");
  ASSERT_THAT(c, IsOk());
  ASSERT_TRUE(c->outlook.has_value());
  EXPECT_FALSE(c->outlook->smime_enabled);
  EXPECT_TRUE(c->outlook->user_change_allowed);
  EXPECT_TRUE(c->outlook->encrypt_all_mail);
  EXPECT_FALSE(c->outlook->encrypt_all_mail_user_change_allowed);
  EXPECT_TRUE(c->outlook->sign_all_mail);
  EXPECT_FALSE(c->outlook->sign_all_mail_user_change_allowed);
  EXPECT_THAT(c->outlook->platforms, ElementsAre(OutlookPlatform::kAndroid));
}

TEST(ConfigTest, GroupsAreIdsOrDisplayNamesAndAMalformedNameFailsAtLoad) {
  const std::string head =
      "tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: S}\nconnector: {publicKeyFile: k}\n";
  Result<Config> ok = ParseConfig(
      head + "profiles:\n  assignTo:\n    groups: [0b4a7c1e-2f3d-4e5a-9b8c-7d6e5f4a3b2c, "
             "\"All iOS users\"]\n    excludeGroups: [\"O'Neil's team\"]\n",
      "/c.yaml");
  ASSERT_THAT(ok, IsOk());
  EXPECT_THAT(ok->profiles.assign_to.groups,
              ElementsAre("0b4a7c1e-2f3d-4e5a-9b8c-7d6e5f4a3b2c", "All iOS users"));
  EXPECT_THAT(ok->profiles.assign_to.exclude_groups, ElementsAre("O'Neil's team"));

  EXPECT_THAT(ParseConfig(head + "profiles:\n  assignTo:\n    groups: [a, \"\"]\n", "/c.yaml"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("/c.yaml:6: profiles.assignTo.groups[1]: is empty")));
  EXPECT_THAT(ParseConfig(head + "profiles: {assignTo: {excludeGroups: [\"  \"]}}\n", "/c.yaml"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("profiles.assignTo.excludeGroups[0]: is empty")));
  EXPECT_THAT(
      ParseConfig(head + "profiles: {assignTo: {groups: [\"" + std::string(257, 'g') + "\"]}}\n",
                  "/c.yaml"),
      StatusIs(StatusCode::kInvalidArgument,
               HasSubstr("is 257 characters long; a group's display name has at most 256")));
  EXPECT_THAT(ParseConfig(head + "profiles: {assignTo: {groups: [\"a\\tb\"]}}\n", "/c.yaml"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("control character")));
  // 256 characters of UTF-8 (512 bytes) are still a name.
  std::string accented;
  for (int i = 0; i < 256; ++i) accented += "\xC3\xA9";
  EXPECT_THAT(ValidateGroupReference(accented), IsOk());
}

TEST(ConfigTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadConfig("/nonexistent/config.yaml"), StatusIs(StatusCode::kNotFound));
}

constexpr char kBase[] =
    "tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\nconnector: {publicKeyFile: k}\n";
const std::string kKeyHash(64, 'a');

TEST(ConfigServiceTest, AbsentSectionLeavesServiceUnset) {
  Result<Config> c = ParseConfig(kBase, "/srv/cfg.yaml");
  ASSERT_THAT(c, IsOk());
  EXPECT_FALSE(c->service.has_value());
}

TEST(ConfigServiceTest, LoadsEveryFieldAndResolvesPathsAgainstTheFile) {
  const std::string yaml = std::string(kBase) +
                           "service:\n"
                           "  listen: 0.0.0.0:8443\n"
                           "  tls: {certFile: tls/server.crt, keyFile: tls/server.key, "
                           "clientCaFile: /etc/ca.pem}\n"
                           "  store: sqlite:state/cd.db\n"
                           "  inbox: inbox\n"
                           "  apiKeys:\n"
                           "    - {name: hr, sha256: " + std::string(64, 'A') +
                           ", scopes: [enroll, read]}\n"
                           "    - {name: ops, sha256: " + kKeyHash + ", scopes: [rollouts]}\n"
                           "  maxBodyBytes: 4096\n"
                           "  retainPfxAfterSuccess: true\n"
                           "  haltOnFailurePercent: 10\n"
                           "  workers: 3\n"
                           "  leaseSeconds: 30\n"
                           "  batchSize: 7\n"
                           "  pollMillis: 250\n";
  Result<Config> c = ParseConfig(yaml, "/srv/cd/cfg.yaml");
  ASSERT_THAT(c, IsOk());
  ASSERT_TRUE(c->service.has_value());
  const ServiceConfig& s = *c->service;
  EXPECT_EQ(s.listen, "0.0.0.0:8443");
  ASSERT_TRUE(s.tls.has_value());
  EXPECT_EQ(s.tls->cert_file, "/srv/cd/tls/server.crt");
  EXPECT_EQ(s.tls->key_file, "/srv/cd/tls/server.key");
  EXPECT_EQ(s.tls->client_ca_file, "/etc/ca.pem");
  EXPECT_EQ(s.store, "sqlite:/srv/cd/state/cd.db");
  EXPECT_EQ(s.inbox, "/srv/cd/inbox");
  ASSERT_EQ(s.api_keys.size(), 2u);
  EXPECT_EQ(s.api_keys[0].name, "hr");
  EXPECT_EQ(s.api_keys[0].sha256, kKeyHash);  // Lower-cased.
  EXPECT_THAT(s.api_keys[0].scopes, ElementsAre(ApiScope::kEnroll, ApiScope::kRead));
  EXPECT_THAT(s.api_keys[1].scopes, ElementsAre(ApiScope::kRollouts));
  EXPECT_EQ(s.max_body_bytes, 4096u);
  EXPECT_TRUE(s.retain_pfx_after_success);
  EXPECT_EQ(s.halt_on_failure_percent, 10);
  EXPECT_EQ(s.workers, 3);
  EXPECT_EQ(s.lease, std::chrono::seconds(30));
  EXPECT_EQ(s.batch_size, 7);
  EXPECT_EQ(s.poll, std::chrono::milliseconds(250));
}

TEST(ConfigServiceTest, DefaultsAndPostgresUrlKeptVerbatim) {
  Result<Config> c = ParseConfig(std::string(kBase) +
                                     "service:\n  listen: \"[::1]:0\"\n"
                                     "  store: postgresql:///cd?host=/run/postgresql\n",
                                 "/srv/cfg.yaml");
  ASSERT_THAT(c, IsOk());
  const ServiceConfig& s = *c->service;
  EXPECT_FALSE(s.tls.has_value());
  EXPECT_EQ(s.store, "postgresql:///cd?host=/run/postgresql");
  EXPECT_EQ(s.max_body_bytes, 1048576u);
  EXPECT_FALSE(s.retain_pfx_after_success);
  EXPECT_EQ(s.halt_on_failure_percent, 5);
  EXPECT_TRUE(s.api_keys.empty());
  EXPECT_EQ(s.inbox, "");
  EXPECT_EQ(s.reconcile_interval, std::chrono::seconds(900));
}

TEST(ConfigServiceTest, ReconcileIntervalZeroTurnsTheExpiryWatchOff) {
  Result<Config> c = ParseConfig(std::string(kBase) +
                                     "service:\n  store: sqlite:x.db\n"
                                     "  reconcileIntervalSeconds: 0\n",
                                 "/srv/cfg.yaml");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->service->reconcile_interval, std::chrono::seconds(0));
  EXPECT_THAT(ParseConfig(std::string(kBase) + "service:\n  store: sqlite:x.db\n"
                                               "  reconcileIntervalSeconds: -5\n",
                          "cfg.yaml"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("service.reconcileIntervalSeconds: must be between 0")));
}

TEST(ConfigServiceTest, ErrorsNameKeyPathAndLine) {
  struct Case {
    std::string service;
    std::string expected;
  };
  const Case cases[] = {
      {"  store: sqlite:x.db\n  bogus: 1\n", "cfg.yaml:6: service.bogus: unknown key"},
      {"  store: sqlite:x.db\n  listen: 0.0.0.0:8443\n",
       "cfg.yaml:6: service.tls: is required: plain HTTP is only allowed on a loopback"},
      {"  store: sqlite:x.db\n  listen: localhost\n",
       "service.listen: 'localhost' is not host:port"},
      {"  listen: 127.0.0.1:1\n", "service.store: is required"},
      {"  store: mysql://u:secret@db/x\n", "service.store: expected sqlite:PATH"},
      {"  store: sqlite:x.db\n  apiKeys:\n    - {name: a, sha256: abc, scopes: [read]}\n",
       "cfg.yaml:7: service.apiKeys[0].sha256: expected 64 hex digits"},
      {"  store: sqlite:x.db\n  apiKeys:\n    - {name: a, sha256: " + kKeyHash +
           ", scopes: [admin]}\n",
       "service.apiKeys[0].scopes: 'admin' is not one of enroll, rollouts, read"},
      {"  store: sqlite:x.db\n  apiKeys:\n    - {name: a, sha256: " + kKeyHash +
           ", scopes: []}\n",
       "service.apiKeys[0].scopes: must list at least one scope"},
      {"  store: sqlite:x.db\n  apiKeys:\n    - {name: a, sha256: " + kKeyHash +
           ", scopes: [read]}\n    - {name: a, sha256: " + kKeyHash + ", scopes: [read]}\n",
       "cfg.yaml:8: service.apiKeys[1].name: duplicate key name"},
      {"  store: sqlite:x.db\n  apiKeys:\n    - {name: a, key: k, sha256: " + kKeyHash +
           ", scopes: [read]}\n",
       "service.apiKeys[0].key: unknown key"},
      {"  store: sqlite:x.db\n  haltOnFailurePercent: 101\n",
       "service.haltOnFailurePercent: must be between 0 and 100"},
      {"  store: sqlite:x.db\n  tls: {certFile: a.crt}\n", "service.tls.keyFile: is required"},
  };
  for (const Case& c : cases) {
    Result<Config> r = ParseConfig(std::string(kBase) + "service:\n" + c.service, "cfg.yaml");
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.expected))) << c.service;
    if (!r.ok()) {
      EXPECT_THAT(std::string(r.status().message()), ::testing::Not(HasSubstr("secret")));
    }
  }
}

}  // namespace
}  // namespace certdeploy::config
