// api_body_fuzzer: the daemon's REST API handler (service/api.h) in process, with hostile
// request bodies. No network at all: the Api gets no Graph client (dry runs and plans answer 503),
// a FakeClock, a deterministic Random and a SQLite store in a private temporary directory; the
// inbox is tests/fuzz/data/inbox (a manifest, PFX files and a password file), read only.
//
// Input: the first byte picks the request, the rest is the body (or the id in the path):
//   bits 0-2  0 POST /v1/enrollments        1 POST /v1/rollouts
//             2 POST /v1/rollouts/{id}/pause 3 .../resume   4 .../cancel
//             5 GET /v1/enrollments/{id}    6 GET /v1/rollouts/{id}   7 GET /v1/rollouts/{id}/plan
//             ({id} is the rest of the input or, when that is empty, the last rollout created;
//             the fixture creates one at start-up)
//   bit 3     send "Idempotency-Key: fuzz-key"
//   bit 4     send "Accept: text/plain"
// Checked on every response: no 500, a JSON body that parses, and the request's password never
// echoed back. An exception escaping Api::Handle aborts (handlers must not throw).
// CD_FUZZ_VERBOSE=1 prints each request and the start of its response (for triage).

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/log.h"
#include "base/random.h"
#include "config/config.h"
#include "pkcs/certificate.h"
#include "pkcs/digest.h"
#include "pkcs/seal.h"
#include "service/api.h"
#include "service/metrics.h"
#include "store/job_store.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/fake_clock.h"

namespace certdeploy::fuzz {
namespace {

constexpr char kHrKey[] = "hr-key-0123456789";    // enroll, read
constexpr char kOpsKey[] = "ops-key-0123456789";  // rollouts, read

struct Fixture {
  std::filesystem::path dir;
  testing::FakeClock clock{SystemTime(std::chrono::seconds(std::stoll(ReadData("now.txt"))))};
  SeededRandom random{1};
  config::Config config;
  std::unique_ptr<store::JobStore> store;
  std::unique_ptr<pkcs::ConnectorPublicKey> key;
  service::Metrics metrics;
  std::unique_ptr<service::Api> api;
  std::string last_rollout;

  Fixture() {
    CD_FUZZ_CHECK(InitLogging(LogOptions{"off", true}).ok());
    const std::filesystem::path base =
        std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    std::string templ = (base / "cd_api_fuzz_XXXXXX").string();
    CD_FUZZ_CHECK(::mkdtemp(templ.data()) != nullptr);
    dir = templ;
    const std::string yaml =
        "tenant: {id: contoso.onmicrosoft.com}\n"
        "auth: {clientId: 11111111-2222-3333-4444-555555555555, clientSecretEnv: CD_FUZZ_SECRET}\n"
        "connector: {publicKeyFile: '" + DataPath("connector.pub") + "'}\n"
        "profiles: {platforms: [ios], assignTo: {groups: [6f0c9a1e-5b1d-4c8e-9f3a-2b7d8e1c4a50]}}\n"
        "service:\n"
        "  listen: 127.0.0.1:0\n"
        "  store: 'sqlite:" + (dir / "state.db").string() + "'\n"
        "  inbox: '" + DataPath("inbox") + "'\n"
        "  apiKeys:\n"
        "    - {name: hr, sha256: " + pkcs::Sha256Hex(std::string_view(kHrKey)) +
        ", scopes: [enroll, read]}\n"
        "    - {name: ops, sha256: " + pkcs::Sha256Hex(std::string_view(kOpsKey)) +
        ", scopes: [rollouts, read]}\n";
    Result<config::Config> parsed = config::ParseConfig(yaml, (dir / "certdeploy.yaml").string());
    CD_FUZZ_CHECK(parsed.ok());
    config = std::move(*parsed);
    Result<std::unique_ptr<store::JobStore>> opened =
        store::OpenJobStore(config.service->store, clock);
    CD_FUZZ_CHECK(opened.ok());
    store = std::move(*opened);
    Result<pkcs::ConnectorPublicKey> loaded =
        pkcs::ConnectorPublicKey::LoadFile(config.connector.public_key_file);
    CD_FUZZ_CHECK(loaded.ok());
    key = std::make_unique<pkcs::ConnectorPublicKey>(*loaded);
    Result<std::vector<pkcs::Certificate>> bundle =
        pkcs::ParseCertificatesPem(ReadData("trust-bundle.pem"));
    CD_FUZZ_CHECK(bundle.ok());

    service::ApiDeps deps;
    deps.config = &config;
    deps.store = store.get();
    deps.clock = &clock;
    deps.random = &random;
    deps.connector_key = key.get();
    deps.trust_bundle = std::move(*bundle);
    deps.metrics = &metrics;
    deps.owner = "fuzz";
    api = std::make_unique<service::Api>(std::move(deps));
    // One rollout exists from the start, so the {id} routes have something to act on.
    http::ServerRequest create;
    create.method = "POST";
    create.path = create.target = "/v1/rollouts";
    create.headers.emplace("authorization", std::string("Bearer ") + kOpsKey);
    create.body = R"({"name":"fixture","manifest":"manifest.csv"})";
    const http::ServerResponse created = api->Handle(create);
    CD_FUZZ_CHECK(created.status == 201);
    last_rollout = nlohmann::json::parse(created.body)["id"].get<std::string>();
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(Get().dir, ignored);
    });
  }

