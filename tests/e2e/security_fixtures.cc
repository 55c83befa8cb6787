#include "tests/e2e/security_fixtures.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "pkcs/digest.h"

namespace certdeploy::testing {

std::string HttpReply::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ServerCert MakeServerCert(const std::string& dir) {
  http::testing::TestCert cert;
  EXPECT_TRUE(http::testing::MakeSelfSignedCert(dir, "server", "127.0.0.1", true, &cert));
  return {cert.cert_file, cert.key_file};
}

SSL_CTX* NewClientContext(const std::string& cert_file, int min_version, int max_version) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  EXPECT_EQ(SSL_CTX_load_verify_locations(ctx, cert_file.c_str(), nullptr), 1);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_CTX_get0_param(ctx), "127.0.0.1");
  if (max_version != 0 && max_version < TLS1_2_VERSION) {
    // Debian's OpenSSL refuses to offer TLS 1.0/1.1 at the default security level.
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
  }
  if (min_version != 0) SSL_CTX_set_min_proto_version(ctx, min_version);
  if (max_version != 0) SSL_CTX_set_max_proto_version(ctx, max_version);
  return ctx;
}

std::string SecurityServiceYaml(const ServerCert& cert, const std::string& store_file,
                                const std::string& inbox, const std::string& extra) {
  std::filesystem::create_directories(inbox);
  auto key = [](const char* name, const char* secret, const char* scopes) {
    return std::string("    - {name: ") + name +
           ", sha256: " + pkcs::Sha256Hex(std::string_view(secret)) + ", scopes: [" + scopes +
           "]}\n";
  };
  return "service:\n"
         "  listen: 127.0.0.1:0\n"
         "  tls: {certFile: '" +
         cert.cert_file + "', keyFile: '" + cert.key_file +
         "'}\n"
         "  store: 'sqlite:" +
         store_file + "'\n  inbox: '" + inbox +
         "'\n"
         "  maxBodyBytes: 65536\n"
         "  requestTimeoutMillis: " +
         std::to_string(kRequestTimeout.count()) +
         "\n"
         "  idleTimeoutMillis: 1500\n"
         "  pollMillis: 100\n"
         "  reconcileIntervalSeconds: 0\n"  // Graph traffic only from the requests under test.
         "  leaseSeconds: 5\n"
         "  batchSize: 10\n"
         "  workers: 8\n" +
         extra + "  apiKeys:\n" + key("hr", kEnrollKey, "enroll") +
         key("auditor", kReadKey, "read") + key("ops", kRolloutsKey, "rollouts") +
         key("admin", kAdminKey, "enroll, rollouts, read");
}

DaemonProcess::DaemonProcess(const std::string& config, const std::string& log, bool unprivileged,
                             const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv;
  if (unprivileged && ::getuid() == 0) {
    argv = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
  }
  for (const char* arg : {CERTDEPLOY_BINARY, "--log-level", "debug", "serve", "--config"}) {
    argv.push_back(arg);
  }
  argv.push_back(config);
  std::map<std::string, std::string> all_env = env;
  all_env["CERTDEPLOY_CLIENT_SECRET"] = kClientSecret;
  process_ = std::make_unique<BackgroundProcess>(argv, all_env, log);
  const std::string url = process_->ReadLine(std::chrono::seconds(60));
  if (url.rfind("https://127.0.0.1:", 0) == 0) port_ = std::atoi(url.c_str() + 18);
}

int DaemonProcess::Stop(int signal) { return process_->Stop(signal, std::chrono::seconds(60)); }

Https::Https(int port, const std::string& cert_file)
    : port_(port),
      ctx_(NewClientContext(cert_file)),
      raw_ctx_(NewClientContext(cert_file, TLS1_2_VERSION, TLS1_2_VERSION)) {}

Https::~Https() {
  SSL_CTX_free(ctx_);
  SSL_CTX_free(raw_ctx_);
}

std::unique_ptr<TestClient> Https::Connect() { return TestClient::ConnectTls(port_, raw_ctx_); }

HttpReply Https::Call(const std::string& method, const std::string& path, const std::string& key,
                      const std::string& body, const std::map<std::string, std::string>& extra) {
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!key.empty()) request += "Authorization: Bearer " + key + "\r\n";
  for (const auto& [name, value] : extra) request += name + ": " + value + "\r\n";
  if (method == "POST" || !body.empty()) {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return Send(request + "Connection: close\r\n\r\n" + body);
}

HttpReply Https::CallWithAuthorization(const std::string& method, const std::string& path,
                                       const std::string& authorization, const std::string& body) {
  return Call(method, path, "", body, {{"Authorization", authorization}});
}

HttpReply Https::Send(const std::string& request) {
  HttpReply reply;
  std::unique_ptr<TestClient> client = TestClient::ConnectTls(port_, ctx_);
  if (client == nullptr || !client->Send(request)) return reply;
  std::optional<http::testing::RawResponse> r =
      client->ReadResponse(std::chrono::milliseconds(30000));
  if (!r) return reply;
  reply.status = r->status;
  reply.headers = r->headers;
  reply.body = r->body;
  std::lock_guard<std::mutex> lock(mu_);
  bodies_.push_back(reply.body);
  return reply;
}

std::vector<std::string> Https::bodies() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bodies_;
}

long ItemsOfKind(const std::string& metrics, const std::string& kind) {
  const std::string prefix = "certdeploy_items{kind=\"" + kind + "\"";
  long total = 0;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    total += std::atol(line.c_str() + line.rfind(' ') + 1);
  }
  return total;
}

long RssKiB(pid_t pid) {
  std::istringstream lines(ReadFileBytes("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

}  // namespace certdeploy::testing
