// Hostile clients against the real `certdeploy serve` over TLS on loopback:
//
//   - every route of the served OpenAPI document with no key, malformed keys, unknown keys and a
//     key of the wrong scope: 401/403 problem+json, never 2xx or 5xx (/healthz is public);
//   - TLS 1.0 and 1.1 refused by the server, TLS 1.2 and 1.3 accepted;
//   - a Content-Length beyond maxBodyBytes answered 413 before any body byte, a chunked body
//     beyond it cut off, the RSS bounded and the daemon still serving;
//   - slow drips (body, header, silence, TLS handshake) closed at requestTimeoutMillis;
//   - header floods answered 431 or closed while others are served;
//   - rollout manifests and rows naming files outside service.inbox refused, nothing created;
//   - UPNs with quotes escaped in Graph filters, OData-injection-shaped UPNs refused;
//   - 16 concurrent requests with one Idempotency-Key make one enrollment (or a 429).
// The limits of round two (iteration bombs, labels, trailers, shutdown) are in
// security_limits_test.cc.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <latch>
#include <set>
#include <thread>

#include "base/clock.h"
#include "base/encoding.h"
#include "pkcs/digest.h"
#include "store/job_store.h"
#include "tests/e2e/security_fixtures.h"

namespace certdeploy::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;

constexpr char kSomeId[] = "0f8fad5b-d9cb-469f-a165-70867728950e";

TEST_F(HostileClientTest, EveryRouteRefusesMissingMalformedUnknownAndWrongScopeKeys) {
  HttpReply doc_reply = https_->Call("GET", "/openapi.json", kReadKey);
  ASSERT_EQ(doc_reply.status, 200);
  const nlohmann::json doc = doc_reply.Json();
  ASSERT_TRUE(doc["paths"].is_object());

  const std::vector<std::string> malformed = {
      "Basic YWRtaW46YWRtaW4=",  // admin:admin
      "Bearer",
      "Bearer    ",
      std::string("Token ") + kAdminKey,
      std::string(kAdminKey),                         // No scheme.
      std::string("Bearer") + kAdminKey,              // No separator.
      std::string("Bearer ") + kAdminKey + " extra",  // Trailing junk.
      "Bearer " + std::string(9000, 'A'),             // Long.
  };
  const std::vector<std::string> unknown = {
      "Bearer sec-unknown-key-0000",
      "Bearer " + pkcs::Sha256Hex(std::string_view(kAdminKey)),  // The configured hash itself.
      std::string("Bearer ") + std::string(kAdminKey).substr(1),
  };
  struct Key {
    const char* secret;
    std::set<std::string> scopes;
  };
  const std::vector<Key> keys = {
      {kEnrollKey, {"enroll"}}, {kReadKey, {"read"}}, {kRolloutsKey, {"rollouts"}}};

  int operations = 0, wrong_scope_checks = 0;
  for (const auto& [path, methods] : doc["paths"].items()) {
    std::string concrete = path;
    if (size_t at = concrete.find("{id}"); at != std::string::npos) {
      concrete.replace(at, 4, kSomeId);
    }
    for (const auto& [lower_method, op] : methods.items()) {
      std::string method = lower_method;
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const std::string what = method + " " + path;
      const std::string body = method == "POST" ? "{}" : "";
      ++operations;
      const nlohmann::json security = op.contains("security") ? op["security"] : doc["security"];
      if (security.empty()) {
        // Public by design: /healthz (liveness probes carry no key) and the console's page,
        // which holds no data (every call it makes needs a key).
        EXPECT_TRUE(path == "/healthz" || path == "/ui/") << path;
        EXPECT_EQ(https_->Call(method, concrete, "").status, 200) << what;
        continue;
      }
      ExpectProblem(https_->Call(method, concrete, "", body), 401,
                    "urn:certdeploy:problem:unauthenticated", what + " without a key");
      EXPECT_THAT(https_->Call(method, concrete, "", body).Header("www-authenticate"),
                  HasSubstr("Bearer"));
      for (const std::string& auth : malformed) {
        ExpectProblem(https_->CallWithAuthorization(method, concrete, auth, body), 401,
                      "urn:certdeploy:problem:unauthenticated",
                      what + " with '" + auth.substr(0, 40) + "'");
      }
      for (const std::string& auth : unknown) {
        ExpectProblem(https_->CallWithAuthorization(method, concrete, auth, body), 401,
                      "urn:certdeploy:problem:unauthenticated",
                      what + " with '" + auth.substr(0, 40) + "'");
      }
      // Keys none of whose scopes satisfies any of the operation's alternatives get 403.
      bool any_key = false;
      std::set<std::string> accepted;
      for (const nlohmann::json& alternative : security) {
        const nlohmann::json& scopes = alternative["apiKey"];
        if (scopes.empty()) any_key = true;
        for (const nlohmann::json& s : scopes) accepted.insert(s.get<std::string>());
      }
      for (const Key& key : keys) {
        const bool allowed =
            any_key || std::any_of(key.scopes.begin(), key.scopes.end(),
                                   [&](const std::string& s) { return accepted.count(s) > 0; });
        HttpReply r = https_->Call(method, concrete, key.secret, body);
        if (allowed) {
          EXPECT_NE(r.status, 401) << what << " " << key.secret;
          EXPECT_NE(r.status, 403) << what << " " << key.secret;
        } else {
          ++wrong_scope_checks;
          ExpectProblem(r, 403, "urn:certdeploy:problem:missing-scope",
                        what + " with key " + key.secret);
        }
      }
    }
  }
  EXPECT_GE(operations, 12) << "the OpenAPI document lists every route";
  EXPECT_GE(wrong_scope_checks, 10);
  // A path that is not routed answers 401 too without a key: nothing about the API is revealed
  // to an unauthenticated caller.
  ExpectProblem(https_->Call("GET", "/v1/admin/keys", ""), 401,
                "urn:certdeploy:problem:unauthenticated", "unrouted path");
  EXPECT_EQ(https_->Call("GET", "/v1/admin/keys", kAdminKey).status, 404);
  // Nothing was created by any of it.
  EXPECT_EQ(ItemsOfKind(Metrics(), "enrollment"), 0);
}