  static Fixture& Get() {
    static Fixture* fixture = new Fixture();
    return *fixture;
  }
};

// The request's password, when it is distinctive enough to look for in the response.
std::string PasswordOf(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("password") || !j["password"].is_string()) return "";
  const std::string password = j["password"].get<std::string>();
  if (password.size() < 6) return "";
  for (const auto& [name, value] : j.items()) {
    if (name == "password") continue;
    if (value.dump().find(password) != std::string::npos) return "";  // Echoed legitimately.
  }
  return password;
}

}  // namespace
}  // namespace certdeploy::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certdeploy;
  using certdeploy::fuzz::Fixture;
  if (size == 0) return 0;
  Fixture& f = Fixture::Get();
  const uint8_t selector = data[0];
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string id = rest.empty() ? f.last_rollout : rest;

  http::ServerRequest request;
  request.peer = "127.0.0.1:40000";
  std::string key = fuzz::kHrKey;
  switch (selector & 7) {
    case 0:
      request.method = "POST", request.path = "/v1/enrollments", request.body = rest;
      break;
    case 1:
      request.method = "POST", request.path = "/v1/rollouts", request.body = rest;
      key = fuzz::kOpsKey;
      break;
    case 2:
    case 3:
    case 4: {
      static const char* const kActions[] = {"pause", "resume", "cancel"};
      request.method = "POST";
      request.path = "/v1/rollouts/" + id + "/" + kActions[(selector & 7) - 2];
      key = fuzz::kOpsKey;
      break;
    }
    case 5:
      request.method = "GET", request.path = "/v1/enrollments/" + rest;
      break;
    case 6:
      request.method = "GET", request.path = "/v1/rollouts/" + id;
      break;
    default:
      request.method = "GET", request.path = "/v1/rollouts/" + id + "/plan";
      key = fuzz::kOpsKey;
      break;
  }
  request.target = request.path;
  request.headers.emplace("authorization", std::string("Bearer ") + key);
  request.headers.emplace("content-type", "application/json");
  if (selector & 8) request.headers.emplace("idempotency-key", "fuzz-key");
  if (selector & 16) request.headers.emplace("accept", "text/plain");

  const http::ServerResponse response = f.api->Handle(request);
  static const bool verbose = std::getenv("CD_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "%s %s -> %d %s\n", request.method.c_str(), request.path.c_str(),
                 response.status, response.body.substr(0, 200).c_str());
  }
  CD_FUZZ_CHECK(response.status != 500);
  CD_FUZZ_CHECK(response.status >= 200 && response.status <= 599);
  auto type = response.headers.find("content-type");
  if (type != response.headers.end() && type->second.find("json") != std::string::npos) {
    const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
    CD_FUZZ_CHECK(!body.is_discarded());
    if (response.status == 201 && body.contains("id") && body["id"].is_string()) {
      f.last_rollout = body["id"].get<std::string>();
    }
  }
  if (const std::string password = fuzz::PasswordOf(request.body);
      !password.empty() && response.body.find(password) != std::string::npos) {
    // The server's own text may hold it by chance (password "e: a user prin" in "...Name: a
    // user principal name..."). A leak is when the same request with another password (and no
    // Idempotency-Key, which would answer the first request) does not answer it too.
    nlohmann::json other = nlohmann::json::parse(request.body, nullptr, false);
    other["password"] = std::string(password.size(), '#');
    http::ServerRequest again = request;
    again.body = other.dump();
    again.headers.erase("idempotency-key");
    CD_FUZZ_CHECK(f.api->Handle(again).body.find(password) != std::string::npos);
  }
  return 0;
}
