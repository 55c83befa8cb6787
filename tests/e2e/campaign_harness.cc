#include "tests/e2e/campaign_harness.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "pkcs/digest.h"
#include "tests/support/pg_admin.h"
#include "store/job_store.h"

namespace certdeploy::testing::campaign {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kApiKey[] = "campaign-ops-api-key-5c1e";

// The compressed budget: 100 writes per 2 s on both sides (Intune's 100 per 20 s, ten times
// faster), so that a 1000-user campaign takes minutes, not hours.
constexpr int kWriteLimit = 100;
constexpr int kWindowSeconds = 2;

int EnvInt(const char* name, int fallback, int min, int max) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < min || value > max) {
    ADD_FAILURE() << name << "=" << text << ": expected an integer " << min << ".." << max;
    return fallback;
  }
  return static_cast<int>(value);
}

size_t Occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

const Knobs& Knobs::Get() {
  static const Knobs knobs = [] {
    Knobs k;
    // CI defaults: the whole campaign_test in about 3 minutes on 2 cores (Debug).
    k.users = EnvInt("CERTDEPLOY_CAMPAIGN_USERS", 80, 1, 100000);
    k.kills = EnvInt("CERTDEPLOY_CAMPAIGN_KILLS", 3, 0, 1000);
    k.seed = static_cast<uint64_t>(EnvInt("CERTDEPLOY_CAMPAIGN_SEED", 20260108, 0, 2147483647));
    return k;
  }();
  return knobs;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool WaitFor(const std::function<bool()>& pred, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return pred();
}

Reply Call(int port, const std::string& method, const std::string& path, const std::string& body) {
  // Creating a large rollout validates every PFX before answering: a long timeout.
  return LoopbackCall(port, {.method = method,
                             .path = path,
                             .bearer = kApiKey,
                             .body = body,
                             .idempotency_key = {},
                             .timeout = std::chrono::seconds(180)});
}

// ---- Daemon ----

Daemon::Daemon(const std::string& config, const std::string& log, bool wait_for_url,
               std::vector<std::string> extra_flags) {
  std::vector<std::string> argv = {CERTDEPLOY_BINARY, "--log-level", "info", "serve", "--config",
                                   config};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  process_ = std::make_unique<BackgroundProcess>(
      argv, std::map<std::string, std::string>{{"CERTDEPLOY_CLIENT_SECRET", kClientSecret}}, log);
  if (!wait_for_url) return;
  const std::string url = process_->ReadLine(seconds(90));
  if (!url.empty()) port_ = std::atoi(url.substr(url.rfind(':') + 1).c_str());
}

Daemon::~Daemon() = default;

pid_t Daemon::pid() const { return process_->pid(); }

int Daemon::Stop(int signal) { return process_->Stop(signal, seconds(90)); }

bool Daemon::IsLeader() const {
  return Call(port_, "GET", "/metrics").body.find("\ncertdeploy_dispatcher_leader 1\n") !=
         std::string::npos;
}

// ---- Inputs and stores ----

const Inbox& SharedInbox() {
  static std::unique_ptr<TempDir> dir;
  static Inbox inbox;
  if (dir) return inbox;
  dir = std::make_unique<TempDir>();
  inbox.dir = dir->File("inbox");
  std::filesystem::create_directories(inbox.dir);
  const int users = Knobs::Get().users;
  for (int i = 0; i < users; ++i) {
    char upn[64];
    std::snprintf(upn, sizeof(upn), "campaign%05d@contoso.com", i);
    inbox.upns.push_back(upn);
  }
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::string> files = MakeUserPfxFiles(inbox.dir, inbox.upns);
  EXPECT_EQ(files.size(), inbox.upns.size());
  std::ofstream(inbox.dir + "/password.txt", std::ios::binary) << ReadFile(kPki + "/password.txt");
  std::ostringstream csv;
  csv << "userPrincipalName,pfxFile,passwordFile\n";
  for (size_t i = 0; i < files.size(); ++i) {
    csv << inbox.upns[i] << "," << std::filesystem::path(files[i]).filename().string()
        << ",password.txt\n";
  }
  std::ofstream(inbox.dir + "/" + inbox.manifest, std::ios::binary) << csv.str();
  std::cout << "campaign: " << files.size() << " user PFX files made in "
            << std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started)
                   .count()
            << " ms\n";
  return inbox;
}

std::string SqliteStore(const TempDir& dir) { return "sqlite:" + dir.File("state.db"); }

