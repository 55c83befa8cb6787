// tests/e2e/security_fixtures.h: the real `certdeploy serve` over TLS for the hostile-client and
// secret-hygiene tests.
//
// A self-signed server certificate for 127.0.0.1, a `service:` section with four API keys (one
// per scope plus an all-scopes one) and short request/idle timeouts, the daemon as a child
// process (optionally dropped to uid/gid 65534 with setpriv when the tests run as root, so that
// the kernel's "not dumpable" mark is observable), and a small HTTPS client that keeps every
// response body it received for the secret scans.

#pragma once

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/encoding.h"
#include "store/job_store.h"
#include "tests/e2e/plan_apply_fixtures.h"
#include "tests/support/http_test_client.h"

namespace certdeploy::testing {

using http::testing::TestClient;

// Bearer keys configured on every test daemon (only their SHA-256 goes into the config).
inline constexpr char kEnrollKey[] = "sec-hr-enroll-5d1e0c";        // name hr, [enroll]
inline constexpr char kReadKey[] = "sec-auditor-read-91ab77";       // name auditor, [read]
inline constexpr char kRolloutsKey[] = "sec-ops-rollouts-2c4f08";   // name ops, [rollouts]
inline constexpr char kAdminKey[] = "sec-admin-all-scopes-e6a913";  // name admin, all three

// The daemon's request timeout in these tests (service.requestTimeoutMillis).
inline constexpr std::chrono::milliseconds kRequestTimeout{1500};

struct HttpReply {
  int status = 0;  // 0: no HTTP response (refused, reset, closed or timed out).
  std::multimap<std::string, std::string> headers;  // Lower-cased names.
  std::string body;
  std::string Header(const std::string& name) const;
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// A TLS server certificate (self-signed, SAN IP:127.0.0.1) in `dir`; fails the test if it cannot
// be made.
struct ServerCert {
  std::string cert_file;
  std::string key_file;
};
ServerCert MakeServerCert(const std::string& dir);

// A client context trusting only `cert_file` and checking the IP SAN. min/max 0: OpenSSL's
// defaults. Versions below TLS 1.2 also lower the client's security level so that it really
// offers them. Caller frees it.
SSL_CTX* NewClientContext(const std::string& cert_file, int min_version = 0, int max_version = 0);

// The YAML `service:` section of a test daemon: TLS with `cert`, SQLite store `store_file`,
// `inbox` (created), the four keys, maxBodyBytes 65536, requestTimeoutMillis 1500,
// idleTimeoutMillis 1500, fast polling. `extra` is appended inside the section.
std::string SecurityServiceYaml(const ServerCert& cert, const std::string& store_file,
                                const std::string& inbox, const std::string& extra = "");

// `certdeploy --log-level debug serve --config CONFIG` (stderr appended to `log`). With
// `unprivileged` (and only when the test runs as root) it is started through
// `setpriv --reuid=65534 --regid=65534 --clear-groups`.
class DaemonProcess {
 public:
  // `env` is added to the daemon's environment.
  DaemonProcess(const std::string& config, const std::string& log, bool unprivileged = false,
                const std::map<std::string, std::string>& env = {});
  int port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  bool started() const { return port_ != 0; }
  // Sends `signal` and waits; the exit code (128+signal when killed).
  int Stop(int signal);

 private:
  std::unique_ptr<BackgroundProcess> process_;
  int port_ = 0;
};

// HTTPS to 127.0.0.1:port, a new connection per call, every response body kept.
class Https {
 public:
  Https(int port, const std::string& cert_file);
  ~Https();
  Https(const Https&) = delete;
  Https& operator=(const Https&) = delete;

  // One request. `key` empty: no Authorization header; `authorization` (when not empty) is sent
  // verbatim instead. POST bodies go with Content-Type: application/json. Thread-safe.
  HttpReply Call(const std::string& method, const std::string& path, const std::string& key,
                 const std::string& body = "",
                 const std::map<std::string, std::string>& extra = {});
  HttpReply CallWithAuthorization(const std::string& method, const std::string& path,
                                  const std::string& authorization, const std::string& body = "");
  // A raw TLS 1.2 connection (nullptr when the handshake fails). TLS 1.2 because TestClient's
  // WaitForClose() would take TLS 1.3's post-handshake session tickets for an error (a close).
  std::unique_ptr<TestClient> Connect();
  // Every response body received so far.
  std::vector<std::string> bodies() const;
  SSL_CTX* context() const { return ctx_; }