TEST_F(HostileClientTest, TlsBelow12IsRefusedAnd12And13AreAccepted) {
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    SSL_CTX* ctx = NewClientContext(cert_->cert_file, version, version);
    int reason = 0;
    EXPECT_EQ(TestClient::ConnectTls(daemon_->port(), ctx, &reason), nullptr) << version;
    // The server's protocol_version alert, not a client-side failure.
    EXPECT_EQ(reason, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) << version;
    SSL_CTX_free(ctx);
  }
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SSL_CTX* ctx = NewClientContext(cert_->cert_file, version, version);
    std::unique_ptr<TestClient> client = TestClient::ConnectTls(daemon_->port(), ctx);
    ASSERT_NE(client, nullptr) << version;
    ASSERT_TRUE(client->Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    auto r = client->ReadResponse();
    ASSERT_TRUE(r.has_value()) << version;
    EXPECT_EQ(r->status, 200) << version;
    client.reset();
    SSL_CTX_free(ctx);
  }
}

TEST_F(HostileClientTest, OversizedBodiesAreRefusedWithoutBufferingThem) {
  // A declared length over the limit: 413 at once, although no body byte was sent.
  {
    std::unique_ptr<TestClient> c = https_->Connect();
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(
        c->Send(std::string("POST /v1/enrollments HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
                "Authorization: Bearer " + kEnrollKey +
                "\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n"));
    auto r = c->ReadResponse(milliseconds(kRequestTimeout / 2));
    ASSERT_TRUE(r.has_value()) << "no 413 before the request timeout";
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(nlohmann::json::parse(r->body, nullptr, false).value("status", 0), 413);
    EXPECT_TRUE(c->WaitForClose());
  }
  // Chunked bodies: no length up front; the server stops at the limit. Four floods of up to
  // 64 MiB each; each must be cut off long before that, and the RSS must stay bounded.
  const long rss_before = RssKiB(daemon_->pid());
  ASSERT_GT(rss_before, 0);
  std::atomic<size_t> max_sent{0};
  std::atomic<int> answered_413{0};
  std::vector<std::thread> floods;
  for (int t = 0; t < 4; ++t) {
    floods.emplace_back([&] {
      std::unique_ptr<TestClient> c = https_->Connect();
      if (c == nullptr) return;
      c->Send(std::string("POST /v1/enrollments HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
              "Authorization: Bearer " + kEnrollKey +
              "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
      const std::string chunk = "4000\r\n" + std::string(0x4000, '7') + "\r\n";
      size_t sent = 0;
      while (sent < (64u << 20) && c->Send(chunk)) sent += 0x4000;
      size_t seen = max_sent.load();
      while (seen < sent && !max_sent.compare_exchange_weak(seen, sent)) {
      }
      auto r = c->ReadResponse(milliseconds(2000));
      if (r && r->status == 413) ++answered_413;
    });
  }
  for (std::thread& t : floods) t.join();
  std::cout << "chunked floods: at most " << max_sent.load() / 1024
            << " KiB sent before the close, " << answered_413.load() << " of 4 read a 413; RSS "
            << rss_before << " KiB -> " << RssKiB(daemon_->pid()) << " KiB\n";
  EXPECT_LT(max_sent.load(), 16u << 20) << "the server kept reading a body beyond its limit";
  EXPECT_GE(answered_413.load(), 1) << "at least one flood read its 413 before the close";
  const long rss_after = RssKiB(daemon_->pid());
  EXPECT_LT(rss_after - rss_before, 32 * 1024) << rss_before << " KiB -> " << rss_after << " KiB";
  EXPECT_EQ(https_->Call("GET", "/healthz", "").status, 200);
  EXPECT_EQ(https_->Call("GET", "/metrics", kReadKey).status, 200);
}

// Sends `prefix`, then `drip` one byte every 100 ms until the server closes; the time from the
// first byte to the close (or 10 s when it never closes).
milliseconds DripUntilClosed(Https& https, const std::string& prefix, const std::string& drip,
                             size_t* dripped) {
  std::unique_ptr<TestClient> c = https.Connect();
  if (c == nullptr) return milliseconds(-1);
  const auto start = steady_clock::now();
  if (!prefix.empty() && !c->Send(prefix)) return milliseconds(0);
  for (size_t i = 0; steady_clock::now() - start < seconds(10); ++i) {
    if (c->WaitForClose(milliseconds(100))) break;
    if (drip.empty()) continue;
    if (!c->Send(drip.substr(i % drip.size(), 1))) break;
    ++*dripped;
  }
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
}

TEST_F(HostileClientTest, SlowClientsAreCutOffAtTheRequestTimeout) {
  const std::string key = std::string("Authorization: Bearer ") + kEnrollKey + "\r\n";
  struct Case {
    std::string name;
    std::string prefix;
    std::string drip;
    milliseconds took{0};
    size_t dripped = 0;
  };
  std::vector<Case> cases = {
      {"slow body",
       "POST /v1/enrollments HTTP/1.1\r\nHost: 127.0.0.1\r\n" + key +
           "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
       "{\"userPrincipalName\":\"slow@contoso.com\"}"},
      {"slow header", "POST /v1/enrollments HTTP/1.1\r\n", "X-Slow: aaaaaaaaaaaaaaaaaaaa\r\n"},
      {"silent connection", "", ""},
      {"keep-alive then a slow second request", "", ""},
  };
  // The last case: one complete request first, then a drip on the same connection.
  std::thread keep_alive([&] {
    Case& c = cases[3];
    std::unique_ptr<TestClient> client = https_->Connect();
    ASSERT_NE(client, nullptr);
    ASSERT_TRUE(client->Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    auto first = client->ReadResponse();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->status, 200);
    const auto start = steady_clock::now();
    ASSERT_TRUE(client->Send("GET /healthz HTTP/1.1\r\n"));
    while (steady_clock::now() - start < seconds(10)) {
      if (client->WaitForClose(milliseconds(100))) break;
      if (!client->Send("X")) break;
      ++c.dripped;
    }
    c.took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  });
  std::vector<std::thread> threads;
  for (size_t i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      cases[i].took = DripUntilClosed(*https_, cases[i].prefix, cases[i].drip, &cases[i].dripped);
    });
  }
  // A raw TCP connection that never starts the TLS handshake.
  milliseconds handshake_took{0};
  std::thread no_handshake([&] {
    std::unique_ptr<TestClient> raw = TestClient::Connect(daemon_->port());
    ASSERT_NE(raw, nullptr);
    const auto start = steady_clock::now();
    EXPECT_TRUE(raw->WaitForClose(seconds(10)));
    handshake_took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  });
  // Meanwhile a well-behaved client is served.
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(https_->Call("GET", "/healthz", "").status, 200);
  for (std::thread& t : threads) t.join();
  keep_alive.join();
  no_handshake.join();

  const milliseconds limit = kRequestTimeout + milliseconds(2500);
  for (const Case& c : cases) {
    std::cout << c.name << ": closed after " << c.took.count() << " ms, " << c.dripped
              << " bytes dripped\n";
  }
  std::cout << "no TLS handshake: closed after " << handshake_took.count() << " ms\n";
  for (const Case& c : cases) {
    // Not before the timeout (the close is the server's deadline, not an error) nor long after.
    EXPECT_GE(c.took, kRequestTimeout * 2 / 3) << c.name;
    EXPECT_LT(c.took, limit) << c.name << ": the server let a slow request run on";
    if (!c.drip.empty()) {
      EXPECT_GE(c.dripped, 3u) << c.name << ": the drip never started";
    }
  }
  EXPECT_GE(handshake_took, kRequestTimeout * 2 / 3);
  EXPECT_LT(handshake_took, limit) << "a connection that never shakes hands is closed too";
  EXPECT_EQ(https_->Call("GET", "/healthz", "").status, 200);
}

TEST_F(HostileClientTest, HeaderFloodsAreRefusedAndOthersAreStillServed) {
  std::string many = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 5000; ++i) many += "X-Flood-" + std::to_string(i) + ": aaaaaaaaaa\r\n";
  const std::string huge =
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: " + std::string(200 * 1024, 'h') +
      "\r\n\r\n";
  const std::string long_target =
      "GET /healthz?" + std::string(100 * 1024, 'q') + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (const auto& [name, request] :
       std::vector<std::pair<std::string, std::string>>{{"5000 headers", many + "\r\n"},
                                                        {"one 200 KiB header", huge},
                                                        {"100 KiB request target", long_target}}) {
    std::unique_ptr<TestClient> c = https_->Connect();
    ASSERT_NE(c, nullptr) << name;
    c->Send(request);  // May fail once the server has answered and closed.
    auto r = c->ReadResponse(milliseconds(3000));
    if (r.has_value()) {
      EXPECT_EQ(r->status, 431) << name;
    }
    EXPECT_TRUE(c->WaitForClose(milliseconds(3000))) << name;
    EXPECT_EQ(https_->Call("GET", "/healthz", "").status, 200) << "after " << name;
  }
  // Many small headers within the limit are fine.
  std::map<std::string, std::string> some;
  for (int i = 0; i < 200; ++i) some["X-H" + std::to_string(i)] = "v";
  EXPECT_EQ(
      https_->Call("GET", "/v1/enrollments/" + std::string(kSomeId), kReadKey, "", some).status,
      404);
}