// ---- Campaign ----

namespace {

std::vector<std::string> SandboxFaults(uint64_t seed) {
  // The mix: 5 % 503s, 5 % 429s beyond the budget, 2 % drop-after-commit, 200 ms
  // latency spikes (on 5 % of responses), over a small base latency, in a compressed window.
  return {"--latency-ms",    "10",
          "--write-limit",   std::to_string(kWriteLimit),
          "--window",        std::to_string(kWindowSeconds),
          "--fail-rate",     "0.05",
          "--throttle-rate", "0.05",
          "--drop-rate",     "0.02",
          "--spike-rate",    "0.05",
          "--spike-ms",      "200",
          "--seed",          std::to_string(seed == 0 ? 1 : seed)};
}

std::string ServiceYaml(const std::string& store, const std::string& inbox) {
  // Lines continuing the `limits:` map WriteConfig ends with, then the service section.
  return "  windowSeconds: " + std::to_string(kWindowSeconds) +
         "\n"
         "service:\n"
         "  listen: 127.0.0.1:0\n"
         "  store: '" +
         store +
         "'\n"
         "  inbox: '" +
         inbox +
         "'\n"
         "  leaseSeconds: 4\n"
         "  pollMillis: 100\n"
         "  batchSize: 25\n"
         "  workers: 8\n"
         "  haltOnFailurePercent: 100\n"
         "  apiKeys:\n"
         "    - {name: ops, sha256: " +
         pkcs::Sha256Hex(std::string_view(kApiKey)) + ", scopes: [rollouts, read]}\n";
}

}  // namespace

Campaign::Campaign(std::string name, std::string store)
    : name_(std::move(name)),
      store_(std::move(store)),
      sandbox_(dir_.path().string(), SandboxFaults(Knobs::Get().seed)),
      random_(Knobs::Get().seed),
      started_(std::chrono::steady_clock::now()) {
  if (!sandbox_.started()) return;
  ConfigOptions options;
  options.concurrency = 8;
  options.writes_per_20s = kWriteLimit;
  options.extra = ServiceYaml(store_, SharedInbox().dir);
  config_ = WriteConfig(dir_, sandbox_.url(), options);
}

