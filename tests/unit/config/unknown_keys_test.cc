// Unknown keys are refused in every section of the config, with file, line, key path and the
// allowed keys: one case per section, made by adding a key to a config that loads.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "tests/support/status_matchers.h"

namespace certdeploy::config {
namespace {

using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using ::testing::HasSubstr;

// Every section and nested mapping of the config, each followed by its first child line; the
// probe key is inserted after the line `after`, indented like that section's children.
struct Section {
  std::string path;    // "service.tls".
  size_t after;        // Index in kLines of the line the probe follows.
  std::string indent;  // The section's children's indentation.
  std::string known;   // One key the error must list as allowed.
};

const std::vector<std::string> kLines = {
    "tenant:",                                   // 0
    "  id: contoso.onmicrosoft.com",             // 1
    "auth:",                                     // 2
    "  clientId: c",                             // 3
    "  clientSecretEnv: E",                      // 4
    "connector:",                                // 5
    "  publicKeyFile: k.pem",                    // 6
    "profiles:",                                 // 7
    "  platforms: [ios]",                        // 8
    "  assignTo:",                               // 9
    "    groups: [6f0c9a1e-5b1d-4c8e-9f3a-2b7d8e1c4a50]",  // 10
    "pfx:",                                      // 11
    "  intendedPurpose: smimeEncryption",        // 12
    "limits:",                                   // 13
    "  concurrency: 4",                          // 14
    "outlook:",                                  // 15
    "  smimeEnabled: true",                      // 16
    "logging:",                                  // 17
    "  level: info",                             // 18
    "service:",                                  // 19
    "  store: sqlite:x.db",                      // 20
    "  tls:",                                    // 21
    "    certFile: c.pem",                       // 22
    "    keyFile: k.pem",                        // 23
    "  apiKeys:",                                // 24
    "    - name: k1",                            // 25
    "      sha256: " + std::string(64, 'a'),     // 26
    "      scopes: [read]",                      // 27
    "  webhooks:",                               // 28
    "    - url: https://hooks.example.com/x",    // 29
    "      events: [enrollment.failed]",         // 30
    "      secretEnv: HOOK_SECRET",              // 31
};

const std::vector<Section> kSections = {
    {"config", 1, "", "tenant"},
    {"tenant", 0, "  ", "graphUrl"},
    {"auth", 2, "  ", "clientSecretFile"},
    {"connector", 5, "  ", "paddingScheme"},
    {"profiles", 7, "  ", "namePrefix"},
    {"profiles.assignTo", 9, "    ", "excludeGroups"},
    {"pfx", 11, "  ", "expiresSoonDays"},
    {"limits", 13, "  ", "writesPer20s"},
    {"outlook", 15, "  ", "signAllMail"},
    {"logging", 17, "  ", "level"},
    {"service", 19, "  ", "workers"},
    {"service.tls", 21, "    ", "clientCaFile"},
    {"service.apiKeys[0]", 25, "      ", "scopes"},
    {"service.webhooks[0]", 29, "      ", "expiringDays"},
};

std::string Yaml(const Section* probe) {
  std::string yaml;
  for (size_t i = 0; i < kLines.size(); ++i) {
    yaml += kLines[i] + "\n";
    if (probe != nullptr && probe->after == i) yaml += probe->indent + "bogusKey: 1\n";
  }
  return yaml;
}

TEST(ConfigUnknownKeysTest, TheBaseConfigLoads) {
  ASSERT_THAT(ParseConfig(Yaml(nullptr), "cfg.yaml"), IsOk());
}

TEST(ConfigUnknownKeysTest, EverySectionRefusesAnUnknownKeyWithFileLineKeyAndAllowedKeys) {
  for (const Section& section : kSections) {
    SCOPED_TRACE(section.path);
    const std::string line = std::to_string(section.after + 2);  // 1-based, after `after`.
    EXPECT_THAT(ParseConfig(Yaml(&section), "cfg.yaml"),
                StatusIs(StatusCode::kInvalidArgument,
                         HasSubstr("cfg.yaml:" + line + ": " + section.path +
                                   ".bogusKey: unknown key")));
    EXPECT_THAT(ParseConfig(Yaml(&section), "cfg.yaml"),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("expected one of: ")));
    EXPECT_THAT(ParseConfig(Yaml(&section), "cfg.yaml"),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(section.known)));
  }
}

TEST(ConfigUnknownKeysTest, ATypoIsAnsweredWithTheClosestKey) {
  EXPECT_THAT(ParseConfig("tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\n"
                          "connector: {publicKeyFile: k}\nlimits: {concurency: 3}\n",
                          "cfg.yaml"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("limits.concurency: unknown key; did you mean 'concurrency'?")));
  EXPECT_THAT(ParseConfig("tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\n"
                          "connector: {publicKeyFile: k}\nlogging: {foo: 1}\n",
                          "cfg.yaml"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("cfg.yaml:4: logging.foo: unknown key (expected one of: level)")));
}

TEST(ConfigUnknownKeysTest, LoggingLevelIsCheckedAndKept) {
  const std::string base =
      "tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\nconnector: {publicKeyFile: k}\n";
  Result<Config> c = ParseConfig(base + "logging: {level: debug}\n", "cfg.yaml");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->logging.level, "debug");
  EXPECT_THAT(ParseConfig(base + "logging: {level: loud}\n", "cfg.yaml"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("cfg.yaml:4: logging.level: 'loud' is not one of")));
}

// The commented example shipped in packaging/ loads as it is: every key it shows is a real one.
TEST(ConfigUnknownKeysTest, TheShippedExampleLoads) {
  Result<Config> c = LoadConfig(std::string(CERTDEPLOY_SOURCE_DIR) +
                                "/packaging/certdeploy.yaml.example");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->logging.level, "info");
  EXPECT_TRUE(c->service.has_value());
}

}  // namespace
}  // namespace certdeploy::config
