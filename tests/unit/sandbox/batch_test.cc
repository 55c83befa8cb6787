// $batch: envelope validation, per-item execution, per-item 429 and dependsOn.

#include "tests/unit/sandbox/sandbox_test_support.h"

namespace certdeploy::sandbox::testing {
namespace {

class BatchTest : public SandboxTest {
 protected:
  void SetUp() override { Start(); }

  json Item(const std::string& id, const std::string& method, const std::string& url,
            const json& body = json()) {
    json item = {{"id", id}, {"method", method}, {"url", url}};
    if (!body.is_null()) {
      item["body"] = body;
      item["headers"] = {{"Content-Type", "application/json"}};
    }
    return item;
  }

  // (A vector, not a json: a one-element braced json list would not be an array.)
  ServerResponse Batch(const std::vector<json>& requests, const std::string& version = "beta") {
    json body = json::object();
    body["requests"] = json::array();
    for (const auto& r : requests) body["requests"].push_back(r);
    return Call("POST", "/" + version + "/$batch", body);
  }

  // The item response `id`; a failed assertion (and a null item) when absent.
  static json Response(const json& batch, const std::string& id) {
    json kMissing = json::object();
    if (!batch.contains("responses")) {
      ADD_FAILURE() << "no responses in " << batch.dump();
      return kMissing;
    }
    for (const auto& r : batch["responses"]) {
      if (r["id"] == id) return r;
    }
    ADD_FAILURE() << "no response " << id << " in " << batch.dump();
    return kMissing;
  }
};

TEST_F(BatchTest, RunsEachItemAndAnswers200) {
  ServerResponse r = Batch({Item("1", "GET", "/users/o%27neil@contoso.com"),
                            Item("2", "POST", "/deviceManagement/deviceConfigurations", RootBody()),
                            Item("3", "GET", "/deviceManagement/userPfxCertificates/nope"),
                            Item("4", "POST", "/deviceManagement/userPfxCertificates",
                                 PfxBody("alice.pfx", "alice@contoso.com"))});
  ASSERT_EQ(r.status, 200) << r.body;
  json batch = BodyOf(r);
  ASSERT_EQ(batch["responses"].size(), 4u);
  EXPECT_EQ((Response(batch, "1"))["status"], 200);
  EXPECT_EQ((Response(batch, "1"))["body"]["userPrincipalName"], "o'neil@contoso.com");
  EXPECT_EQ((Response(batch, "2"))["status"], 201);
  EXPECT_EQ((Response(batch, "3"))["status"], 404);
  EXPECT_EQ((Response(batch, "4"))["status"], 201);
  EXPECT_EQ((Response(batch, "4"))["body"]["encryptedPfxBlob"], "AA==");
  EXPECT_EQ(tenant_->State()["userPfxCertificates"].size(), 1u);
  SandboxStats stats = Stats();
  EXPECT_EQ(stats.batch_items, 4u);
  EXPECT_EQ(stats.writes, 2u);
  EXPECT_EQ(stats.writes_applied, 2u);
  // v1.0 batches work for users too.
  ServerResponse v1 = Batch({Item("a", "GET", "users/alice@contoso.com")}, "v1.0");
  EXPECT_EQ((Response(BodyOf(v1), "a"))["status"], 200);
}

TEST_F(BatchTest, MalformedEnvelopesAreRefusedWhole) {
  std::vector<json> too_many;
  for (int i = 0; i < 21; ++i) {
    too_many.push_back(
        Item(std::to_string(i), "POST", "/deviceManagement/deviceConfigurations", RootBody()));
  }
  EXPECT_EQ(Batch(too_many).status, 400);
  EXPECT_EQ(Batch({Item("1", "GET", "/users/a@b.com"), Item("1", "GET", "/users/a@b.com")}).status,
            400);
  json no_content_type = Item("1", "POST", "/deviceManagement/deviceConfigurations", RootBody());
  no_content_type.erase("headers");
  ServerResponse r = Batch({no_content_type});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(BodyOf(r)["error"]["message"].get<std::string>(),
              ::testing::HasSubstr("does not contain Content-Type"));
  EXPECT_EQ(Batch({Item("1", "GET", "https://graph.microsoft.com/beta/users/a@b.com")}).status,
            400);
  r = Batch({Item("1", "TRACE", "/users/a@b.com")});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(BodyOf(r)["error"]["message"].get<std::string>(),
              ::testing::HasSubstr("invalid method"));
  EXPECT_EQ(Batch({}).status, 400);
  json later = Item("1", "GET", "/users/a@b.com");
  later["dependsOn"] = {"2"};
  EXPECT_EQ(Batch({later, Item("2", "GET", "/users/a@b.com")}).status, 400);
  // Nothing ran.
  EXPECT_TRUE(tenant_->State()["deviceConfigurations"].empty());
  EXPECT_EQ(Stats().batch_items, 0u);
}

TEST_F(BatchTest, ThrottlesPerItemWithRetryAfter) {
  options_.write_limit = 2;
  Start();
  std::vector<json> requests;
  for (int i = 0; i < 4; ++i) {
    requests.push_back(
        Item(std::to_string(i), "POST", "/deviceManagement/deviceConfigurations", RootBody()));
  }
  requests.push_back(Item("read", "GET", "/deviceManagement/deviceConfigurations"));
  ServerResponse r = Batch(requests);
  ASSERT_EQ(r.status, 200) << r.body;
  json batch = BodyOf(r);
  EXPECT_EQ((Response(batch, "0"))["status"], 201);
  EXPECT_EQ((Response(batch, "1"))["status"], 201);
  for (const char* id : {"2", "3"}) {
    json item = Response(batch, id);
    EXPECT_EQ(item["status"], 429);
    EXPECT_EQ(item["headers"]["Retry-After"], "20");
    EXPECT_EQ(item["body"]["error"]["code"], "TooManyRequests");
  }
  EXPECT_EQ((Response(batch, "read"))["status"], 200);
  EXPECT_EQ(tenant_->State()["deviceConfigurations"].size(), 2u);
  EXPECT_EQ(Stats().throttled, 2u);
  EXPECT_EQ(Stats().max_writes_per_window, 2);
}

TEST_F(BatchTest, DependentsOfAFailedItemGet424) {
  json bad = RootBody();
  bad["unknown"] = true;
  json second = Item("2", "GET", "/deviceManagement/deviceConfigurations");
  second["dependsOn"] = {"1"};
  json third = Item("3", "GET", "/users/alice@contoso.com");
  ServerResponse r =
      Batch({Item("1", "POST", "/deviceManagement/deviceConfigurations", bad), second, third});
  json batch = BodyOf(r);
  EXPECT_EQ((Response(batch, "1"))["status"], 400);
  EXPECT_EQ((Response(batch, "2"))["status"], 424);
  EXPECT_EQ((Response(batch, "3"))["status"], 200);
}

TEST_F(BatchTest, DropAfterCommitDropsTheWholeEnvelope) {
  options_.drop_rate = 1.0;
  Start();
  ServerResponse r =
      Batch({Item("1", "POST", "/deviceManagement/deviceConfigurations", RootBody())});
  EXPECT_TRUE(r.drop_connection);
  EXPECT_EQ(tenant_->State()["deviceConfigurations"].size(), 1u);
  EXPECT_FALSE(Batch({Item("1", "GET", "/users/alice@contoso.com")}).drop_connection);
}

}  // namespace
}  // namespace certdeploy::sandbox::testing
