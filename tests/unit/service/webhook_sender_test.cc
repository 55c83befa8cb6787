// WebhookSender on a FakeClock and a FakeHttpTransport over a real (SQLite) store: the signed
// request, outcomes by status, the backoff schedule, Retry-After, the attempt bound, the pass
// bound. No sleeps: time moves only through FakeClock::Advance.

#include "service/internal/webhook_sender.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "tests/support/fake_clock.h"
#include "tests/support/fake_http_transport.h"
#include "tests/support/hmac_for_test.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_sqlite_store.h"

namespace certdeploy::service {
namespace {

using ::certdeploy::testing::FakeClock;
using ::certdeploy::testing::FakeHttpTransport;
using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::Response;
using ::certdeploy::testing::StatusIs;
using ::certdeploy::testing::TempSqliteStore;
using ::testing::HasSubstr;
using std::chrono::hours;
using std::chrono::seconds;

constexpr char kSecret[] = "receiver-shared-secret";

std::string IndependentHmac(std::string_view key, std::string_view body) {
  return ::certdeploy::testing::IndependentHmacSha256(key, body);
}

class WebhookSenderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(store_.status(), IsOk()); }

  WebhookSender& Sender(WebhookSenderOptions options = {}) {
    WebhookSecrets secrets;
    secrets.emplace("HOOK_SECRET", SecretBytes(std::string_view(kSecret)));
    sender_ = std::make_unique<WebhookSender>(std::move(secrets), *store_, http_, clock_,
                                              &metrics_, options);
    return *sender_;
  }

  void Enqueue(const std::string& event, const std::string& url = "https://hooks.example/x",
               const std::string& secret_env = "HOOK_SECRET") {
    store::Notification n{.event = event,
                          .url = url,
                          .secret_env = secret_env,
                          .body = R"({"event":")" + event + R"(","data":{"id":"r1"}})"};
    ASSERT_THAT(store_->EnqueueNotifications(std::vector<store::Notification>{n}), IsOk());
  }

  store::Notification Only() {
    Result<std::vector<store::Notification>> all = store_->ListNotifications(10);
    EXPECT_TRUE(all.ok() && all->size() == 1u);
    return all.ok() && !all->empty() ? all->front() : store::Notification{};
  }

  FakeClock clock_;
  TempSqliteStore store_{clock_};
  FakeHttpTransport http_;
  Metrics metrics_;
  std::unique_ptr<WebhookSender> sender_;
};

TEST_F(WebhookSenderTest, PostsTheStoredBodySignedWithTheReceiversSecret) {
  Enqueue("rollout.finished");
  http_.Enqueue(Response(204));
  Result<WebhookPassResult> pass = Sender().RunOnce();
  ASSERT_THAT(pass.status(), IsOk());
  EXPECT_EQ(pass->delivered, 1);

  const store::Notification n = Only();
  EXPECT_EQ(n.status, store::NotificationStatus::kDelivered);
  EXPECT_EQ(n.attempts, 1);
  const std::vector<graph::HttpRequest> requests = http_.requests();
  ASSERT_EQ(requests.size(), 1u);
  const graph::HttpRequest& r = requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://hooks.example/x");
  EXPECT_EQ(r.body, n.body);
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.Header("X-Certdeploy-Event"), "rollout.finished");
  EXPECT_EQ(r.Header("X-Certdeploy-Delivery"), std::to_string(n.id));
  EXPECT_EQ(r.Header("X-Certdeploy-Signature"), "sha256=" + IndependentHmac(kSecret, n.body));
  EXPECT_EQ(http_.timeouts()[0], seconds(5));
  EXPECT_THAT(metrics_.Render(nullptr, nullptr),
              HasSubstr("certdeploy_webhook_deliveries_total{event=\"rollout.finished\","
                        "outcome=\"delivered\"} 1"));
}

