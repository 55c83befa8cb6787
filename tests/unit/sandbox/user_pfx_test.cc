// userPfxCertificates: strict validation, the simulated connector, secrets masking, $filter,
// key syntaxes, duplicates and paging.

#include "base/time_format.h"
#include "tests/unit/sandbox/sandbox_test_support.h"

namespace certdeploy::sandbox::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPfxPath[] = "/beta/deviceManagement/userPfxCertificates";

class UserPfxTest : public SandboxTest {
 protected:
  void SetUp() override { Start(); }

  // POSTs `body` and expects a 400 counted under `reason`.
  void ExpectRejected(const json& body, const std::string& reason) {
    ServerResponse r = Call("POST", kPfxPath, body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(BodyOf(r)["error"]["code"], "BadRequest");
    EXPECT_EQ(Stats().rejections[reason], 1u) << "reason " << reason << "; body " << r.body;
    EXPECT_TRUE(tenant_->State()["userPfxCertificates"].empty());
  }
};

TEST_F(UserPfxTest, ConnectorAcceptsACorrectRecordAndGetHidesSecrets) {
  json body = PfxBody("alice.pfx", "alice@contoso.com");
  ServerResponse created = Call("POST", kPfxPath, body);
  ASSERT_EQ(created.status, 201) << created.body;
  json record = BodyOf(created);
  std::string user_id = BodyOf(Call("GET", "/v1.0/users/alice@contoso.com"))["id"];
  std::string expected_id =
      UserIdCompact(user_id) + "-" + certdeploy::testing::ExpectedSha1("alice");
  EXPECT_EQ(record["id"], expected_id);
  EXPECT_EQ(record["encryptedPfxBlob"], "AA==");
  EXPECT_EQ(record["encryptedPfxPassword"], "");

  ServerResponse got = Call("GET", std::string(kPfxPath) + "/" + expected_id);
  ASSERT_EQ(got.status, 200) << got.body;
  json g = BodyOf(got);
  EXPECT_EQ(g["encryptedPfxBlob"], "AA==");
  EXPECT_EQ(g["encryptedPfxPassword"], "");
  EXPECT_EQ(g["thumbprint"], certdeploy::testing::ExpectedSha1("alice"));
  EXPECT_EQ(g["userPrincipalName"], "alice@contoso.com");
  EXPECT_EQ(g["paddingScheme"], "oaepSha256");
  EXPECT_EQ(g["startDateTime"], body["startDateTime"]);
  EXPECT_EQ(g["@odata.type"], "#microsoft.graph.userPFXCertificate");
  // The state endpoint masks them too, and nothing secret is anywhere in it.
  std::string state = tenant_->State().dump();
  EXPECT_THAT(state, Not(HasSubstr(body["encryptedPfxPassword"].get<std::string>())));
  EXPECT_THAT(state, Not(HasSubstr(body["encryptedPfxBlob"].get<std::string>().substr(0, 64))));
}

TEST_F(UserPfxTest, AcceptsEveryKeySyntaxForGetPatchDelete) {
  json body = PfxBody("bob.pfx", "bob@contoso.com", "oaepSha512");
  ServerResponse created = Call("POST", kPfxPath, body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = BodyOf(created)["id"];
  EXPECT_EQ(Call("GET", std::string(kPfxPath) + "('" + id + "')").status, 200);
  EXPECT_EQ(Call("GET", std::string(kPfxPath) + "(" + id + ")").status, 200);

  ServerResponse patched =
      Call("PATCH", std::string(kPfxPath) + "(" + id + ")", {{"intendedPurpose", "smimeSigning"}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(BodyOf(patched)["intendedPurpose"], "smimeSigning");
  EXPECT_EQ(tenant_->State()["userPfxCertificates"][0]["intendedPurpose"], "smimeSigning");

  EXPECT_EQ(Call("DELETE", std::string(kPfxPath) + "/" + id).status, 204);
  ServerResponse gone = Call("GET", std::string(kPfxPath) + "/" + id);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(BodyOf(gone)["error"]["code"], "ResourceNotFound");
  EXPECT_EQ(Call("DELETE", std::string(kPfxPath) + "/" + id).status, 404);
}

TEST_F(UserPfxTest, PatchWithTheFullRecordRechecksTheConnector) {
  json body = PfxBody("alice.pfx", "alice@contoso.com");
  ServerResponse created = Call("POST", kPfxPath, body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = BodyOf(created)["id"];
  json update = PfxBody("alice.pfx", "alice@contoso.com", "oaepSha384");
  EXPECT_EQ(Call("PATCH", std::string(kPfxPath) + "(" + id + ")", update).status, 200);
  // Dates that disagree with the certificate the connector saw are refused without a new PFX.
  ServerResponse bad = Call("PATCH", std::string(kPfxPath) + "/" + id,
                            {{"expirationDateTime", "2099-01-01T00:00:00Z"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Stats().rejections["connector: dates mismatch"], 1u);
  // Changing the padding without a new sealed password would strand the record.
  EXPECT_EQ(
      Call("PATCH", std::string(kPfxPath) + "/" + id, {{"paddingScheme", "oaepSha512"}}).status,
      400);
  EXPECT_EQ(Stats().rejections["connector: password does not decrypt"], 1u);
  EXPECT_EQ(tenant_->State()["userPfxCertificates"][0]["paddingScheme"], "oaepSha384");
}

TEST_F(UserPfxTest, DuplicateCreateIsTheOpaqueRefusalAndCounted) {
  json body = PfxBody("alice.pfx", "alice@contoso.com");
  ASSERT_EQ(Call("POST", kPfxPath, body).status, 201);
  ServerResponse again = Call("POST", kPfxPath, body);
  EXPECT_EQ(again.status, 400) << again.body;  // Graph documents no 409 here.
  EXPECT_THAT(again.body, HasSubstr("An error has occurred"));
  EXPECT_EQ(Stats().duplicates, 1u);
  // Same user in another case is the same user, hence the same id.
  body["userPrincipalName"] = "Alice@Contoso.com";
  EXPECT_EQ(Call("POST", kPfxPath, body).status, 400);
  EXPECT_EQ(Stats().duplicates, 2u);
  EXPECT_EQ(tenant_->State()["userPfxCertificates"].size(), 1u);
}

TEST_F(UserPfxTest, ConnectorRejectsAPasswordItCannotDecrypt) {
  json body = PfxBody("alice.pfx", "alice@contoso.com");
  auto key = pkcs::ConnectorPublicKey::LoadFile(certdeploy::testing::PkiPath("connector.pub"));
  ASSERT_TRUE(key.ok());
  body["encryptedPfxPassword"] = pkcs::SealPassword(SecretBytes(std::string_view("wrong-password")),
                                                    *key, pkcs::PaddingScheme::kOaepSha256)
                                     .value();
  ServerResponse r = Call("POST", kPfxPath, body);
  EXPECT_EQ(r.status, 400);
  // Intune's opaque message, the precise reason in stats and a sandbox header.
  EXPECT_THAT(BodyOf(r)["error"]["message"].get<std::string>(),
              HasSubstr("An error has occurred - Operation ID"));
  EXPECT_EQ(HeaderOf(r, "x-sandbox-reason"), "connector: pfx does not open");
  EXPECT_EQ(Stats().rejections["connector: pfx does not open"], 1u);

  // Sealed under another padding than the record claims: the connector cannot decrypt it.
  json other = PfxBody("alice.pfx", "alice@contoso.com", "oaepSha512");
  other["paddingScheme"] = "oaepSha256";
  ExpectRejected(other, "connector: password does not decrypt");
}

TEST_F(UserPfxTest, ConnectorRejectsThumbprintAndDateMismatches) {
  json wrong_thumb = PfxBody("alice.pfx", "alice@contoso.com");
  wrong_thumb["thumbprint"] = certdeploy::testing::ExpectedSha1("bob");
  ExpectRejected(wrong_thumb, "connector: thumbprint mismatch");

  json wrong_dates = PfxBody("alice.pfx", "alice@contoso.com");
  wrong_dates["expirationDateTime"] = "2099-12-31T00:00:00Z";
  ExpectRejected(wrong_dates, "connector: dates mismatch");
}

TEST_F(UserPfxTest, DatesInAnyOffsetAreTheSameInstant) {
  json body = PfxBody("alice.pfx", "alice@contoso.com");
  std::string start = body["startDateTime"];  // "YYYY-MM-DDTHH:MM:SSZ"
  auto instant = ParseRfc3339(start, internal::kGraphDateTimeOptions);
  ASSERT_TRUE(instant.has_value());
  std::string shifted = FormatRfc3339UtcTicks(*instant + std::chrono::hours(2));
  shifted = shifted.substr(0, shifted.size() - 1) + "+02:00";
  body["startDateTime"] = shifted;
  ServerResponse r = Call("POST", kPfxPath, body);
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(UserPfxTest, StrictFieldValidation) {
  json body = PfxBody("alice.pfx", "alice@contoso.com");
  auto with = [&](const std::string& key, json value) {
    json b = body;
    b[key] = std::move(value);
    return b;
  };
  ExpectRejected(with("unexpectedProperty", "x"), "userPfxCertificate: unknown property");
}

TEST_F(UserPfxTest, RefusesDeprecatedPaddings) {
  json body = PfxBody("alice.pfx", "alice@contoso.com");
  body["paddingScheme"] = "pkcs1";
  ExpectRejected(body, "userPfxCertificate: unsupported paddingScheme");
  body["paddingScheme"] = "oaepSha1";
  ServerResponse r = Call("POST", kPfxPath, body);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Stats().rejections["userPfxCertificate: unsupported paddingScheme"], 2u);
  body["paddingScheme"] = "OaepSha1";  // In any spelling.
  r = Call("POST", kPfxPath, body);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Stats().rejections["userPfxCertificate: unsupported paddingScheme"], 3u);
  body["paddingScheme"] = "oaep-sha256";  // Not a member at all.
  r = Call("POST", kPfxPath, body);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Stats().rejections["userPfxCertificate: invalid paddingScheme"], 1u);
}

TEST_F(UserPfxTest, AcceptsTheModulesPascalCaseEnumsAndAnswersInCamelCase) {
  // The IntunePfxImport module serialises its enums PascalCase; the service accepts them.
  json body = PfxBody("alice.pfx", "alice@contoso.com", "oaepSha512");
  body["intendedPurpose"] = "SmimeEncryption";
  body["paddingScheme"] = "OaepSha512";
  ServerResponse r = Call("POST", kPfxPath, body);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(BodyOf(r)["intendedPurpose"], "smimeEncryption");
  EXPECT_EQ(BodyOf(r)["paddingScheme"], "oaepSha512");
}

TEST_F(UserPfxTest, RefusesUppercaseThumbprint) {
  json body = PfxBody("alice.pfx", "alice@contoso.com");
  std::string upper = body["thumbprint"];
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  body["thumbprint"] = upper;
  ExpectRejected(body, "userPfxCertificate: thumbprint not 40 lowercase hex");
}

TEST_F(UserPfxTest, RefusesDatesWithoutOffset) {
  json body = PfxBody("alice.pfx", "alice@contoso.com");
  std::string start = body["startDateTime"];
  body["startDateTime"] = start.substr(0, start.size() - 1);  // Drop the "Z".
  ExpectRejected(body, "userPfxCertificate: invalid startDateTime");
}

TEST_F(UserPfxTest, RefusesWrongEnumMissingPropertyAndBadBase64) {
  json body = PfxBody("alice.pfx", "alice@contoso.com");
  json b1 = body;
  b1["intendedPurpose"] = "smime encryption";
  ExpectRejected(b1, "userPfxCertificate: invalid intendedPurpose");
  json b2 = body;
  b2.erase("keyName");
  ServerResponse r = Call("POST", kPfxPath, b2);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Stats().rejections["userPfxCertificate: missing property"], 1u);
  json b3 = body;
  b3["encryptedPfxBlob"] = "not base64!";
  r = Call("POST", kPfxPath, b3);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Stats().rejections["userPfxCertificate: invalid encryptedPfxBlob"], 1u);
  json b4 = body;
  b4["id"] = "00000000000000000000000000000000-" + body["thumbprint"].get<std::string>();
  r = Call("POST", kPfxPath, b4);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Stats().rejections["userPfxCertificate: id mismatch"], 1u);
}

TEST_F(UserPfxTest, RefusesAJsonBodyWithoutJsonContentType) {
  ServerRequest r = MakeRequest("POST", kPfxPath, PfxBody("alice.pfx", "alice@contoso.com").dump(),
                                {{"Authorization", "Bearer " + token_}});
  EXPECT_EQ(tenant_->Handle(r).status, 415);
}

class ClosedDirectoryTest : public SandboxTest {
 protected:
  void SetUp() override {
    options_.users_file = certdeploy::testing::PkiPath("manifest.csv");  // 4 users.
    Start();
  }
};

TEST_F(ClosedDirectoryTest, RefusesUnknownUsers) {
  ServerResponse r = Call("POST", kPfxPath, PfxBody("mismatch.pfx", "dave@fabrikam.com"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Stats().rejections["userPfxCertificate: unknown user"], 1u);
  EXPECT_EQ(Call("POST", kPfxPath, PfxBody("oneil.pfx", "o'neil@contoso.com")).status, 201);
}

TEST_F(UserPfxTest, FiltersOnUpnWithApostropheAndThumbprint) {
  ASSERT_EQ(Call("POST", kPfxPath, PfxBody("oneil.pfx", "o'neil@contoso.com")).status, 201);
  ASSERT_EQ(Call("POST", kPfxPath, PfxBody("alice.pfx", "alice@contoso.com")).status, 201);
  std::string filter =
      PercentEncode("tolower(userPrincipalName) eq 'o''neil@contoso.com'");
  ServerResponse r = Call("GET", std::string(kPfxPath) + "?$filter=" + filter);
  ASSERT_EQ(r.status, 200) << r.body;
  json list = BodyOf(r);
  ASSERT_EQ(list["value"].size(), 1u);
  EXPECT_EQ(list["value"][0]["userPrincipalName"], "o'neil@contoso.com");

  std::string both = PercentEncode(
      "tolower(userPrincipalName) eq 'alice@contoso.com' and tolower(thumbprint) eq '" +
      certdeploy::testing::ExpectedSha1("alice") + "'");
  r = Call("GET", std::string(kPfxPath) + "?$filter=" + both);
  ASSERT_EQ(BodyOf(r)["value"].size(), 1u);
  std::string other = PercentEncode(
      "tolower(userPrincipalName) eq 'alice@contoso.com' and tolower(thumbprint) eq '" +
      certdeploy::testing::ExpectedSha1("bob") + "'");
  r = Call("GET", std::string(kPfxPath) + "?$filter=" + other);
  EXPECT_TRUE(BodyOf(r)["value"].empty());
  // tolower() compares the lower-cased value with the literal as written.
  std::string mixed = PercentEncode("tolower(userPrincipalName) eq 'Alice@contoso.com'");
  EXPECT_TRUE(BodyOf(Call("GET", std::string(kPfxPath) + "?$filter=" + mixed))["value"].empty());
}

TEST_F(UserPfxTest, UnknownFiltersAreRefused) {
  for (std::string filter : {"startswith(userPrincipalName,'a')", "keyName eq 'x'",
                             "userPrincipalName eq 'unterminated", "userPrincipalName ne 'a'"}) {
    ServerResponse r =
        Call("GET", std::string(kPfxPath) + "?$filter=" + PercentEncode(filter));
    EXPECT_EQ(r.status, 400) << filter;
  }
  EXPECT_EQ(Call("GET", std::string(kPfxPath) + "?$orderby=id").status, 400);
  EXPECT_EQ(Call("GET", std::string(kPfxPath) + "?$top=2&$top=3").status, 400);
}

TEST_F(UserPfxTest, PagesWithAbsoluteNextLinks) {
  options_.page_size = 2;
  Start();
  for (auto [pfx, upn] :
       {std::pair{"alice.pfx", "alice@contoso.com"}, std::pair{"bob.pfx", "bob@contoso.com"},
        std::pair{"carol.pfx", "carol@contoso.com"}}) {
    ASSERT_EQ(Call("POST", kPfxPath, PfxBody(pfx, upn)).status, 201);
  }
  ServerResponse first = Call("GET", kPfxPath);
  json page = BodyOf(first);
  ASSERT_EQ(page["value"].size(), 2u);
  std::string next = page["@odata.nextLink"];
  ASSERT_EQ(next.rfind(std::string(kBase) + "/beta/deviceManagement/userPfxCertificates?", 0), 0u)
      << next;
  ServerResponse second = Call("GET", next.substr(std::string(kBase).size()));
  json page2 = BodyOf(second);
  ASSERT_EQ(page2["value"].size(), 1u);
  EXPECT_FALSE(page2.contains("@odata.nextLink"));
  EXPECT_NE(page2["value"][0]["id"], page["value"][0]["id"]);
  EXPECT_NE(page2["value"][0]["id"], page["value"][1]["id"]);
}

}  // namespace
}  // namespace certdeploy::sandbox::testing
