// End-to-end: a rollout through the `certdeploy serve` binary against `certdeploy sandbox`, on
// the real clock, the daemon started without --log-level (its default, info):
//   - a manifest with one row refused at intake ends `succeeded` with counts.invalid 1;
//   - an Idempotency-Key replay answers the rollout's current status;
//   - pause twice answers 200 both times, resume of an ended rollout 409 with its own type;
//   - startAt in 2020 is 422 start-at-in-the-past;
//   - wave times and nextWaveAt survive a restart of the daemon;
//   - the log has one info line per transition and none with the PFX password or client secret;
//   - `logging.level: warn` in the config drops the info lines.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "pkcs/digest.h"
#include "tests/e2e/plan_apply_fixtures.h"
#include "tests/support/loopback_http.h"

namespace certdeploy::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using std::chrono::seconds;
namespace fs = std::filesystem;

constexpr char kOpsKey[] = "e2e-ops-api-key-41c9";

LoopbackReply Call(int port, const std::string& method, const std::string& path,
                   const nlohmann::json& body = nullptr, const std::string& key = "") {
  return LoopbackCall(port, {.method = method,
                             .path = path,
                             .bearer = kOpsKey,
                             .body = body.is_null() ? "" : body.dump(),
                             .idempotency_key = key});
}

// `certdeploy serve` with no --log-level, its stderr appended to `log`.
class Serve {
 public:
  Serve(const std::string& config, const std::string& log)
      : process_({CERTDEPLOY_BINARY, "serve", "--config", config},
                 {{"CERTDEPLOY_CLIENT_SECRET", kClientSecret}}, log) {
    const std::string url = process_.ReadLine(seconds(60));
    if (!url.empty()) port_ = std::atoi(url.substr(url.rfind(':') + 1).c_str());
  }
  int port() const { return port_; }
  int Stop() { return process_.Stop(SIGTERM, seconds(30)); }

 private:
  BackgroundProcess process_;
  int port_ = 0;
};

// Polls GET /v1/rollouts/{id} until `done` holds for it (up to 60 s); the last body.
template <typename Pred>
nlohmann::json WaitForRollout(int port, const std::string& id, Pred done) {
  nlohmann::json r;
  for (int i = 0; i < 600; ++i) {
    r = Call(port, "GET", "/v1/rollouts/" + id).Json();
    if (done(r)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return r;
}

// The log's lines that contain `needle`.
std::vector<std::string> LinesWith(const std::string& log, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) out.push_back(line);
  }
  return out;
}

