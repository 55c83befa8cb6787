// End-to-end tests of what `certdeploy apply` sends for each platform and how it reads what an
// admin made in the portal, against `certdeploy sandbox`. The expected type names are Graph's
// (docs/graph-types.md cites the reference page of each), never the product's own tables.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "base/encoding.h"
#include "tests/e2e/plan_apply_fixtures.h"

namespace certdeploy::testing {
namespace {

using ::testing::HasSubstr;

class GraphFidelityTest : public ::testing::Test {
 protected:
  void Start(const std::vector<std::string>& platforms) {
    sandbox_ = std::make_unique<SandboxProcess>(dir_.path().string());
    ASSERT_TRUE(sandbox_->started()) << ReadText(dir_.File("sandbox.log"));
    ConfigOptions options;
    options.platforms = platforms;
    config_ = WriteConfig(dir_, sandbox_->url(), options);
  }
  std::string PkiManifest(const std::vector<std::string>& names) {
    std::string csv = "userPrincipalName,pfxFile,passwordFile\n";
    for (const std::string& n : names) {
      csv += n + "@contoso.com," + kPki + "/" + n + ".pfx," + kPki + "/password.txt\n";
    }
    return dir_.Write("manifest.csv", csv);
  }
  CommandResult Apply(const std::string& manifest) {
    return Certdeploy({"apply", "--config", config_, "--manifest", manifest, "--yes"});
  }
  uint64_t Writes() { return Counter(sandbox_->Stats(), "writes"); }

