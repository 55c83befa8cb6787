// End-to-end: the certdeploy binary as `serve` (the daemon) and as `sandbox` (the tenant), driven
// through the REST API on the real clock.
//
//   - 100 enrollments posted concurrently; the daemon is SIGKILLed twice mid-run (once while
//     requests are arriving, once while records are being imported) and restarted; in the end
//     the tenant holds exactly 100 records, no duplicates, every enrollment reads "succeeded", and
//     the PFX password is nowhere in the store files, the daemon's log or the audit table.
//   - The same on PostgreSQL when CERTDEPLOY_TEST_PG_URL is set (GTEST_SKIP otherwise), and two
//     replicas on one database of which only one dispatches, the other taking over when it dies.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "base/encoding.h"
#include "pkcs/digest.h"
#include "tests/support/pg_admin.h"
#include "store/job_store.h"
#include "tests/e2e/plan_apply_fixtures.h"
#include "tests/support/loopback_http.h"

namespace certdeploy::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kApiKey[] = "e2e-hr-api-key-7f3a";
constexpr int kUsers = 100;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

using Reply = LoopbackReply;

Reply Call(int port, const std::string& method, const std::string& path,
           const std::string& body = "", const std::string& idempotency_key = "") {
  return LoopbackCall(port, {.method = method,
                             .path = path,
                             .bearer = kApiKey,
                             .body = body,
                             .idempotency_key = idempotency_key});
}

// `certdeploy serve` as a child process, logging (appending) to `log`.
class Daemon {
 public:
  Daemon(const std::string& config, const std::string& log) {
    process_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{CERTDEPLOY_BINARY, "--log-level", "info", "serve", "--config",
                                 config},
        std::map<std::string, std::string>{{"CERTDEPLOY_CLIENT_SECRET", kClientSecret}}, log);
    const std::string url = process_->ReadLine(seconds(60));
    if (!url.empty()) port_ = std::atoi(url.substr(url.rfind(':') + 1).c_str());
  }
  int port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  int Stop(int signal) { return process_->Stop(signal, seconds(60)); }

 private:
  std::unique_ptr<BackgroundProcess> process_;
  int port_ = 0;
};

std::string ServiceYaml(const std::string& store) {
  return "service:\n"
         "  listen: 127.0.0.1:0\n"
         "  store: '" +
         store +
         "'\n"
         "  leaseSeconds: 3\n"
         "  pollMillis: 100\n"
         "  batchSize: 10\n"
         "  workers: 16\n"
         "  apiKeys:\n"
         "    - {name: hr, sha256: " +
         pkcs::Sha256Hex(std::string_view(kApiKey)) + ", scopes: [enroll, read]}\n";
}

std::vector<std::string> Upns(int count, const std::string& prefix) {
  std::vector<std::string> upns;
  for (int i = 0; i < count; ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "%s%03d@contoso.com", prefix.c_str(), i);
    upns.push_back(name);
  }
  return upns;
}

// The enrollment bodies for `upns`, PFX files made under the test PKI's CA.
std::vector<std::string> Bodies(const TempDir& dir, const std::vector<std::string>& upns) {
  std::vector<std::string> bodies;
  const std::string password = ReadAll(kPki + "/password.txt");
  for (const std::string& file : MakeUserPfxFiles(dir.path().string(), upns)) {
    bodies.push_back(nlohmann::json({{"userPrincipalName", upns[bodies.size()]},
                                     {"pfx", Base64Encode(ReadAll(file))},
                                     {"password", password}})
                         .dump());
  }
  return bodies;
}

// Posts every body from `threads` threads to whatever port `port` holds at the time, retrying
// (same Idempotency-Key) until each is accepted. ids[i] is filled when body i is accepted.
class Poster {
 public:
  Poster(const std::vector<std::string>& bodies, std::atomic<int>& port, int threads = 8)
      : bodies_(bodies), ids_(bodies.size()) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, &port] {
        for (size_t i = next_++; i < bodies_.size(); i = next_++) {
          const auto deadline = std::chrono::steady_clock::now() + seconds(180);
          while (std::chrono::steady_clock::now() < deadline) {
            Reply r = Call(port.load(), "POST", "/v1/enrollments", bodies_[i],
                           "e2e-" + std::to_string(i));
            if (r.status == 202) {
              std::lock_guard<std::mutex> lock(mu_);
              ids_[i] = r.Json()["id"];
              ++accepted_;
              break;
            }
            std::this_thread::sleep_for(milliseconds(100));
          }
        }
      });
    }
  }
  ~Poster() { Join(); }
  void Join() {
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int accepted() const { return accepted_.load(); }
  std::vector<std::string> ids() {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_;
  }

 private:
  const std::vector<std::string>& bodies_;
  std::vector<std::string> ids_;
  std::atomic<size_t> next_{0};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

template <typename Pred>
bool WaitFor(Pred pred, seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(200));
  }
  return pred();
}

