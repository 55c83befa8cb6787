// Hostile input, round two, against the real `certdeploy serve` over TLS on loopback:
//
//   - PFX iteration bombs (a MAC count of 2^31-1, made at test time) are refused at once, and
//     ten heavy PFX uploads at a time leave /healthz answering within a fraction of a second;
//   - thousands of distinct junk methods leave /metrics small and the RSS flat;
//   - 32 KB of header fields in one write, and a 70 KB chunked trailer, get 431;
//   - SIGTERM while work is in flight exits within service.shutdownTimeoutSeconds and hands the
//     unfinished items back, and a restart finishes them without a duplicate.
// The round-one threats are in security_hostile_test.cc; docs/security.md lists them all.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <iostream>
#include <latch>
#include <thread>

#include "tests/e2e/security_fixtures.h"
#include "tests/support/pfx_bombs.h"

namespace certdeploy::testing {
namespace {

using http::testing::RawResponse;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;

class LimitsTest : public HostileClientTest {
 protected:
  std::string ExtraServiceYaml() const override { return "  shutdownTimeoutSeconds: 3\n"; }
  // In sanitized builds, AddressSanitizer keeps freed memory in a quarantine of up to 256 MB,
  // which would read as RSS growth; without it, freed memory is reused as in a plain build and
  // the RSS measures what the daemon keeps.
  std::map<std::string, std::string> ExtraEnv() const override {
    const char* asan = std::getenv("ASAN_OPTIONS");
    std::string options = asan != nullptr && *asan != '\0' ? std::string(asan) + ":" : "";
    return {{"ASAN_OPTIONS", options + "quarantine_size_mb=0"}};
  }

