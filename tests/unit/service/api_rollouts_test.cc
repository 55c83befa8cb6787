// The rollout endpoints over real HTTP: inbox confinement, validation, status, plans, waves run
// by the daemon's passes, the failure halt, pause/resume/cancel.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/time_format.h"
#include "tests/support/test_pki.h"
#include "tests/unit/service/daemon_harness.h"

namespace certdeploy::service::testing {
namespace {

using ::certdeploy::testing::kPfxPassword;
using ::certdeploy::testing::PkiPath;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

class RolloutApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_ = std::make_unique<DaemonHarness>();
    ASSERT_TRUE(h_->ok()) << h_->error();
    for (const char* f : {"alice.pfx", "bob.pfx", "expired.pfx", "mismatch.pfx", "password.txt"}) {
      fs::copy_file(PkiPath(f), h_->inbox() / f);
    }
  }

  // Writes a manifest into the inbox; rows are "upn,pfx".
  void Manifest(const std::string& name,
                const std::vector<std::pair<std::string, std::string>>& rows) {
    std::ofstream out(h_->inbox() / name);
    out << "userPrincipalName,pfxFile,passwordFile\n";
    for (const auto& [upn, pfx] : rows) out << upn << "," << pfx << ",password.txt\n";
  }

  RawResponse Post(const std::string& path, const nlohmann::json& body,
                   const std::string& key = kOpsKey) {
    return h_->Request("POST", path, key, body.is_null() ? "" : body.dump());
  }
  nlohmann::json Get(const std::string& id) {
    return h_->Json(h_->Request("GET", "/v1/rollouts/" + id, kReaderKey));
  }

  std::unique_ptr<DaemonHarness> h_;
};

