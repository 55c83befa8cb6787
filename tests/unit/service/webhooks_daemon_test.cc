// Webhooks end to end: an in-process daemon (DaemonHarness, real SQLite store, real cpprest
// transport) delivering to a real HTTP receiver on 127.0.0.1 that verifies each signature the way
// a receiver would. The daemon's clock is the real one plus an offset the test moves, so that a
// 30 s backoff or a year of certificate life passes without waiting.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

#include "base/mutex.h"
#include "http/server.h"
#include "tests/support/hmac_for_test.h"
#include "tests/support/test_pki.h"
#include "tests/unit/service/daemon_harness.h"

namespace certdeploy::service::testing {
namespace {

using ::certdeploy::testing::IndependentHmacSha256;
using ::certdeploy::testing::kPfxPassword;
using ::certdeploy::testing::PkiPath;

constexpr char kSecretEnv[] = "CD_WEBHOOK_TEST_SECRET";
constexpr char kSecret[] = "webhook-test-secret-0123456789";

// What the receiver got: each request's headers and body, and whether its signature verified.
struct Delivery {
  std::string event;
  std::string delivery_id;
  bool signature_ok = false;
  nlohmann::json body;
};

// An HTTP receiver on 127.0.0.1:port (0: any) that checks X-Certdeploy-Signature against its own
// HMAC of the raw body and answers 204 (401 when the signature is wrong).
class Receiver {
 public:
  bool Start(int port = 0) {
    http::ServerOptions options;
    options.listen = "127.0.0.1:" + std::to_string(port);
    options.drain_timeout = std::chrono::milliseconds(500);
    Result<std::unique_ptr<http::Server>> server =
        http::Server::Start(options, [this](const http::ServerRequest& r) { return Handle(r); });
    if (!server.ok()) return false;
    server_ = std::move(*server);
    const std::string url = server_->url();
    port_ = std::atoi(url.substr(url.rfind(':') + 1).c_str());
    return true;
  }
  void Stop() {
    if (server_) server_->Stop();
    server_.reset();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<Delivery> deliveries() {
    MutexLock lock(mu_);
    return deliveries_;
  }

 private:
  http::ServerResponse Handle(const http::ServerRequest& r) {
    Delivery d;
    d.event = r.Header("x-certdeploy-event").value_or("");
    d.delivery_id = r.Header("x-certdeploy-delivery").value_or("");
    d.signature_ok = r.method == "POST" && r.path == "/hook" &&
                     r.Header("content-type") == "application/json" &&
                     r.Header("x-certdeploy-signature") ==
                         "sha256=" + IndependentHmacSha256(kSecret, r.body);
    d.body = nlohmann::json::parse(r.body, nullptr, false);
    const bool ok = d.signature_ok;
    {
      MutexLock lock(mu_);
      deliveries_.push_back(std::move(d));
    }
    http::ServerResponse response;
    response.status = ok ? 204 : 401;
    return response;
  }

  std::unique_ptr<http::Server> server_;
  int port_ = 0;
  Mutex mu_;
  std::vector<Delivery> deliveries_ GUARDED_BY(mu_);
};

std::string WebhookYaml(const std::string& url, const std::string& events,
                        const std::string& extra = "") {
  return "  reconcileIntervalSeconds: 1\n"
         "  webhooks:\n"
         "    - url: " + url + "\n"
         "      events: [" + events + "]\n"
         "      secretEnv: " + std::string(kSecretEnv) + "\n" + extra;
}

std::vector<store::Notification> Outbox(DaemonHarness& h, const std::string& event) {
  std::vector<store::Notification> out;
  Result<std::vector<store::Notification>> all = h.store().ListNotifications(1000);
  if (!all.ok()) return out;
  for (store::Notification& n : *all) {
    if (n.event == event) out.push_back(std::move(n));
  }
  return out;
}

// Runs daemon passes until `pred` holds, for up to about 20 s.
template <typename Pred>
bool PassUntil(DaemonHarness& h, Pred pred) {
  for (int i = 0; i < 200; ++i) {
    if (pred()) return true;
    h.daemon().RunOnce();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

class WebhooksDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv(kSecretEnv, kSecret, 1); }
  void TearDown() override { ::unsetenv(kSecretEnv); }
};

TEST_F(WebhooksDaemonTest, DaemonRefusesToStartWithoutTheSecret) {
  ::unsetenv(kSecretEnv);
  DaemonHarness h(
      {.extra_service_yaml = WebhookYaml("http://127.0.0.1:9/hook", "rollout.finished")});
  EXPECT_FALSE(h.ok());
  EXPECT_THAT(h.error(), ::testing::HasSubstr("service.webhooks[0].secretEnv: the environment "
                                               "variable CD_WEBHOOK_TEST_SECRET is not set"));
}

TEST_F(WebhooksDaemonTest, RolloutFinishedReachesAReceiverThatWasDownAcrossARestart) {
  // A port with nobody listening: the receiver is down.
  Receiver receiver;
  ASSERT_TRUE(receiver.Start());
  const int port = receiver.port();
  receiver.Stop();

  OffsetClock clock;
  DaemonHarness h({.extra_service_yaml = WebhookYaml(receiver.url(), "rollout.finished"),
                   .clock = &clock});
  ASSERT_TRUE(h.ok()) << h.error();
  for (const char* f : {"alice.pfx", "expired.pfx", "password.txt"}) {
    std::filesystem::copy_file(PkiPath(f), h.inbox() / f);
  }
  std::ofstream(h.inbox() / "m.csv") << "userPrincipalName,pfxFile,passwordFile\n"
                                     << "alice@contoso.com,alice.pfx,password.txt\n"
                                     << "carol@contoso.com,expired.pfx,password.txt\n";
  const nlohmann::json rollout = {{"name", "hooks"},
                                  {"manifest", "m.csv"},
                                  {"waves", {{{"percent", 100}}}},
                                  {"haltOnFailurePercent", 100}};
  RawResponse created = h.Request("POST", "/v1/rollouts", kOpsKey, rollout.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = h.Json(created)["id"];

  // The rollout ends (its one deployable row succeeded, one row refused at intake: succeeded)
  // and the first delivery fails.
  ASSERT_TRUE(PassUntil(h, [&] {
    const std::vector<store::Notification> n = Outbox(h, "rollout.finished");
    return n.size() == 1 && n[0].attempts == 1;
  }));
  store::Notification queued = Outbox(h, "rollout.finished")[0];
  EXPECT_EQ(queued.status, store::NotificationStatus::kPending);
  EXPECT_FALSE(queued.last_error.empty());

  // A restart, the receiver comes up (on the same port), the backoff passes: delivered once.
  ASSERT_TRUE(h.Restart()) << h.error();
  ASSERT_TRUE(receiver.Start(port)) << "could not listen on port " << port << " again";
  clock.Advance(std::chrono::seconds(31));
  ASSERT_TRUE(PassUntil(h, [&] { return !receiver.deliveries().empty(); }));
  h.Dispatch(5);  // More passes deliver nothing more.
  const std::vector<Delivery> got = receiver.deliveries();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].signature_ok);
  EXPECT_EQ(got[0].event, "rollout.finished");
  EXPECT_EQ(got[0].delivery_id, std::to_string(queued.id));
  EXPECT_EQ(got[0].body["event"], "rollout.finished");
  EXPECT_EQ(got[0].body["data"]["id"], id);
  EXPECT_EQ(got[0].body["data"]["name"], "hooks");
  EXPECT_EQ(got[0].body["data"]["status"], "succeeded");
  EXPECT_EQ(got[0].body["data"]["counts"]["succeeded"], 1);
  EXPECT_EQ(got[0].body["data"]["counts"]["failed"], 0);
  EXPECT_EQ(got[0].body["data"]["counts"]["invalid"], 1);
  const store::Notification delivered = Outbox(h, "rollout.finished")[0];
  EXPECT_EQ(delivered.status, store::NotificationStatus::kDelivered);
  EXPECT_EQ(delivered.attempts, 2);
  RawResponse metrics = h.Request("GET", "/metrics", kReaderKey);
  EXPECT_THAT(metrics.body, ::testing::HasSubstr(
                                "certdeploy_webhook_deliveries_total{event=\"rollout.finished\","
                                "outcome=\"delivered\"} 1"));
  receiver.Stop();
}

TEST_F(WebhooksDaemonTest, CertificateExpiringOncePerCertificateAndThreshold) {
  Receiver receiver;
  ASSERT_TRUE(receiver.Start());
  OffsetClock clock;
  // alice.pfx is valid for a year: within 3650 days at once, within 100 days 300 days later.
  DaemonHarness h({.extra_service_yaml = WebhookYaml(receiver.url(), "certificate.expiring",
                                                     "      expiringDays: [3650, 100]\n"),
                   .clock = &clock});
  ASSERT_TRUE(h.ok()) << h.error();
  RawResponse enrolled = h.Request("POST", "/v1/enrollments", kHrKey,
                                   EnrollmentBody("alice.pfx", "alice@contoso.com", kPfxPassword));
  ASSERT_EQ(enrolled.status, 202) << enrolled.body;
  const std::string thumbprint = [&] {
    const std::string id = h.Json(enrolled)["id"];
    RawResponse r = h.Request("GET", "/v1/enrollments/" + id, kReaderKey);
    return h.Json(r)["thumbprint"].get<std::string>();
  }();

  ASSERT_TRUE(PassUntil(h, [&] { return receiver.deliveries().size() == 1; }));
  // Further expiry-watch passes (every second) and a restart find it again: no second message.
  clock.Advance(std::chrono::seconds(2));
  h.Dispatch(3);
  ASSERT_TRUE(h.Restart()) << h.error();
  h.Dispatch(3);
  clock.Advance(std::chrono::seconds(2));
  h.Dispatch(3);
  std::vector<Delivery> got = receiver.deliveries();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].signature_ok);
  EXPECT_EQ(got[0].event, "certificate.expiring");
  EXPECT_EQ(got[0].body["data"]["thumbprint"], thumbprint);
  EXPECT_EQ(got[0].body["data"]["userPrincipalName"], "alice@contoso.com");
  EXPECT_EQ(got[0].body["data"]["thresholdDays"], 3650);

  // 300 days on it is within 100 days: one message for that threshold, then quiet again.
  clock.Advance(std::chrono::hours(24 * 300));
  ASSERT_TRUE(PassUntil(h, [&] { return receiver.deliveries().size() == 2; }));
  clock.Advance(std::chrono::seconds(2));
  h.Dispatch(3);
  got = receiver.deliveries();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].body["data"]["thresholdDays"], 100);
  EXPECT_EQ(got[1].body["data"]["thumbprint"], thumbprint);
  EXPECT_LE(got[1].body["data"]["daysLeft"].get<int>(), 65);
  EXPECT_EQ(Outbox(h, "certificate.expiring").size(), 2u);
  receiver.Stop();
}

}  // namespace
}  // namespace certdeploy::service::testing
