// The real Graph client (cpprestsdk transport, token source, retries, write budget) against
// `certdeploy sandbox` on a loopback port.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "base/file.h"
#include "deploy/executor.h"
#include "pkcs/digest.h"
#include "tests/integration/sandbox_client.h"
#include "tests/support/status_matchers.h"

namespace certdeploy::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Creates `count` records for user0000@contoso.com... with `threads` workers; returns failures.
std::vector<std::string> CreateMany(graph::IntuneApi& api, int count, int threads,
                                    const std::string& prefix = "user") {
  std::atomic<int> next{0};
  std::mutex mu;
  std::vector<std::string> failures;
  auto worker = [&] {
    for (int i = next++; i < count; i = next++) {
      char upn[64];
      std::snprintf(upn, sizeof(upn), "%s%04d@contoso.com", prefix.c_str(), i);
      Result<graph::UserPfxCertificate> r = api.CreateUserPfxCertificate(AliceRecordFor(upn));
      if (!r.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        failures.push_back(std::string(upn) + ": " + r.status().ToString());
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();
  return failures;
}

// Issue "Done when": 300 creates against --write-limit 100 --window 2 with 10% injected 503s.
TEST(GraphSandboxTest, ThreeHundredCreatesWithinTheBudgetDespiteInjected503s) {
  Sandbox sandbox({"--write-limit", "100", "--window", "2", "--fail-rate", "0.1", "--seed", "7"});
  ASSERT_THAT(sandbox.url(), HasSubstr("http://127.0.0.1:"));
  ClientOptions options;
  options.max_writes = 100;
  options.write_window = 2s;
  options.window_padding = 100ms;
  GraphStack stack(sandbox.url(), options);

  std::vector<std::string> failures = CreateMany(*stack.api, 300, 8);
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();

  nlohmann::json stats = sandbox.Inspect("stats");
  ASSERT_TRUE(stats.is_object());
  EXPECT_EQ(stats["duplicates"], 0) << stats.dump(2);
  EXPECT_GT(stats["injectedFailures"].get<int>(), 0) << "the fault injection must have fired";
  EXPECT_FALSE(stats["requestsByStatus"].contains("400")) << stats.dump(2);
  EXPECT_LE(stats["maxWritesPerWindow"].get<int>(), 100) << stats.dump(2);
  // Counting every write that arrived, throttled or not: the client itself kept to the budget.
  EXPECT_LE(stats["maxWriteAttemptsPerWindow"].get<int>(), 100) << stats.dump(2);
  EXPECT_EQ(stats["throttled"], 0) << stats.dump(2);
  EXPECT_TRUE(stats["rejections"].empty()) << stats.dump(2);

  Result<std::vector<graph::UserPfxCertificate>> all = stack.api->ListUserPfxCertificates();
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->size(), 300u);
  for (const auto& r : *all) {
    EXPECT_EQ(r.encrypted_pfx_blob, "AA==");
    EXPECT_EQ(r.encrypted_pfx_password, "");
  }
}

TEST(GraphSandboxTest, PagingFollowsNextLinkAndFilterEscapesApostrophes) {
  Sandbox sandbox({"--page-size", "4"});
  GraphStack stack(sandbox.url());
  ASSERT_TRUE(CreateMany(*stack.api, 10, 2).empty());
  ASSERT_THAT(stack.api->CreateUserPfxCertificate(AliceRecordFor("o'neil@contoso.com")), IsOk());

  Result<std::vector<graph::UserPfxCertificate>> all = stack.api->ListUserPfxCertificates();
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->size(), 11u);  // Three pages of 4.

  Result<std::vector<graph::UserPfxCertificate>> oneil =
      stack.api->ListUserPfxCertificatesForUser("O'Neil@contoso.com");
  ASSERT_THAT(oneil, IsOk());
  ASSERT_EQ(oneil->size(), 1u);
  EXPECT_EQ((*oneil)[0].user_principal_name, "o'neil@contoso.com");
  Result<graph::User> user = stack.api->GetUser("o'neil@contoso.com");
  ASSERT_THAT(user, IsOk());
  EXPECT_EQ(user->user_principal_name, "o'neil@contoso.com");
  EXPECT_FALSE(user->id.empty());
}

TEST(GraphSandboxTest, ThrottlingStormIsAbsorbedByRetryAfter) {
  // The client believes it may write 1000 per 2 s; the tenant allows 20: every 429's Retry-After
  // must be honoured and nothing may fail.
  Sandbox sandbox({"--write-limit", "20", "--window", "2"});
  ClientOptions options;
  options.max_writes = 1000;
  options.write_window = 2s;
  options.max_attempts = 10;
  GraphStack stack(sandbox.url(), options);
  std::vector<std::string> failures = CreateMany(*stack.api, 60, 8);
  EXPECT_TRUE(failures.empty()) << failures.front();
  nlohmann::json stats = sandbox.Inspect("stats");
  EXPECT_GT(stats["throttled"].get<int>(), 0);
  EXPECT_EQ(stats["duplicates"], 0);
  EXPECT_GT(stack.budget->Stats().throttled, 0u);
}

TEST(GraphSandboxTest, LostResponseOfACreateIsAnUnknownOutcomeAndNotResent) {
  Sandbox sandbox({"--drop-rate", "1"});
  GraphStack stack(sandbox.url());
  Result<graph::UserPfxCertificate> r =
      stack.api->CreateUserPfxCertificate(AliceRecordFor("lost@contoso.com"));
  EXPECT_THAT(r, StatusIs(StatusCode::kUnknownOutcome));
  nlohmann::json stats = sandbox.Inspect("stats");
  EXPECT_EQ(stats["duplicates"], 0);
  EXPECT_EQ(stats["dropped"], 1);
  // Reading first shows the write was applied: the caller reconciles instead of resending.
  Result<std::vector<graph::UserPfxCertificate>> found =
      stack.api->ListUserPfxCertificatesForUser("lost@contoso.com");
  ASSERT_THAT(found, IsOk());
  EXPECT_EQ(found->size(), 1u);
}

TEST(GraphSandboxTest, ExpiredSessionRefreshesTheTokenOnce) {
  std::string state = ::testing::TempDir() + "/sandbox-refresh.journal";
  std::remove(state.c_str());
  auto first = std::make_unique<Sandbox>(std::vector<std::string>{"--state", state});
  std::string url = first->url();
  GraphStack stack(url);
  ASSERT_THAT(stack.api->CreateUserPfxCertificate(AliceRecordFor("before@contoso.com")), IsOk());
  // A restarted tenant has forgotten the token: the next call gets 401, refreshes, succeeds.
  std::string port = url.substr(url.rfind(':') + 1);
  first.reset();
  Sandbox second({"--state", state}, "127.0.0.1:" + port);
  ASSERT_EQ(second.url(), url);
  Result<std::vector<graph::UserPfxCertificate>> all = stack.api->ListUserPfxCertificates();
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->size(), 1u) << "state survives a restart";
  EXPECT_EQ(second.Inspect("stats")["tokensIssued"], 1);
}

