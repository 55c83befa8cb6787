// tests/unit/service/daemon_harness.h: an in-process `certdeploy serve` (Daemon) on port 0
// against an in-process sandbox tenant, plus a blocking HTTP(S) client for its REST API.
//
// Each harness has its own scratch directory (SQLite store, inbox, TLS files). The dispatch loop
// never runs by itself: tests call daemon().RunOnce() to dispatch, so items stay queued otherwise.

#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/random.h"
#include "sandbox/sandbox.h"
#include "service/daemon.h"
#include "tests/support/http_test_client.h"

namespace certdeploy::service::testing {

using http::testing::Eventually;
using http::testing::MakeSelfSignedCert;
using http::testing::RawResponse;
using http::testing::TestCert;
using http::testing::TestClient;

inline constexpr char kHrKey[] = "hr-key-0123456789";          // enroll, read
inline constexpr char kOpsKey[] = "ops-key-0123456789";        // rollouts, read
inline constexpr char kReaderKey[] = "reader-key-0123456789";  // read
inline constexpr char kEnrollOnlyKey[] = "enroller-key-0123456789";  // enroll
inline constexpr char kSandboxClientId[] = "11111111-2222-3333-4444-555555555555";

// The real clocks plus an offset the test moves forward (timers without waiting).
class OffsetClock : public Clock {
 public:
  SystemTime Now() override {
    return std::chrono::system_clock::now() +
           std::chrono::duration_cast<SystemTime::duration>(Duration(offset_.load()));
  }
  SteadyTime SteadyNow() override {
    return std::chrono::steady_clock::now() + Duration(offset_.load());
  }
  void SleepFor(Duration d) override { RealClock().SleepFor(d); }
  void Advance(Duration d) { offset_ += d.count(); }

 private:
  std::atomic<Duration::rep> offset_{0};
};

struct HarnessOptions {
  bool tls = false;
  size_t max_body_bytes = 64 * 1024;
  std::string extra_service_yaml;  // More keys under service:, each line indented by 2.
  Clock* clock = nullptr;          // The daemon's clock; null: RealClock(). Must outlive it.
};

class DaemonHarness {
 public:
  explicit DaemonHarness(HarnessOptions options = {});
  ~DaemonHarness();
  DaemonHarness(const DaemonHarness&) = delete;
  DaemonHarness& operator=(const DaemonHarness&) = delete;

  bool ok() const { return daemon_ != nullptr; }
  const std::string& error() const { return error_; }
  Daemon& daemon() { return *daemon_; }
  store::JobStore& store() { return daemon_->store(); }
  sandbox::SandboxServer& sandbox() { return *sandbox_; }
  int port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path inbox() const { return dir_ / "inbox"; }
  std::string store_file() const { return (dir_ / "state.db").string(); }
  std::string server_cert_file() const { return cert_.cert_file; }

  // One request on a new connection. `key` empty: no Authorization header.
  RawResponse Request(const std::string& method, const std::string& path, const std::string& key,
                      const std::string& body = "",
                      const std::map<std::string, std::string>& headers = {});
  // Request() and the body parsed as JSON (null if it is not JSON).
  nlohmann::json Json(const RawResponse& r) const;

  // Runs `passes` daemon passes (election, scheduler, one dispatcher batch each).
  void Dispatch(int passes = 8);

  // Stops the daemon and starts a new one on the same config and store (a process restart).
  // False (see error()) when it does not start again.
  bool Restart();

  // A Graph call to the sandbox tenant with a fresh token, as an admin in the portal would make
  // (target "/beta/deviceManagement/..."). The response, whatever its status.
  http::ServerResponse Graph(const std::string& method, const std::string& target,
                             const nlohmann::json& body = nlohmann::json());

  // Enrolls the test PKI's alice.pfx and bob.pfx (as HR, not yet dispatched) and returns the two
  // enrollment ids. A refusal is a test failure (ADD_FAILURE) and leaves its id out.
  std::vector<std::string> EnrollAliceAndBob();

 private:
  std::filesystem::path dir_;
  TestCert cert_;
  std::unique_ptr<sandbox::SandboxServer> sandbox_;
  std::unique_ptr<Daemon> daemon_;
  int port_ = 0;
  bool tls_ = false;
  Clock* clock_ = nullptr;
  std::string config_path_;
  SSL_CTX* client_ctx_ = nullptr;
  std::string error_;
};

// The body of POST /v1/enrollments for a fixture PFX of the test PKI.
std::string EnrollmentBody(const std::string& pfx_name, const std::string& upn,
                           const std::string& password, bool dry_run = false);

}  // namespace certdeploy::service::testing
