// End-to-end tests of the yearly life of certificates against `certdeploy sandbox`: a renewal
// imports the next certificate beside the old one, `certdeploy inventory` lists what the tenant
// holds (text, JSON, CSV, --upn, --expiring-within, --devices with reports seeded in the sandbox),
// and `certdeploy remove` offboards a user.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "tests/e2e/plan_apply_fixtures.h"

namespace certdeploy::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sandbox_ = std::make_unique<SandboxProcess>(dir_.path().string());
    ASSERT_TRUE(sandbox_->started()) << ReadText(dir_.File("sandbox.log"));
    ConfigOptions options;
    options.extra = "pfx: { pruneExpired: true }\n";
    config_ = WriteConfig(dir_, sandbox_->url(), options);
  }
  CommandResult Apply(const std::string& manifest) {
    return Certdeploy({"apply", "--config", config_, "--manifest", manifest, "--yes"});
  }
  // Applies a manifest of Alice's and Bob's fixture PFX files and returns its path.
  std::string ApplyAliceAndBob() {
    const std::string manifest = dir_.Write(
        "first.csv", "userPrincipalName,pfxFile,passwordFile\n"
                     "alice@contoso.com," + kPki + "/alice.pfx," + kPki + "/password.txt\n"
                     "bob@contoso.com," + kPki + "/bob.pfx," + kPki + "/password.txt\n");
    CommandResult applied = Apply(manifest);
    EXPECT_EQ(applied.exit_code, 0) << applied.out << applied.err;
    return manifest;
  }
  CommandResult Inventory(std::vector<std::string> extra) {
    std::vector<std::string> args = {"inventory", "--config", config_};
    args.insert(args.end(), extra.begin(), extra.end());
    return Certdeploy(args);
  }

  TempDir dir_;
  std::unique_ptr<SandboxProcess> sandbox_;
  std::string config_;
};