size_t Records(const SandboxProcess& sandbox) {
  nlohmann::json state = sandbox.State();
  return state.is_object() ? state["userPfxCertificates"].size() : 0;
}

int Succeeded(int port, const std::vector<std::string>& ids) {
  int n = 0;
  for (const std::string& id : ids) {
    if (!id.empty())
      n += Call(port, "GET", "/v1/enrollments/" + id).Json().value("status", "") == "succeeded";
  }
  return n;
}

// The tenant holds exactly `upns`, one record each, and the profiles once.
void ExpectExactlyOnce(const SandboxProcess& sandbox, const std::vector<std::string>& upns) {
  nlohmann::json state = sandbox.State();
  std::multiset<std::string> users;
  for (const auto& r : state["userPfxCertificates"]) users.insert(r["userPrincipalName"]);
  EXPECT_EQ(users.size(), upns.size());
  for (const std::string& upn : upns) EXPECT_EQ(users.count(upn), 1u) << upn;
  EXPECT_EQ(state["deviceConfigurations"].size(), 4u) << "3 trusted roots + 1 imported-PFX profile";
  EXPECT_EQ(Counter(sandbox.Stats(), "duplicates"), 0u);
}

// The password appears in no audit field.
void ExpectAuditClean(const std::string& store_url, const std::string& password, int min_imports) {
  Result<std::unique_ptr<store::JobStore>> store = store::OpenJobStore(store_url, RealClock());
  ASSERT_TRUE(store.ok()) << store.status();
  Result<std::vector<store::AuditRecord>> audit = (*store)->ListAudit(100000);
  ASSERT_TRUE(audit.ok()) << audit.status();
  int accepted = 0, imported = 0;
  for (const store::AuditRecord& a : *audit) {
    for (const std::string* field : {&a.api_key_name, &a.action, &a.user_principal_name,
                                     &a.thumbprint, &a.outcome, &a.request_ids, &a.detail}) {
      EXPECT_EQ(field->find(password), std::string::npos) << a.action;
    }
    accepted += a.action == "enroll" && a.outcome == "accepted";
    imported += a.action == "import" && a.outcome.rfind("succeeded", 0) == 0;
  }
  EXPECT_LE(accepted, kUsers) << "an idempotent replay is not a second enrollment";
  EXPECT_GE(imported, min_imports);
}

// The whole crash scenario against `store` ("sqlite:..." or a PostgreSQL URL).
void KillTwiceScenario(const TempDir& dir, const std::string& store) {
  // 5 % of writes are applied and their response dropped: unknown outcomes, reconciled by reading.
  SandboxProcess sandbox(dir.path().string(), {"--latency-ms", "20", "--drop-rate", "0.05"});
  ASSERT_TRUE(sandbox.started());
  ConfigOptions options;
  options.concurrency = 4;
  options.writes_per_20s = 60;  // ~35 s of imports: room to kill the daemon mid-run.
  options.extra = ServiceYaml(store);
  const std::string config = WriteConfig(dir, sandbox.url(), options);
  const std::vector<std::string> upns = Upns(kUsers, "user");
  const std::vector<std::string> bodies = Bodies(dir, upns);
  ASSERT_EQ(bodies.size(), upns.size());
  const std::string log = dir.File("daemon.log");

  auto daemon = std::make_unique<Daemon>(config, log);
  ASSERT_NE(daemon->port(), 0) << ReadAll(log);
  // No core dumps: RLIMIT_CORE is 0 ("Max core file size  0  0  bytes").
  const std::string limits = ReadAll("/proc/" + std::to_string(daemon->pid()) + "/limits");
  EXPECT_THAT(limits, ::testing::ContainsRegex("Max core file size +0 +0 "));
  std::atomic<int> port{daemon->port()};
  Poster poster(bodies, port);

  // Kill 1: while enrollments are still arriving.
  ASSERT_TRUE(WaitFor([&] { return poster.accepted() >= 30; }, seconds(120)));
  EXPECT_EQ(daemon->Stop(SIGKILL), 128 + SIGKILL);
  daemon = std::make_unique<Daemon>(config, log);
  ASSERT_NE(daemon->port(), 0) << ReadAll(log);
  port = daemon->port();
  poster.Join();
  ASSERT_EQ(poster.accepted(), kUsers);

  // Kill 2: while records are being imported.
  ASSERT_TRUE(WaitFor([&] { return Records(sandbox) >= 20; }, seconds(120)));
  const size_t at_kill = Records(sandbox);
  EXPECT_EQ(daemon->Stop(SIGKILL), 128 + SIGKILL);
  EXPECT_LT(at_kill, static_cast<size_t>(kUsers)) << "the second kill should land mid-run";
  daemon = std::make_unique<Daemon>(config, log);
  ASSERT_NE(daemon->port(), 0) << ReadAll(log);

  const std::vector<std::string> ids = poster.ids();
  EXPECT_TRUE(WaitFor([&] { return Succeeded(daemon->port(), ids) == kUsers; }, seconds(240)))
      << Succeeded(daemon->port(), ids) << " of " << kUsers << " succeeded";
  ExpectExactlyOnce(sandbox, upns);
  EXPECT_EQ(daemon->Stop(SIGTERM), 0) << "graceful stop exits 0";
  const std::string text = ReadAll(log);
  auto count = [&text](const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
      ++n;
    return n;
  };
  std::cout << "records at the second kill: " << at_kill
            << "; imports logged: " << count("imported item")
            << "; reconciled: " << count("reconciled by reading")
            << "; handed back: " << count("back in the queue")
            << "; 202 answers: " << count("POST /v1/enrollments -> 202")
            << "; responses dropped by the sandbox: " << Counter(sandbox.Stats(), "dropped")
            << "\n";

  const std::string password = ReadAll(kPki + "/password.txt");
  ASSERT_FALSE(password.empty());
  EXPECT_EQ(ReadAll(log).find(password), std::string::npos) << "password in the daemon log";
  EXPECT_NE(ReadAll(log).find("POST /v1/enrollments -> 202"), std::string::npos);
  if (store.rfind("sqlite:", 0) == 0) {
    const std::string db = store.substr(7);
    for (const std::string& file : {db, db + "-wal", db + "-shm", db + ".lock"}) {
      EXPECT_EQ(ReadAll(file).find(password), std::string::npos) << "password in " << file;
    }
  }
  ExpectAuditClean(store, password, kUsers - 2);
}

