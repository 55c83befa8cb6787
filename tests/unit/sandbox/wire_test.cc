// Encodings and OData parsing used by every sandbox handler.

#include "sandbox/internal/wire.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/internal/odata.h"

namespace certdeploy::sandbox::internal {
namespace {

TEST(Base64Test, StrictStandardAlphabet) {
  EXPECT_EQ(EncodeBase64(std::string("\0", 1)), "AA==");
  EXPECT_EQ(DecodeBase64("AA=="), std::string("\0", 1));
  EXPECT_EQ(DecodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(DecodeBase64(""), "");
  EXPECT_FALSE(DecodeBase64("aGVsbG8").has_value());    // Missing padding.
  EXPECT_FALSE(DecodeBase64("aGV sbG8=").has_value());  // Whitespace.
  EXPECT_FALSE(DecodeBase64("a-_=").has_value());       // URL alphabet.
  EXPECT_FALSE(DecodeBase64("aGVsbG9=").has_value());   // Non-zero trailing bits.
  EXPECT_EQ(EncodeBase64Url("\xfb\xff"), "-_8");
  EXPECT_EQ(DecodeBase64Url("-_8"), "\xfb\xff");
}

TEST(PercentTest, DecodesAndEncodes) {
  EXPECT_EQ(PercentDecode("o%27neil%40contoso.com", false), "o'neil@contoso.com");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_FALSE(PercentDecode("bad%2", false).has_value());
  EXPECT_FALSE(PercentDecode("bad%zz", false).has_value());
  EXPECT_EQ(PercentEncode("a b'c"), "a%20b%27c");
  auto q = ParseQuery("$filter=a%20eq%20'b'&$top=5&flag");
  ASSERT_TRUE(q.has_value());
  ASSERT_EQ(q->size(), 3u);
  EXPECT_EQ((*q)[0].second, "a eq 'b'");
  EXPECT_EQ((*q)[2].first, "flag");
}

TEST(Rfc3339Test, RequiresAnOffset) {
  auto z = ParseRfc3339("2026-03-01T12:00:00Z");
  auto plus = ParseRfc3339("2026-03-01T14:00:00+02:00");
  auto minus = ParseRfc3339("2026-03-01T07:30:00.0000000-04:30");
  ASSERT_TRUE(z && plus && minus);
  EXPECT_EQ(*z, *plus);
  EXPECT_EQ(*z, *minus);
  EXPECT_EQ(FormatDateTime(*z), "2026-03-01T12:00:00Z");
  auto frac = ParseRfc3339("2026-03-01T12:00:00.25Z");
  ASSERT_TRUE(frac.has_value());
  EXPECT_EQ(FormatDateTime(*frac), "2026-03-01T12:00:00.25Z");
  for (const char* bad : {"2026-03-01T12:00:00", "2026-03-01 12:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-03-01T24:00:00Z", "2026-03-01T12:00:00+0200", "2026-3-01T12:00Z",
                          "2026-03-01T12:00:00.Z", "2026-03-01T12:00:00Zjunk"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2025-02-29T00:00:00Z").has_value());
}

TEST(HttpDateTest, ImfFixdate) {
  auto t = ParseRfc3339("2026-01-01T00:00:00Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatHttpDate(*t), "Thu, 01 Jan 2026 00:00:00 GMT");
}

TEST(FilterTest, ParsesEqClausesWithQuoteEscapes) {
  auto clauses = ParseEqFilter(
      "tolower(userPrincipalName) eq 'o''neil@contoso.com' and tolower(thumbprint) eq 'ab'");
  ASSERT_TRUE(clauses.has_value());
  ASSERT_EQ(clauses->size(), 2u);
  EXPECT_TRUE((*clauses)[0].tolower);
  EXPECT_EQ((*clauses)[0].property, "userPrincipalName");
  EXPECT_EQ((*clauses)[0].literal, "o'neil@contoso.com");
  EXPECT_EQ((*clauses)[1].literal, "ab");
  for (const char* bad : {"userPrincipalName eq 'a' or thumbprint eq 'b'", "a eq 'x", "a eq b",
                          "tolower(a eq 'x'", "a eq 'x' and", "eq 'x'", "a eq 'x''"}) {
    EXPECT_FALSE(ParseEqFilter(bad).has_value()) << bad;
  }
  EXPECT_EQ(ParseIsOf("isof('microsoft.graph.iosTrustedRootCertificate')"),
            "iosTrustedRootCertificate");
  EXPECT_FALSE(ParseIsOf("isof('other.type')").has_value());
}

TEST(KeySegmentTest, AcceptsTheThreeSyntaxes) {
  auto quoted = ParseKeySegment("userPfxCertificates('abc-123')");
  ASSERT_TRUE(quoted.has_value());
  EXPECT_EQ(quoted->name, "userPfxCertificates");
  EXPECT_EQ(quoted->key, "abc-123");
  EXPECT_EQ(ParseKeySegment("userPfxCertificates(abc-123)")->key, "abc-123");
  EXPECT_FALSE(ParseKeySegment("userPfxCertificates")->key.has_value());
  EXPECT_EQ(ParseKeySegment("x('it''s')")->key, "it's");
  EXPECT_FALSE(ParseKeySegment("x('abc)").has_value());
  EXPECT_FALSE(ParseKeySegment("x()").has_value());
  EXPECT_FALSE(ParseKeySegment("x(abc").has_value());
}

TEST(ErrorShapeTest, GraphErrorAndThrottledBodies) {
  RequestContext ctx{"req-1", "client-1", "http://h", *ParseRfc3339("2026-01-01T00:00:00Z")};
  json error = GraphErrorBody(ctx, "BadRequest", "nope")["error"];
  EXPECT_EQ(error["code"], "BadRequest");
  EXPECT_EQ(error["message"], "nope");
  EXPECT_EQ(error["innerError"]["request-id"], "req-1");
  EXPECT_EQ(error["innerError"]["client-request-id"], "client-1");
  EXPECT_EQ(error["innerError"]["date"], "2026-01-01T00:00:00");
  Reply throttled = Throttled(ctx, 7);
  EXPECT_EQ(throttled.status, 429);
  ASSERT_EQ(throttled.headers.size(), 1u);
  EXPECT_EQ(throttled.headers[0], (std::pair<std::string, std::string>("Retry-After", "7")));
  EXPECT_EQ((*throttled.body)["error"]["message"], "Please retry again later.");
  http::ServerResponse response = ToServerResponse(ctx, throttled);
  EXPECT_EQ(response.headers.find("request-id")->second, "req-1");
  EXPECT_EQ(response.headers.find("retry-after")->second, "7");
}

}  // namespace
}  // namespace certdeploy::sandbox::internal