TEST_F(RolloutApiTest, ScheduleInspectPlanPauseResumeCancel) {
  Manifest("q4.csv", {{"alice@contoso.com", "alice.pfx"},
                      {"bob@contoso.com", "bob.pfx"},
                      {"carol@contoso.com", "expired.pfx"}});
  RawResponse created =
      Post("/v1/rollouts", {{"name", "Q4"},
                            {"manifest", "q4.csv"},
                            {"startAt", "2099-01-01T00:00:00Z"},
                            {"waves", {{{"percent", 50}}, {{"percent", 100}, {"after", "PT1H"}}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = h_->Json(created)["id"];
  EXPECT_EQ(h_->Json(created)["status"], "scheduled");

  nlohmann::json r = Get(id);
  EXPECT_EQ(r["status"], "scheduled");
  EXPECT_EQ(r["name"], "Q4");
  EXPECT_EQ(r["startAt"], "2099-01-01T00:00:00.000Z");
  EXPECT_EQ(r["counts"]["total"], 3);
  EXPECT_EQ(r["counts"]["queued"], 2);
  EXPECT_EQ(r["counts"]["failed"], 0);
  EXPECT_EQ(r["counts"]["invalid"], 1);
  EXPECT_EQ(r["nextWaveAt"], "2099-01-01T00:00:00.000Z");
  ASSERT_EQ(r["waves"].size(), 2u);
  EXPECT_EQ(r["waves"][1]["after"], "PT1H");
  EXPECT_EQ(r["waves"][0]["counts"]["total"], 2);
  ASSERT_EQ(r["failures"].size(), 1u);
  EXPECT_EQ(r["failures"][0]["line"], 4);
  EXPECT_EQ(r["failures"][0]["error"]["code"], "pfx-not-deployable");
  EXPECT_THAT(r["failures"][0]["error"]["message"].get<std::string>(), HasSubstr("expired"));

  RawResponse plan = h_->Request("GET", "/v1/rollouts/" + id + "/plan", kReaderKey);
  ASSERT_EQ(plan.status, 200) << plan.body;
  std::map<std::string, int> kinds;
  const nlohmann::json plan_json = h_->Json(plan);
  for (const auto& a : plan_json["actions"]) ++kinds[a["kind"].get<std::string>()];
  EXPECT_EQ(kinds["importUserPfx"], 2);
  EXPECT_EQ(kinds["invalid"], 1);
  RawResponse text = h_->Request("GET", "/v1/rollouts/" + id + "/plan", kReaderKey, "",
                                 {{"Accept", "text/plain"}});
  EXPECT_EQ(text.status, 200);
  EXPECT_THAT(text.body, HasSubstr("Plan: "));
  EXPECT_EQ(h_->sandbox().tenant().Stats().writes, 0u) << "plans only read";

  EXPECT_EQ(h_->Json(Post("/v1/rollouts/" + id + "/pause", nullptr))["status"], "paused");
  EXPECT_FALSE(Get(id).contains("nextWaveAt")) << "nothing starts while paused";
  // Transitions are idempotent: the state asked for is answered with 200.
  RawResponse again = Post("/v1/rollouts/" + id + "/pause", nullptr);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(h_->Json(again)["status"], "paused");
  EXPECT_EQ(h_->Json(Post("/v1/rollouts/" + id + "/resume", nullptr))["status"], "scheduled");
  EXPECT_EQ(h_->Json(Post("/v1/rollouts/" + id + "/resume", nullptr))["status"], "scheduled");
  EXPECT_EQ(h_->Json(Post("/v1/rollouts/" + id + "/cancel", nullptr))["status"], "cancelled");
  again = Post("/v1/rollouts/" + id + "/cancel", nullptr);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(h_->Json(again)["status"], "cancelled");
  // Impossible ones stay 409, with a problem type of their own.
  RawResponse refused = Post("/v1/rollouts/" + id + "/resume", nullptr);
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(h_->Json(refused)["type"], "urn:certdeploy:problem:rollout-transition-not-allowed");
  EXPECT_EQ(Post("/v1/rollouts/nope/cancel", nullptr).status, 404);
  r = Get(id);
  EXPECT_EQ(r["counts"]["cancelled"], 2);
  EXPECT_EQ(r["counts"]["invalid"], 1);

  std::vector<std::string> actions;
  Result<std::vector<store::AuditRecord>> audit = h_->store().ListAudit(20);
  ASSERT_TRUE(audit.ok());
  for (const store::AuditRecord& a : *audit) {
    if (a.api_key_name == "ops") actions.push_back(a.action);
  }
  // Repeated actions changed nothing and left no audit record.
  EXPECT_THAT(actions, ::testing::ElementsAre("rollout.cancel", "rollout.resume", "rollout.pause",
                                              "rollout.create"));
  std::ifstream db(h_->store_file(), std::ios::binary);
  std::ostringstream bytes;
  bytes << db.rdbuf();
  EXPECT_THAT(bytes.str(), Not(HasSubstr(kPfxPassword)));
}

TEST_F(RolloutApiTest, ManifestsMustBeInsideTheInbox) {
  Manifest("ok.csv", {{"alice@contoso.com", "alice.pfx"}});
  fs::create_directories(h_->inbox() / "sub");
  fs::copy_file(PkiPath("alice.pfx"), h_->dir() / "x.pfx");
  Manifest("sub/nested.csv", {{"alice@contoso.com", "../../x.pfx"}});
  const fs::path outside = h_->dir() / "outside.csv";
  std::ofstream(outside) << "userPrincipalName,pfxFile,passwordFile\n";
  fs::create_symlink(outside, h_->inbox() / "link.csv");
  fs::create_symlink(PkiPath("alice.pfx"), h_->inbox() / "escape.pfx");
  Manifest("escape.csv", {{"alice@contoso.com", "escape.pfx"}});

  struct Case {
    std::string manifest;
    std::string type;
  };
  const Case refused[] = {
      {"../outside.csv", "manifest-outside-inbox"}, {outside.string(), "manifest-outside-inbox"},
      {"/etc/passwd", "manifest-outside-inbox"},    {"link.csv", "manifest-outside-inbox"},
      {"sub/../ok.csv", "manifest-outside-inbox"},  {"missing.csv", "manifest-not-found"},
  };
  for (const Case& c : refused) {
    RawResponse r = Post("/v1/rollouts", {{"name", "x"}, {"manifest", c.manifest}});
    EXPECT_EQ(r.status, 422) << c.manifest;
    EXPECT_EQ(h_->Json(r)["type"], "urn:certdeploy:problem:" + c.type) << c.manifest;
    // Answers never say where the inbox is on the host.
    EXPECT_THAT(r.body, Not(HasSubstr(h_->inbox().string()))) << c.manifest;
  }
  // An absolute path inside the inbox is fine.
  EXPECT_EQ(Post("/v1/rollouts",
                 {{"name", "x"}, {"manifest", (h_->inbox() / "ok.csv").string()}, {"dryRun", true}})
                .status,
            201);
  // Rows whose files lie outside the inbox (by '..' or a symlink) refuse the whole rollout.
  for (const char* manifest : {"sub/nested.csv", "escape.csv"}) {
    RawResponse r = Post("/v1/rollouts", {{"name", "x"}, {"manifest", manifest}});
    EXPECT_EQ(r.status, 422) << r.body;
    nlohmann::json problem = h_->Json(r);
    EXPECT_EQ(problem["type"], "urn:certdeploy:problem:manifest-outside-inbox") << manifest;
    EXPECT_EQ(problem["findings"][0]["code"], "path-outside-inbox") << manifest;
    EXPECT_THAT(r.body, Not(HasSubstr(h_->inbox().string()))) << manifest;
  }
}

TEST_F(RolloutApiTest, BadRequestsAre400) {
  Manifest("ok.csv", {{"alice@contoso.com", "alice.pfx"}});
  const nlohmann::json bad[] = {
      {{"manifest", "ok.csv"}},
      {{"name", "x"}},
      {{"name", "x"}, {"manifest", "ok.csv"}, {"startAt", "tomorrow"}},
      // Found by fuzzing: years outside what SystemTime holds overflowed (UB).
      {{"name", "x"}, {"manifest", "ok.csv"}, {"startAt", "1013-12-01T08:00:00.250+01:00"}},
      {{"name", "x"}, {"manifest", "ok.csv"}, {"startAt", "9999-12-31T23:59:59Z"}},
      {{"name", "x"}, {"manifest", "ok.csv"}, {"waves", {{{"percent", 50}}}}},
      {{"name", "x"}, {"manifest", "ok.csv"}, {"waves", {{{"percent", 100}, {"after", "P1M"}}}}},
      {{"name", "x"}, {"manifest", "ok.csv"}, {"haltOnFailurePercent", 101}},
      {{"name", "x"}, {"manifest", "ok.csv"}, {"priority", 1}},
  };
  for (const nlohmann::json& body : bad) {
    EXPECT_EQ(Post("/v1/rollouts", body).status, 400) << body.dump();
  }
  EXPECT_EQ(h_->Request("POST", "/v1/rollouts", kOpsKey, "{").status, 400);
}

TEST_F(RolloutApiTest, AnInvalidRowIsReportedApartAndTheRolloutSucceeds) {
  Manifest("q1.csv", {{"alice@contoso.com", "alice.pfx"},
                      {"bob@contoso.com", "bob.pfx"},
                      {"carol@contoso.com", "expired.pfx"}});
  const nlohmann::json body = {
      {"name", "Q1"}, {"manifest", "q1.csv"}, {"waves", {{{"percent", 50}}, {{"percent", 100}}}}};
  RawResponse dry = Post("/v1/rollouts", {{"name", "Q1 dry"}, {"manifest", "q1.csv"},
                                          {"dryRun", true}});
  ASSERT_EQ(dry.status, 201) << dry.body;
  RawResponse created = Post("/v1/rollouts", body);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = h_->Json(created)["id"];
  h_->Dispatch();
  nlohmann::json r = Get(id);
  // Wave 1 (alice, bob) imported; wave 2 holds only the row refused at intake: no halt, and
  // the rollout ends as its dry run did.
  EXPECT_EQ(r["status"], "succeeded") << r.dump();
  EXPECT_EQ(Get(h_->Json(dry)["id"])["status"], "succeeded");
  EXPECT_EQ(r["counts"]["succeeded"], 2);
  EXPECT_EQ(r["counts"]["failed"], 0);
  EXPECT_EQ(r["counts"]["invalid"], 1);
  EXPECT_EQ(r["counts"]["total"], 3);
  EXPECT_EQ(r["waves"][1]["counts"]["invalid"], 1);
  ASSERT_EQ(r["failures"].size(), 1u);
  EXPECT_EQ(r["failures"][0]["error"]["code"], "pfx-not-deployable");
  EXPECT_EQ(h_->sandbox().tenant().State()["userPfxCertificates"].size(), 2u);
  const std::string metrics = h_->Request("GET", "/metrics", kReaderKey).body;
  EXPECT_THAT(metrics, HasSubstr("certdeploy_items{kind=\"rollout\",status=\"invalid\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("certdeploy_items{kind=\"rollout\",status=\"failed\"} 0"));
  // The row list marks the refused row as invalid.
  const nlohmann::json rows =
      h_->Json(h_->Request("GET", "/v1/rollouts/" + id + "/items", kReaderKey));
  ASSERT_EQ(rows["value"].size(), 3u) << rows.dump();
  EXPECT_EQ(rows["value"][2]["invalid"], true) << rows.dump();
  EXPECT_EQ(rows["value"][0]["invalid"], false) << rows.dump();
}

TEST_F(RolloutApiTest, AReplayedIdempotencyKeyAnswersTheRolloutsCurrentState) {
  Manifest("q2.csv", {{"alice@contoso.com", "alice.pfx"}});
  const nlohmann::json body = {{"name", "Q2"}, {"manifest", "q2.csv"}};
  const std::map<std::string, std::string> key = {{"Idempotency-Key", "q2-once"}};
  RawResponse first = h_->Request("POST", "/v1/rollouts", kOpsKey, body.dump(), key);
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(h_->Json(first)["status"], "scheduled");
  const std::string id = h_->Json(first)["id"];
  h_->Dispatch();
  ASSERT_EQ(Get(id)["status"], "succeeded");

  RawResponse replay = h_->Request("POST", "/v1/rollouts", kOpsKey, body.dump(), key);
  EXPECT_EQ(replay.status, 201) << replay.body;
  EXPECT_EQ(h_->Json(replay)["id"], id);
  EXPECT_EQ(h_->Json(replay)["status"], "succeeded") << "the state now, not the first answer";
  EXPECT_EQ(replay.Header("location"), "/v1/rollouts/" + id);
  RawResponse other = h_->Request("POST", "/v1/rollouts", kOpsKey,
                                  nlohmann::json({{"name", "Q2b"}, {"manifest", "q2.csv"}}).dump(),
                                  key);
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(h_->Json(other)["type"], "urn:certdeploy:problem:idempotency-key-reused");
  nlohmann::json list = h_->Json(h_->Request("GET", "/v1/rollouts", kReaderKey));
  EXPECT_EQ(list["value"].size(), 1u) << "one rollout for one key";
}

TEST_F(RolloutApiTest, AStartAtMoreThanFiveMinutesInThePastIsRefused) {
  Manifest("ok.csv", {{"alice@contoso.com", "alice.pfx"}});
  RawResponse old = Post("/v1/rollouts",
                         {{"name", "x"}, {"manifest", "ok.csv"}, {"startAt", "2020-06-01T08:00:00Z"}});
  EXPECT_EQ(old.status, 422) << old.body;
  EXPECT_EQ(h_->Json(old)["type"], "urn:certdeploy:problem:start-at-in-the-past");
  nlohmann::json list = h_->Json(h_->Request("GET", "/v1/rollouts", kReaderKey));
  EXPECT_TRUE(list["value"].empty()) << "nothing stored";
  // A little in the past (clock skew, a queued request) is fine, and so is omitting it.
  const std::string recent = FormatRfc3339Utc(std::chrono::system_clock::now() -
                                              std::chrono::minutes(2));
  EXPECT_EQ(Post("/v1/rollouts", {{"name", "x"}, {"manifest", "ok.csv"}, {"startAt", recent}})
                .status,
            201);
  EXPECT_EQ(Post("/v1/rollouts", {{"name", "y"}, {"manifest", "ok.csv"}}).status, 201);
}

TEST_F(RolloutApiTest, WaveTimesSurvivePauseResumeAndARestartAndNextWaveAtIsShown) {
  Manifest("q3.csv", {{"alice@contoso.com", "alice.pfx"}, {"bob@contoso.com", "bob.pfx"}});
  RawResponse created = Post("/v1/rollouts",
                             {{"name", "Q3"},
                              {"manifest", "q3.csv"},
                              {"waves", {{{"percent", 50}}, {{"percent", 100}, {"after", "PT1H"}}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = h_->Json(created)["id"];
  h_->Dispatch();
  nlohmann::json before = Get(id);
  ASSERT_EQ(before["status"], "running") << before.dump();
  ASSERT_EQ(before["waves"][0]["state"], "finished");
  ASSERT_TRUE(before["waves"][0].contains("startedAt")) << before.dump();
  ASSERT_TRUE(before["waves"][0].contains("finishedAt"));
  const SystemTime finished =
      ParseRfc3339(before["waves"][0]["finishedAt"].get<std::string>()).value_or(SystemTime{});
  ASSERT_TRUE(before.contains("nextWaveAt")) << before.dump();
  EXPECT_EQ(before["nextWaveAt"], FormatRfc3339UtcMillis(finished + std::chrono::hours(1)));
  EXPECT_FALSE(before["waves"][1].contains("startedAt"));

  EXPECT_EQ(h_->Json(Post("/v1/rollouts/" + id + "/pause", nullptr))["status"], "paused");
  EXPECT_EQ(h_->Json(Post("/v1/rollouts/" + id + "/resume", nullptr))["status"], "running");
  ASSERT_TRUE(h_->Restart()) << h_->error();
  nlohmann::json after = Get(id);
  EXPECT_EQ(after["waves"][0]["startedAt"], before["waves"][0]["startedAt"]);
  EXPECT_EQ(after["waves"][0]["finishedAt"], before["waves"][0]["finishedAt"]);
  EXPECT_EQ(after["nextWaveAt"], before["nextWaveAt"]);
}

}  // namespace
}  // namespace certdeploy::service::testing