// Offboardings are stored before they are answered and run under a lease: a daemon killed while
// deleting leaves none half done. Eight users enrolled, then offboarded by a daemon whose write
// budget lets only four deletes through per 20 s, killed after the first deletes; the restarted
// daemon finishes every offboarding and the tenant holds no record.
TEST(DaemonE2eTest, OffboardingsSurviveAKillMidway) {
  TempDir dir;
  SandboxProcess sandbox(dir.path().string(), {"--latency-ms", "20"});
  ASSERT_TRUE(sandbox.started());
  const std::string store = "sqlite:" + dir.File("state.db");
  ConfigOptions fast;
  fast.extra = ServiceYaml(store);
  const std::string enroll_config = WriteConfig(dir, sandbox.url(), fast);
  const std::vector<std::string> upns = Upns(8, "leaver");
  const std::vector<std::string> bodies = Bodies(dir, upns);
  const std::string log = dir.File("daemon.log");
  auto daemon = std::make_unique<Daemon>(enroll_config, log);
  ASSERT_NE(daemon->port(), 0) << ReadAll(log);
  std::atomic<int> port{daemon->port()};
  Poster poster(bodies, port);
  poster.Join();
  ASSERT_TRUE(WaitFor([&] { return Succeeded(daemon->port(), poster.ids()) == 8; }, seconds(120)));
  ASSERT_EQ(Records(sandbox), 8u);
  EXPECT_EQ(daemon->Stop(SIGTERM), 0);

  ConfigOptions slow = fast;
  slow.writes_per_20s = 4;
  const std::string offboard_config = WriteConfig(dir, sandbox.url(), slow);
  daemon = std::make_unique<Daemon>(offboard_config, log);
  ASSERT_NE(daemon->port(), 0) << ReadAll(log);
  std::vector<std::string> ids;
  for (const std::string& upn : upns) {
    Reply r = Call(daemon->port(), "POST", "/v1/offboardings",
                   nlohmann::json{{"userPrincipalName", upn}}.dump(), "off-" + upn);
    ASSERT_EQ(r.status, 202) << r.body;
    ids.push_back(r.Json()["id"]);
  }
  ASSERT_TRUE(WaitFor([&] { return Records(sandbox) <= 6; }, seconds(60)));
  EXPECT_EQ(daemon->Stop(SIGKILL), 128 + SIGKILL);
  const size_t at_kill = Records(sandbox);
  EXPECT_GT(at_kill, 0u) << "the kill should land mid-run";

  daemon = std::make_unique<Daemon>(offboard_config, log);
  ASSERT_NE(daemon->port(), 0) << ReadAll(log);
  auto done = [&] {
    int n = 0;
    for (const std::string& id : ids) {
      n += Call(daemon->port(), "GET", "/v1/offboardings/" + id).Json().value("status", "") ==
           "succeeded";
    }
    return n;
  };
  EXPECT_TRUE(WaitFor([&] { return done() == 8; }, seconds(180))) << done() << " of 8";
  EXPECT_EQ(Records(sandbox), 0u);
  // Answered again with the same key: the same offboarding, not a second one.
  Reply again = Call(daemon->port(), "POST", "/v1/offboardings",
                     nlohmann::json{{"userPrincipalName", upns[0]}}.dump(), "off-" + upns[0]);
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(again.Json()["id"], ids[0]);
  std::cout << "records left at the kill: " << at_kill << " of 8\n";
  EXPECT_EQ(daemon->Stop(SIGTERM), 0);
}

