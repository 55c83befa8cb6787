// tests/integration/sandbox_client.h: `certdeploy sandbox` as a child process plus a real Graph
// client (cpprestsdk transport, client-credentials tokens, write budget) pointed at it.

#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/graph_client.h"
#include "graph/http_transport.h"
#include "graph/intune.h"
#include "graph/token_source.h"
#include "graph/write_budget.h"
#include "tests/support/background_process.h"

namespace certdeploy::testing {

inline const std::string kPkiDir = CERTDEPLOY_TEST_PKI_DIR;
inline const std::string kSandboxSecret = "sandbox-client-secret";
inline const std::string kClientId = "11111111-2222-3333-4444-555555555555";

class Sandbox {
 public:
  // Starts `certdeploy sandbox` on a free loopback port with `extra` flags.
  explicit Sandbox(std::vector<std::string> extra = {}, std::string listen = "127.0.0.1:0");
  const std::string& url() const { return url_; }
  BackgroundProcess& process() { return *process_; }
  // GET /_sandbox/<what> ("stats" or "state") with a plain loopback request.
  nlohmann::json Inspect(const std::string& what);

 private:
  std::unique_ptr<BackgroundProcess> process_;
  std::string url_;
  std::unique_ptr<graph::HttpTransport> transport_;
};

struct ClientOptions {
  int max_writes = 100;
  Duration write_window = std::chrono::seconds(20);
  Duration window_padding{0};
  int max_attempts = 6;
};

// A complete client stack on the real clock. Members are built in order and destroyed in reverse.
struct GraphStack {
  GraphStack(const std::string& url, const ClientOptions& options = {});
  std::unique_ptr<graph::HttpTransport> transport;
  std::unique_ptr<graph::TokenSource> tokens;
  std::unique_ptr<graph::WriteBudget> budget;
  std::unique_ptr<graph::GraphClient> client;
  std::unique_ptr<graph::IntuneApi> api;
};

// A userPfxCertificate record for `upn` carrying the PKI's alice.pfx, password sealed to the
// connector key: the sandbox's connector check accepts it (it does not compare UPN and email).
graph::UserPfxCertificate AliceRecordFor(const std::string& upn);

}  // namespace certdeploy::testing