TEST_F(HostileClientTest, ManifestPathsOutsideTheInboxAreRefusedAndNothingIsCreated) {
  const fs::path inbox = dir_.File("inbox");
  const fs::path outside = dir_.path() / "outside";
  fs::create_directories(outside);
  fs::create_directories(inbox / "sub");
  const std::vector<std::string> pfx = MakeUserPfxFiles(inbox.string(), {"trav0@contoso.com"});
  ASSERT_EQ(pfx.size(), 1u);
  fs::copy_file(pfx[0], outside / "outside.pfx");
  fs::copy_file(kPki + "/password.txt", inbox / "password.txt");
  fs::copy_file(kPki + "/password.txt", outside / "password.txt");
  auto manifest = [](const fs::path& file, const std::string& pfx_file,
                     const std::string& password_file) {
    std::ofstream(file) << "userPrincipalName,pfxFile,passwordFile\n"
                        << "trav0@contoso.com," << pfx_file << "," << password_file << "\n";
  };
  manifest(inbox / "ok.csv", "user0.pfx", "password.txt");
  manifest(outside / "outside.csv", "outside.pfx", "password.txt");
  fs::create_symlink(outside / "outside.csv", inbox / "link.csv");
  fs::create_symlink(outside, inbox / "linkdir");
  fs::create_symlink(outside / "outside.pfx", inbox / "escape.pfx");
  // Rows naming files outside, in manifests that are themselves inside.
  manifest(inbox / "row-dotdot.csv", "../outside/outside.pfx", "password.txt");
  manifest(inbox / "row-absolute.csv", (outside / "outside.pfx").string(), "password.txt");
  manifest(inbox / "row-symlink.csv", "escape.pfx", "password.txt");
  manifest(inbox / "row-symlinked-dir.csv", "linkdir/outside.pfx", "password.txt");
  manifest(inbox / "row-password.csv", "user0.pfx", "../outside/password.txt");
  manifest(inbox / "sub" / "row-up.csv", "../../outside/outside.pfx", "../password.txt");

  const std::vector<std::string> refused = {
      "../outside/outside.csv",
      (outside / "outside.csv").string(),
      "/etc/passwd",
      "/etc/certdeploy-no-such-file.csv",  // Same answer whether or not it exists.
      "link.csv",
      "linkdir/outside.csv",
      "sub/../ok.csv",
      "./../outside/outside.csv",
      inbox.string() + "/../outside/outside.csv",
      "row-dotdot.csv",
      "row-absolute.csv",
      "row-symlink.csv",
      "row-symlinked-dir.csv",
      "row-password.csv",
      "sub/row-up.csv",
  };
  for (const std::string& m : refused) {
    HttpReply r = https_->Call("POST", "/v1/rollouts", kRolloutsKey,
                               nlohmann::json({{"name", "traversal"}, {"manifest", m}}).dump());
    ExpectProblem(r, 422, "urn:certdeploy:problem:manifest-outside-inbox", m);
    if (m.rfind("row-", 0) == 0 || m.rfind("sub/row", 0) == 0) {
      ASSERT_TRUE(r.Json()["findings"].is_array()) << m;
      EXPECT_EQ(r.Json()["findings"][0].value("code", ""), "path-outside-inbox") << m;
    }
  }
  ExpectProblem(https_->Call("POST", "/v1/rollouts", kRolloutsKey,
                             R"({"name":"missing","manifest":"missing.csv"})"),
                422, "urn:certdeploy:problem:manifest-not-found", "missing.csv");
  EXPECT_EQ(ItemsOfKind(Metrics(), "rollout"), 0);

  // The control: the same row with files inside is scheduled.
  HttpReply ok = https_->Call("POST", "/v1/rollouts", kRolloutsKey,
                              R"({"name":"control","manifest":"ok.csv"})");
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(ItemsOfKind(Metrics(), "rollout"), 1);

  std::unique_ptr<store::JobStore> store = StopAndOpenStore();
  ASSERT_NE(store, nullptr);
  const store::RolloutStatus all[] = {
      store::RolloutStatus::kScheduled, store::RolloutStatus::kRunning,
      store::RolloutStatus::kPaused,    store::RolloutStatus::kSucceeded,
      store::RolloutStatus::kFailed,    store::RolloutStatus::kCancelled};
  Result<std::vector<store::Rollout>> rollouts = store->ListRollouts(all, 100);
  ASSERT_TRUE(rollouts.ok()) << rollouts.status();
  ASSERT_EQ(rollouts->size(), 1u) << "only the control rollout exists";
  EXPECT_EQ((*rollouts)[0].name, "control");
  Result<std::vector<store::AuditRecord>> audit = store->ListAudit(1000);
  ASSERT_TRUE(audit.ok());
  size_t audited_refusals = 0;
  for (const store::AuditRecord& a : *audit) {
    audited_refusals += a.action == "rollout.create" && a.outcome.rfind("refused", 0) == 0;
  }
  EXPECT_EQ(audited_refusals, refused.size()) << "every refusal is audited";
}

