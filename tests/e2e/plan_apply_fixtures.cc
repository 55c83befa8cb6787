#include "tests/e2e/plan_apply_fixtures.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include "base/strings.h"
#include "tests/support/loopback_http.h"
#include "tests/support/user_pfx.h"

namespace certdeploy::testing {
namespace {

// Decodes a chunked HTTP/1.1 body.
std::string Unchunk(const std::string& body) {
  std::string out;
  size_t at = 0;
  while (at < body.size()) {
    size_t eol = body.find("\r\n", at);
    if (eol == std::string::npos) break;
    size_t size = std::stoul(body.substr(at, eol - at), nullptr, 16);
    if (size == 0) break;
    out += body.substr(eol + 2, size);
    at = eol + 2 + size + 2;
  }
  return out;
}

}  // namespace

TempDir::TempDir() {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() /
          ("certdeploy_e2e_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Write(const std::string& name, const std::string& text) const {
  std::string p = File(name);
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  return p;
}

SandboxProcess::SandboxProcess(const std::string& log_dir, std::vector<std::string> extra) {
  std::vector<std::string> argv = {
      CERTDEPLOY_BINARY,       "sandbox",     "--listen", "127.0.0.1:0",         "--connector-key",
      kPki + "/connector.key", "--client-id", kClientId,  "--client-secret-env", "SANDBOX_SECRET"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  process_ = std::make_unique<BackgroundProcess>(
      argv, std::map<std::string, std::string>{{"SANDBOX_SECRET", kClientSecret}},
      log_dir + "/sandbox.log");
  url_ = process_->ReadLine();
}

nlohmann::json SandboxProcess::Get(const std::string& path) const {
  // url_ is "http://127.0.0.1:PORT".
  const std::string hostport = url_.substr(url_.find("//") + 2);
  const int port = std::stoi(hostport.substr(hostport.find(':') + 1));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return nullptr;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + hostport +
                                "\r\nConnection: close\r\nAccept: application/json\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[65536];
      for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) response.append(buf, n);
    }
  }
  close(fd);
  size_t split = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.1 200", 0) != 0 || split == std::string::npos) return nullptr;
  std::string headers = AsciiToLower(response.substr(0, split));
  std::string body = response.substr(split + 4);
  if (headers.find("transfer-encoding: chunked") != std::string::npos) body = Unchunk(body);
  return nlohmann::json::parse(body, nullptr, false);
}

std::pair<int, nlohmann::json> SandboxProcess::Post(const std::string& path,
                                                    const nlohmann::json& body) const {
  const int port = std::stoi(url_.substr(url_.rfind(':') + 1));
  LoopbackRequest token;
  token.method = "POST";
  token.path = "/contoso.onmicrosoft.com/oauth2/v2.0/token";
  token.content_type = "application/x-www-form-urlencoded";
  token.body = "grant_type=client_credentials&client_id=" + kClientId + "&client_secret=" +
               kClientSecret + "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default";
  LoopbackReply granted = LoopbackCall(port, token);
  nlohmann::json grant = granted.Json();
  if (granted.status != 200 || !grant.is_object() || !grant.contains("access_token")) {
    return {granted.status, grant};
  }
  LoopbackRequest request;
  request.method = "POST";
  request.path = path;
  request.bearer = grant["access_token"].get<std::string>();
  request.body = body.dump();
  LoopbackReply reply = LoopbackCall(port, request);
  return {reply.status, reply.Json()};
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, int> CountByType(const nlohmann::json& state) {
  std::map<std::string, int> out;
  for (const auto& c : state["deviceConfigurations"]) ++out[c["@odata.type"].get<std::string>()];
  return out;
}

std::string WriteConfig(const TempDir& dir, const std::string& url, const ConfigOptions& o) {
  std::string platforms;
  for (const std::string& p : o.platforms) platforms += (platforms.empty() ? "" : ", ") + p;
  std::ostringstream y;
  y << "tenant:\n"
    << "  id: contoso.onmicrosoft.com\n"
    << "  graphUrl: " << url << "\n"
    << "  authorityUrl: " << url << "\n"
    << "auth:\n"
    << "  clientId: " << kClientId << "\n"
    << "  clientSecretEnv: CERTDEPLOY_CLIENT_SECRET\n"
    << "connector:\n"
    << "  publicKeyFile: " << kPki << "/connector.pub\n"
    << "  paddingScheme: oaepSha512\n"
    << "profiles:\n"
    << "  platforms: [" << platforms << "]\n"
    << "  namePrefix: \"S/MIME\"\n"
    << "  assignTo: { groups: [" << kGroupId << "] }\n"
    << "limits:\n"
    << "  writesPer20s: " << o.writes_per_20s << "\n"
    << "  requestsPer20s: 5000\n"
    << "  concurrency: " << o.concurrency << "\n"
    << o.extra;
  return dir.Write("config.yaml", y.str());
}

CommandResult Certdeploy(const std::vector<std::string>& args, const std::string& secret) {
  std::vector<std::string> argv = {CERTDEPLOY_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, {{"CERTDEPLOY_CLIENT_SECRET", secret}});
}

std::vector<std::string> MakeUserPfxFiles(const std::string& dir,
                                          const std::vector<std::string>& upns) {
  Result<UserPfxFactory> factory = UserPfxFactory::Load(kPki);
  if (!factory.ok()) {
    ADD_FAILURE() << factory.status().ToString();
    return {};
  }
  std::vector<std::string> files;
  // Serials unique within a run and unlikely to repeat across runs.
  const long base = 0x1000000 + (static_cast<long>(std::random_device()()) & 0xffff) * 0x10000;
  for (size_t i = 0; i < upns.size(); ++i) {
    Result<std::string> der = factory->Make({upns[i]}, base + static_cast<long>(i));
    if (!der.ok()) {
      ADD_FAILURE() << der.status().ToString();
      return {};
    }
    std::string path = dir + "/user" + std::to_string(i) + ".pfx";
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << *der;
    if (!out.flush()) {
      ADD_FAILURE() << "could not write " << path;
      return {};
    }
    files.push_back(path);
  }
  return files;
}

uint64_t Counter(const nlohmann::json& stats, const std::string& name) {
  if (!stats.is_object() || !stats.contains(name) || !stats[name].is_number()) return 0;
  return stats[name].get<uint64_t>();
}

}  // namespace certdeploy::testing
