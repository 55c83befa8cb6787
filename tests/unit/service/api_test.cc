// The REST API over real HTTP (and HTTPS) on port 0, against an in-process sandbox tenant:
// auth, scopes, 400/413/422, idempotency, dry runs, enrollment import, health, metrics, OpenAPI.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/test_pki.h"
#include "tests/unit/service/daemon_harness.h"

namespace certdeploy::service::testing {
namespace {

using ::certdeploy::testing::ExpectedSha1;
using ::certdeploy::testing::kPfxPassword;
using ::testing::HasSubstr;
using ::testing::Not;

std::string FileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Everything SQLite keeps on disk for the store.
std::string StoreBytes(const DaemonHarness& h) {
  return FileText(h.store_file()) + FileText(h.store_file() + "-wal");
}

class ApiTest : public ::testing::Test {
 protected:
  void Start(HarnessOptions options = {}) {
    h_ = std::make_unique<DaemonHarness>(options);
    ASSERT_TRUE(h_->ok()) << h_->error();
  }
  store::ItemSummary Items() {
    Result<store::ItemSummary> s = h_->store().SummarizeItems({}, 10);
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : store::ItemSummary{};
  }
  std::unique_ptr<DaemonHarness> h_;
};

TEST_F(ApiTest, HealthzIsOpenEverythingElseNeedsAKey) {
  Start();
  RawResponse health = h_->Request("GET", "/healthz", "");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(h_->Json(health)["status"], "ok");

  for (const std::string& key :
       {std::string(), std::string("not-a-key"), std::string(kHrKey) + "x"}) {
    RawResponse r = h_->Request("GET", "/v1/enrollments/abc", key);
    EXPECT_EQ(r.status, 401) << key;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json");
    EXPECT_THAT(r.Header("www-authenticate"), HasSubstr("Bearer"));
    nlohmann::json p = h_->Json(r);
    EXPECT_EQ(p["status"], 401);
    EXPECT_TRUE(p.contains("type") && p.contains("title") && p.contains("detail"));
  }
  EXPECT_EQ(h_->Request("GET", "/readyz", "").status, 401);
  EXPECT_EQ(h_->Request("GET", "/metrics", "").status, 401);
  // Unknown routes answer 401 before 404, so strangers learn nothing.
  EXPECT_EQ(h_->Request("GET", "/v2/secret", "").status, 401);
  EXPECT_EQ(h_->Request("GET", "/v2/secret", kReaderKey).status, 404);
  RawResponse wrong_method = h_->Request("DELETE", "/v1/enrollments", kHrKey);
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.Header("allow"), "POST, GET");  // Enroll, and the list.
  EXPECT_EQ(h_->Request("GET", "/readyz", kReaderKey).status, 200);
}

TEST_F(ApiTest, ScopesAreEnforced) {
  Start();
  const std::string body = EnrollmentBody("alice.pfx", "alice@contoso.com", kPfxPassword);
  RawResponse reader = h_->Request("POST", "/v1/enrollments", kReaderKey, body);
  EXPECT_EQ(reader.status, 403);
  EXPECT_THAT(h_->Json(reader)["detail"].get<std::string>(), HasSubstr("'enroll'"));
  EXPECT_EQ(h_->Request("POST", "/v1/enrollments", kOpsKey, body).status, 403);
  EXPECT_EQ(
      h_->Request("POST", "/v1/rollouts", kHrKey, R"({"name":"x","manifest":"m.csv"})").status,
      403);
  EXPECT_EQ(h_->Request("POST", "/v1/rollouts/abc/pause", kReaderKey).status, 403);
  EXPECT_EQ(Items().total(), 0);
}

TEST_F(ApiTest, MalformedRequestsAre400AndOversizedBodies413) {
  HarnessOptions options;
  options.max_body_bytes = 16 * 1024;
  Start(options);
  struct Case {
    std::string body;
    std::string detail;
  };
  const Case cases[] = {
      {"{not json", "not valid JSON"},
      {"[1,2]", "must be a JSON object"},
      {R"({"userPrincipalName":"a@b.c","pfx":"!!!","password":"x"})", "pfx: expected"},
      {R"({"pfx":"MIIB","password":"x"})", "userPrincipalName"},
      {R"({"userPrincipalName":"a@b.c","pfx":"MIIB"})", "password"},
      {R"({"userPrincipalName":"a@b.c","pfx":"MIIB","password":"x","intendedPurpose":"mail"})",
       "intendedPurpose"},
      {R"({"userPrincipalName":"a@b.c","pfx":"MIIB","password":"x","colour":"red"})",
       "unknown field 'colour'"},
  };
  for (const Case& c : cases) {
    RawResponse r = h_->Request("POST", "/v1/enrollments", kHrKey, c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json");
    EXPECT_THAT(h_->Json(r)["detail"].get<std::string>(), HasSubstr(c.detail)) << c.body;
  }
  RawResponse big = h_->Request("POST", "/v1/enrollments", kHrKey, std::string(20000, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(Items().total(), 0);
}

TEST_F(ApiTest, AnUndeployablePfxIs422WithFindingsAndNothingIsStored) {
  Start();
  RawResponse wrong = h_->Request("POST", "/v1/enrollments", kHrKey,
                                  EnrollmentBody("alice.pfx", "alice@contoso.com", "wrong-pw"));
  EXPECT_EQ(wrong.status, 422);
  nlohmann::json p = h_->Json(wrong);
  EXPECT_EQ(p["type"], "urn:certdeploy:problem:pfx-not-deployable");
  ASSERT_TRUE(p["findings"].is_array());
  EXPECT_EQ(p["findings"][0]["code"], "bad-password");
  EXPECT_EQ(p["findings"][0]["severity"], "error");

  RawResponse mismatch =
      h_->Request("POST", "/v1/enrollments", kHrKey,
                  EnrollmentBody("mismatch.pfx", "alice@contoso.com", kPfxPassword));
  EXPECT_EQ(mismatch.status, 422);
  std::set<std::string> codes;
  const nlohmann::json problem = h_->Json(mismatch);
  for (const auto& f : problem["findings"]) codes.insert(f["code"]);
  // The directory says alice's primary SMTP address is her UPN, which the certificate lacks.
  EXPECT_TRUE(codes.count("email-not-primary-smtp"));
  EXPECT_EQ(Items().total(), 0);
  EXPECT_THAT(StoreBytes(*h_), Not(HasSubstr(kPfxPassword)));
  Result<std::vector<store::AuditRecord>> audit = h_->store().ListAudit(10);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ(audit->front().outcome, "rejected: email-not-primary-smtp");
}

TEST_F(ApiTest, AnEnrollmentIsSealedQueuedAndReadable) {
  Start();
  RawResponse r = h_->Request("POST", "/v1/enrollments", kHrKey,
                              EnrollmentBody("alice.pfx", "alice@contoso.com", kPfxPassword));
  ASSERT_EQ(r.status, 202) << r.body;
  nlohmann::json accepted = h_->Json(r);
  EXPECT_EQ(accepted["status"], "queued");
  const std::string id = accepted["id"];
  EXPECT_EQ(r.Header("location"), "/v1/enrollments/" + id);

  RawResponse get = h_->Request("GET", "/v1/enrollments/" + id, kReaderKey);
  ASSERT_EQ(get.status, 200);
  nlohmann::json e = h_->Json(get);
  EXPECT_EQ(e["id"], id);
  EXPECT_EQ(e["userPrincipalName"], "alice@contoso.com");
  EXPECT_EQ(e["thumbprint"], ExpectedSha1("alice"));
  EXPECT_EQ(e["status"], "queued");
  EXPECT_FALSE(e.contains("error"));
  EXPECT_THAT(e["createdAt"].get<std::string>(), ::testing::EndsWith("Z"));
  EXPECT_EQ(h_->Request("GET", "/v1/enrollments/nope", kReaderKey).status, 404);

  Result<store::WorkItem> item = h_->store().GetItem(id);
  ASSERT_TRUE(item.ok());
  EXPECT_FALSE(item->sealed_password.empty());
  EXPECT_THAT(item->sealed_password, Not(HasSubstr(kPfxPassword)));
  EXPECT_TRUE(item->pfx_blob.has_value());
  EXPECT_EQ(item->padding_scheme, "oaepSha512");
  // The password is nowhere at rest: not in the database, its WAL, or the audit log.
  EXPECT_THAT(StoreBytes(*h_), Not(HasSubstr(kPfxPassword)));
  Result<std::vector<store::AuditRecord>> audit = h_->store().ListAudit(10);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 1u);
  const store::AuditRecord& a = audit->front();
  EXPECT_EQ(a.api_key_name, "hr");
  EXPECT_EQ(a.action, "enroll");
  EXPECT_EQ(a.outcome, "accepted");
  EXPECT_EQ(a.thumbprint, ExpectedSha1("alice"));
  for (const std::string& field : {a.detail, a.outcome, a.request_ids}) {
    EXPECT_THAT(field, Not(HasSubstr(kPfxPassword)));
  }
}

TEST_F(ApiTest, IdempotencyKeysReplayAndRefuseOtherBodies) {
  Start();
  const std::string body = EnrollmentBody("alice.pfx", "alice@contoso.com", kPfxPassword);
  RawResponse first =
      h_->Request("POST", "/v1/enrollments", kHrKey, body, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(first.status, 202);
  RawResponse again =
      h_->Request("POST", "/v1/enrollments", kHrKey, body, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(h_->Json(again), h_->Json(first));
  RawResponse other = h_->Request("POST", "/v1/enrollments", kHrKey,
                                  EnrollmentBody("bob.pfx", "bob@contoso.com", kPfxPassword),
                                  {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(h_->Json(other)["type"], "urn:certdeploy:problem:idempotency-key-reused");
  EXPECT_EQ(Items().total(), 1);

  // Many identical requests at once: one item, one answer. Requests beyond the key's PFX
  // concurrency (service.pfxWorkersPerKey) are turned away with 429 and Retry-After, and get the
  // same answer when they retry.
  const std::string bob = EnrollmentBody("bob.pfx", "bob@contoso.com", kPfxPassword);
  std::vector<std::thread> threads;
  std::vector<RawResponse> answers(8);
  for (size_t i = 0; i < answers.size(); ++i) {
    threads.emplace_back([&, i] {
      answers[i] =
          h_->Request("POST", "/v1/enrollments", kHrKey, bob, {{"Idempotency-Key", "k-2"}});
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> ids;
  int accepted = 0;
  for (const RawResponse& r : answers) {
    if (r.status == 429) {
      EXPECT_EQ(r.Header("retry-after"), "1");
      continue;
    }
    ASSERT_EQ(r.status, 202) << r.body;
    ++accepted;
    ids.insert(h_->Json(r)["id"].get<std::string>());
  }
  EXPECT_GE(accepted, 1);
  EXPECT_EQ(ids.size(), 1u);
  RawResponse retried =
      h_->Request("POST", "/v1/enrollments", kHrKey, bob, {{"Idempotency-Key", "k-2"}});
  ASSERT_EQ(retried.status, 202);
  EXPECT_EQ(h_->Json(retried)["id"], *ids.begin());
  EXPECT_EQ(Items().total(), 2);
  EXPECT_EQ(h_->Request("POST", "/v1/enrollments", kHrKey, bob, {{"Idempotency-Key", ""}}).status,
            400);

  // Once the enrollment has run, a replay answers its current status.
  h_->Dispatch();
  RawResponse later =
      h_->Request("POST", "/v1/enrollments", kHrKey, body, {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(later.status, 202) << later.body;
  EXPECT_EQ(h_->Json(later)["id"], h_->Json(first)["id"]);
  EXPECT_EQ(h_->Json(later)["status"], "succeeded");
}

TEST_F(ApiTest, DryRunAnswersThePlanAndStoresNothing) {
  Start();
  RawResponse r = h_->Request("POST", "/v1/enrollments", kHrKey,
                              EnrollmentBody("alice.pfx", "alice@contoso.com", kPfxPassword, true));
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json dry = h_->Json(r);
  EXPECT_EQ(dry["dryRun"], true);
  std::map<std::string, int> kinds;
  for (const auto& a : dry["plan"]["actions"]) ++kinds[a["kind"].get<std::string>()];
  EXPECT_EQ(kinds["createTrustedProfile"], 3);
  EXPECT_EQ(kinds["createImportedPfxProfile"], 1);
  EXPECT_EQ(kinds["importUserPfx"], 1);
  RawResponse text =
      h_->Request("POST", "/v1/enrollments", kHrKey,
                  EnrollmentBody("alice.pfx", "alice@contoso.com", kPfxPassword, true),
                  {{"Accept", "text/plain"}});
  EXPECT_EQ(text.status, 200);
  EXPECT_THAT(text.body, HasSubstr("Plan: "));
  EXPECT_EQ(Items().total(), 0);
  EXPECT_TRUE(h_->store().ListAudit(10)->empty());
  EXPECT_EQ(h_->sandbox().tenant().Stats().writes, 0u);
}

TEST_F(ApiTest, CertificatesListsWhatTheTenantHoldsPagedAndByUser) {
  Start();
  ASSERT_EQ(h_->EnrollAliceAndBob().size(), 2u);
  h_->Dispatch();
  RawResponse all = h_->Request("GET", "/v1/certificates", kReaderKey);
  ASSERT_EQ(all.status, 200) << all.body;
  nlohmann::json body = h_->Json(all);
  EXPECT_EQ(body["count"], 2);
  ASSERT_EQ(body["value"].size(), 2u);
  EXPECT_EQ(body["value"][0]["userPrincipalName"], "alice@contoso.com");
  EXPECT_EQ(body["value"][0]["status"], "valid");
  EXPECT_EQ(body["value"][0]["intendedPurpose"], "smimeEncryption");
  EXPECT_EQ(body["value"][0]["thumbprint"].get<std::string>().size(), 40u);
  EXPECT_FALSE(body.contains("nextLink"));

  // One per page: nextLink leads to the second and last page.
  nlohmann::json first = h_->Json(h_->Request("GET", "/v1/certificates?pageSize=1", kReaderKey));
  ASSERT_EQ(first["value"].size(), 1u);
  ASSERT_TRUE(first["nextLink"].is_string()) << first.dump();
  nlohmann::json second =
      h_->Json(h_->Request("GET", first["nextLink"].get<std::string>(), kReaderKey));
  ASSERT_EQ(second["value"].size(), 1u);
  EXPECT_EQ(second["value"][0]["userPrincipalName"], "bob@contoso.com");
  EXPECT_FALSE(second.contains("nextLink"));

  nlohmann::json bob =
      h_->Json(h_->Request("GET", "/v1/certificates?upn=Bob%40Contoso.com", kReaderKey));
  ASSERT_EQ(bob["value"].size(), 1u) << bob.dump();
  EXPECT_EQ(bob["value"][0]["userPrincipalName"], "bob@contoso.com");
  nlohmann::json soon =
      h_->Json(h_->Request("GET", "/v1/certificates?expiringWithinDays=0", kReaderKey));
  EXPECT_EQ(soon["count"], 0);

  EXPECT_EQ(h_->Request("GET", "/v1/certificates?pageSize=0", kReaderKey).status, 400);
  EXPECT_EQ(h_->Request("GET", "/v1/certificates?expiringWithinDays=-3", kReaderKey).status, 400);
  EXPECT_EQ(h_->Request("GET", "/v1/certificates?upn=not%20a%20upn", kReaderKey).status, 400);
  EXPECT_EQ(h_->Request("GET", "/v1/certificates", "").status, 401);
}

TEST_F(ApiTest, TheDispatcherImportsQueuedEnrollments) {
  Start();
  const std::vector<std::string> ids = h_->EnrollAliceAndBob();
  ASSERT_EQ(ids.size(), 2u);
  h_->Dispatch();
  for (const std::string& id : ids) {
    RawResponse get = h_->Request("GET", "/v1/enrollments/" + id, kReaderKey);
    EXPECT_EQ(h_->Json(get)["status"], "succeeded") << get.body;
    Result<store::WorkItem> item = h_->store().GetItem(id);
    ASSERT_TRUE(item.ok());
    EXPECT_FALSE(item->pfx_blob.has_value());
  }
  nlohmann::json state = h_->sandbox().tenant().State();
  EXPECT_EQ(state["userPfxCertificates"].size(), 2u);
  EXPECT_EQ(state["deviceConfigurations"].size(), 4u);  // 3 trusted roots + imported PFX.
  EXPECT_EQ(h_->sandbox().tenant().Stats().duplicates, 0u);

  RawResponse metrics = h_->Request("GET", "/metrics", kReaderKey);
  ASSERT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.Header("content-type"), HasSubstr("text/plain"));
  EXPECT_THAT(metrics.body,
              HasSubstr("certdeploy_items{kind=\"enrollment\",status=\"succeeded\"} 2"));
  EXPECT_THAT(metrics.body, HasSubstr("certdeploy_queue_depth 0"));
  EXPECT_THAT(metrics.body, HasSubstr("certdeploy_graph_requests_total{code=\"201\"}"));
  EXPECT_THAT(metrics.body, HasSubstr("certdeploy_graph_write_budget_wait_seconds_total"));
  EXPECT_THAT(metrics.body, HasSubstr("\ncertdeploy_dispatcher_leader 1\n"));
  // The expiry watch read the tenant after the batch: two valid certificates.
  EXPECT_THAT(metrics.body, HasSubstr("\ncertdeploy_certificates{status=\"valid\"} 2\n"));
  EXPECT_THAT(metrics.body, HasSubstr("\ncertdeploy_certificates{status=\"expired\"} 0\n"));
  EXPECT_THAT(metrics.body, HasSubstr("\ncertdeploy_certificate_earliest_expiry_timestamp_seconds "));
  EXPECT_THAT(metrics.body,
              HasSubstr("certdeploy_http_request_duration_seconds_bucket{route=\"/v1/enrollments\","
                        "method=\"POST\",le=\"+Inf\"} 2"));
  RawResponse ready = h_->Request("GET", "/readyz", kReaderKey);
  EXPECT_EQ(ready.status, 200) << ready.body;
}

TEST_F(ApiTest, TheSameUserEnrolledManyTimesEndsWithEveryItemSucceededAtOnce) {
  Start();
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    RawResponse r = h_->Request("POST", "/v1/enrollments", kHrKey,
                                EnrollmentBody("alice.pfx", "alice@contoso.com", kPfxPassword));
    ASSERT_EQ(r.status, 202) << r.body;
    ids.push_back(h_->Json(r)["id"]);
  }
  h_->Dispatch();
  for (const std::string& id : ids) {
    Result<store::WorkItem> item = h_->store().GetItem(id);
    ASSERT_TRUE(item.ok());
    EXPECT_EQ(item->status, store::ItemStatus::kSucceeded) << item->error_message;
    EXPECT_EQ(item->attempts, 1) << "handed back: " << item->error_message;
  }
  // Enrolled again, several times, once the record exists: every item is done at once (the
  // record is found), none is handed back.
  std::vector<std::string> later;
  for (int i = 0; i < 3; ++i) {
    RawResponse r = h_->Request("POST", "/v1/enrollments", kHrKey,
                                EnrollmentBody("alice.pfx", "alice@contoso.com", kPfxPassword));
    ASSERT_EQ(r.status, 202) << r.body;
    later.push_back(h_->Json(r)["id"]);
  }
  h_->Dispatch();
  for (const std::string& id : later) {
    Result<store::WorkItem> item = h_->store().GetItem(id);
    ASSERT_TRUE(item.ok());
    EXPECT_EQ(item->status, store::ItemStatus::kSucceeded) << item->error_message;
    EXPECT_EQ(item->attempts, 1) << "handed back: " << item->error_message;
  }
  EXPECT_EQ(h_->sandbox().tenant().State()["userPfxCertificates"].size(), 1u);
  EXPECT_EQ(h_->sandbox().tenant().Stats().duplicates, 0u);
}

TEST_F(ApiTest, ServesOverTls) {
  HarnessOptions options;
  options.tls = true;
  Start(options);
  EXPECT_EQ(h_->Request("GET", "/healthz", "").status, 200);
  RawResponse r = h_->Request("POST", "/v1/enrollments", kHrKey,
                              EnrollmentBody("alice.pfx", "alice@contoso.com", kPfxPassword));
  EXPECT_EQ(r.status, 202) << r.body;
  // Plain HTTP to the TLS port gets no HTTP answer.
  std::unique_ptr<TestClient> plain = TestClient::Connect(h_->port());
  ASSERT_NE(plain, nullptr);
  plain->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::optional<RawResponse> answer = plain->ReadResponse(std::chrono::milliseconds(3000));
  EXPECT_FALSE(answer.has_value() && answer->status == 200);
}

TEST_F(ApiTest, OpenApiDescribesEveryRoute) {
  Start();
  RawResponse r = h_->Request("GET", "/openapi.json", kReaderKey);
  ASSERT_EQ(r.status, 200);
  nlohmann::json doc = h_->Json(r);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  for (const char* path :
       {"/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/enrollments",
        "/v1/enrollments/{id}", "/v1/rollouts", "/v1/rollouts/{id}", "/v1/rollouts/{id}/plan",
        "/v1/rollouts/{id}/pause", "/v1/rollouts/{id}/resume", "/v1/rollouts/{id}/cancel"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
  EXPECT_TRUE(doc["components"]["schemas"].contains("Problem"));
  EXPECT_EQ(h_->Request("GET", "/openapi.json", "").status, 401);
}

}  // namespace
}  // namespace certdeploy::service::testing