TEST(DaemonRolloutE2e, StatusesTransitionsWaveTimesAndInfoLogAtTheDefaultLevel) {
  TempDir dir;
  SandboxProcess sandbox(dir.path().string());
  ASSERT_TRUE(sandbox.started());
  const fs::path inbox = dir.path() / "inbox";
  fs::create_directories(inbox);
  const std::vector<std::string> pfx =
      MakeUserPfxFiles(inbox.string(), {"ann@contoso.com", "ben@contoso.com"});
  ASSERT_EQ(pfx.size(), 2u);
  fs::copy_file(kPki + "/expired.pfx", inbox / "expired.pfx");
  fs::copy_file(kPki + "/password.txt", inbox / "password.txt");
  const std::string password = ReadText(kPki + "/password.txt");
  dir.Write("inbox/q4.csv",
            "userPrincipalName,pfxFile,passwordFile\n"
            "ann@contoso.com," + fs::path(pfx[0]).filename().string() + ",password.txt\n"
            "ben@contoso.com," + fs::path(pfx[1]).filename().string() + ",password.txt\n"
            "carol@contoso.com,expired.pfx,password.txt\n");
  ConfigOptions options;
  options.extra = "service:\n"
                  "  listen: 127.0.0.1:0\n"
                  "  store: 'sqlite:" + dir.File("state.db") + "'\n"
                  "  inbox: '" + inbox.string() + "'\n"
                  "  pollMillis: 100\n"
                  "  apiKeys:\n"
                  "    - {name: ops, sha256: " + pkcs::Sha256Hex(std::string_view(kOpsKey)) +
                  ", scopes: [rollouts, read]}\n";
  const std::string config = WriteConfig(dir, sandbox.url(), options);
  const std::string log = dir.File("daemon.log");

  auto daemon = std::make_unique<Serve>(config, log);
  ASSERT_NE(daemon->port(), 0) << ReadText(log);
  int port = daemon->port();

  // startAt years ago: refused, nothing stored.
  LoopbackReply old = Call(port, "POST", "/v1/rollouts",
                           {{"name", "typo"}, {"manifest", "q4.csv"},
                            {"startAt", "2020-11-28T23:00:00Z"}});
  EXPECT_EQ(old.status, 422) << old.body;
  EXPECT_EQ(old.Json().value("type", ""), "urn:certdeploy:problem:start-at-in-the-past");

  // Two waves, 1 h apart: wave 1 (ann, ben) runs, wave 2 (carol's refused row) waits.
  const nlohmann::json body = {
      {"name", "Q4"},
      {"manifest", "q4.csv"},
      {"waves", {{{"percent", 50}}, {{"percent", 100}, {"after", "PT1H"}}}}};
  LoopbackReply created = Call(port, "POST", "/v1/rollouts", body, "q4-once");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.Json()["id"];
  nlohmann::json r = WaitForRollout(port, id, [](const nlohmann::json& j) {
    return j.is_object() && j["waves"][0].value("state", "") == "finished";
  });
  ASSERT_EQ(r["waves"][0]["state"], "finished") << r.dump() << ReadText(log);
  EXPECT_EQ(r["status"], "running");
  ASSERT_TRUE(r.contains("nextWaveAt")) << r.dump();
  EXPECT_EQ(r["counts"]["succeeded"], 2);
  EXPECT_EQ(r["counts"]["invalid"], 1);
  EXPECT_EQ(r["counts"]["failed"], 0);

  // Pause twice: 200 both times.
  for (int i = 0; i < 2; ++i) {
    LoopbackReply paused = Call(port, "POST", "/v1/rollouts/" + id + "/pause");
    EXPECT_EQ(paused.status, 200) << paused.body;
    EXPECT_EQ(paused.Json().value("status", ""), "paused");
  }
  EXPECT_EQ(Call(port, "POST", "/v1/rollouts/" + id + "/resume").Json().value("status", ""),
            "running");

  // A restart keeps wave 1's times and the next wave's time.
  EXPECT_EQ(daemon->Stop(), 0) << ReadText(log);
  daemon = std::make_unique<Serve>(config, log);
  ASSERT_NE(daemon->port(), 0) << ReadText(log);
  port = daemon->port();
  nlohmann::json after = Call(port, "GET", "/v1/rollouts/" + id).Json();
  EXPECT_EQ(after["waves"][0]["startedAt"], r["waves"][0]["startedAt"]);
  EXPECT_EQ(after["waves"][0]["finishedAt"], r["waves"][0]["finishedAt"]);
  EXPECT_EQ(after["nextWaveAt"], r["nextWaveAt"]);

  // The replay answers the state now (running), not the first answer (scheduled).
  LoopbackReply replay = Call(port, "POST", "/v1/rollouts", body, "q4-once");
  EXPECT_EQ(replay.status, 201) << replay.body;
  EXPECT_EQ(replay.Json().value("id", ""), id);
  EXPECT_EQ(replay.Json().value("status", ""), "running");

  // A rollout whose only other row is the refused one ends succeeded, like its dry run.
  dir.Write("inbox/q5.csv",
            "userPrincipalName,pfxFile,passwordFile\n"
            "ann@contoso.com," + fs::path(pfx[0]).filename().string() + ",password.txt\n"
            "carol@contoso.com,expired.pfx,password.txt\n");
  LoopbackReply q5 = Call(port, "POST", "/v1/rollouts", {{"name", "Q5"}, {"manifest", "q5.csv"}});
  ASSERT_EQ(q5.status, 201) << q5.body;
  const std::string q5_id = q5.Json()["id"];
  nlohmann::json done = WaitForRollout(port, q5_id, [](const nlohmann::json& j) {
    return j.is_object() && (j["status"] == "succeeded" || j["status"] == "failed");
  });
  EXPECT_EQ(done["status"], "succeeded") << done.dump();
  EXPECT_EQ(done["counts"]["invalid"], 1);
  EXPECT_FALSE(done.contains("nextWaveAt"));
  LoopbackReply refused = Call(port, "POST", "/v1/rollouts/" + q5_id + "/resume");
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(refused.Json().value("type", ""),
            "urn:certdeploy:problem:rollout-transition-not-allowed");
  EXPECT_EQ(daemon->Stop(), 0);

  // The log, at the default level: one line per transition, no secret.
  const std::string text = ReadText(log);
  EXPECT_THAT(LinesWith(text, "rollout " + id + " 'Q4' scheduled"), ::testing::SizeIs(1)) << text;
  EXPECT_THAT(LinesWith(text, "rollout " + id + " wave 1 started"), ::testing::SizeIs(1)) << text;
  EXPECT_THAT(LinesWith(text, "rollout " + id + " wave 1 finished"), ::testing::SizeIs(1)) << text;
  EXPECT_THAT(LinesWith(text, "rollout " + id + " paused"), ::testing::SizeIs(1))
      << "the second pause changed nothing\n" << text;
  EXPECT_THAT(LinesWith(text, "rollout " + id + " resumed"), ::testing::SizeIs(1)) << text;
  const std::vector<std::string> finished = LinesWith(text, "rollout " + q5_id + " finished");
  ASSERT_THAT(finished, ::testing::SizeIs(1)) << text;
  EXPECT_THAT(finished[0], HasSubstr(" info "));
  EXPECT_THAT(finished[0], HasSubstr("succeeded: 1 succeeded, 0 failed, 1 invalid"));
  EXPECT_THAT(text, Not(HasSubstr(kClientSecret)));
  std::string trimmed = password;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r')) trimmed.pop_back();
  ASSERT_FALSE(trimmed.empty());
  EXPECT_THAT(text, Not(HasSubstr(trimmed)));
  EXPECT_THAT(LinesWith(text, "certdeploy serve: listening on"), ::testing::SizeIs(2)) << text;

  // `logging.level: warn` in the config quiets the daemon's info lines (no --log-level given).
  const std::string quiet = dir.File("quiet.yaml");
  dir.Write("quiet.yaml", ReadText(config) + "logging:\n  level: warn\n");
  daemon = std::make_unique<Serve>(quiet, log);
  ASSERT_NE(daemon->port(), 0) << ReadText(log);
  EXPECT_EQ(Call(daemon->port(), "GET", "/v1/rollouts/" + id).status, 200);
  EXPECT_EQ(daemon->Stop(), 0);
  const std::string quiet_text = ReadText(log).substr(text.size());
  EXPECT_THAT(quiet_text, Not(HasSubstr(" info "))) << quiet_text;
}

}  // namespace
}  // namespace certdeploy::testing