 private:
  HttpReply Send(const std::string& request);

  int port_;
  SSL_CTX* ctx_;
  SSL_CTX* raw_ctx_;
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
};

// Sum of `certdeploy_items{kind="KIND",...}` over all statuses in a /metrics text.
long ItemsOfKind(const std::string& metrics, const std::string& kind);

// VmRSS of `pid` in KiB (0 when unreadable).
long RssKiB(pid_t pid);

// Polls `pred` every 100 ms until true or `timeout`.
bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

std::string ReadFileBytes(const std::string& path);

// One sandbox for the suite; a fresh daemon (store, inbox) for every test.
class HostileClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite_dir_ = new TempDir;
    sandbox_ = new SandboxProcess(suite_dir_->path().string());
    cert_ = new ServerCert(MakeServerCert(suite_dir_->path().string()));
  }
  static void TearDownTestSuite() {
    delete sandbox_;
    delete cert_;
    delete suite_dir_;
  }

  void SetUp() override {
    ASSERT_TRUE(sandbox_->started());
    ConfigOptions options;
    options.extra = SecurityServiceYaml(*cert_, dir_.File("state.db"), dir_.File("inbox"),
                                        ExtraServiceYaml());
    config_ = WriteConfig(dir_, sandbox_->url(), options);
    daemon_ = std::make_unique<DaemonProcess>(config_, dir_.File("daemon.log"), false, ExtraEnv());
    ASSERT_TRUE(daemon_->started()) << ReadFileBytes(dir_.File("daemon.log"));
    https_ = std::make_unique<Https>(daemon_->port(), cert_->cert_file);
  }

  // More `service:` keys for a suite's daemons (indented two spaces, one per line).
  virtual std::string ExtraServiceYaml() const { return ""; }
  // More environment variables for a suite's daemons.
  virtual std::map<std::string, std::string> ExtraEnv() const { return {}; }

  // Stops the daemon (SIGTERM, exit 0) and opens its store.
  std::unique_ptr<store::JobStore> StopAndOpenStore() {
    EXPECT_EQ(daemon_->Stop(SIGTERM), 0);
    auto store = store::OpenJobStore("sqlite:" + dir_.File("state.db"), RealClock());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::string Metrics() { return https_->Call("GET", "/metrics", kReadKey).body; }

  // A JSON enrollment body for `upn` with the PFX at `pfx_file` and the PKI password.
  static std::string EnrollmentBody(const std::string& upn, const std::string& pfx_file,
                                    bool dry_run = false) {
    nlohmann::json body = {{"userPrincipalName", upn},
                           {"pfx", Base64Encode(ReadFileBytes(pfx_file))},
                           {"password", ReadFileBytes(kPki + "/password.txt")}};
    if (dry_run) body["dryRun"] = true;
    return body.dump();
  }

  // Waits until every enrollment in `ids` reads "succeeded".
  bool AllSucceed(const std::vector<std::string>& ids) {
    return WaitUntil(
        [&] {
          for (const std::string& id : ids) {
            if (https_->Call("GET", "/v1/enrollments/" + id, kReadKey).Json().value("status", "") !=
                "succeeded") {
              return false;
            }
          }
          return true;
        },
        std::chrono::seconds(60));
  }

  static inline TempDir* suite_dir_ = nullptr;
  static inline SandboxProcess* sandbox_ = nullptr;
  static inline ServerCert* cert_ = nullptr;
  TempDir dir_;
  std::string config_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<Https> https_;
};


// The stable error body: RFC 9457 problem+json whose `status` repeats the HTTP status.
inline void ExpectProblem(const HttpReply& r, int status, const std::string& type,
                   const std::string& what) {
  EXPECT_EQ(r.status, status) << what << ": " << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/problem+json") << what;
  nlohmann::json body = r.Json();
  ASSERT_TRUE(body.is_object()) << what << ": " << r.body;
  EXPECT_EQ(body.value("type", ""), type) << what;
  EXPECT_EQ(body.value("status", 0), status) << what;
  EXPECT_FALSE(body.value("title", "").empty()) << what;
  EXPECT_FALSE(body.value("detail", "").empty()) << what;
}


}  // namespace certdeploy::testing
