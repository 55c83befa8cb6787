// tests/e2e/campaign_harness.h: the reliability campaigns' plumbing around the real binary.
//
// A campaign is one rollout of N users, created through the daemon's REST API
// (`POST /v1/rollouts`, a manifest in the daemon's inbox), against a `certdeploy sandbox` that
// injects faults (503s, 429s beyond the budget, drop-after-commit, latency spikes) under a
// compressed write window. The daemon may be SIGKILLed and restarted on the same store any number
// of times; at the end the harness checks the one required result (every item succeeded, the
// tenant holds exactly one record per user, no duplicate, no connector rejection) and prints one
// "CAMPAIGN key=value ..." line for scripts/soak.sh.
//
// Size knobs from the environment: CERTDEPLOY_CAMPAIGN_USERS, CERTDEPLOY_CAMPAIGN_KILLS,
// CERTDEPLOY_CAMPAIGN_SEED (defaults keep CI short; scripts/soak.sh sets 1000 and 10).

#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "tests/e2e/plan_apply_fixtures.h"
#include "tests/support/pg_admin.h"
#include "tests/support/loopback_http.h"

namespace certdeploy::testing::campaign {

// The knobs, read once from the environment.
struct Knobs {
  int users = 0;
  int kills = 0;
  uint64_t seed = 0;
  static const Knobs& Get();
};

using Reply = LoopbackReply;

// One plain HTTP/1.1 request to the daemon on 127.0.0.1:port with the campaign's API key.
Reply Call(int port, const std::string& method, const std::string& path,
           const std::string& body = "");

// `certdeploy serve` as a child process, its stderr appended to `log`.
class Daemon {
 public:
  // Starts it; with `wait_for_url` false it does not wait for the listening URL (for a start
  // that is meant to be killed before it listens). `extra_flags` follow `serve --config FILE`.
  Daemon(const std::string& config, const std::string& log, bool wait_for_url = true,
         std::vector<std::string> extra_flags = {});
  ~Daemon();
  int port() const { return port_; }
  pid_t pid() const;
  // Sends `signal` and reaps: the exit code, or 128 + signal.
  int Stop(int signal);
  // True when /metrics says this replica holds the dispatcher role.
  bool IsLeader() const;

 private:
  std::unique_ptr<BackgroundProcess> process_;
  int port_ = 0;
};

// The users' PFX files and a manifest in an inbox, made once per test process and shared (each
// test has its own sandbox, so the same certificates may be deployed again).
struct Inbox {
  std::string dir;                        // The daemon's service.inbox.
  std::string manifest = "campaign.csv";  // Relative to dir.
  std::vector<std::string> upns;          // In manifest order.
};
const Inbox& SharedInbox();

// The SQLite store URL "sqlite:<dir>/state.db" (PostgreSQL: FreshPostgresDatabase, pg_admin.h).
std::string SqliteStore(const TempDir& dir);

// One campaign run: its sandbox, config and the figures collected along the way.
class Campaign {
 public:
  // Starts the faulty sandbox (seeded) and writes the daemon config for `store`.
  Campaign(std::string name, std::string store);

  bool ready() const { return sandbox_.started(); }
  const std::string& config() const { return config_; }
  const TempDir& dir() const { return dir_; }
  std::string Log(const std::string& replica = "daemon") const {
    return dir_.File(replica + ".log");
  }
  const SandboxProcess& sandbox() const { return sandbox_; }
  std::mt19937_64& random() { return random_; }

  // POST /v1/rollouts on `port`; returns the rollout id ("" plus a test failure otherwise).
  std::string CreateRollout(int port);
  // How many user records the tenant holds now.
  size_t Records() const;
  // Waits until the tenant holds at least `records` records (false after `timeout`).
  bool WaitForRecords(size_t records, std::chrono::seconds timeout) const;
  // Polls GET /v1/rollouts/{id} on whatever port `port()` returns until the rollout is final
  // (succeeded, failed, cancelled) or paused, or `timeout` passes. Returns the last body.
  nlohmann::json WaitForRollout(const std::function<int()>& port, const std::string& id,
                                std::chrono::seconds timeout);
  // A generous deadline for the whole rollout, scaled with the number of users and kills.
  std::chrono::seconds RolloutTimeout(int kills) const;

  void CountKill() { ++kills_; }
  void CountRestart() { ++restarts_; }

  // The required result, as test assertions, then the CAMPAIGN line on stdout. `rollout` is the
  // final GET /v1/rollouts/{id} body; call after every daemon is stopped (the SQLite store is
  // opened to read the audit log).
  void VerifyAndReport(const nlohmann::json& rollout);

 private:
  std::string name_;
  std::string store_;
  TempDir dir_;
  SandboxProcess sandbox_;
  std::string config_;
  std::mt19937_64 random_;
  std::chrono::steady_clock::time_point started_;
  int kills_ = 0;
  int restarts_ = 0;
};

// Polls `pred` every 100 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// The whole text of a file ("" if absent).
std::string ReadFile(const std::string& path);

}  // namespace certdeploy::testing::campaign