TEST_F(LifecycleTest, RenewalImportsBesideTheOldCertificateAndInventoryShowsBoth) {
  ApplyAliceAndBob();
  ASSERT_FALSE(HasFailure());

  // A year on, Alice's next certificate: a new key, imported beside the old one.
  std::vector<std::string> renewed = MakeUserPfxFiles(dir_.path().string(), {"alice@contoso.com"});
  ASSERT_EQ(renewed.size(), 1u);
  const std::string second = dir_.Write(
      "second.csv", "userPrincipalName,pfxFile,passwordFile\n"
                    "alice@contoso.com," + renewed[0] + "," + kPki + "/password.txt\n"
                    "bob@contoso.com," + kPki + "/bob.pfx," + kPki + "/password.txt\n");
  CommandResult renewal = Apply(second);
  ASSERT_EQ(renewal.exit_code, 0) << renewal.out << renewal.err;
  EXPECT_THAT(renewal.out, HasSubstr("Apply complete: 1 succeeded"));
  const nlohmann::json state = sandbox_->State();
  EXPECT_EQ(state["userPfxCertificates"].size(), 3u);  // Both of Alice's, and Bob's.

  CommandResult json = Inventory({"--output", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.out << json.err;
  nlohmann::json rows = nlohmann::json::parse(json.out);
  ASSERT_EQ(rows.size(), 3u) << json.out;
  std::vector<nlohmann::json> alice;
  for (const nlohmann::json& r : rows) {
    EXPECT_EQ(r["status"], "valid") << r.dump();
    if (r["userPrincipalName"] == "alice@contoso.com") alice.push_back(r);
  }
  ASSERT_EQ(alice.size(), 2u);
  // The one expiring first is superseded by the other; the newest by nothing.
  EXPECT_LE(alice[0]["expirationDateTime"].get<std::string>(),
            alice[1]["expirationDateTime"].get<std::string>());
  if (alice[0]["expirationDateTime"] != alice[1]["expirationDateTime"]) {
    EXPECT_EQ(alice[0]["supersededBy"], alice[1]["thumbprint"]);
  }
  EXPECT_TRUE(alice[1]["supersededBy"].is_null());

  CommandResult text = Inventory({"--upn", "Alice@Contoso.com"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("2 certificates, 0 expiring within 30 days, 0 expired."));
  EXPECT_THAT(text.out, ::testing::Not(HasSubstr("bob@")));

  CommandResult csv = Inventory({"--output", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, StartsWith("userPrincipalName,thumbprint,intendedPurpose,startDateTime,"
                                  "expirationDateTime,status,supersededBy\r\n"));
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 4);

  CommandResult soon = Inventory({"--expiring-within", "0"});
  ASSERT_EQ(soon.exit_code, 0) << soon.err;
  EXPECT_THAT(soon.out, HasSubstr("0 certificates, 0 expiring within 0 days, 0 expired."));

  CommandResult bad = Inventory({"--upn", "not a upn"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("certdeploy inventory: --upn:"));
}

TEST_F(LifecycleTest, InventoryDevicesShowsWhatDevicesReportedForTheUsersProfile) {
  ApplyAliceAndBob();
  ASSERT_FALSE(HasFailure());

  // Before any device reports: the certificate, and no device.
  CommandResult quiet = Inventory({"--upn", "alice@contoso.com", "--devices"});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_THAT(quiet.out, HasSubstr("\n    no device reported\n"));

  std::string profile;
  const nlohmann::json state = sandbox_->State();
  for (const nlohmann::json& c : state["deviceConfigurations"]) {
    if (c["@odata.type"] == "#microsoft.graph.iosImportedPFXCertificateProfile") profile = c["id"];
  }
  ASSERT_FALSE(profile.empty());
  for (const auto& [upn, device, status] :
       {std::tuple{"alice@contoso.com", "Alice's iPhone", "compliant"},
        std::tuple{"alice@contoso.com", "Alice's iPad", "error"},
        std::tuple{"bob@contoso.com", "Bob's iPhone", "compliant"}}) {
    auto [code, body] = sandbox_->Post("/_sandbox/deviceStatuses",
                                       {{"configurationId", profile},
                                        {"userPrincipalName", upn},
                                        {"deviceDisplayName", device},
                                        {"status", status},
                                        {"lastReportedDateTime", "2026-12-01T08:00:00Z"}});
    ASSERT_EQ(code, 201) << body.dump();
  }

  CommandResult text = Inventory({"--upn", "Alice@Contoso.com", "--devices"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("\n    device Alice's iPad  ios  error  reported "
                                  "2026-12-01T08:00:00Z\n    device Alice's iPhone  ios  "
                                  "compliant  reported 2026-12-01T08:00:00Z\n"));
  EXPECT_THAT(text.out, ::testing::Not(HasSubstr("Bob's")));

  CommandResult json = Inventory({"--upn", "alice@contoso.com", "--devices", "--output", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json rows = nlohmann::json::parse(json.out);
  ASSERT_EQ(rows.size(), 1u) << json.out;
  ASSERT_EQ(rows[0]["devices"].size(), 2u) << json.out;
  EXPECT_EQ(rows[0]["devices"][1]["deviceDisplayName"], "Alice's iPhone");
  EXPECT_EQ(rows[0]["devices"][1]["platform"], "ios");
  EXPECT_EQ(rows[0]["devices"][1]["status"], "compliant");
  EXPECT_EQ(rows[0]["devices"][1]["lastReportedDateTime"], "2026-12-01T08:00:00Z");
  // Without --devices the JSON is as before.
  EXPECT_FALSE(nlohmann::json::parse(Inventory({"--upn", "alice@contoso.com", "--output",
                                                "json"}).out)[0].contains("devices"));

  CommandResult everyone = Inventory({"--devices"});
  EXPECT_EQ(everyone.exit_code, 2);
  EXPECT_THAT(everyone.err, HasSubstr("devices-require-upn"));
  CommandResult csv = Inventory({"--upn", "alice@contoso.com", "--devices", "--output", "csv"});
  EXPECT_EQ(csv.exit_code, 2);
  EXPECT_THAT(csv.err, HasSubstr("--devices cannot be written as csv"));
}

TEST_F(LifecycleTest, RemoveIsADryRunUntilYesThenLeavesTheUserWithoutCertificates) {
  ApplyAliceAndBob();
  ASSERT_FALSE(HasFailure());
  const uint64_t writes = Counter(sandbox_->Stats(), "writes");

  CommandResult dry = Certdeploy({"remove", "--config", config_, "--upn", "Alice@contoso.com"});
  ASSERT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("- deleteUserPfx"));
  EXPECT_THAT(dry.out, HasSubstr("Dry run: nothing was deleted"));
  EXPECT_EQ(Counter(sandbox_->Stats(), "writes"), writes);

  CommandResult unknown = Certdeploy({"remove", "--config", config_, "--upn", "alice@contoso.com",
                                      "--thumbprint", std::string(40, 'a')});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("has no certificate aaaa"));
  EXPECT_EQ(Certdeploy({"remove", "--config", config_, "--upn", "alice@contoso.com",
                        "--thumbprint", "xyz"}).exit_code, 2);

  CommandResult removed =
      Certdeploy({"remove", "--config", config_, "--upn", "alice@contoso.com", "--yes"});
  ASSERT_EQ(removed.exit_code, 0) << removed.out << removed.err;
  EXPECT_THAT(removed.out, HasSubstr("Removed 1 of 1 certificate of alice@contoso.com."));
  const nlohmann::json state = sandbox_->State();
  ASSERT_EQ(state["userPfxCertificates"].size(), 1u);
  EXPECT_EQ(state["userPfxCertificates"][0]["userPrincipalName"], "bob@contoso.com");
  EXPECT_THAT(Inventory({"--upn", "alice@contoso.com"}).out, HasSubstr("0 certificates"));

  CommandResult again =
      Certdeploy({"remove", "--config", config_, "--upn", "alice@contoso.com", "--yes"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.out, HasSubstr("Nothing to delete"));
}

}  // namespace
}  // namespace certdeploy::testing
