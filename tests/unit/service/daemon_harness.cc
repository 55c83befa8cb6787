#include "tests/unit/service/daemon_harness.h"

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "base/clock.h"
#include "base/encoding.h"
#include "config/config.h"
#include "pkcs/digest.h"
#include "tests/support/test_pki.h"

namespace certdeploy::service::testing {
namespace {

using ::certdeploy::testing::PkiPath;
using ::certdeploy::testing::ReadPkiBytes;

constexpr char kSecretEnv[] = "CD_DAEMON_TEST_CLIENT_SECRET";
constexpr char kSecret[] = "daemon-test-client-secret";

}  // namespace

DaemonHarness::DaemonHarness(HarnessOptions options)
    : tls_(options.tls), clock_(options.clock != nullptr ? options.clock : &RealClock()) {
  dir_ = std::filesystem::temp_directory_path() /
         ("cd_daemon_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir_ / "inbox");
  ::setenv(kSecretEnv, kSecret, 1);

  sandbox::SandboxOptions so;
  so.connector_key_file = PkiPath("connector.key");
  so.client_id = kSandboxClientId;
  so.client_secret = SecretBytes(std::string_view(kSecret));
  so.handler_threads = 16;
  Result<std::unique_ptr<sandbox::SandboxServer>> sb =
      sandbox::SandboxServer::Start(so, RealClock(), RealRandom());
  if (!sb.ok()) {
    error_ = "sandbox: " + sb.status().ToString();
    return;
  }
  sandbox_ = std::move(*sb);

  std::ostringstream y;
  y << "tenant: {id: contoso.onmicrosoft.com, graphUrl: '" << sandbox_->url()
    << "', authorityUrl: '" << sandbox_->url() << "'}\n"
    << "auth: {clientId: " << kSandboxClientId << ", clientSecretEnv: " << kSecretEnv << "}\n"
    << "connector: {publicKeyFile: " << PkiPath("connector.pub") << ", paddingScheme: oaepSha512}\n"
    << "profiles: {platforms: [ios], assignTo: {groups: [6f0c9a1e-5b1d-4c8e-9f3a-2b7d8e1c4a50]}}\n"
    << "limits: {writesPer20s: 1000, requestsPer20s: 5000, concurrency: 4}\n"
    << "service:\n"
    << "  listen: 127.0.0.1:0\n"
    << "  store: sqlite:state.db\n"
    << "  inbox: inbox\n"
    << "  maxBodyBytes: " << options.max_body_bytes << "\n"
    << "  leaseSeconds: 5\n"
    << "  pollMillis: 50\n"
    << "  apiKeys:\n"
    << "    - {name: hr, sha256: " << pkcs::Sha256Hex(std::string_view(kHrKey))
    << ", scopes: [enroll, read]}\n"
    << "    - {name: ops, sha256: " << pkcs::Sha256Hex(std::string_view(kOpsKey))
    << ", scopes: [rollouts, read]}\n"
    << "    - {name: reader, sha256: " << pkcs::Sha256Hex(std::string_view(kReaderKey))
    << ", scopes: [read]}\n"
    << "    - {name: enroller, sha256: " << pkcs::Sha256Hex(std::string_view(kEnrollOnlyKey))
    << ", scopes: [enroll]}\n"
    << options.extra_service_yaml;
  if (options.tls) {
    if (!MakeSelfSignedCert(dir_.string(), "server", "127.0.0.1", true, &cert_)) {
      error_ = "could not make a TLS certificate";
      return;
    }
    y << "  tls: {certFile: server.crt, keyFile: server.key}\n";
    client_ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(client_ctx_, cert_.cert_file.c_str(), nullptr);
    SSL_CTX_set_verify(client_ctx_, SSL_VERIFY_PEER, nullptr);
  }
  config_path_ = (dir_ / "config.yaml").string();
  std::ofstream(config_path_) << y.str();
  Restart();
}

bool DaemonHarness::Restart() {
  if (daemon_) {
    daemon_->RequestStop();
    daemon_.reset();
  }
  Result<config::Config> config = config::LoadConfig(config_path_);
  if (!config.ok()) {
    error_ = "config: " + config.status().ToString();
    return false;
  }
  Result<std::unique_ptr<Daemon>> daemon = Daemon::Start(*config, *clock_, RealRandom());
  if (!daemon.ok()) {
    error_ = "daemon: " + daemon.status().ToString();
    return false;
  }
  daemon_ = std::move(*daemon);
  const std::string url = daemon_->url();
  port_ = std::atoi(url.substr(url.rfind(':') + 1).c_str());
  return true;
}

DaemonHarness::~DaemonHarness() {
  if (daemon_) {
    daemon_->RequestStop();
    daemon_.reset();
  }
  if (sandbox_) sandbox_->Stop();
  if (client_ctx_ != nullptr) SSL_CTX_free(client_ctx_);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void DaemonHarness::Dispatch(int passes) {
  for (int i = 0; i < passes; ++i) daemon_->RunOnce();
}

RawResponse DaemonHarness::Request(const std::string& method, const std::string& path,
                                   const std::string& key, const std::string& body,
                                   const std::map<std::string, std::string>& headers) {
  std::unique_ptr<TestClient> client =
      tls_ ? TestClient::ConnectTls(port_, client_ctx_) : TestClient::Connect(port_);
  if (client == nullptr) return RawResponse{};
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!key.empty()) request += "Authorization: Bearer " + key + "\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST") {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "Connection: close\r\n\r\n" + body;
  if (!client->Send(request)) return RawResponse{};
  return client->ReadResponse(std::chrono::seconds(60)).value_or(RawResponse{});
}

nlohmann::json DaemonHarness::Json(const RawResponse& r) const {
  return nlohmann::json::parse(r.body, nullptr, false);
}

std::vector<std::string> DaemonHarness::EnrollAliceAndBob() {
  std::vector<std::string> ids;
  for (const auto& [pfx, upn] :
       {std::pair{"alice.pfx", "alice@contoso.com"}, std::pair{"bob.pfx", "bob@contoso.com"}}) {
    RawResponse r = Request("POST", "/v1/enrollments", kHrKey,
                            EnrollmentBody(pfx, upn, certdeploy::testing::kPfxPassword));
    if (r.status != 202) {
      ADD_FAILURE() << "enrolling " << upn << ": " << r.status << " " << r.body;
      continue;
    }
    ids.push_back(Json(r)["id"]);
  }
  return ids;
}

std::string EnrollmentBody(const std::string& pfx_name, const std::string& upn,
                           const std::string& password, bool dry_run) {
  const std::vector<uint8_t> pfx = ReadPkiBytes(pfx_name);
  nlohmann::json body = {{"userPrincipalName", upn},
                         {"pfx", Base64Encode(std::string_view(
                                     reinterpret_cast<const char*>(pfx.data()), pfx.size()))},
                         {"password", password}};
  if (dry_run) body["dryRun"] = true;
  return body.dump();
}

http::ServerResponse DaemonHarness::Graph(const std::string& method, const std::string& target,
                                          const nlohmann::json& body) {
  http::ServerRequest token;
  token.method = "POST";
  token.target = "/contoso.onmicrosoft.com/oauth2/v2.0/token";
  token.path = token.target;
  token.headers.emplace("content-type", "application/x-www-form-urlencoded");
  token.body = std::string("grant_type=client_credentials&client_id=") + kSandboxClientId +
               "&client_secret=" + kSecret + "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default";
  const http::ServerResponse issued = sandbox_->tenant().Handle(token);
  const nlohmann::json parsed = nlohmann::json::parse(issued.body, nullptr, false);
  http::ServerRequest r;
  r.method = method;
  r.target = target;
  r.path = target.substr(0, target.find('?'));
  if (target.find('?') != std::string::npos) r.query = target.substr(target.find('?') + 1);
  r.headers.emplace("authorization",
                    "Bearer " + (parsed.is_object() ? parsed.value("access_token", "") : ""));
  if (!body.is_null()) {
    r.headers.emplace("content-type", "application/json");
    r.body = body.dump();
  }
  return sandbox_->tenant().Handle(r);
}

}  // namespace certdeploy::service::testing