  TempDir dir_;
  std::unique_ptr<SandboxProcess> sandbox_;
  std::string config_;
};

struct PlatformCase {
  std::string platform;       // As config names it.
  std::string trusted_type;   // Graph's @odata.type of its trusted certificate profile.
  std::string imported_type;  // Graph's @odata.type of its imported-PFX profile.
};

class PlatformTypesTest : public GraphFidelityTest,
                          public ::testing::WithParamInterface<PlatformCase> {};

TEST_P(PlatformTypesTest, ApplyCreatesGraphsTypesAndASecondApplyWritesNothing) {
  const PlatformCase& c = GetParam();
  Start({c.platform});
  const std::string manifest = PkiManifest({"alice", "bob"});
  CommandResult first = Apply(manifest);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  nlohmann::json state = sandbox_->State();
  std::map<std::string, int> types = CountByType(state);
  EXPECT_EQ(types.size(), 2u) << state["deviceConfigurations"].dump();
  EXPECT_EQ(types["#microsoft.graph." + c.trusted_type], 3);  // Issuing CA, cross, root.
  EXPECT_EQ(types["#microsoft.graph." + c.imported_type], 1);
  EXPECT_EQ(state["userPfxCertificates"].size(), 2u);
  for (const auto& profile : state["deviceConfigurations"]) {
    if (profile["@odata.type"] != "#microsoft.graph." + c.imported_type) continue;
    EXPECT_EQ(profile["intendedPurpose"], "smimeEncryption");
    if (c.platform == "androidDeviceOwner") {  // Outlook gets the certificate without a picker.
      EXPECT_EQ(profile["certificateAccessType"], "specificApps");
      ASSERT_EQ(profile["silentCertificateAccessDetails"].size(), 1u) << profile.dump();
      EXPECT_EQ(profile["silentCertificateAccessDetails"][0]["packageId"],
                "com.microsoft.office.outlook");
    } else {
      EXPECT_FALSE(profile.contains("certificateAccessType")) << profile.dump();
    }
  }
  const uint64_t writes = Writes();
  CommandResult second = Apply(manifest);
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_THAT(second.out, HasSubstr("No changes"));
  EXPECT_EQ(Writes(), writes);
}

INSTANTIATE_TEST_SUITE_P(
    EveryPlatform, PlatformTypesTest,
    ::testing::Values(
        PlatformCase{"ios", "iosTrustedRootCertificate", "iosImportedPFXCertificateProfile"},
        PlatformCase{"macos", "macOSTrustedRootCertificate", "macOSImportedPFXCertificateProfile"},
        PlatformCase{"androidWorkProfile", "androidWorkProfileTrustedRootCertificate",
                     "androidForWorkImportedPFXCertificateProfile"},
        PlatformCase{"androidDeviceOwner", "androidDeviceOwnerTrustedRootCertificate",
                     "androidDeviceOwnerImportedPFXCertificateProfile"},
        PlatformCase{"windows", "windows81TrustedRootCertificate",
                     "windows10ImportedPFXCertificateProfile"}),
    [](const ::testing::TestParamInfo<PlatformCase>& info) { return info.param.platform; });

TEST_F(GraphFidelityTest, RootProfileMadeInThePortalFromAPemFileIsNotDuplicated) {
  Start({"ios"});
  // What the portal stores when an admin uploads root-a.pem: base64 of the PEM text itself.
  const std::string pem = ReadText(kPki + "/root-a.pem");
  ASSERT_THAT(pem, HasSubstr("-----BEGIN CERTIFICATE-----"));
  auto [status, created] = sandbox_->Post(
      "/beta/deviceManagement/deviceConfigurations",
      {{"@odata.type", "#microsoft.graph.iosTrustedRootCertificate"},
       {"displayName", "Root A (uploaded by hand)"},
       {"trustedRootCertificate", Base64Encode(pem)},
       {"certFileName", "root-a.pem"}});
  ASSERT_EQ(status, 201) << created.dump();

  CommandResult apply = Apply(PkiManifest({"alice"}));
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  std::map<std::string, int> types = CountByType(sandbox_->State());
  EXPECT_EQ(types["#microsoft.graph.iosTrustedRootCertificate"], 3)
      << "the PEM-made root profile was not recognised";
  // The hand-made profile is the one now assigned to the group.
  const nlohmann::json after = sandbox_->State();
  for (const auto& c : after["deviceConfigurations"]) {
    if (c["id"] == created["id"]) {
      EXPECT_EQ(c["assignments"].size(), 1u) << c.dump();
    }
  }
}

TEST_F(GraphFidelityTest, FullyManagedAndroidProfileMadeWithUserApprovalIsGivenOutlookAccess) {
  Start({"androidDeviceOwner"});
  auto [status, created] = sandbox_->Post(
      "/beta/deviceManagement/deviceConfigurations",
      {{"@odata.type", "#microsoft.graph.androidDeviceOwnerImportedPFXCertificateProfile"},
       {"displayName", "S/MIME (made in the portal)"},
       {"intendedPurpose", "smimeEncryption"},
       {"certificateAccessType", "userApproval"}});
  ASSERT_EQ(status, 201) << created.dump();

  CommandResult plan = Certdeploy({"plan", "--config", config_, "--manifest", PkiManifest({"alice"})});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("~ updateProfile"));
  EXPECT_THAT(plan.out, HasSubstr("grant Outlook silent access"));
  CommandResult apply = Apply(PkiManifest({"alice"}));
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  const nlohmann::json state = sandbox_->State();
  EXPECT_EQ(CountByType(state)["#microsoft.graph.androidDeviceOwnerImportedPFXCertificateProfile"], 1);
  for (const auto& c : state["deviceConfigurations"]) {
    if (c["id"] != created["id"]) continue;
    EXPECT_EQ(c["certificateAccessType"], "specificApps") << c.dump();
    ASSERT_EQ(c["silentCertificateAccessDetails"].size(), 1u) << c.dump();
    EXPECT_EQ(c["silentCertificateAccessDetails"][0]["packageId"], "com.microsoft.office.outlook");
  }
  EXPECT_THAT(Apply(PkiManifest({"alice"})).out, HasSubstr("No changes"));
}

TEST_F(GraphFidelityTest, CreatesAnsweredWithAnEmptyBodyAreReadBackNotDuplicated) {
  // Every create is answered 201 {}: no id, none of the fields.
  sandbox_ = std::make_unique<SandboxProcess>(dir_.path().string(),
                                              std::vector<std::string>{"--bare-rate", "1"});
  ASSERT_TRUE(sandbox_->started()) << ReadText(dir_.File("sandbox.log"));
  ConfigOptions options;
  options.platforms = {"ios"};
  options.extra = "outlook: {}\n";
  config_ = WriteConfig(dir_, sandbox_->url(), options);
  const std::string manifest = PkiManifest({"alice", "bob"});
  CommandResult first = Apply(manifest);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const nlohmann::json state = sandbox_->State();
  std::map<std::string, int> types = CountByType(state);
  EXPECT_EQ(types["#microsoft.graph.iosTrustedRootCertificate"], 3);
  EXPECT_EQ(types["#microsoft.graph.iosImportedPFXCertificateProfile"], 1);
  for (const auto& c : state["deviceConfigurations"]) {
    EXPECT_EQ(c["assignments"].size(), 1u) << c.dump();  // Assigned by the id read back.
  }
  ASSERT_EQ(state["mobileAppConfigurations"].size(), 1u);
  EXPECT_EQ(state["mobileAppConfigurations"][0]["assignments"].size(), 1u);
  EXPECT_EQ(state["userPfxCertificates"].size(), 2u);
  const nlohmann::json stats = sandbox_->Stats();
  EXPECT_EQ(Counter(stats, "bareAnswers"), 7u) << stats.dump();  // 3 + 1 + 1 + 2 creates.
  EXPECT_EQ(Counter(stats, "duplicates"), 0u);
  EXPECT_THAT(Apply(manifest).out, HasSubstr("No changes"));
}

TEST_F(GraphFidelityTest, ConnectorKeyRotationReSealsEveryRecordOnce) {
  Start({"ios"});
  // Records imported while the connector's key was OldKey.
  const std::string rotated = ReadText(config_);
  std::string old = rotated;
  old.replace(old.find("connector:\n"), 11, "connector:\n  keyName: OldKey\n");
  dir_.Write("config.yaml", old);
  const std::string manifest = PkiManifest({"alice", "bob"});
  CommandResult first = Apply(manifest);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const nlohmann::json before = sandbox_->State();
  for (const auto& r : before["userPfxCertificates"]) EXPECT_EQ(r["keyName"], "OldKey");

  // The key rotates: the config names the new key, and plan shows a re-seal per record.
  dir_.Write("config.yaml", rotated);
  CommandResult plan = Certdeploy({"plan", "--config", config_, "--manifest", manifest});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_THAT(plan.out, HasSubstr("~ updateUserPfx"));
  EXPECT_THAT(plan.out, HasSubstr("keyName OldKey -> PFXEncryptionKey"));
  EXPECT_THAT(plan.out, HasSubstr("Plan: 0 to add, 2 to change, 0 to remove"));

  const uint64_t writes = Writes();
  CommandResult apply = Apply(manifest);
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_EQ(Writes(), writes + 2);  // One PATCH per record, nothing else.
  nlohmann::json state = sandbox_->State();
  ASSERT_EQ(state["userPfxCertificates"].size(), 2u);
  for (const auto& r : state["userPfxCertificates"]) EXPECT_EQ(r["keyName"], "PFXEncryptionKey");
  // The sandbox ran its connector check on each new seal and refused none.
  nlohmann::json stats = sandbox_->Stats();
  EXPECT_TRUE(stats["rejections"].empty()) << stats.dump();
  EXPECT_EQ(Counter(stats, "duplicates"), 0u);

  CommandResult again = Apply(manifest);
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("No changes"));
}

