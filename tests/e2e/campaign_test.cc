// Reliability campaigns against the real binary: `certdeploy serve` (the daemon) and
// `certdeploy sandbox` (the tenant, injecting 5 % 503s, 5 % 429s beyond the budget, 2 %
// drop-after-commit and 200 ms latency spikes in a compressed 100-writes-per-2-s window).
//
//   - Fault campaign: one rollout of N users through the REST API, no crash.
//   - Crash campaign (SQLite, PostgreSQL): the daemon is SIGKILLed once inside its first store
//     migration (serve --diag-migration-delay-ms, docs/store-schema.md), then K times at
//     seeded random moments of the rollout, restarted on the same store each time.
//   - PostgreSQL fail-over: two replicas on one store; the dispatcher leader is SIGKILLed
//     mid-rollout and the other one finishes.
//
// Required result every time: every item succeeded, the tenant holds exactly one record per
// user, no duplicate, no record the connector check rejected. Each test prints one
// "CAMPAIGN key=value ..." line (scripts/soak.sh collects them). Sizes: CERTDEPLOY_CAMPAIGN_USERS,
// CERTDEPLOY_CAMPAIGN_KILLS, CERTDEPLOY_CAMPAIGN_SEED; PostgreSQL cases need
// CERTDEPLOY_TEST_PG_URL (skipped otherwise).

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "tests/support/pg_admin.h"
#include "tests/e2e/campaign_harness.h"

namespace certdeploy::testing::campaign {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kKilled = 128 + SIGKILL;

bool IsSqlite(const std::string& store) { return store.rfind("sqlite:", 0) == 0; }

// One value of a one-row query on `store` ("" on any failure, with a test failure).
std::string QueryOne(const std::string& store, const std::string& sqlite_sql,
                     const std::string& postgres_sql) {
  if (IsSqlite(store)) {
    sqlite3* db = nullptr;
    std::string out;
    if (sqlite3_open_v2(store.substr(7).c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) ==
        SQLITE_OK) {
      sqlite3_busy_timeout(db, 5000);
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db, sqlite_sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
          sqlite3_step(stmt) == SQLITE_ROW) {
        const unsigned char* text = sqlite3_column_text(stmt, 0);
        out = text == nullptr ? "NULL" : reinterpret_cast<const char*>(text);
      } else {
        ADD_FAILURE() << sqlite_sql << ": " << sqlite3_errmsg(db);
      }
      sqlite3_finalize(stmt);
    } else {
      ADD_FAILURE() << "cannot open " << store;
    }
    sqlite3_close(db);
    return out;
  }
  auto rows = PostgresQuery(store, postgres_sql);
  if (!rows.ok() || rows->size() != 1 || rows->front().empty()) {
    ADD_FAILURE() << postgres_sql << ": " << rows.status();
    return "";
  }
  return rows->front().front().value_or("NULL");
}

// Kills the daemon's first start inside its schema migration, checks that nothing of the
// migration is left, and returns the restarted daemon (which must migrate cleanly).
std::unique_ptr<Daemon> KillDuringMigrationThenRestart(Campaign& c, const std::string& store) {
  {
    Daemon first(c.config(), c.Log(), /*wait_for_url=*/false,
                 {"--diag-migration-delay-ms", "60000"});
    const bool pausing =
        WaitFor([&] { return ReadFile(c.Log()).find("diagnostic pause") != std::string::npos; },
                seconds(90));
    EXPECT_TRUE(pausing) << ReadFile(c.Log());
    EXPECT_EQ(first.Stop(SIGKILL), kKilled);
    c.CountKill();
  }
  // The migration's transaction died with the process: no table of it, not even its version.
  EXPECT_EQ(QueryOne(store,
                     "SELECT count(*) FROM sqlite_master WHERE name IN "
                     "('work_items', 'rollouts', 'audit_log', 'schema_migrations')",
                     "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename "
                     "IN ('work_items', 'rollouts', 'audit_log', 'schema_migrations')"),
            "0");
  auto daemon = std::make_unique<Daemon>(c.config(), c.Log());
  c.CountRestart();
  EXPECT_NE(daemon->port(), 0) << ReadFile(c.Log());
  const std::string version = "SELECT MAX(version) FROM schema_migrations";
  EXPECT_EQ(QueryOne(store, version, version), "3") << "the next start migrates cleanly";
  return daemon;
}

// The crash campaign on `store`: migration kill, rollout, K kills at seeded random moments.
void CrashCampaign(const std::string& name, const std::string& store) {
  Campaign c(name, store);
  ASSERT_TRUE(c.ready());
  const int users = Knobs::Get().users;
  const int kills = Knobs::Get().kills;
  std::unique_ptr<Daemon> daemon = KillDuringMigrationThenRestart(c, store);
  ASSERT_NE(daemon->port(), 0);
  const std::string id = c.CreateRollout(daemon->port());
  ASSERT_FALSE(id.empty());

  // Random moments: after a seeded share of the records (0 = right after a start, during
  // planning and profile creation) and a seeded extra delay of up to half a second.
  std::uniform_int_distribution<int> share(0, std::max(0, users * 9 / 10 - 1));
  std::uniform_int_distribution<int> delay_ms(0, 500);
  std::vector<int> thresholds;
  for (int i = 0; i < kills; ++i) thresholds.push_back(share(c.random()));
  std::sort(thresholds.begin(), thresholds.end());
  std::string moments;
  size_t previous = 0;
  for (int threshold : thresholds) {
    // At least one new record since the last restart: the restarted daemon is working again
    // (its predecessor's leases expired), so the kill lands in live work, not in the wait.
    const size_t resumed = moments.empty() ? 0 : previous + 1;
    const size_t target = std::max(static_cast<size_t>(threshold), resumed);
    if (target >= static_cast<size_t>(users)) break;  // Nothing left to interrupt.
    EXPECT_TRUE(c.WaitForRecords(target, c.RolloutTimeout(kills)))
        << "stuck below " << target << " records";
    std::this_thread::sleep_for(milliseconds(delay_ms(c.random())));
    const size_t at = c.Records();
    previous = at;
    EXPECT_EQ(daemon->Stop(SIGKILL), kKilled);
    c.CountKill();
    moments += (moments.empty() ? "" : ",") + std::to_string(at);
    daemon = std::make_unique<Daemon>(c.config(), c.Log());
    c.CountRestart();
    ASSERT_NE(daemon->port(), 0) << ReadFile(c.Log());
  }
  std::cout << "campaign " << name << ": killed at " << moments << " of " << users << " records\n";

  const nlohmann::json rollout =
      c.WaitForRollout([&] { return daemon->port(); }, id, c.RolloutTimeout(kills));
  EXPECT_EQ(daemon->Stop(SIGTERM), 0) << "graceful stop exits 0";
  c.VerifyAndReport(rollout);
}