TEST_F(HostileClientTest, QuotesInUpnsAreEscapedAndInjectionShapedUpnsRefused) {
  const std::vector<std::string> upns = {"odata-alice@contoso.com", "odata-bob@contoso.com",
                                         "o'neil@contoso.com", "x'or'1'eq'1'or'a@contoso.com"};
  const std::vector<std::string> pfx = MakeUserPfxFiles(dir_.path().string(), upns);
  ASSERT_EQ(pfx.size(), upns.size());
  const nlohmann::json stats_before = sandbox_->Stats();

  // OData-shaped UPNs (spaces, operators) are not UPNs: 400, nothing queued, Graph never asked.
  for (const char* hostile :
       {"x' or 1 eq 1 or 'a@contoso.com", "a@contoso.com' or userPrincipalName ne '",
        "odata-alice@contoso.com' or 'a' eq 'a", "x'\tor\t1@contoso.com"}) {
    for (bool dry_run : {false, true}) {
      ExpectProblem(https_->Call("POST", "/v1/enrollments", kEnrollKey,
                                 EnrollmentBody(hostile, pfx[0], dry_run)),
                    400, "urn:certdeploy:problem:invalid-request", hostile);
    }
  }
  EXPECT_EQ(Counter(sandbox_->Stats(), "requests"), Counter(stats_before, "requests"))
      << "a refused UPN reached Graph";
  EXPECT_EQ(ItemsOfKind(Metrics(), "enrollment"), 0);

  // Two ordinary users first; their records must stay untouched afterwards.
  std::vector<std::string> ids;
  for (size_t i = 0; i < 2; ++i) {
    HttpReply r =
        https_->Call("POST", "/v1/enrollments", kEnrollKey, EnrollmentBody(upns[i], pfx[i]));
    ASSERT_EQ(r.status, 202) << r.body;
    ids.push_back(r.Json()["id"]);
  }
  ASSERT_TRUE(AllSucceed(ids));
  auto records_of = [](const nlohmann::json& state, const std::string& upn) {
    std::vector<std::string> out;
    for (const nlohmann::json& r : state["userPfxCertificates"]) {
      if (r.value("userPrincipalName", "") == upn) out.push_back(r.dump());
    }
    return out;
  };
  const nlohmann::json state_before = sandbox_->State();
  const nlohmann::json mid = sandbox_->Stats();

  // Quotes are legal in UPNs: they must reach Graph escaped ('') and work.
  for (size_t i = 2; i < upns.size(); ++i) {
    HttpReply dry = https_->Call("POST", "/v1/enrollments", kEnrollKey,
                                 EnrollmentBody(upns[i], pfx[i], /*dry_run=*/true));
    EXPECT_EQ(dry.status, 200) << upns[i] << ": " << dry.body;
    HttpReply r =
        https_->Call("POST", "/v1/enrollments", kEnrollKey, EnrollmentBody(upns[i], pfx[i]));
    ASSERT_EQ(r.status, 202) << upns[i] << ": " << r.body;
    ids.push_back(r.Json()["id"]);
  }
  ASSERT_TRUE(AllSucceed(ids));
  const nlohmann::json state = sandbox_->State();
  for (const std::string& upn : upns) {
    EXPECT_EQ(records_of(state, upn).size(), 1u) << upn;
  }
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(records_of(state, upns[i]), records_of(state_before, upns[i]))
        << upns[i] << "'s record was touched";
  }
  // Every filter the daemon sent parsed: an unescaped quote would have been a 400 (the sandbox
  // accepts only `userPrincipalName eq '...'` shaped filters).
  const nlohmann::json after = sandbox_->Stats();
  EXPECT_EQ(after["requestsByStatus"].value("400", 0), mid["requestsByStatus"].value("400", 0))
      << after.dump();
  EXPECT_EQ(Counter(after, "duplicates"), Counter(mid, "duplicates"));
}

