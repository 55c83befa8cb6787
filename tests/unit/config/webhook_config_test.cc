// service.webhooks: loading, defaults and the errors (config/internal/webhook_config.cc).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "tests/support/status_matchers.h"

namespace certdeploy::config {
namespace {

using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBase[] =
    "tenant: {id: t}\nauth: {clientId: c, clientSecretEnv: E}\nconnector: {publicKeyFile: k}\n";

Result<Config> WithWebhooks(const std::string& hooks, const std::string& pfx = "") {
  return ParseConfig(std::string(kBase) + pfx + "service:\n  store: sqlite:x.db\n  webhooks:\n" +
                         hooks,
                     "cfg.yaml");
}

TEST(WebhookConfigTest, LoadsEveryFieldSortingThresholdsDescending) {
  Result<Config> c = WithWebhooks(
      "    - url: https://hooks.example.com/certdeploy?team=pki\n"
      "      events: [enrollment.failed, certificate.expiring]\n"
      "      secretEnv: CD_HOOK_SECRET\n"
      "      expiringDays: [7, 30, 1]\n"
      "    - {url: 'http://127.0.0.1:9000/hook', events: [rollout.finished], secretEnv: LOCAL_1}\n");
  ASSERT_THAT(c, IsOk());
  const std::vector<WebhookConfig>& hooks = c->service->webhooks;
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks[0].url, "https://hooks.example.com/certdeploy?team=pki");
  EXPECT_THAT(hooks[0].events, ElementsAre("enrollment.failed", "certificate.expiring"));
  EXPECT_EQ(hooks[0].secret_env, "CD_HOOK_SECRET");
  EXPECT_THAT(hooks[0].expiring_days, ElementsAre(30, 7, 1));
  EXPECT_EQ(hooks[1].url, "http://127.0.0.1:9000/hook");
  EXPECT_THAT(hooks[1].expiring_days, ElementsAre(30));  // pfx.expiresSoonDays' default.
}

TEST(WebhookConfigTest, ExpiringDaysDefaultsToPfxExpiresSoonDays) {
  Result<Config> c = WithWebhooks(
      "    - {url: 'https://h.example', events: [certificate.expiring], secretEnv: S}\n",
      "pfx: {expiresSoonDays: 45}\n");
  ASSERT_THAT(c, IsOk());
  EXPECT_THAT(c->service->webhooks[0].expiring_days, ElementsAre(45));
}

TEST(WebhookConfigTest, NoWebhooksByDefault) {
  Result<Config> c = ParseConfig(std::string(kBase) + "service:\n  store: sqlite:x.db\n", "c.yaml");
  ASSERT_THAT(c, IsOk());
  EXPECT_TRUE(c->service->webhooks.empty());
}

TEST(WebhookConfigTest, PlainHttpIsAllowedToLoopbackHostsOnly) {
  for (const char* url : {"http://127.0.0.1/h", "http://127.9.8.7:8080/h", "http://[::1]:81/h",
                          "http://localhost/h", "HTTP://LOCALHOST:1/h", "https://10.0.0.1/h"}) {
    EXPECT_THAT(WithWebhooks(std::string("    - {url: '") + url +
                             "', events: [rollout.finished], secretEnv: S}\n"),
                IsOk())
        << url;
  }
  for (const char* url : {"http://10.0.0.1/h", "http://hooks.example.com/h", "http://[::2]/h",
                          "http://127.0.0.1.evil.example/h", "http://localhost.evil.example/h"}) {
    EXPECT_THAT(WithWebhooks(std::string("    - {url: '") + url +
                             "', events: [rollout.finished], secretEnv: S}\n"),
                StatusIs(StatusCode::kInvalidArgument,
                         HasSubstr("service.webhooks[0].url: must be https://")))
        << url;
  }
}

TEST(WebhookConfigTest, ErrorsNameTheField) {
  struct Case {
    std::string hooks;
    std::string expected;
  };
  const Case cases[] = {
      {"    - https://h.example\n", "cfg.yaml:7: service.webhooks[0]: expected a mapping"},
      {"    {url: 'https://h.example'}\n", "service.webhooks: expected a list"},
      {"    - {events: [rollout.finished], secretEnv: S}\n", "service.webhooks[0].url: is required"},
      {"    - {url: 'ftp://h/x', events: [rollout.finished], secretEnv: S}\n",
       "cfg.yaml:7: service.webhooks[0].url: expected an absolute https:// URL"},
      {"    - {url: 'hooks.example.com/x', events: [rollout.finished], secretEnv: S}\n",
       "service.webhooks[0].url: expected an absolute https:// URL"},
      {"    - {url: 'https:///x', events: [rollout.finished], secretEnv: S}\n",
       "service.webhooks[0].url: has no host"},
      {"    - {url: 'https://u:pw@h.example/x', events: [rollout.finished], secretEnv: S}\n",
       "service.webhooks[0].url: must not carry user:password@ credentials"},
      {"    - {url: 'https://h.example', secretEnv: S}\n",
       "service.webhooks[0].events: is required"},
      {"    - {url: 'https://h.example', events: [], secretEnv: S}\n",
       "service.webhooks[0].events: must list an event"},
      {"    - {url: 'https://h.example', events: [rollout.started], secretEnv: S}\n",
       "service.webhooks[0].events: 'rollout.started' is not one of enrollment.failed"},
      {"    - {url: 'https://h.example', events: [rollout.finished, rollout.finished], "
       "secretEnv: S}\n",
       "service.webhooks[0].events: 'rollout.finished' is listed twice"},
      {"    - {url: 'https://h.example', events: [rollout.finished]}\n",
       "service.webhooks[0].secretEnv: is required"},
      {"    - {url: 'https://h.example', events: [rollout.finished], secretEnv: 'abc def'}\n",
       "service.webhooks[0].secretEnv: expected the name of an environment variable"},
      {"    - {url: 'https://h.example', events: [rollout.finished], secret: hunter2}\n",
       "service.webhooks[0].secret: secrets are never written in the config"},
      {"    - {url: 'https://h.example', events: [rollout.finished], secretEnv: S, bogus: 1}\n",
       "service.webhooks[0].bogus: unknown key"},
      {"    - {url: 'https://h.example', events: [certificate.expiring], secretEnv: S, "
       "expiringDays: []}\n",
       "service.webhooks[0].expiringDays: expected a non-empty list"},
      {"    - {url: 'https://h.example', events: [certificate.expiring], secretEnv: S, "
       "expiringDays: [0]}\n",
       "service.webhooks[0].expiringDays: each must be between 1 and 3650"},
      {"    - {url: 'https://h.example', events: [certificate.expiring], secretEnv: S, "
       "expiringDays: [7, 7]}\n",
       "service.webhooks[0].expiringDays: 7 is listed twice"},
      {"    - {url: 'https://h.example', events: [certificate.expiring], secretEnv: S, "
       "expiringDays: [soon]}\n",
       "service.webhooks[0].expiringDays: expected whole days"},
      {"    - {url: 'https://ok.example', events: [rollout.finished], secretEnv: S}\n"
       "    - {url: 'http://h.example', events: [rollout.finished], secretEnv: S}\n",
       "service.webhooks[1].url: must be https://"},
  };
  for (const Case& c : cases) {
    Result<Config> r = WithWebhooks(c.hooks);
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.expected))) << c.hooks;
    if (!r.ok()) {
      // Neither a secret nor a URL's credentials are echoed.
      EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr("hunter2")));
      EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr("u:pw")));
    }
  }
}

}  // namespace
}  // namespace certdeploy::config
