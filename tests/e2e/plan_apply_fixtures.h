// tests/e2e/plan_apply_fixtures.h: what the plan/apply end-to-end tests need around the binary.
//
// A `certdeploy sandbox` child process (its /_sandbox/stats and /_sandbox/state read with a
// plain loopback HTTP GET), a scratch directory, a config file pointing at the sandbox, running
// `certdeploy` with the client secret in its environment, and user PFX files made on the fly
// (OpenSSL API) under the test PKI's issuing CA, so a manifest can have any number of users.

#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/background_process.h"
#include "tests/support/subprocess.h"

namespace certdeploy::testing {

inline const std::string kPki = CERTDEPLOY_TEST_PKI_DIR;
inline const std::string kClientId = "11111111-2222-3333-4444-555555555555";
inline const std::string kClientSecret = "e2e-client-secret";
inline const std::string kGroupId = "6f0c9a1e-5b1d-4c8e-9f3a-2b7d8e1c4a50";

// A scratch directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string File(const std::string& name) const { return (path_ / name).string(); }
  // Writes `text` to `name` inside the directory and returns its path.
  std::string Write(const std::string& name, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

// `certdeploy sandbox` on a free loopback port, requiring kClientId / kClientSecret, playing the
// connector with the PKI's connector.key. Its log goes to `log_dir`/sandbox.log.
class SandboxProcess {
 public:
  explicit SandboxProcess(const std::string& log_dir, std::vector<std::string> extra = {});
  const std::string& url() const { return url_; }
  bool started() const { return !url_.empty(); }
  // GET {url}{path} -> parsed JSON body (null on any failure).
  nlohmann::json Get(const std::string& path) const;
  // POST {url}{path} with `body` as the app (a token fetched first) -> {status, parsed body}.
  std::pair<int, nlohmann::json> Post(const std::string& path, const nlohmann::json& body) const;
  nlohmann::json Stats() const { return Get("/_sandbox/stats"); }
  nlohmann::json State() const { return Get("/_sandbox/state"); }

 private:
  std::unique_ptr<BackgroundProcess> process_;
  std::string url_;
};

struct ConfigOptions {
  std::vector<std::string> platforms = {"ios"};
  int concurrency = 4;
  int writes_per_20s = 1000;
  std::string extra;  // Appended verbatim (more YAML).
};

// Writes `dir`/config.yaml for `sandbox_url` and returns its path.
std::string WriteConfig(const TempDir& dir, const std::string& sandbox_url,
                        const ConfigOptions& options = {});

// Runs the certdeploy binary with `args`, `secret` in CERTDEPLOY_CLIENT_SECRET.
CommandResult Certdeploy(const std::vector<std::string>& args,
                         const std::string& secret = kClientSecret);

// Makes one PFX per UPN (password: the PKI's password.txt) in `dir`, each a fresh end-entity
// certificate for that e-mail address issued by the PKI's CA, with the PKI's cross-signed chain.
// Returns the file paths, in order. Failures are reported as test failures (empty result).
std::vector<std::string> MakeUserPfxFiles(const std::string& dir,
                                          const std::vector<std::string>& upns);

// The whole file at `path` ("" when unreadable).
std::string ReadText(const std::string& path);

// "#microsoft.graph.iosTrustedRootCertificate" -> count, from /_sandbox/state.
std::map<std::string, int> CountByType(const nlohmann::json& state);

// The stats counter `name` (0 when absent).
uint64_t Counter(const nlohmann::json& stats, const std::string& name);

}  // namespace certdeploy::testing
