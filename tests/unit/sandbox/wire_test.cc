// The sandbox's choices of strictness over base/'s encodings, and the OData parsing used by every
// sandbox handler.

#include "sandbox/internal/wire.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/encoding.h"
#include "base/time_format.h"
#include "sandbox/internal/odata.h"

namespace certdeploy::sandbox::internal {
namespace {

// Edm.Binary: the sandbox decodes with base/'s default (strict) options, as Graph does.
TEST(Base64Test, StrictStandardAlphabet) {
  EXPECT_EQ(Base64Encode(std::string("\0", 1)), "AA==");
  EXPECT_EQ(Base64Decode("AA=="), std::string("\0", 1));
  EXPECT_EQ(Base64Decode("aGVsbG8="), "hello");
  EXPECT_EQ(Base64Decode(""), "");
  EXPECT_FALSE(Base64Decode("aGVsbG8").has_value());    // Missing padding.
  EXPECT_FALSE(Base64Decode("aGV sbG8=").has_value());  // Whitespace.
  EXPECT_FALSE(Base64Decode("a-_=").has_value());       // URL alphabet.
  EXPECT_FALSE(Base64Decode("aGVsbG9=").has_value());   // Non-zero trailing bits.
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlDecode("-_8"), "\xfb\xff");
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

TEST(PathTest, SplitsIntoNonEmptyDecodedSegments) {
  using Segments = std::vector<std::string>;
  EXPECT_EQ(SplitPath("/beta//users/o%27neil%2Fx/", true), (Segments{"beta", "users", "o'neil/x"}));
  EXPECT_EQ(SplitPath("/beta/a%2Fb+c", false), (Segments{"beta", "a%2Fb+c"}));
  EXPECT_EQ(SplitPath("", true), Segments{});
  EXPECT_EQ(SplitPath("/a%zz", true), std::nullopt);
}

// Edm.DateTimeOffset: base/'s ParseRfc3339 with kGraphDateTimeOptions.
Result<SystemTime> ParseGraphDateTime(std::string_view text) {
  return ParseRfc3339(text, kGraphDateTimeOptions);
}

TEST(Rfc3339Test, RequiresAnOffset) {
  auto z = ParseGraphDateTime("2026-03-01T12:00:00Z");
  auto plus = ParseGraphDateTime("2026-03-01T14:00:00+02:00");
  auto minus = ParseGraphDateTime("2026-03-01T07:30:00.0000000-04:30");
  ASSERT_TRUE(z && plus && minus);
  EXPECT_EQ(*z, *plus);
  EXPECT_EQ(*z, *minus);
  EXPECT_EQ(FormatRfc3339UtcTicks(*z), "2026-03-01T12:00:00Z");
  auto frac = ParseGraphDateTime("2026-03-01T12:00:00.25Z");
  ASSERT_TRUE(frac.has_value());
  EXPECT_EQ(FormatRfc3339UtcTicks(*frac), "2026-03-01T12:00:00.25Z");
  for (const char* bad : {"2026-03-01T12:00:00", "2026-03-01 12:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-03-01T24:00:00Z", "2026-03-01T12:00:00+0200", "2026-3-01T12:00Z",
                          "2026-03-01T12:00:00.Z", "2026-03-01T12:00:00Zjunk",
                          "2026-03-01t12:00:00Z", "2026-03-01T12:00:00z", "2026-03-01T23:59:60Z"}) {
    EXPECT_FALSE(ParseGraphDateTime(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseGraphDateTime("2024-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseGraphDateTime("2025-02-29T00:00:00Z").has_value());
  // Graph's DateTimeOffset range is wider than SystemTime's: the ends clamp.
  EXPECT_EQ(*ParseGraphDateTime("0001-01-01T00:00:00Z"), SystemTime::min());
  EXPECT_EQ(*ParseGraphDateTime("9999-12-31T23:59:59Z"), SystemTime::max());
}

TEST(HttpDateTest, ImfFixdate) {
  auto t = ParseGraphDateTime("2026-01-01T00:00:00Z");
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
  RequestContext ctx{"req-1", "client-1", "http://h", *ParseGraphDateTime("2026-01-01T00:00:00Z")};
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
