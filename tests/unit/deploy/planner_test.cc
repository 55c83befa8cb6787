// Planner table tests: pure, no Graph, no files.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "deploy/plan.h"
#include "tests/support/status_matchers.h"

namespace certdeploy::deploy {
namespace {

using ::certdeploy::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using config::Platform;
using namespace std::chrono_literals;

const SystemTime kNow = SystemTime(std::chrono::seconds(1798000000));

pkcs::Certificate Ca(const std::string& sha1, const std::string& cn) {
  pkcs::Certificate c;
  c.sha1 = sha1;
  c.common_name = cn;
  c.subject = "CN=" + cn;
  c.der = {0x30, 0x03, 0x02, 0x01, static_cast<uint8_t>(sha1[0])};
  c.is_ca = true;
  c.not_after = kNow + 3650 * 24h;
  return c;
}

DesiredState OneUserOnIos() {
  DesiredState d;
  d.trusted.push_back({Platform::kIos, Ca("aaaa", "Issuing CA"), pkcs::ChainRole::kIntermediate,
                       "S/MIME Issuing CA (ios)"});
  d.trusted.push_back({Platform::kIos, Ca("bbbb", "Top Root"), pkcs::ChainRole::kRoot,
                       "S/MIME Top Root (ios)"});
  d.imported.push_back({Platform::kIos, pkcs::Purpose::kSmimeEncryption,
                        "S/MIME imported PFX smimeEncryption (ios)"});
  DesiredUserPfx u;
  u.line = 2;
  u.upn = "Alice@Contoso.com";
  u.pfx_file = "/m/alice.pfx";
  u.pfx_sha256 = "ff00";
  u.thumbprint = "1111";
  u.not_before = kNow - 24h;
  u.not_after = kNow + 365 * 24h;
  d.pfx.push_back(u);
  d.assign_to.groups = {"g1"};
  return d;
}

std::vector<std::string> Kinds(const Plan& p) {
  std::vector<std::string> out;
  for (const Action& a : p.actions) out.push_back(std::string(ActionKindName(a.kind)) + " " + a.key);
  return out;
}

TEST(PlannerTest, EmptyTenantCreatesEverythingInApplyOrder) {
  Plan p = ComputePlan(OneUserOnIos(), {}, kNow);
  EXPECT_THAT(Kinds(p), ElementsAre("createTrustedProfile trusted/ios/bbbb",
                                    "createTrustedProfile trusted/ios/aaaa",
                                    "createImportedPfxProfile imported/ios/smimeEncryption",
                                    "assignProfile trusted/ios/bbbb",
                                    "assignProfile trusted/ios/aaaa",
                                    "assignProfile imported/ios/smimeEncryption",
                                    "importUserPfx pfx/alice@contoso.com/1111"));
  EXPECT_EQ(p.Summary(), (PlanSummary{4, 3, 0, 0, 0}));
  EXPECT_TRUE(p.HasWrites());
}

ObservedState Applied() {
  ObservedState o;
  std::vector<ObservedAssignment> g1 = {{"#microsoft.graph.groupAssignmentTarget", "g1"}};
  o.profiles.push_back({"p1", "#microsoft.graph.iosTrustedRootCertificate", "renamed", "AAAA",
                        std::nullopt, g1});
  o.profiles.push_back({"p2", "#microsoft.graph.iosTrustedRootCertificate", "x", "bbbb",
                        std::nullopt, g1});
  o.profiles.push_back({"p3", "#microsoft.graph.iosImportedPFXCertificateProfile", "y", "",
                        pkcs::Purpose::kSmimeEncryption, g1});
  o.pfx.push_back({"u1-1111", "alice@contoso.com", "1111", pkcs::Purpose::kSmimeEncryption,
                   kNow - 24h, kNow + 365 * 24h});
  return o;
}

TEST(PlannerTest, AppliedTenantIsAllUnchangedRegardlessOfNamesAndCase) {
  Plan p = ComputePlan(OneUserOnIos(), Applied(), kNow);
  EXPECT_EQ(p.Summary(), (PlanSummary{0, 0, 0, 4, 0}));
  EXPECT_FALSE(p.HasWrites());
  EXPECT_EQ(p.actions.back().record_id, "u1-1111");
}

TEST(PlannerTest, ProfileOnOtherPlatformDoesNotCount) {
  ObservedState o = Applied();
  o.profiles[0].odata_type = "#microsoft.graph.macOSTrustedRootCertificate";
  Plan p = ComputePlan(OneUserOnIos(), o, kNow);
  EXPECT_EQ(p.Summary().add, 1);
  EXPECT_EQ(p.Summary().change, 1);  // The new profile gets its assignment.
}

TEST(PlannerTest, AssignmentDriftIsAReplaceTheSetChange) {
  ObservedState o = Applied();
  o.profiles[1].assignments = {{"#microsoft.graph.groupAssignmentTarget", "old"},
                               {"#microsoft.graph.allDevicesAssignmentTarget", ""}};
  DesiredState d = OneUserOnIos();
  d.assign_to.exclude_groups = {"g9"};
  Plan p = ComputePlan(d, o, kNow);
  const Action* assign = nullptr;
  for (const Action& a : p.actions) {
    if (a.kind == ActionKind::kAssignProfile && a.key == "trusted/ios/bbbb") assign = &a;
  }
  ASSERT_NE(assign, nullptr);
  EXPECT_EQ(assign->profile_id, "p2");
  EXPECT_EQ(assign->assignments_after.size(), 2u);
  EXPECT_THAT(assign->description, HasSubstr("allDevicesAssignmentTarget"));
  EXPECT_THAT(assign->description, HasSubstr("exclude g9"));
  EXPECT_EQ(p.Summary().change, 3);  // Every profile gains the exclusion.
}

TEST(PlannerTest, NoConfiguredGroupsLeavesAssignmentsAlone) {
  DesiredState d = OneUserOnIos();
  d.assign_to = {};
  ObservedState o = Applied();
  o.profiles[0].assignments.clear();
  EXPECT_EQ(ComputePlan(d, o, kNow).Summary().change, 0);
}

TEST(PlannerTest, DuplicateRowsImportOnce) {
  DesiredState d = OneUserOnIos();
  d.pfx.push_back(d.pfx[0]);
  d.pfx.back().line = 3;
  Plan p = ComputePlan(d, {}, kNow);
  EXPECT_EQ(p.actions[p.actions.size() - 2].kind, ActionKind::kImportUserPfx);
  EXPECT_EQ(p.actions.back().kind, ActionKind::kSkipUserPfx);
  EXPECT_THAT(p.actions.back().description, HasSubstr("duplicate"));
}

TEST(PlannerTest, InvalidRowsAreListedLast) {
  DesiredState d = OneUserOnIos();
  d.invalid.push_back({7, "dave@contoso.com", "/m/dave.pfx",
                       {{"email-mismatch", pkcs::Severity::kError, "no match"}}});
  Plan p = ComputePlan(d, Applied(), kNow);
  EXPECT_EQ(p.actions.back().kind, ActionKind::kInvalid);
  EXPECT_EQ(p.Summary().invalid, 1);
  EXPECT_THAT(RenderPlanText(p), HasSubstr("! invalid"));
  EXPECT_THAT(RenderPlanText(p), HasSubstr("email-mismatch: no match"));
}

ObservedState WithExpired() {
  ObservedState o = Applied();
  o.pfx.push_back({"u1-0000", "alice@contoso.com", "0000", pkcs::Purpose::kSmimeEncryption,
                   kNow - 800 * 24h, kNow - 30 * 24h});
  o.pfx.push_back({"u1-2222", "alice@contoso.com", "2222", pkcs::Purpose::kSmimeSigning,
                   kNow - 800 * 24h, kNow - 30 * 24h});  // No newer signing cert: kept.
  o.pfx.push_back({"u2-3333", "zed@contoso.com", "3333", pkcs::Purpose::kSmimeEncryption,
                   kNow - 800 * 24h, kNow - 30 * 24h});  // Not in the manifest: kept.
  o.pfx.push_back({"u1-4444", "alice@contoso.com", "4444", pkcs::Purpose::kSmimeEncryption,
                   kNow - 100 * 24h, kNow + 10 * 24h});  // Older but still valid: never deleted.
  return o;
}

std::vector<std::string> Deleted(const Plan& p) {
  std::vector<std::string> deleted;
  for (const Action& a : p.actions) {
    if (a.kind == ActionKind::kDeleteUserPfx) deleted.push_back(a.record_id);
  }
  return deleted;
}

TEST(PlannerTest, PruneNeverDeletesAnEncryptionCertificateByDefault) {
  DesiredState d = OneUserOnIos();
  d.prune_expired = true;
  // u1-0000 is an expired encryption certificate superseded by 1111: old mail needs it.
  EXPECT_THAT(Deleted(ComputePlan(d, WithExpired(), kNow)), ::testing::IsEmpty());
}

TEST(PlannerTest, PruneDeletesExpiredSupersededSigningCertificatesOfManifestUsers) {
  DesiredState d = OneUserOnIos();
  d.prune_expired = true;
  DesiredUserPfx signing = d.pfx[0];
  signing.line = 3;
  signing.thumbprint = "5555";
  signing.purpose = pkcs::Purpose::kSmimeSigning;
  d.pfx.push_back(signing);
  // 2222 (signing, expired) is superseded by 5555; the expired encryption one stays.
  Plan p = ComputePlan(d, WithExpired(), kNow);
  EXPECT_THAT(Deleted(p), ElementsAre("u1-2222"));
  EXPECT_THAT(p.actions.back().description, HasSubstr("superseded by 5555"));
  EXPECT_TRUE(p.actions.back().findings.empty());
}

TEST(PlannerTest, PruneExpiredEncryptionDeletesThemWithAWarningEach) {
  DesiredState d = OneUserOnIos();
  d.prune_expired = true;
  d.prune_expired_encryption = true;
  Plan p = ComputePlan(d, WithExpired(), kNow);
  EXPECT_THAT(Deleted(p), ElementsAre("u1-0000"));
  EXPECT_THAT(p.actions.back().description, HasSubstr("superseded by 1111"));
  ASSERT_EQ(p.actions.back().findings.size(), 1u);
  EXPECT_EQ(p.actions.back().findings[0].code, "prune-encryption");
  EXPECT_THAT(RenderPlanText(p), HasSubstr("warning prune-encryption: mail encrypted to this"));
}

TEST(PlannerTest, NoPruneWithoutTheOption) {
  EXPECT_EQ(ComputePlan(OneUserOnIos(), WithExpired(), kNow).Summary().remove, 0);
}

// OneUserOnIos + Applied with the record sealed to `key_name` and the config naming NewKey.
std::pair<DesiredState, ObservedState> SealedTo(const std::string& key_name) {
  DesiredState d = OneUserOnIos();
  d.seal = {"Microsoft Software Key Storage Provider", "NewKey", "oaepSha512"};
  ObservedState o = Applied();
  o.pfx[0].provider_name = "Microsoft Software Key Storage Provider";
  o.pfx[0].key_name = key_name;
  o.pfx[0].padding_scheme = "oaepSha512";
  return {d, o};
}

TEST(PlannerTest, RecordSealedToAnotherKeyIsReSealed) {
  auto [d, o] = SealedTo("OldKey");
  Plan p = ComputePlan(d, o, kNow);
  const Action& a = p.actions.back();
  EXPECT_EQ(a.kind, ActionKind::kUpdateUserPfx);
  EXPECT_EQ(a.record_id, "u1-1111");
  EXPECT_EQ(a.pfx_file, "/m/alice.pfx");  // The PATCH needs the PFX, as an import does.
  EXPECT_THAT(a.description, HasSubstr("keyName OldKey -> NewKey"));
  EXPECT_EQ(p.Summary(), (PlanSummary{0, 1, 0, 3, 0}));
  EXPECT_THAT(RenderPlanText(p), HasSubstr("~ updateUserPfx"));
  // Also when only the padding differs; never when everything matches.
  o.pfx[0].key_name = "NewKey";
  o.pfx[0].padding_scheme = "oaepSha256";
  EXPECT_THAT(ComputePlan(d, o, kNow).actions.back().description,
              HasSubstr("paddingScheme oaepSha256 -> oaepSha512"));
  o.pfx[0].padding_scheme = "oaepSha512";
  EXPECT_EQ(ComputePlan(d, o, kNow).actions.back().kind, ActionKind::kSkipUserPfx);
}

TEST(PlannerTest, PurposeChangeOfAnExistingRecordIsShownAsAnUpdate) {
  auto [d, o] = SealedTo("NewKey");
  d.pfx[0].purpose = pkcs::Purpose::kSmimeSigning;
  const Plan p = ComputePlan(d, o, kNow);
  const Action& a = p.actions.back();
  EXPECT_EQ(a.kind, ActionKind::kUpdateUserPfx);
  EXPECT_THAT(a.description, HasSubstr("intendedPurpose smimeEncryption -> smimeSigning"));
  EXPECT_THAT(a.description, ::testing::Not(HasSubstr("re-seal")));
}

TEST(PlannerTest, DuplicateRowsOfARecordToReSealUpdateItOnce) {
  auto [d, o] = SealedTo("OldKey");
  d.pfx.push_back(d.pfx[0]);
  d.pfx.back().line = 3;
  Plan p = ComputePlan(d, o, kNow);
  EXPECT_EQ(p.actions[p.actions.size() - 2].kind, ActionKind::kUpdateUserPfx);
  EXPECT_EQ(p.actions.back().kind, ActionKind::kSkipUserPfx);
  EXPECT_EQ(p.actions.back().record_id, "");  // The update's outcome decides for it.
}

TEST(PlannerTest, DesiredStateWithoutASealTargetComparesNoSeal) {
  auto [d, o] = SealedTo("OldKey");
  d.seal = {};
  EXPECT_EQ(ComputePlan(d, o, kNow).actions.back().kind, ActionKind::kSkipUserPfx);
}

TEST(PlanFormatTest, UpdateActionsRoundTrip) {
  auto [d, o] = SealedTo("OldKey");
  Plan p = ComputePlan(d, o, kNow);
  Result<Plan> back = PlanFromJson(nlohmann::json::parse(PlanToJson(p).dump()));
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->actions.back().kind, ActionKind::kUpdateUserPfx);
  EXPECT_EQ(back->actions.back().record_id, "u1-1111");
  EXPECT_EQ(back->actions.back().pfx_sha256, "ff00");
}

TEST(PlannerTest, DigestIgnoresOrderButSeesChanges) {
  ObservedState a = Applied();
  ObservedState b = Applied();
  std::reverse(b.profiles.begin(), b.profiles.end());
  EXPECT_EQ(DigestObservedState(a), DigestObservedState(b));
  b.pfx[0].thumbprint = "9999";
  EXPECT_NE(DigestObservedState(a), DigestObservedState(b));
  ObservedState c = Applied();
  c.profiles[0].assignments.clear();
  EXPECT_NE(DigestObservedState(a), DigestObservedState(c));
  ObservedState rotated = Applied();  // A record re-sealed since review is a change.
  rotated.pfx[0].key_name = "NewKey";
  EXPECT_NE(DigestObservedState(a), DigestObservedState(rotated));
}

TEST(PlanFormatTest, JsonRoundTripKeepsActionsAndHoldsNoSecrets) {
  DesiredState d = OneUserOnIos();
  d.invalid.push_back({7, "dave@contoso.com", "/m/dave.pfx",
                       {{"bad-password", pkcs::Severity::kError, "wrong password"}}});
  Plan p = ComputePlan(d, {}, kNow);
  p.tenant = "contoso";
  p.created_at = "2026-11-28T00:00:00Z";
  nlohmann::json j = PlanToJson(p);
  EXPECT_EQ(j["schemaVersion"], 2);
  EXPECT_EQ(j["summary"]["add"], 4);
  Result<Plan> back = PlanFromJson(nlohmann::json::parse(j.dump()));
  ASSERT_THAT(back, IsOk());
  ASSERT_EQ(back->actions.size(), p.actions.size());
  for (size_t i = 0; i < p.actions.size(); ++i) {
    EXPECT_EQ(back->actions[i].kind, p.actions[i].kind);
    EXPECT_EQ(back->actions[i].key, p.actions[i].key);
    EXPECT_EQ(back->actions[i].assignments_after, p.actions[i].assignments_after);
    EXPECT_EQ(back->actions[i].not_after, p.actions[i].not_after);
    EXPECT_EQ(back->actions[i].pfx_sha256, p.actions[i].pfx_sha256);
  }
  EXPECT_EQ(back->Summary(), p.Summary());
  EXPECT_EQ(RenderPlanText(*back), RenderPlanText(p));
}

TEST(PlanFormatTest, GraphsNoDateValuesSurviveTheRoundTrip) {
  // An observed record with Graph's "no date" (0001-01-01, 9999-12-31), clamped on reading,
  // reaches a plan's action and must read back.
  Plan p = ComputePlan(OneUserOnIos(), {}, kNow);
  ASSERT_FALSE(p.actions.empty());
  p.actions.back().not_before = SystemTime::min();
  p.actions.back().not_after = SystemTime::max();
  Result<Plan> back = PlanFromJson(nlohmann::json::parse(PlanToJson(p).dump()));
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->actions.back().not_after,
            std::chrono::time_point_cast<std::chrono::seconds>(SystemTime::max()));
}

TEST(PlanFormatTest, RejectsOtherVersionsAndGarbage) {
  EXPECT_FALSE(PlanFromJson(nlohmann::json::parse(R"({"schemaVersion":3})")).ok());
  EXPECT_FALSE(PlanFromJson(nlohmann::json::parse(R"([1,2])")).ok());
  EXPECT_FALSE(PlanFromJson(nlohmann::json::parse(
                   R"({"schemaVersion":1,"tenant":"t","observedDigest":"d","actions":[{"kind":"explode","key":"k"}]})"))
                   .ok());
}

TEST(PlanFormatTest, TextEndsWithSummaryLine) {
  Plan p = ComputePlan(OneUserOnIos(), {}, kNow);
  EXPECT_THAT(RenderPlanText(p),
              HasSubstr("Plan: 4 to add, 3 to change, 0 to remove, 0 unchanged, 0 invalid.\n"));
  EXPECT_THAT(RenderPlanText(p), HasSubstr("+ createTrustedProfile"));
  EXPECT_THAT(RenderPlanText(p), HasSubstr("~ assignProfile"));
}

}  // namespace
}  // namespace certdeploy::deploy