TEST(GraphSandboxTest, BatchReadsManyUsersInFewRequests) {
  Sandbox sandbox;
  GraphStack stack(sandbox.url());
  std::vector<graph::BatchItem> items;
  for (int i = 0; i < 45; ++i) {
    items.push_back({"u" + std::to_string(i), "GET",
                     "/users/user" + std::to_string(i) + "%40contoso.com", std::nullopt});
  }
  Result<std::vector<graph::BatchItemResult>> results = stack.client->Batch(items);
  ASSERT_THAT(results, IsOk());
  ASSERT_EQ(results->size(), 45u);
  for (const auto& r : *results) EXPECT_EQ(r.http_status, 200) << r.id << " " << r.body.dump();
  nlohmann::json stats = sandbox.Inspect("stats");
  EXPECT_EQ(stats["batchItems"], 45);
}

TEST(GraphSandboxTest, UnknownUserAndStrictnessErrorsCarryTheRequestId) {
  Sandbox sandbox({"--users", kPkiDir + "/manifest.csv"});
  GraphStack stack(sandbox.url());
  EXPECT_THAT(stack.api->GetUser("nobody@contoso.com"), StatusIs(StatusCode::kNotFound));
  graph::UserPfxCertificate bad = AliceRecordFor("alice@contoso.com");
  bad.thumbprint[0] = bad.thumbprint[0] == 'a' ? 'b' : 'a';  // Does not match the PFX.
  Result<graph::UserPfxCertificate> r = stack.api->CreateUserPfxCertificate(bad);
  ASSERT_THAT(r, StatusIs(StatusCode::kInvalidArgument));
  ASSERT_NE(r.status().details(), nullptr);
  EXPECT_FALSE(r.status().details()->request_id.empty());
  EXPECT_THAT(r.status().message(), HasSubstr(r.status().details()->request_id));
  nlohmann::json stats = sandbox.Inspect("stats");
  EXPECT_FALSE(stats["rejections"].empty());
}

// Graph documents no 409 for a second record with the same user and thumbprint: the import
// service answers 400. The executor reads the record back and counts the import as done.
TEST(GraphSandboxTest, ADuplicateImportIsAnsweredOpaque400AndFoundByReadingBack) {
  Sandbox sandbox;
  GraphStack stack(sandbox.url());
  const graph::UserPfxCertificate record = AliceRecordFor("alice@contoso.com");
  ASSERT_THAT(stack.api->CreateUserPfxCertificate(record), IsOk());

  // A plan made before the record existed (a second operator, or a stale view of the tenant).
  const std::string pfx = *ReadFile(kPkiDir + "/alice.pfx");
  deploy::Plan plan;
  deploy::Action import;
  import.kind = deploy::ActionKind::kImportUserPfx;
  import.key = "pfx/alice@contoso.com/" + record.thumbprint;
  import.line = 2;
  import.upn = "alice@contoso.com";
  import.thumbprint = record.thumbprint;
  import.pfx_sha256 = pkcs::Sha256Hex(pfx);
  import.not_before = record.start_date_time;
  import.not_after = record.expiration_date_time;
  plan.actions.push_back(import);
  deploy::ExecutorOptions options;
  options.pfx_bytes = [&](const deploy::Action&) -> Result<std::string> { return pfx; };
  options.sealed_password = [&](const deploy::Action&) -> Result<std::string> {
    return record.encrypted_pfx_password;
  };
  deploy::ExecutionReport report = deploy::ExecutePlan(plan, *stack.client, options);
  ASSERT_EQ(report.items.size(), 1u);
  EXPECT_TRUE(report.items[0].ok) << report.items[0].status;
  EXPECT_TRUE(report.items[0].reconciled);
  EXPECT_EQ(report.items[0].attempts, 1);
  nlohmann::json stats = sandbox.Inspect("stats");
  EXPECT_EQ(stats["requestsByStatus"]["400"], 1) << stats.dump(2);
  EXPECT_FALSE(stats["requestsByStatus"].contains("409")) << stats.dump(2);
  Result<std::vector<graph::UserPfxCertificate>> all = stack.api->ListUserPfxCertificates();
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->size(), 1u);
}

}  // namespace
}  // namespace certdeploy::testing