TEST_F(WebhookSenderTest, ClientErrorsAreDeadAtOnceExcept408And429) {
  Enqueue("rollout.finished");
  http_.Enqueue(Response(410));
  ASSERT_THAT(Sender().RunOnce().status(), IsOk());
  EXPECT_EQ(Only().status, store::NotificationStatus::kDead);
  EXPECT_EQ(Only().last_error, "HTTP 410");
  EXPECT_THAT(metrics_.Render(nullptr, nullptr), HasSubstr("outcome=\"dead\"} 1"));
}

TEST_F(WebhookSenderTest, RetriesWithDoublingBackoffCappedThenGivesUp) {
  Enqueue("enrollment.failed");
  WebhookSender& sender = Sender({.max_attempts = 10});
  // 30 s doubling: 30, 60, 120, 240, 480, 960, 1920, then the 1 h cap; dead at attempt 10.
  const std::vector<Duration> expected = {seconds(30),   seconds(60),   seconds(120),
                                          seconds(240),  seconds(480),  seconds(960),
                                          seconds(1920), seconds(3600), seconds(3600)};
  for (size_t i = 0; i < expected.size(); ++i) {
    http_.Enqueue(i % 3 == 0 ? Response(500) : i % 3 == 1 ? Response(408) : Response(502));
    ASSERT_THAT(sender.RunOnce().status(), IsOk());
    const store::Notification n = Only();
    ASSERT_EQ(n.status, store::NotificationStatus::kPending) << i;
    EXPECT_EQ(n.next_attempt_at - clock_.Now(), expected[i]) << "after attempt " << i + 1;
    // Not due a moment before: nothing is sent.
    clock_.Advance(expected[i] - seconds(1));
    ASSERT_THAT(sender.RunOnce().status(), IsOk());
    EXPECT_EQ(http_.requests().size(), i + 1);
    clock_.Advance(seconds(1));
  }
  http_.EnqueueError(UnavailableError("POST hooks.example: connection refused"));
  ASSERT_THAT(sender.RunOnce().status(), IsOk());
  EXPECT_EQ(Only().status, store::NotificationStatus::kDead);
  EXPECT_EQ(Only().attempts, 10);
  EXPECT_EQ(http_.requests().size(), 10u);
}

TEST_F(WebhookSenderTest, HonoursRetryAfterOn429And503) {
  Enqueue("rollout.finished");
  WebhookSender& sender = Sender();
  http_.Enqueue(Response(429).WithHeader("Retry-After", "7"));
  ASSERT_THAT(sender.RunOnce().status(), IsOk());
  EXPECT_EQ(Only().next_attempt_at - clock_.Now(), seconds(7));
  clock_.Advance(seconds(7));
  http_.Enqueue(Response(503).WithHeader("Retry-After", "86400"));  // Capped at 1 h.
  ASSERT_THAT(sender.RunOnce().status(), IsOk());
  EXPECT_EQ(Only().next_attempt_at - clock_.Now(), hours(1));
  clock_.Advance(hours(1));
  http_.Enqueue(Response(200));
  ASSERT_THAT(sender.RunOnce().status(), IsOk());
  EXPECT_EQ(Only().status, store::NotificationStatus::kDelivered);
  EXPECT_EQ(Only().attempts, 3);
}

TEST_F(WebhookSenderTest, AUrlTheTransportRefusesIsDead) {
  Enqueue("rollout.finished", "http://hooks.example/x");
  http_.EnqueueError(InvalidArgumentError("http:// to a non-loopback host"));
  ASSERT_THAT(Sender().RunOnce().status(), IsOk());
  EXPECT_EQ(Only().status, store::NotificationStatus::kDead);
}

