// Notifier: which receivers get an event, the body, dedupe keys, certificate.expiring thresholds.

#include "service/internal/notifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"

namespace certdeploy::service {
namespace {

using ::certdeploy::testing::FakeClock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using std::chrono::hours;

std::vector<config::WebhookConfig> Hooks() {
  return {{"https://a.example/hook", {"enrollment.failed", "rollout.finished"}, "A_SECRET", {30}},
          {"https://b.example/hook", {"rollout.finished", "certificate.expiring"}, "B_SECRET",
           {30, 7}},
          {"http://127.0.0.1:9/c", {"certificate.expiring"}, "C_SECRET", {10}}};
}

std::vector<std::string> Urls(const std::vector<store::Notification>& ns) {
  std::vector<std::string> urls;
  for (const store::Notification& n : ns) urls.push_back(n.url);
  return urls;
}

TEST(NotifierTest, OneNotificationPerSubscribedReceiver) {
  FakeClock clock;
  Notifier notifier(Hooks(), clock);
  EXPECT_THAT(Urls(notifier.For("rollout.finished", {{"id", "r1"}}, "")),
              ElementsAre("https://a.example/hook", "https://b.example/hook"));
  EXPECT_THAT(Urls(notifier.For("enrollment.failed", {{"id", "e1"}}, "")),
              ElementsAre("https://a.example/hook"));
  EXPECT_THAT(notifier.For("offboarding.finished", {{"id", "o1"}}, ""), IsEmpty());
  EXPECT_TRUE(notifier.Wants("certificate.expiring"));
  EXPECT_FALSE(notifier.Wants("offboarding.finished"));
}

TEST(NotifierTest, BodyCarriesEventTimeAndDataAndTheRowTheReceiver) {
  FakeClock clock;  // 2026-01-01T00:00:00Z.
  Notifier notifier(Hooks(), clock);
  const std::vector<store::Notification> ns =
      notifier.For("enrollment.failed", {{"id", "e1"}, {"thumbprint", "ab12"}}, "");
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].event, "enrollment.failed");
  EXPECT_EQ(ns[0].secret_env, "A_SECRET");
  EXPECT_FALSE(ns[0].dedupe_key.has_value());
  const nlohmann::json body = nlohmann::json::parse(ns[0].body);
  EXPECT_EQ(body["event"], "enrollment.failed");
  EXPECT_EQ(body["occurredAt"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(body["data"]["id"], "e1");
  EXPECT_EQ(body["data"]["thumbprint"], "ab12");
}

TEST(NotifierTest, DedupeKeyIsPerEventReceiverAndKey) {
  FakeClock clock;
  Notifier notifier(Hooks(), clock);
  const std::vector<store::Notification> ns = notifier.For("rollout.finished", {}, "r1");
  ASSERT_EQ(ns.size(), 2u);
  EXPECT_EQ(ns[0].dedupe_key, "rollout.finished https://a.example/hook r1");
  EXPECT_EQ(ns[1].dedupe_key, "rollout.finished https://b.example/hook r1");
}

TEST(NotifierTest, NeverCarriesSecretsOrTheirValues) {
  ::setenv("A_SECRET", "a-very-secret-value", 1);
  FakeClock clock;
  Notifier notifier(Hooks(), clock);
  for (const store::Notification& n : notifier.For("rollout.finished", {{"id", "r"}}, "k")) {
    EXPECT_THAT(n.body, Not(HasSubstr("a-very-secret-value")));
    EXPECT_THAT(n.body, Not(HasSubstr("SECRET")));  // Not even the variable's name.
  }
  ::unsetenv("A_SECRET");
}

TEST(NotifierTest, ExpiringPicksTheSmallestThresholdReachedPerReceiver) {
  FakeClock clock;
  Notifier notifier(Hooks(), clock);
  const SystemTime now = clock.Now();
  const ExpiringCertificate cert{"alice@contoso.com", "ab12", "smimeEncryption",
                                 now + hours(24 * 20 + 5)};
  // 20 days left: b (30, 7) at 30; c (10) not yet.
  std::vector<store::Notification> ns = notifier.ForExpiring(cert, now);
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].url, "https://b.example/hook");
  EXPECT_EQ(ns[0].dedupe_key, "certificate.expiring https://b.example/hook ab12:30");
  const nlohmann::json data = nlohmann::json::parse(ns[0].body)["data"];
  EXPECT_EQ(data["userPrincipalName"], "alice@contoso.com");
  EXPECT_EQ(data["thumbprint"], "ab12");
  EXPECT_EQ(data["intendedPurpose"], "smimeEncryption");
  EXPECT_EQ(data["expirationDateTime"], "2026-01-21T05:00:00Z");
  EXPECT_EQ(data["daysLeft"], 20);
  EXPECT_EQ(data["thresholdDays"], 30);

  // 5 days left: b at 7 (a new key), c at 10.
  ns = notifier.ForExpiring(cert, now + hours(24 * 15));
  ASSERT_EQ(ns.size(), 2u);
  EXPECT_EQ(ns[0].dedupe_key, "certificate.expiring https://b.example/hook ab12:7");
  EXPECT_EQ(ns[1].dedupe_key, "certificate.expiring http://127.0.0.1:9/c ab12:10");

  // Far from expiry, or expired: nothing.
  EXPECT_THAT(notifier.ForExpiring(cert, now - hours(24 * 100)), IsEmpty());
  EXPECT_THAT(notifier.ForExpiring(cert, now + hours(24 * 21)), IsEmpty());
}

}  // namespace
}  // namespace certdeploy::service