  // An enrollment body whose PFX asks for `mac` MAC iterations (its MAC value is the old one, so
  // it never opens).
  std::string BombBody(const std::string& upn, const std::string& pfx_file, int64_t mac) {
    const std::string pfx = ReadFileBytes(pfx_file);
    const std::vector<uint8_t> bomb = RewriteIterations(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(pfx.data()), pfx.size()),
        {.mac = mac});
    EXPECT_FALSE(bomb.empty());
    return nlohmann::json({{"userPrincipalName", upn},
                           {"pfx", Base64Encode(bomb)},
                           {"password", ReadFileBytes(kPki + "/password.txt")}})
        .dump();
  }
};

TEST_F(LimitsTest, IterationBombsAreRefusedAtOnceAndHealthzStaysResponsive) {
  const std::vector<std::string> pfx = MakeUserPfxFiles(dir_.path().string(), {"bomb@contoso.com"});
  ASSERT_EQ(pfx.size(), 1u);

  // A 2^31-1 MAC count: refused before any key derivation, with the finding.
  const steady_clock::time_point start = steady_clock::now();
  HttpReply bomb = https_->Call("POST", "/v1/enrollments", kEnrollKey,
                                BombBody("bomb@contoso.com", pfx[0], 2147483647));
  const milliseconds took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  EXPECT_EQ(bomb.status, 422) << bomb.body;
  EXPECT_THAT(bomb.body, HasSubstr("excessive-iterations"));
  EXPECT_LT(took, milliseconds(1000)) << "a bomb must not run its KDF";

  // Ten uploads at the cap (1,000,000 MAC iterations each: real work, then a wrong MAC) from
  // two keys at once, while /healthz is asked every 20 ms.
  std::atomic<bool> done{false};
  std::atomic<long> slowest_ms{0};
  std::atomic<int> healthz_ok{0};
  std::thread prober([&] {
    while (!done) {
      const steady_clock::time_point t0 = steady_clock::now();
      const HttpReply health = https_->Call("GET", "/healthz", "");
      const long ms = std::chrono::duration_cast<milliseconds>(steady_clock::now() - t0).count();
      if (health.status == 200) ++healthz_ok;
      long seen = slowest_ms.load();
      while (ms > seen && !slowest_ms.compare_exchange_weak(seen, ms)) {
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
  });
  const std::string heavy = BombBody("bomb@contoso.com", pfx[0], 1000000);
  std::vector<HttpReply> replies(10);
  std::latch go(10);
  std::vector<std::thread> uploads;
  for (int i = 0; i < 10; ++i) {
    uploads.emplace_back([&, i] {
      go.arrive_and_wait();
      replies[i] =
          https_->Call("POST", "/v1/enrollments", i % 2 == 0 ? kEnrollKey : kAdminKey, heavy);
    });
  }
  for (std::thread& t : uploads) t.join();
  done = true;
  prober.join();
  int refused = 0, busy = 0;
  for (const HttpReply& r : replies) {
    if (r.status == 422) {
      ++refused;
      EXPECT_THAT(r.body, HasSubstr("bad-password"));
    } else {
      EXPECT_TRUE(r.status == 429 || r.status == 503) << r.status << " " << r.body;
      EXPECT_FALSE(r.Header("retry-after").empty());
      ++busy;
    }
  }
  EXPECT_GE(refused, 2) << "each key gets its share of the PFX slots";
  EXPECT_GT(healthz_ok.load(), 0);
  EXPECT_LT(slowest_ms.load(), 750) << "/healthz waited behind PFX work";
  EXPECT_EQ(ItemsOfKind(Metrics(), "enrollment"), 0);
}

TEST_F(LimitsTest, JunkMethodsLeaveMetricsSmallAndMemoryFlat) {
  // Warm up, then measure.
  for (int i = 0; i < 50; ++i) https_->Call("GET", "/healthz", "");
  const long rss_before = RssKiB(daemon_->pid());
  std::unique_ptr<TestClient> client = https_->Connect();
  ASSERT_NE(client, nullptr);
  int sent = 0;
  for (int i = 0; i < 5000; ++i) {
    const std::string method = "JUNK" + std::to_string(i) + std::string(1000, 'X');
    const std::string request =
        method + " /v1/nothing-" + std::to_string(i) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (!client->Send(request) || !client->ReadResponse(milliseconds(5000)).has_value()) {
      client = https_->Connect();  // The server may close after an error answer: go on.
      ASSERT_NE(client, nullptr);
      continue;
    }
    ++sent;
  }
  EXPECT_GT(sent, 4000);
  const std::string metrics = Metrics();
  const long rss_after = RssKiB(daemon_->pid());
  EXPECT_LT(metrics.size(), 64u * 1024) << "one series per junk method?";
  EXPECT_THAT(metrics, ::testing::Not(HasSubstr("JUNK")));
  EXPECT_THAT(metrics, HasSubstr("method=\"other\""));
  EXPECT_THAT(metrics, HasSubstr("route=\"unmatched\""));
  EXPECT_LT(rss_after - rss_before, 20 * 1024) << "RSS grew from " << rss_before << " KiB";
  // The log names no junk method in full.
  EXPECT_THAT(ReadFileBytes(dir_.File("daemon.log")),
              ::testing::Not(HasSubstr("XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")));
}

TEST_F(LimitsTest, HeaderFloodsInOneWriteAndHugeTrailersGet431) {
  std::string fields;
  for (int i = 0; i < 320; ++i)
    fields += "X-Flood-" + std::to_string(i) + ": " + std::string(90, 'v') + "\r\n";
  ASSERT_GT(fields.size(), 30u * 1024);
  std::unique_ptr<TestClient> flood = https_->Connect();
  ASSERT_NE(flood, nullptr);
  ASSERT_TRUE(flood->Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields + "\r\n"));
  std::optional<RawResponse> refused = flood->ReadResponse();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 431);

  std::unique_ptr<TestClient> trailer = https_->Connect();
  ASSERT_NE(trailer, nullptr);
  trailer->Send(
      "POST /v1/enrollments HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\n{}\r\n0\r\nX-Trailer: " +
      std::string(70 * 1024, 't') + "\r\n\r\n");
  std::optional<RawResponse> answered = trailer->ReadResponse();
  ASSERT_TRUE(answered.has_value()) << "the connection was dropped without an answer";
  EXPECT_EQ(answered->status, 431);
  EXPECT_EQ(https_->Call("GET", "/healthz", "").status, 200);
  EXPECT_THAT(ReadFileBytes(dir_.File("daemon.log")),
              ::testing::Not(HasSubstr("exception escaped")));
}

TEST_F(LimitsTest, SigtermWithWorkInFlightExitsWithinTheDeadlineAndLosesNothing) {
  // A slow tenant (every answer 1.5 s late), so a batch is still running when SIGTERM comes.
  SandboxProcess slow(dir_.path().string(), {"--latency-ms", "1500"});
  ASSERT_TRUE(slow.started());
  daemon_.reset();
  https_.reset();
  ConfigOptions options;
  options.extra =
      SecurityServiceYaml(*cert_, dir_.File("slow.db"), dir_.File("inbox"), ExtraServiceYaml());
  const std::string config = WriteConfig(dir_, slow.url(), options);
  auto daemon = std::make_unique<DaemonProcess>(config, dir_.File("slow.log"));
  ASSERT_TRUE(daemon->started()) << ReadFileBytes(dir_.File("slow.log"));
  Https https(daemon->port(), cert_->cert_file);
  const std::vector<std::string> upns = {"slow1@contoso.com", "slow2@contoso.com",
                                         "slow3@contoso.com", "slow4@contoso.com"};
  const std::vector<std::string> pfx = MakeUserPfxFiles(dir_.path().string(), upns);
  ASSERT_EQ(pfx.size(), upns.size());
  std::vector<std::string> ids;
  for (size_t i = 0; i < upns.size(); ++i) {
    HttpReply r =
        https.Call("POST", "/v1/enrollments", kEnrollKey, EnrollmentBody(upns[i], pfx[i]));
    ASSERT_EQ(r.status, 202) << r.body;
    ids.push_back(r.Json().value("id", ""));
  }
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string m = https.Call("GET", "/metrics", kReadKey).body;
        return m.find("certdeploy_items{kind=\"enrollment\",status=\"running\"} 0") ==
               std::string::npos;
      },
      seconds(20)))
      << "no item started running";

  const steady_clock::time_point signalled = steady_clock::now();
  const int code = daemon->Stop(SIGTERM);
  const auto stopped = steady_clock::now() - signalled;
  EXPECT_EQ(code, 0);
  EXPECT_LT(stopped, seconds(3) + seconds(3)) << "shutdownTimeoutSeconds is 3";
  // Either everything in flight wound down in time, or the deadline handed it back.
  const std::string log = ReadFileBytes(dir_.File("slow.log"));
  EXPECT_TRUE(log.find("back to the queue") != std::string::npos ||
              log.find("stopping (in-flight work") != std::string::npos)
      << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
  std::cout << "shutdown: " << (log.find("handed") != std::string::npos ? "deadline" : "graceful")
            << " after "
            << std::chrono::duration_cast<milliseconds>(stopped).count() << " ms\n";

  {
    auto store = store::OpenJobStore("sqlite:" + dir_.File("slow.db"), RealClock());
    ASSERT_TRUE(store.ok()) << store.status();
    for (const std::string& id : ids) {
      Result<store::WorkItem> item = (*store)->GetItem(id);
      ASSERT_TRUE(item.ok());
      EXPECT_NE(item->status, store::ItemStatus::kRunning) << "left leased: " << id;
      EXPECT_NE(item->status, store::ItemStatus::kFailed) << item->error_message;
    }
  }
  // A restart finishes everything, and nothing is imported twice.
  auto again = std::make_unique<DaemonProcess>(config, dir_.File("slow.log"));
  ASSERT_TRUE(again->started());
  Https https2(again->port(), cert_->cert_file);
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (const std::string& id : ids) {
          if (https2.Call("GET", "/v1/enrollments/" + id, kReadKey).Json().value("status", "") !=
              "succeeded") {
            return false;
          }
        }
        return true;
      },
      seconds(90)));
  EXPECT_EQ(slow.Stats().value("duplicates", -1), 0);
  EXPECT_EQ(again->Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace certdeploy::testing