TEST_F(WebhookSenderTest, ATransportErrorKeepsOnlyTheOriginOfTheUrl) {
  // Receivers often take a token in the path (https://hooks.example/T0K3N/x?sig=abc); the
  // transport's error names the URL it failed to reach.
  const std::string url = "https://hooks.example/T0K3N/x?sig=abc";
  Enqueue("rollout.finished", url);
  http_.EnqueueError(UnknownOutcomeError("POST https://hooks.example/T0K3N/x: request sent, then "
                                         "connection reset (" + url + ")"));
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  spdlog::default_logger()->sinks().push_back(sink);
  ASSERT_THAT(Sender().RunOnce().status(), IsOk());
  spdlog::default_logger()->sinks().pop_back();
  EXPECT_EQ(Only().status, store::NotificationStatus::kPending);
  EXPECT_THAT(Only().last_error, HasSubstr("POST https://hooks.example/...: request sent"));
  EXPECT_THAT(Only().last_error, ::testing::Not(HasSubstr("T0K3N")));
  EXPECT_THAT(Only().last_error, ::testing::Not(HasSubstr("sig=abc")));
  EXPECT_THAT(log.str(), HasSubstr("to https://hooks.example, attempt 1"));
  EXPECT_THAT(log.str(), ::testing::Not(HasSubstr("T0K3N")));
}

TEST_F(WebhookSenderTest, ARowWhoseSecretIsNoLongerConfiguredIsDeadUnsent) {
  Enqueue("rollout.finished", "https://hooks.example/x", "REMOVED_SECRET");
  ASSERT_THAT(Sender().RunOnce().status(), IsOk());
  EXPECT_EQ(Only().status, store::NotificationStatus::kDead);
  EXPECT_THAT(Only().last_error, HasSubstr("REMOVED_SECRET is configured any more"));
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(WebhookSenderTest, APassIsBoundedAndSkipsAReceiverThatIsDown) {
  for (int i = 0; i < 3; ++i) Enqueue("rollout.finished", "https://down.example/x");
  for (int i = 0; i < 5; ++i) Enqueue("rollout.finished", "https://up.example/x");
  http_.SetHandler([](const graph::HttpRequest& r) -> Result<graph::HttpResponse> {
    if (r.url.find("down") != std::string::npos) return UnavailableError("connect timed out");
    return graph::HttpResponse{200, {}, ""};
  });
  Result<WebhookPassResult> pass = Sender({.max_per_pass = 4}).RunOnce();
  ASSERT_THAT(pass.status(), IsOk());
  // One try at the down receiver, then its other rows wait; four requests in all.
  EXPECT_EQ(pass->retried, 1);
  EXPECT_EQ(pass->delivered, 3);
  EXPECT_EQ(pass->skipped, 4);
  EXPECT_EQ(http_.requests().size(), 4u);
}

TEST(WebhookSecretsTest, EachVariableMustBeSetAndNotEmpty) {
  ::setenv("CD_HOOK_TEST_SET", "s3cr3t-value", 1);
  ::setenv("CD_HOOK_TEST_EMPTY", "", 1);
  ::unsetenv("CD_HOOK_TEST_UNSET");
  config::WebhookConfig ok{"https://a.example", {"rollout.finished"}, "CD_HOOK_TEST_SET", {30}};
  Result<WebhookSecrets> secrets = ReadWebhookSecrets({ok, ok});
  ASSERT_THAT(secrets.status(), IsOk());
  EXPECT_EQ(secrets->at("CD_HOOK_TEST_SET").RevealAsString(), "s3cr3t-value");

  config::WebhookConfig empty = ok;
  empty.secret_env = "CD_HOOK_TEST_EMPTY";
  config::WebhookConfig unset = ok;
  unset.secret_env = "CD_HOOK_TEST_UNSET";
  EXPECT_THAT(ReadWebhookSecrets({ok, empty}).status(),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("service.webhooks[1].secretEnv: the environment variable "
                                 "CD_HOOK_TEST_EMPTY is not set or is empty")));
  Result<WebhookSecrets> missing = ReadWebhookSecrets({unset, ok});
  EXPECT_THAT(missing.status(), StatusIs(StatusCode::kFailedPrecondition,
                                         HasSubstr("CD_HOOK_TEST_UNSET")));
  EXPECT_THAT(missing.status().ToString(), ::testing::Not(HasSubstr("s3cr3t-value")));
}

}  // namespace
}  // namespace certdeploy::service
