#include "config/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

namespace certdeploy::config {
namespace {

using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CsvTest, QuotesDoubledQuotesCrlfAndBom) {
  std::vector<CsvRecord> r =
      ParseCsv("\xEF\xBB\xBF" "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",z\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_THAT(r[0].fields, ElementsAre("a", "b"));
  EXPECT_THAT(r[1].fields, ElementsAre("x, y", "say \"hi\""));
  EXPECT_EQ(r[1].line, 2);
  EXPECT_THAT(r[2].fields, ElementsAre("multi\nline", "z"));
  EXPECT_EQ(r[2].line, 3);
}

TEST(CsvTest, EmptyFieldsAndBlankLines) {
  std::vector<CsvRecord> r = ParseCsv("a,,c\n\n,\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_THAT(r[0].fields, ElementsAre("a", "", "c"));
  EXPECT_THAT(r[1].fields, ElementsAre("", ""));
  EXPECT_EQ(r[1].line, 3);
}

TEST(CsvTest, MalformedRecordDoesNotSwallowTheRest) {
  std::vector<CsvRecord> r = ParseCsv("h1,h2\n\"open,never closed\nok1,ok2\n\"x\"junk,y\nok3,ok4");
  ASSERT_EQ(r.size(), 5u);
  // The quote opened on line 2 closes on line 4 ("x), followed by text: line 2 is malformed and
  // parsing resumes on line 3.
  EXPECT_THAT(r[1].error, HasSubstr("after a closing quote"));
  EXPECT_EQ(r[1].line, 2);
  EXPECT_THAT(r[2].fields, ElementsAre("ok1", "ok2"));
  EXPECT_EQ(r[2].line, 3);
  EXPECT_THAT(r[3].error, HasSubstr("after a closing quote"));
  EXPECT_EQ(r[3].line, 4);
  EXPECT_THAT(ParseCsv("a\n\"never closed\nb\n")[1].error, HasSubstr("never closed"));
  EXPECT_THAT(ParseCsv("a\n\"never closed\nb\n")[2].fields, ElementsAre("b"));
  EXPECT_THAT(r[4].fields, ElementsAre("ok3", "ok4"));
  EXPECT_EQ(r[4].line, 5);
}

TEST(CsvTest, AHugeLineIsOneBoundedErrorAndTheNextLinesAreRead) {
  const std::string huge(50u << 20, 'a');
  std::vector<CsvRecord> r = ParseCsv("h1,h2\n" + huge + ",x\nok1,ok2\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(r[1].too_large);
  EXPECT_THAT(r[1].error, HasSubstr("the row is 52428802 bytes long; at most 16384"));
  EXPECT_LT(r[1].error.size(), 200u);
  // Only the start of each stored field is kept.
  ASSERT_FALSE(r[1].fields.empty());
  EXPECT_EQ(r[1].fields[0], std::string(kCsvExcerptBytes, 'a'));
  EXPECT_THAT(r[2].fields, ElementsAre("ok1", "ok2"));
  EXPECT_EQ(r[2].line, 3);
}

TEST(CsvTest, ALineOfSeparatorsStoresABoundedNumberOfFields) {
  std::vector<CsvRecord> r = ParseCsv(std::string(1u << 20, ',') + "\nok\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].too_large);
  EXPECT_LE(r[0].fields.size(), kMaxCsvRecordBytes + 1);
  EXPECT_THAT(r[1].fields, ElementsAre("ok"));
}

TEST(CsvTest, AFieldOverItsBoundIsAnError) {
  const std::string field(kMaxCsvFieldBytes + 1, 'p');
  std::vector<CsvRecord> r = ParseCsv("a," + field + "\n\"b\"," + std::string(10, 'q') + "\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].too_large);
  EXPECT_THAT(r[0].error, HasSubstr("a field is 4097 bytes long; at most 4096"));
  EXPECT_TRUE(r[1].error.empty());
  // At the bound exactly: fine.
  EXPECT_TRUE(ParseCsv("a," + std::string(kMaxCsvFieldBytes, 'p') + "\n")[0].error.empty());
}

TEST(CsvTest, AQuotedFieldThatDoesNotEndWithinTheBoundCostsOnlyItsLine) {
  std::string text = "h\n\"" + std::string(kMaxCsvRecordBytes + 10, 'z') + "\nnext\n";
  std::vector<CsvRecord> r = ParseCsv(text);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(r[1].too_large);
  EXPECT_THAT(r[1].error, HasSubstr("a quoted field does not end"));
  EXPECT_TRUE(r[1].fields.empty());
  EXPECT_THAT(r[2].fields, ElementsAre("next"));
}

TEST(ManifestTest, OversizedRowsAreInvalidRowsWithAShortExcerptAndTheRestIsRead) {
  const std::string long_upn = std::string(20u << 10, 'u') + "@contoso.com";
  const std::string huge_line = std::string(50u << 20, 'x') + "@contoso.com,b.pfx,pw.txt";
  Result<Manifest> m = ParseManifest(
      "userPrincipalName,pfxFile,passwordFile\n"
      "alice@contoso.com,a.pfx,pw.txt\n" +
          long_upn + ",b.pfx,pw.txt\n" + huge_line + "\nbob@contoso.com,b.pfx,pw.txt\n" +
          std::string(200, 'v') + "@contoso.com,c.pfx,pw.txt\n",
      "/data/m.csv");
  ASSERT_THAT(m, IsOk());
  ASSERT_EQ(m->rows.size(), 2u);
  EXPECT_EQ(m->rows[0].upn, "alice@contoso.com");
  EXPECT_EQ(m->rows[1].upn, "bob@contoso.com");
  EXPECT_EQ(m->rows[1].line, 5);
  ASSERT_EQ(m->problems.size(), 3u);
  EXPECT_EQ(m->problems[0].line, 3);
  EXPECT_EQ(m->problems[0].code, "row-too-large");
  EXPECT_THAT(m->problems[0].message,
              HasSubstr("userPrincipalName starts '" + std::string(kCsvExcerptBytes, 'u')));
  EXPECT_EQ(m->problems[1].line, 4);
  EXPECT_EQ(m->problems[1].code, "row-too-large");
  EXPECT_THAT(m->problems[1].message, HasSubstr("the row is "));
  // Within the bounds but over the UPN rule: the UPN's own code.
  EXPECT_EQ(m->problems[2].line, 6);
  EXPECT_EQ(m->problems[2].code, "upn-invalid");
  for (const ManifestProblem& p : m->problems) EXPECT_LT(p.message.size(), 300u) << p.message;
}

TEST(ManifestTest, AnOversizedRowNeverShowsItsPasswordColumn) {
  Result<Manifest> m = ParseManifest(
      "password,userPrincipalName,pfxFile\n"
      "Secret-Start-Of-Password,alice@contoso.com," + std::string(kMaxCsvRecordBytes, 'f') + "\n",
      "/data/m.csv");
  ASSERT_THAT(m, IsOk());
  ASSERT_EQ(m->problems.size(), 1u);
  EXPECT_EQ(m->problems[0].code, "row-too-large");
  EXPECT_THAT(m->problems[0].message, HasSubstr("userPrincipalName starts 'alice@contoso.com"));
  EXPECT_THAT(m->problems[0].message, ::testing::Not(HasSubstr("Secret")));
}

TEST(ManifestTest, PasswordFileColumnsResolveAgainstManifestFolder) {
  Result<Manifest> m = ParseManifest(
      "userPrincipalName,pfxFile,passwordFile,intendedPurpose\r\n"
      "alice@contoso.com,pfx/alice.pfx,pw/alice.txt,\r\n"
      "\"o'neil@contoso.com\",/abs/oneil.pfx,pw/o.txt,smimeSigning\r\n",
      "/data/rollout/manifest.csv");
  ASSERT_THAT(m, IsOk());
  ASSERT_EQ(m->rows.size(), 2u);
  EXPECT_TRUE(m->problems.empty());
  EXPECT_EQ(m->rows[0].upn, "alice@contoso.com");
  EXPECT_EQ(m->rows[0].pfx_file, "/data/rollout/pfx/alice.pfx");
  EXPECT_EQ(m->rows[0].password_file, "/data/rollout/pw/alice.txt");
  EXPECT_FALSE(m->rows[0].purpose.has_value());
  EXPECT_EQ(m->rows[1].upn, "o'neil@contoso.com");
  EXPECT_EQ(m->rows[1].pfx_file, "/abs/oneil.pfx");
  EXPECT_EQ(m->rows[1].purpose, pkcs::Purpose::kSmimeSigning);
  EXPECT_EQ(m->rows[1].line, 3);
}

TEST(ManifestTest, InlinePasswordColumnKeepsSpacesAndColumnOrderIsFree) {
  Result<Manifest> m = ParseManifest("password,userPrincipalName,pfxFile\n\" p w \",bob@contoso.com,b.pfx\n",
                                     "/m/manifest.csv");
  ASSERT_THAT(m, IsOk());
  ASSERT_EQ(m->rows.size(), 1u);
  Result<SecretBytes> pw = m->rows[0].ReadPassword();
  ASSERT_THAT(pw, IsOk());
  EXPECT_EQ(pw->RevealAsString(), " p w ");
}

TEST(ManifestTest, MalformedRowsAreReportedWithLineAndSkipped) {
  Result<Manifest> m = ParseManifest(
      "userPrincipalName,pfxFile,password\n"
      "good1@contoso.com,a.pfx,s3cr3t\n"
      "not-an-upn,b.pfx,s3cr3t\n"
      "short@contoso.com,c.pfx\n"
      "\"broken@contoso.com,d.pfx,s3cr3t\n"
      "nopw@contoso.com,e.pfx,\n"
      "good2@contoso.com,f.pfx,s3cr3t\n",
      "/m/manifest.csv");
  ASSERT_THAT(m, IsOk());
  ASSERT_EQ(m->rows.size(), 2u);
  EXPECT_EQ(m->rows[0].upn, "good1@contoso.com");
  EXPECT_EQ(m->rows[1].upn, "good2@contoso.com");
  ASSERT_EQ(m->problems.size(), 4u);
  EXPECT_EQ(m->problems[0].line, 3);
  EXPECT_THAT(m->problems[0].message, HasSubstr("not a user principal name"));
  EXPECT_EQ(m->problems[1].line, 4);
  EXPECT_THAT(m->problems[1].message, HasSubstr("expected 3 fields"));
  EXPECT_EQ(m->problems[2].line, 5);
  EXPECT_EQ(m->problems[3].line, 6);
  for (const ManifestProblem& p : m->problems) EXPECT_THAT(p.message, ::testing::Not(HasSubstr("s3cr3t")));
}

TEST(ManifestTest, BadPurposeIsARowProblem) {
  Result<Manifest> m = ParseManifest(
      "userPrincipalName,pfxFile,passwordFile,intendedPurpose\na@b.com,a.pfx,p.txt,email\n", "/m.csv");
  ASSERT_THAT(m, IsOk());
  EXPECT_TRUE(m->rows.empty());
  ASSERT_EQ(m->problems.size(), 1u);
  EXPECT_THAT(m->problems[0].message, HasSubstr("intendedPurpose"));
}

TEST(ManifestTest, VpnPurposeIsARowProblemNamingWhy) {
  Result<Manifest> m = ParseManifest(
      "userPrincipalName,pfxFile,passwordFile,intendedPurpose\na@b.com,a.pfx,p.txt,vpn\n"
      "c@b.com,c.pfx,p.txt,SmimeSigning\n",
      "/m.csv");
  ASSERT_THAT(m, IsOk());
  ASSERT_EQ(m->rows.size(), 1u);  // The other row is kept.
  ASSERT_EQ(m->problems.size(), 1u);
  EXPECT_THAT(m->problems[0].message, HasSubstr("'vpn' is not supported for imported PFX"));
}

TEST(ManifestTest, BadHeadersFailTheFile) {
  EXPECT_THAT(ParseManifest("", "/m.csv"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(ParseManifest("userPrincipalName,pfxFile\n", "/m.csv"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("exactly one of passwordFile")));
  EXPECT_THAT(ParseManifest("userPrincipalName,pfxFile,password,passwordFile\n", "/m.csv"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseManifest("upn,pfxFile,password\n", "/m.csv"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown column 'upn'")));
  EXPECT_THAT(ParseManifest("userPrincipalName,pfxFile,password,password\n", "/m.csv"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("twice")));
}

TEST(ManifestTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadManifest("/nonexistent/manifest.csv"), StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace certdeploy::config
