// The operators' list endpoints over real HTTP: GET /v1/rollouts, /v1/rollouts/{id}/items,
// /v1/enrollments, /v1/audit and /v1/me (paging through `next`, filters, scopes, bad input as
// problem+json), /v1/throughput, and the console's files with their security headers.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/test_pki.h"
#include "tests/unit/service/daemon_harness.h"

namespace certdeploy::service::testing {
namespace {

using ::certdeploy::testing::PkiPath;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

class ListApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_ = std::make_unique<DaemonHarness>();
    ASSERT_TRUE(h_->ok()) << h_->error();
    for (const char* f : {"alice.pfx", "bob.pfx", "expired.pfx", "mismatch.pfx", "password.txt"}) {
      fs::copy_file(PkiPath(f), h_->inbox() / f);
    }
  }

  // Schedules a rollout of `rows` ("upn,pfx"), far in the future unless `now`, and returns its id.
  std::string Schedule(const std::string& name,
                       const std::vector<std::pair<std::string, std::string>>& rows,
                       bool now = false) {
    std::ofstream out(h_->inbox() / (name + ".csv"));
    out << "userPrincipalName,pfxFile,passwordFile\n";
    for (const auto& [upn, pfx] : rows) out << upn << "," << pfx << ",password.txt\n";
    out.close();
    nlohmann::json body = {{"name", name}, {"manifest", name + ".csv"}};
    if (!now) body["startAt"] = "2099-01-01T00:00:00Z";
    if (now) body["haltOnFailurePercent"] = 100;
    RawResponse r = h_->Request("POST", "/v1/rollouts", kOpsKey, body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return h_->Json(r).value("id", "");
  }

  nlohmann::json GetJson(const std::string& path, const std::string& key = kReaderKey) {
    RawResponse r = h_->Request("GET", path, key);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return h_->Json(r);
  }

  // Asserts a 400 problem+json answer.
  void ExpectBadRequest(const std::string& path) {
    RawResponse r = h_->Request("GET", path, kReaderKey);
    EXPECT_EQ(r.status, 400) << path << ": " << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json") << path;
    EXPECT_EQ(h_->Json(r).value("type", ""), "urn:certdeploy:problem:invalid-request") << path;
  }

  std::unique_ptr<DaemonHarness> h_;
};

std::vector<std::string> Field(const nlohmann::json& page, const std::string& name) {
  std::vector<std::string> out;
  for (const nlohmann::json& row : page["value"]) out.push_back(row.value(name, ""));
  return out;
}

TEST_F(ListApiTest, RolloutsPageNewestFirstThroughNextAndFilterByStatus) {
  const std::string first = Schedule("first", {{"alice@contoso.com", "alice.pfx"}});
  const std::string second = Schedule("second", {{"bob@contoso.com", "bob.pfx"}});
  const std::string third = Schedule("third", {{"alice@contoso.com", "alice.pfx"},
                                               {"bob@contoso.com", "bob.pfx"}});
  nlohmann::json page = GetJson("/v1/rollouts?limit=2");
  EXPECT_THAT(Field(page, "id"), ElementsAre(third, second));
  EXPECT_EQ(page["value"][0]["counts"]["total"], 2);
  EXPECT_EQ(page["value"][0]["status"], "scheduled");
  EXPECT_EQ(page["value"][0]["waveCount"], 1);
  ASSERT_TRUE(page.contains("next")) << page.dump();
  nlohmann::json rest = GetJson(page["next"].get<std::string>());
  EXPECT_THAT(Field(rest, "id"), ElementsAre(first));
  EXPECT_FALSE(rest.contains("next"));

  ASSERT_EQ(h_->Request("POST", "/v1/rollouts/" + second + "/pause", kOpsKey).status, 200);
  EXPECT_THAT(Field(GetJson("/v1/rollouts?status=paused"), "id"), ElementsAre(second));
  EXPECT_THAT(Field(GetJson("/v1/rollouts?status=running"), "id"), ::testing::IsEmpty());
  // The rollouts scope alone may read the list too.
  EXPECT_EQ(GetJson("/v1/rollouts", kOpsKey)["value"].size(), 3u);

  ExpectBadRequest("/v1/rollouts?status=finished");
  ExpectBadRequest("/v1/rollouts?limit=0");
  ExpectBadRequest("/v1/rollouts?limit=201");
  ExpectBadRequest("/v1/rollouts?cursor=not-a-cursor");
  ExpectBadRequest("/v1/rollouts?cursor=" + std::string(300, 'A'));
}

TEST_F(ListApiTest, RolloutItemsShowFailuresWithFindingsAndFilter) {
  const std::string id = Schedule("mixed", {{"alice@contoso.com", "alice.pfx"},
                                            {"alice@contoso.com", "expired.pfx"},
                                            {"bob@contoso.com", "bob.pfx"}});
  nlohmann::json all = GetJson("/v1/rollouts/" + id + "/items");
  ASSERT_EQ(all["value"].size(), 3u) << all.dump();
  std::vector<int> lines;
  for (const auto& row : all["value"]) lines.push_back(row["line"]);
  EXPECT_THAT(lines, ElementsAre(2, 3, 4));

  nlohmann::json failed = GetJson("/v1/rollouts/" + id + "/items?status=failed");
  ASSERT_EQ(failed["value"].size(), 1u) << failed.dump();
  const nlohmann::json& row = failed["value"][0];
  EXPECT_EQ(row["line"], 3);
  EXPECT_EQ(row["userPrincipalName"], "alice@contoso.com");
  EXPECT_EQ(row["error"]["code"], "pfx-not-deployable");
  ASSERT_FALSE(row["findings"].empty()) << row.dump();
  EXPECT_EQ(row["findings"][0]["code"], "expired");
  EXPECT_THAT(row["findings"][0]["message"].get<std::string>(), Not(HasSubstr("expired:")));
  EXPECT_THAT(GetJson("/v1/rollouts/" + id + "/items?status=queued")["value"][0]["findings"],
              ::testing::IsEmpty());

  nlohmann::json bob = GetJson("/v1/rollouts/" + id + "/items?upn=BOB@contoso.com");
  EXPECT_THAT(Field(bob, "userPrincipalName"), ElementsAre("bob@contoso.com"));

  nlohmann::json page = GetJson("/v1/rollouts/" + id + "/items?limit=2&status=queued");
  ASSERT_EQ(page["value"].size(), 2u);
  EXPECT_FALSE(page.contains("next")) << "two queued items: one page";
  page = GetJson("/v1/rollouts/" + id + "/items?limit=1");
  ASSERT_TRUE(page.contains("next"));
  EXPECT_THAT(page["next"].get<std::string>(), HasSubstr("/v1/rollouts/" + id + "/items?"));
  nlohmann::json second = GetJson(page["next"].get<std::string>());
  EXPECT_EQ(second["value"][0]["line"], 3);

  EXPECT_EQ(h_->Request("GET", "/v1/rollouts/nope/items", kReaderKey).status, 404);
  ExpectBadRequest("/v1/rollouts/" + id + "/items?status=paused");
  ExpectBadRequest("/v1/rollouts/" + id + "/items?upn=not%20a%20upn");
  ExpectBadRequest("/v1/rollouts/" + id + "/items?cursor=%2F%2F%2F");
}

TEST_F(ListApiTest, ARowTheDispatcherRefusesShowsItsFinding) {
  const std::string id = Schedule("now", {{"alice@contoso.com", "alice.pfx"},
                                          {"alice@contoso.com", "mismatch.pfx"}},
                                  /*now=*/true);
  h_->Dispatch();
  nlohmann::json failed = GetJson("/v1/rollouts/" + id + "/items?status=failed");
  ASSERT_EQ(failed["value"].size(), 1u) << GetJson("/v1/rollouts/" + id + "/items").dump();
  const nlohmann::json& row = failed["value"][0];
  EXPECT_EQ(row["line"], 3);
  ASSERT_EQ(row["findings"].size(), 1u) << row.dump();
  EXPECT_EQ(row["findings"][0]["code"], "email-not-primary-smtp") << row.dump();
  EXPECT_THAT(row["findings"][0]["message"].get<std::string>(), HasSubstr("dave@fabrikam.com"));
  EXPECT_EQ(row["error"]["code"], "email-not-primary-smtp");
  EXPECT_THAT(GetJson("/v1/rollouts/" + id + "/items?status=succeeded")["value"][0]["findings"],
              ::testing::IsEmpty());
}

TEST_F(ListApiTest, EnrollmentsNewestFirstSearchableByUpn) {
  std::vector<std::string> ids = h_->EnrollAliceAndBob();
  ASSERT_EQ(ids.size(), 2u);
  nlohmann::json page = GetJson("/v1/enrollments");
  EXPECT_EQ(page["value"].size(), 2u);
  nlohmann::json alice = GetJson("/v1/enrollments?upn=Alice@Contoso.com");
  EXPECT_THAT(Field(alice, "userPrincipalName"), ElementsAre("alice@contoso.com"));
  EXPECT_EQ(alice["value"][0]["status"], "queued");
  nlohmann::json one = GetJson("/v1/enrollments?limit=1");
  ASSERT_TRUE(one.contains("next"));
  nlohmann::json next = GetJson(one["next"].get<std::string>());
  ASSERT_EQ(next["value"].size(), 1u);
  EXPECT_NE(next["value"][0]["id"], one["value"][0]["id"]);
  EXPECT_THAT(GetJson("/v1/enrollments?status=succeeded")["value"], ::testing::IsEmpty());
  // Rollout items are not enrollments.
  Schedule("r", {{"carol@contoso.com", "alice.pfx"}});
  EXPECT_EQ(GetJson("/v1/enrollments")["value"].size(), 2u);
  ExpectBadRequest("/v1/enrollments?status=done");
}

TEST_F(ListApiTest, AuditNewestFirstSinceAndPaged) {
  Schedule("a", {{"alice@contoso.com", "alice.pfx"}});
  Schedule("b", {{"bob@contoso.com", "bob.pfx"}});
  nlohmann::json page = GetJson("/v1/audit?limit=1");
  ASSERT_EQ(page["value"].size(), 1u);
  EXPECT_EQ(page["value"][0]["action"], "rollout.create");
  EXPECT_THAT(page["value"][0]["detail"].get<std::string>(), HasSubstr("(b)"));
  EXPECT_EQ(page["value"][0]["apiKey"], "ops");
  ASSERT_TRUE(page.contains("next"));
  nlohmann::json next = GetJson(page["next"].get<std::string>());
  EXPECT_THAT(next["value"][0]["detail"].get<std::string>(), HasSubstr("(a)"));
  EXPECT_THAT(GetJson("/v1/audit?since=2099-01-01T00:00:00Z")["value"], ::testing::IsEmpty());
  EXPECT_EQ(GetJson("/v1/audit?since=2000-01-01T00:00:00Z")["value"].size(), 2u);
  ExpectBadRequest("/v1/audit?since=yesterday");
  ExpectBadRequest("/v1/audit?limit=-1");
}

TEST_F(ListApiTest, ScopesAreThoseOfTheApi) {
  for (const char* path : {"/v1/rollouts", "/v1/enrollments", "/v1/audit", "/v1/throughput"}) {
    EXPECT_EQ(h_->Request("GET", path, "").status, 401) << path;
    RawResponse r = h_->Request("GET", path, kEnrollOnlyKey);
    EXPECT_EQ(r.status, 403) << path;
    EXPECT_EQ(h_->Json(r).value("type", ""), "urn:certdeploy:problem:missing-scope") << path;
  }
  nlohmann::json me = GetJson("/v1/me", kOpsKey);
  EXPECT_EQ(me["name"], "ops");
  EXPECT_THAT(me["scopes"], ElementsAre("rollouts", "read"));
  EXPECT_THAT(GetJson("/v1/me", kEnrollOnlyKey)["scopes"], ElementsAre("enroll"));
  EXPECT_EQ(h_->Request("GET", "/v1/me", "").status, 401);
}

TEST_F(ListApiTest, ThroughputDescribesTheBudget) {
  nlohmann::json t = GetJson("/v1/throughput");
  EXPECT_EQ(t["windowSeconds"], 20);
  EXPECT_EQ(t["writesPerWindow"], 1000);  // The harness config.
  EXPECT_EQ(t["requestsPerWindow"], 5000);
  EXPECT_TRUE(t["samples"].is_array());
}

TEST_F(ListApiTest, ConsoleFilesArePublicAndCarrySecurityHeaders) {
  RawResponse page = h_->Request("GET", "/ui/", "");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_THAT(page.body, HasSubstr("type=\"password\""));
  EXPECT_EQ(page.Header("content-security-policy").rfind("default-src 'self'", 0), 0u);
  EXPECT_THAT(page.Header("content-security-policy"), Not(HasSubstr("unsafe-inline")));
  EXPECT_EQ(page.Header("x-frame-options"), "DENY");
  EXPECT_EQ(page.Header("referrer-policy"), "no-referrer");
  EXPECT_EQ(page.Header("x-content-type-options"), "nosniff");
  EXPECT_THAT(page.body, Not(HasSubstr("<script>"))) << "no inline script";
  EXPECT_THAT(page.body, Not(HasSubstr("http://")));
  EXPECT_THAT(page.body, Not(HasSubstr("https://")));

  RawResponse js = h_->Request("GET", "/ui/app.js", "");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_THAT(js.body, HasSubstr("sessionStorage"));
  EXPECT_EQ(h_->Request("GET", "/ui", "").Header("location"), "/ui/");
  EXPECT_EQ(h_->Request("GET", "/ui/nope.js", "").status, 404);
  EXPECT_EQ(h_->Request("GET", "/ui/../v1/audit", "").status, 404);
  EXPECT_EQ(h_->Request("POST", "/ui/", "").status, 405);
  // The API's answers carry the same headers.
  EXPECT_EQ(h_->Request("GET", "/v1/audit", kReaderKey).Header("x-frame-options"), "DENY");
}

}  // namespace
}  // namespace certdeploy::service::testing