std::string Campaign::CreateRollout(int port) {
  const nlohmann::json body = {{"name", "campaign " + name_},
                               {"manifest", SharedInbox().manifest},
                               {"waves", {{{"percent", 10}}, {{"percent", 100}}}}};
  Reply r = Call(port, "POST", "/v1/rollouts", body.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? r.Json().value("id", "") : "";
}

size_t Campaign::Records() const {
  nlohmann::json state = sandbox_.State();
  return state.is_object() ? state["userPfxCertificates"].size() : 0;
}

bool Campaign::WaitForRecords(size_t records, seconds timeout) const {
  return WaitFor([&] { return Records() >= records; }, timeout);
}

nlohmann::json Campaign::WaitForRollout(const std::function<int()>& port, const std::string& id,
                                        seconds timeout) {
  nlohmann::json last;
  WaitFor(
      [&] {
        Reply r = Call(port(), "GET", "/v1/rollouts/" + id);
        if (r.status != 200) return false;
        last = r.Json();
        const std::string status = last.value("status", "");
        return status == "succeeded" || status == "failed" || status == "cancelled" ||
               status == "paused";
      },
      timeout);
  return last;
}

seconds Campaign::RolloutTimeout(int kills) const {
  return seconds(120 + Knobs::Get().users * 3 / 10 + kills * 20);
}

void Campaign::VerifyAndReport(const nlohmann::json& rollout) {
  const std::vector<std::string>& upns = SharedInbox().upns;
  const size_t n = upns.size();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();

  // 1. Every item succeeded.
  EXPECT_EQ(rollout.value("status", ""), "succeeded") << rollout.dump(2);
  const nlohmann::json counts = rollout.value("counts", nlohmann::json::object());
  const int succeeded = counts.value("succeeded", -1);
  const int failed = counts.value("failed", -1);
  EXPECT_EQ(succeeded, static_cast<int>(n));
  EXPECT_EQ(failed, 0) << rollout.value("failures", nlohmann::json::array()).dump(2);
  EXPECT_EQ(counts.value("total", -1), static_cast<int>(n));

  // 2. Exactly one record per user, no two with the same user and thumbprint.
  nlohmann::json state = sandbox_.State();
  std::multiset<std::string> users;
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& r : state["userPfxCertificates"]) {
    users.insert(r.value("userPrincipalName", ""));
    pairs.insert({r.value("userPrincipalName", ""), r.value("thumbprint", "")});
  }
  const size_t records = state["userPfxCertificates"].size();
  EXPECT_EQ(records, n);
  EXPECT_EQ(pairs.size(), records) << "two records with the same user and thumbprint";
  size_t missing = 0, doubled = 0;
  for (const std::string& upn : upns) {
    missing += users.count(upn) == 0;
    doubled += users.count(upn) > 1;
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(doubled, 0u);
  EXPECT_EQ(state["deviceConfigurations"].size(), 4u) << "3 trusted roots + 1 imported-PFX profile";

  // 3. No duplicate create reached the tenant, the connector accepted every record.
  nlohmann::json stats = sandbox_.Stats();
  EXPECT_EQ(Counter(stats, "duplicates"), 0u);
  EXPECT_TRUE(stats["rejections"].empty()) << stats["rejections"].dump();

  // Figures: the audit log (final outcomes), the daemon logs (hand-backs), the sandbox.
  size_t imported = 0, reconciled = 0, audit_failed = 0;
  Result<std::unique_ptr<store::JobStore>> store = store::OpenJobStore(store_, RealClock());
  EXPECT_TRUE(store.ok()) << store.status();
  if (store.ok()) {
    Result<std::vector<store::AuditRecord>> audit = (*store)->ListAudit(1000000);
    EXPECT_TRUE(audit.ok()) << audit.status();
    for (const store::AuditRecord& a : audit.value_or(std::vector<store::AuditRecord>{})) {
      if (a.action != "import") continue;
      imported += a.outcome == "succeeded";
      reconciled += a.outcome == "succeeded: already present";
      audit_failed += a.outcome.rfind("failed", 0) == 0;
    }
  }
  EXPECT_EQ(audit_failed, 0u);
  // Each success is recorded with its audit row in one transaction: kills lose neither.
  EXPECT_EQ(imported + reconciled, static_cast<size_t>(Knobs::Get().users))
      << "every item's success has exactly one audit record";
  std::string logs;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    const std::string file = entry.path().filename().string();
    if (file.size() > 4 && file.substr(file.size() - 4) == ".log" && file != "sandbox.log") {
      logs += ReadFile(entry.path().string());
    }
  }
  const uint64_t throttled = Counter(stats, "throttled");
  const uint64_t injected_429 = Counter(stats, "injectedThrottles");
  std::ostringstream line;
  line.setf(std::ios::fixed);
  line.precision(1);
  const bool passed = !::testing::Test::HasFailure();
  line << "CAMPAIGN name=" << name_ << " result=" << (passed ? "pass" : "FAIL")
       << " store=" << store_.substr(0, store_.find(':')) << " users=" << n << " kills=" << kills_
       << " restarts=" << restarts_ << " seed=" << Knobs::Get().seed << " elapsed_s=" << elapsed
       << " rollout=" << rollout.value("status", "?") << " succeeded=" << succeeded
       << " failed=" << failed << " records=" << records
       << " duplicates=" << Counter(stats, "duplicates")
       << " rejections=" << stats["rejections"].size()
       << " injected_503=" << Counter(stats, "injectedFailures") << " injected_429=" << injected_429
       << " budget_429=" << (throttled - injected_429) << " dropped=" << Counter(stats, "dropped")
       << " spikes=" << Counter(stats, "latencySpikes") << " imported=" << imported
       << " reconciled=" << reconciled << " handed_back=" << Occurrences(logs, "back in the queue")
       << " lost_leases=" << Occurrences(logs, "lost the lease")
       << " graph_requests=" << Counter(stats, "requests")
       << " writes_applied=" << Counter(stats, "writesApplied")
       << " max_writes_per_window=" << Counter(stats, "maxWritesPerWindow");
  std::cout << line.str() << std::endl;
  if (!passed) {
    // Enough to diagnose a CI failure: the end of every daemon log and the sandbox's figures.
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
      if (entry.path().extension() != ".log") continue;
      const std::string text = ReadFile(entry.path().string());
      std::cout << "---- last lines of " << entry.path().filename().string() << "\n"
                << text.substr(text.size() > 12000 ? text.size() - 12000 : 0) << "\n";
    }
    std::cout << "---- sandbox stats\n" << stats.dump(2) << std::endl;
  }
}

}  // namespace certdeploy::testing::campaign