TEST(DaemonE2eTest, SqliteSurvivesTwoKillsWithoutDuplicatesOrSecretsAtRest) {
  TempDir dir;
  KillTwiceScenario(dir, "sqlite:" + dir.File("state.db"));
}

TEST(DaemonE2eTest, PostgresSurvivesTwoKillsWithoutDuplicatesOrSecretsAtRest) {
  if (std::getenv("CERTDEPLOY_TEST_PG_URL") == nullptr)
    GTEST_SKIP() << "CERTDEPLOY_TEST_PG_URL unset";
  const std::string url = FreshPostgresDatabase("cd_e2e_kill");
  ASSERT_FALSE(url.empty());
  TempDir dir;
  KillTwiceScenario(dir, url);
}

TEST(DaemonE2eTest, TwoPostgresReplicasShareTheWorkButOnlyOneDispatches) {
  if (std::getenv("CERTDEPLOY_TEST_PG_URL") == nullptr)
    GTEST_SKIP() << "CERTDEPLOY_TEST_PG_URL unset";
  const std::string url = FreshPostgresDatabase("cd_e2e_replicas");
  ASSERT_FALSE(url.empty());
  TempDir dir;
  SandboxProcess sandbox(dir.path().string());
  ASSERT_TRUE(sandbox.started());
  ConfigOptions options;
  options.extra = ServiceYaml(url);
  const std::string config = WriteConfig(dir, sandbox.url(), options);
  const std::vector<std::string> upns = Upns(30, "replica");
  const std::vector<std::string> bodies = Bodies(dir, upns);
  auto a = std::make_unique<Daemon>(config, dir.File("a.log"));
  auto b = std::make_unique<Daemon>(config, dir.File("b.log"));
  ASSERT_NE(a->port(), 0);
  ASSERT_NE(b->port(), 0);

  // Both replicas accept enrollments: half go to each.
  std::vector<std::string> ids;
  for (size_t i = 0; i < 20; ++i) {
    Reply r = Call(i % 2 ? b->port() : a->port(), "POST", "/v1/enrollments", bodies[i]);
    ASSERT_EQ(r.status, 202) << r.body;
    ids.push_back(r.Json()["id"]);
  }
  EXPECT_TRUE(WaitFor([&] { return Succeeded(a->port(), ids) == 20; }, seconds(120)));
  auto leader = [](int port) {
    return Call(port, "GET", "/metrics").body.find("\ncertdeploy_dispatcher_leader 1\n") !=
           std::string::npos;
  };
  const bool a_leads = leader(a->port());
  EXPECT_NE(a_leads, leader(b->port())) << "exactly one replica dispatches";
  const std::string follower_log = ReadAll(dir.File(a_leads ? "b.log" : "a.log"));
  EXPECT_EQ(follower_log.find("imported item"), std::string::npos) << "the follower sent nothing";
  EXPECT_EQ(follower_log.find("reconciled by reading"), std::string::npos);

  // The leader dies; the survivor takes over.
  std::unique_ptr<Daemon>& dead = a_leads ? a : b;
  std::unique_ptr<Daemon>& survivor = a_leads ? b : a;
  EXPECT_EQ(dead->Stop(SIGKILL), 128 + SIGKILL);
  for (size_t i = 20; i < bodies.size(); ++i) {
    Reply r = Call(survivor->port(), "POST", "/v1/enrollments", bodies[i]);
    ASSERT_EQ(r.status, 202) << r.body;
    ids.push_back(r.Json()["id"]);
  }
  EXPECT_TRUE(WaitFor([&] { return Succeeded(survivor->port(), ids) == 30; }, seconds(120)));
  EXPECT_TRUE(leader(survivor->port()));
  ExpectExactlyOnce(sandbox, upns);
  EXPECT_EQ(survivor->Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace certdeploy::testing