TEST_F(HostileClientTest, ConcurrentIdenticalIdempotencyKeysMakeOneEnrollment) {
  const std::vector<std::string> pfx =
      MakeUserPfxFiles(dir_.path().string(), {"idem@contoso.com", "idem-other@contoso.com"});
  ASSERT_EQ(pfx.size(), 2u);
  const std::string body = EnrollmentBody("idem@contoso.com", pfx[0]);
  constexpr int kThreads = 16;
  std::vector<HttpReply> replies(kThreads);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      replies[t] = https_->Call("POST", "/v1/enrollments", kEnrollKey, body,
                                {{"Idempotency-Key", "race-1"}});
    });
  }
  for (std::thread& t : threads) t.join();
  // Requests beyond the key's PFX concurrency (service.pfxWorkersPerKey) are turned away with
  // 429 and Retry-After; every other answer names the one enrollment.
  std::set<std::string> ids;
  for (const HttpReply& r : replies) {
    if (r.status == 429) {
      EXPECT_EQ(r.Header("retry-after"), "1");
      continue;
    }
    EXPECT_EQ(r.status, 202) << r.body;
    ids.insert(r.Json().value("id", ""));
  }
  ASSERT_EQ(ids.size(), 1u) << "all answers name the same enrollment";
  const std::string id = *ids.begin();
  EXPECT_EQ(ItemsOfKind(Metrics(), "enrollment"), 1);

  // The same key again: the same answer; with another body: refused as documented.
  HttpReply again =
      https_->Call("POST", "/v1/enrollments", kEnrollKey, body, {{"Idempotency-Key", "race-1"}});
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(again.Json().value("id", ""), id);
  ExpectProblem(https_->Call("POST", "/v1/enrollments", kEnrollKey,
                             EnrollmentBody("idem-other@contoso.com", pfx[1]),
                             {{"Idempotency-Key", "race-1"}}),
                422, "urn:certdeploy:problem:idempotency-key-reused", "another body");
  EXPECT_EQ(ItemsOfKind(Metrics(), "enrollment"), 1);

  std::unique_ptr<store::JobStore> store = StopAndOpenStore();
  ASSERT_NE(store, nullptr);
  Result<std::vector<store::AuditRecord>> audit = store->ListAudit(1000);
  ASSERT_TRUE(audit.ok());
  int accepted = 0;
  for (const store::AuditRecord& a : *audit) {
    accepted += a.action == "enroll" && a.outcome == "accepted";
  }
  EXPECT_EQ(accepted, 1);
}

}  // namespace
}  // namespace certdeploy::testing