TEST_F(GraphFidelityTest, CertificatesAreCheckedAgainstThePrimarySmtpAddressNotTheUpn) {
  // Two users whose mailbox address differs from their UPN.
  const std::string users = dir_.Write(
      "users.csv",
      "userPrincipalName,mail,proxyAddresses\n"
      "asmith@corp.contoso.com,alice.smith@contoso.com,"
      "SMTP:alice.smith@contoso.com;smtp:asmith@corp.contoso.com\n"
      "bjones@corp.contoso.com,bob.jones@contoso.com,SMTP:bob.jones@contoso.com\n");
  sandbox_ = std::make_unique<SandboxProcess>(dir_.path().string(),
                                              std::vector<std::string>{"--users", users});
  ASSERT_TRUE(sandbox_->started()) << ReadText(dir_.File("sandbox.log"));
  config_ = WriteConfig(dir_, sandbox_->url());
  // Alice's certificate is issued for her mailbox address; Bob's for his UPN, which Outlook does
  // not look for.
  std::vector<std::string> files =
      MakeUserPfxFiles(dir_.path().string(), {"alice.smith@contoso.com", "bjones@corp.contoso.com"});
  ASSERT_EQ(files.size(), 2u);
  const std::string manifest = dir_.Write(
      "manifest.csv", "userPrincipalName,pfxFile,passwordFile\n"
                      "asmith@corp.contoso.com," + files[0] + "," + kPki + "/password.txt\n"
                      "bjones@corp.contoso.com," + files[1] + "," + kPki + "/password.txt\n");
  CommandResult r = Apply(manifest);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // One invalid row.
  EXPECT_THAT(r.out, HasSubstr("line 3 bjones@corp.contoso.com: email-not-primary-smtp"));
  EXPECT_THAT(r.out, HasSubstr("primary SMTP address 'bob.jones@contoso.com'"));
  nlohmann::json state = sandbox_->State();
  ASSERT_EQ(state["userPfxCertificates"].size(), 1u);
  EXPECT_EQ(state["userPfxCertificates"][0]["userPrincipalName"], "asmith@corp.contoso.com");
  EXPECT_TRUE(sandbox_->Stats()["rejections"].empty());

  const uint64_t writes = Writes();
  CommandResult again = Apply(manifest);
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("0 to add, 0 to change, 0 to remove"));
  EXPECT_THAT(again.out, HasSubstr("1 invalid"));
  EXPECT_EQ(Writes(), writes);
}

}  // namespace
}  // namespace certdeploy::testing
