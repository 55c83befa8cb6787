// --state persistence: a second tenant on the same journal sees the first one's state, a torn
// last line is dropped, corruption elsewhere is refused, and no secret is ever written.

#include "sandbox/internal/journal.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "tests/unit/sandbox/sandbox_test_support.h"

namespace certdeploy::sandbox::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kConfigs[] = "/beta/deviceManagement/deviceConfigurations";
constexpr char kPfx[] = "/beta/deviceManagement/userPfxCertificates";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class JournalTest : public SandboxTest {
 protected:
  JournalTest() {
    path_ = ::testing::TempDir() + "/sandbox_journal_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".jsonl";
    std::remove(path_.c_str());
    options_.state_file = path_;
  }
  ~JournalTest() override { std::remove(path_.c_str()); }

  std::string path_;
};

TEST_F(JournalTest, SecondTenantReplaysTheFirstOnesState) {
  Start();
  json pfx = PfxBody("alice.pfx", "alice@contoso.com");
  ASSERT_EQ(Call("POST", kPfx, pfx).status, 201);
  ServerResponse root = Call("POST", kConfigs, RootBody());
  ASSERT_EQ(root.status, 201);
  std::string root_id = BodyOf(root)["id"];
  ASSERT_EQ(Call("POST", std::string(kConfigs) + "/" + root_id + "/assign",
                 {{"assignments",
                   json::array({json{{"target",
                                      {{"@odata.type", "#microsoft.graph.groupAssignmentTarget"},
                                       {"groupId", "11111111-0000-0000-0000-000000000001"}}}}})}})
                .status,
            200);
  ServerResponse second = Call("POST", kConfigs, RootBody("macOSTrustedRootCertificate"));
  ASSERT_EQ(second.status, 201);
  ASSERT_EQ(
      Call("DELETE", std::string(kConfigs) + "/" + BodyOf(second)["id"].get<std::string>()).status,
      204);
  json before = tenant_->State();
  tenant_.reset();

  // No secret reached the file.
  std::string text = ReadAll(path_);
  EXPECT_THAT(text, Not(HasSubstr(pfx["encryptedPfxPassword"].get<std::string>())));
  EXPECT_THAT(text, Not(HasSubstr(pfx["encryptedPfxBlob"].get<std::string>().substr(0, 40))));
  EXPECT_THAT(text, Not(HasSubstr("encryptedPfx")));

  Start();
  EXPECT_EQ(tenant_->State(), before);
  // The restarted tenant still knows the record: a re-sent create is a duplicate.
  EXPECT_EQ(Call("POST", kPfx, pfx).status, 400);
  // New ids keep coming after the replayed ones, in creation order.
  ASSERT_EQ(Call("POST", kConfigs, RootBody("windows81TrustedRootCertificate")).status, 201);
  json configs = tenant_->State()["deviceConfigurations"];
  ASSERT_EQ(configs.size(), 2u);
  EXPECT_EQ(configs[0]["id"], root_id);
  EXPECT_EQ(configs[0]["assignments"].size(), 1u);
}

TEST_F(JournalTest, TornLastLineIsDroppedAndTruncated) {
  Start();
  ASSERT_EQ(Call("POST", kConfigs, RootBody()).status, 201);
  tenant_.reset();
  {
    std::ofstream out(path_, std::ios::app | std::ios::binary);
    out << R"({"v":1,"op":"putConfig","config":{"id":"torn)";  // A crash mid-write.
  }
  Start();
  EXPECT_EQ(tenant_->State()["deviceConfigurations"].size(), 1u);
  ASSERT_EQ(Call("POST", kConfigs, RootBody("macOSTrustedRootCertificate")).status, 201);
  tenant_.reset();
  EXPECT_THAT(ReadAll(path_), Not(HasSubstr("torn")));
  Start();
  EXPECT_EQ(tenant_->State()["deviceConfigurations"].size(), 2u);
}

TEST_F(JournalTest, CorruptionBeforeTheLastLineIsDataLoss) {
  Start();
  ASSERT_EQ(Call("POST", kConfigs, RootBody()).status, 201);
  tenant_.reset();
  std::string text = ReadAll(path_);
  {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << "garbage\n" << text;
  }
  EXPECT_THAT(SandboxTenant::Create(options_, clock_, random_),
              certdeploy::testing::StatusIs(StatusCode::kDataLoss));
}

TEST_F(JournalTest, ResetIsJournaled) {
  Start();
  ASSERT_EQ(Call("POST", kConfigs, RootBody()).status, 201);
  EXPECT_EQ(tenant_->Handle(MakeRequest("POST", "/_sandbox/reset")).status, 204);
  tenant_.reset();
  Start();
  EXPECT_TRUE(tenant_->State()["deviceConfigurations"].empty());
}

TEST(JournalFileTest, OpenReturnsCompleteLinesOnly) {
  std::string path =
      ::testing::TempDir() + "/sandbox_journal_raw_" + std::to_string(::getpid()) + ".jsonl";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "{\"op\":\"reset\"}\n\n{\"op\":\"reset\"}\n{\"op\":";
  }
  std::vector<nlohmann::json> entries;
  auto journal = internal::Journal::Open(path, &entries);
  ASSERT_TRUE(journal.ok()) << journal.status();
  EXPECT_EQ(entries.size(), 2u);
  ASSERT_TRUE((*journal)->Append({{"op", "reset"}}).ok());
  journal->reset();
  EXPECT_EQ(ReadAll(path), "{\"op\":\"reset\"}\n\n{\"op\":\"reset\"}\n{\"op\":\"reset\"}\n");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace certdeploy::sandbox::testing