TEST(CampaignTest, FaultCampaignEveryItemSucceedsOnceDespiteInjectedFaults) {
  TempDir scratch;
  Campaign c("fault", SqliteStore(scratch));
  ASSERT_TRUE(c.ready());
  auto daemon = std::make_unique<Daemon>(c.config(), c.Log());
  ASSERT_NE(daemon->port(), 0) << ReadFile(c.Log());
  const std::string id = c.CreateRollout(daemon->port());
  ASSERT_FALSE(id.empty());
  const nlohmann::json rollout =
      c.WaitForRollout([&] { return daemon->port(); }, id, c.RolloutTimeout(0));
  EXPECT_EQ(daemon->Stop(SIGTERM), 0);
  c.VerifyAndReport(rollout);
  // The faults were really there.
  const nlohmann::json stats = c.sandbox().Stats();
  EXPECT_GT(Counter(stats, "injectedFailures") + Counter(stats, "injectedThrottles") +
                Counter(stats, "dropped") + Counter(stats, "latencySpikes"),
            0u);
}

TEST(CampaignTest, CrashCampaignOnSqlite) {
  TempDir scratch;
  CrashCampaign("crash-sqlite", SqliteStore(scratch));
}

TEST(CampaignTest, CrashCampaignOnPostgres) {
  if (std::getenv("CERTDEPLOY_TEST_PG_URL") == nullptr)
    GTEST_SKIP() << "CERTDEPLOY_TEST_PG_URL unset";
  const std::string url = FreshPostgresDatabase("cd_campaign_crash");
  ASSERT_FALSE(url.empty());
  CrashCampaign("crash-postgres", url);
}

TEST(CampaignTest, PostgresLeaderKilledMidRolloutTheOtherReplicaFinishes) {
  if (std::getenv("CERTDEPLOY_TEST_PG_URL") == nullptr)
    GTEST_SKIP() << "CERTDEPLOY_TEST_PG_URL unset";
  const std::string url = FreshPostgresDatabase("cd_campaign_failover");
  ASSERT_FALSE(url.empty());
  Campaign c("failover-postgres", url);
  ASSERT_TRUE(c.ready());
  const int users = Knobs::Get().users;
  auto a = std::make_unique<Daemon>(c.config(), c.Log("a"));
  auto b = std::make_unique<Daemon>(c.config(), c.Log("b"));
  ASSERT_NE(a->port(), 0) << ReadFile(c.Log("a"));
  ASSERT_NE(b->port(), 0) << ReadFile(c.Log("b"));
  const std::string id = c.CreateRollout(b->port());  // Any replica takes API calls.
  ASSERT_FALSE(id.empty());

  // Mid-rollout: a seeded point between a tenth and a half of the records.
  std::uniform_int_distribution<int> share(users / 10, std::max(users / 10, users / 2));
  const int threshold = share(c.random());
  ASSERT_TRUE(c.WaitForRecords(static_cast<size_t>(threshold), c.RolloutTimeout(1)));
  bool a_leads = false;
  ASSERT_TRUE(WaitFor(
      [&] {
        a_leads = a->IsLeader();
        return a_leads != b->IsLeader();
      },
      seconds(30)))
      << "exactly one replica dispatches";
  std::unique_ptr<Daemon>& leader = a_leads ? a : b;
  std::unique_ptr<Daemon>& survivor = a_leads ? b : a;
  const std::string survivor_log = c.Log(a_leads ? "b" : "a");
  EXPECT_EQ(ReadFile(survivor_log).find("imported item"), std::string::npos)
      << "the follower sent nothing while the leader lived";
  const size_t at = c.Records();
  EXPECT_EQ(leader->Stop(SIGKILL), kKilled);
  c.CountKill();
  std::cout << "campaign failover-postgres: leader " << (a_leads ? "a" : "b") << " killed at " << at
            << " of " << users << " records\n";

  const nlohmann::json rollout =
      c.WaitForRollout([&] { return survivor->port(); }, id, c.RolloutTimeout(1));
  EXPECT_TRUE(survivor->IsLeader());
  EXPECT_NE(ReadFile(survivor_log).find("is now the dispatcher"), std::string::npos);
  EXPECT_LT(at, static_cast<size_t>(users)) << "the leader died mid-rollout";
  EXPECT_EQ(survivor->Stop(SIGTERM), 0);
  c.VerifyAndReport(rollout);
}

}  // namespace
}  // namespace certdeploy::testing::campaign
