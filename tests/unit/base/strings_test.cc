#include "base/strings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace certdeploy {
namespace {

using ::testing::ElementsAre;

TEST(AsciiToLowerTest, Table) {
  struct Case {
    std::string_view in, out;
  };
  const Case cases[] = {
      {"", ""},
      {"Alice@Contoso.COM", "alice@contoso.com"},
      {"Content-Type", "content-type"},
      {"already lower 123 !@#[`{", "already lower 123 !@#[`{"},
      {"AZ@[", "az@["},                            // '@' and '[' sit right next to A and Z.
      {"\xC3\x89T\xC3\x89", "\xC3\x89t\xC3\x89"},  // "ÉTÉ": UTF-8 bytes are never folded.
      {std::string_view("A\0B", 3), std::string_view("a\0b", 3)},
  };
  for (const Case& c : cases) EXPECT_EQ(AsciiToLower(c.in), c.out) << c.in;
}

TEST(EqualsIgnoreCaseAsciiTest, Table) {
  struct Case {
    std::string_view a, b;
    bool equal;
  };
  const Case cases[] = {
      {"", "", true},
      {"GET", "get", true},
      {"Content-Type", "CONTENT-type", true},
      {"oaepSha256", "OAEPSHA256", true},
      {"get", "gets", false},
      {"a", "b", false},
      {"@", "`", false},                // 0x40 and 0x60 differ only in the case bit.
      {"[", "{", false},                // So do 0x5B and 0x7B.
      {"\xC3\xA9", "\xC3\x89", false},  // "é" vs "É": not ASCII, not folded.
  };
  for (const Case& c : cases) {
    EXPECT_EQ(EqualsIgnoreCaseAscii(c.a, c.b), c.equal) << c.a << " vs " << c.b;
    EXPECT_EQ(EqualsIgnoreCaseAscii(c.b, c.a), c.equal) << c.b << " vs " << c.a;
  }
}

TEST(StartsWithIgnoreCaseAsciiTest, Table) {
  struct Case {
    std::string_view s, prefix;
    bool starts;
  };
  const Case cases[] = {
      {"Bearer abc", "bearer ", true},
      {"BASIC eA==", "basic ", true},
      {"anything", "", true},
      {"", "", true},
      {"Bear", "bearer ", false},
      {"Bearerabc", "bearer ", false},
      {"", "a", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(StartsWithIgnoreCaseAscii(c.s, c.prefix), c.starts) << c.s << " / " << c.prefix;
  }
}

TEST(ReplaceAllTest, ReplacesEachOccurrenceOnceLeftToRight) {
  EXPECT_EQ(ReplaceAll("a-b-c", "-", "+"), "a+b+c");
  EXPECT_EQ(ReplaceAll("aaa", "a", "aa"), "aaaaaa");  // A replacement is not searched again.
  EXPECT_EQ(ReplaceAll("abab", "ab", ""), "");
  EXPECT_EQ(ReplaceAll("xyz", "q", "r"), "xyz");
  EXPECT_EQ(ReplaceAll("xyz", "", "r"), "xyz");  // An empty pattern changes nothing.
  EXPECT_EQ(ReplaceAll("", "a", "b"), "");
}

TEST(SplitStringTest, KeepsEmptyPiecesAndAlwaysReturnsOne) {
  EXPECT_THAT(SplitString("a=1&b=2", '&'), ElementsAre("a=1", "b=2"));
  EXPECT_THAT(SplitString("a&&b", '&'), ElementsAre("a", "", "b"));
  EXPECT_THAT(SplitString("", '&'), ElementsAre(""));
  EXPECT_THAT(SplitString("&", '&'), ElementsAre("", ""));
  EXPECT_THAT(SplitString("/beta/users/", '/'), ElementsAre("", "beta", "users", ""));
  EXPECT_THAT(SplitString("no separator", '&'), ElementsAre("no separator"));
}

TEST(SplitStringTest, PiecesPointIntoTheInput) {
  const std::string text = "x,y";
  std::vector<std::string_view> pieces = SplitString(text, ',');
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].data(), text.data());
  EXPECT_EQ(pieces[1].data(), text.data() + 2);
}

TEST(TrimAsciiWhitespaceTest, Table) {
  struct Case {
    std::string_view in, out;
  };
  const Case cases[] = {
      {"", ""},
      {"   ", ""},
      {" \t120\r\n", "120"},
      {"\v\fa b\f\v", "a b"},  // Inner whitespace stays.
      {"x", "x"},
      {"\xC2\xA0x\xC2\xA0", "\xC2\xA0x\xC2\xA0"},  // U+00A0 is not ASCII whitespace.
      {std::string_view("\0x\0", 3), std::string_view("\0x\0", 3)},
  };
  for (const Case& c : cases) EXPECT_EQ(TrimAsciiWhitespace(c.in), c.out) << c.in;
}

TEST(TrimAnyTest, TrimsOnlyTheGivenBytes) {
  EXPECT_EQ(TrimAny(" \ta b\t ", " \t"), "a b");
  EXPECT_EQ(TrimAny("\ra\r", " \t"), "\ra\r");
  EXPECT_EQ(TrimAny("xxx", "x"), "");
  EXPECT_EQ(TrimAny("abc", ""), "abc");
}

TEST(ForLogTest, KeepsPrintableAsciiReplacesTheRestAndBoundsTheLength) {
  EXPECT_EQ(ForLog("GET"), "GET");
  EXPECT_EQ(ForLog("a\r\nInjected: 1"), "a??Injected: 1");
  EXPECT_EQ(ForLog("\xe2\x80\xae" "x"), "???x");
  EXPECT_EQ(ForLog(std::string(4000, 'X'), 8), "XXXXXXXX...(4000 bytes)");
  EXPECT_EQ(ForLog("12345678", 8), "12345678");
  EXPECT_EQ(ForLog(""), "");
  EXPECT_LE(ForLog(std::string(1 << 20, '\x01')).size(), 64u + 24u);
}

TEST(IsGuidTest, AcceptsTheCanonicalFormOnly) {
  EXPECT_TRUE(IsGuid("0b4a7c1e-2f3d-4e5a-9b8c-7d6e5f4a3b2c"));
  EXPECT_TRUE(IsGuid("0B4A7C1E-2F3D-4E5A-9B8C-7D6E5F4A3B2C"));
  EXPECT_FALSE(IsGuid("{0b4a7c1e-2f3d-4e5a-9b8c-7d6e5f4a3b2c}"));
  EXPECT_FALSE(IsGuid("0b4a7c1e2f3d4e5a9b8c7d6e5f4a3b2c"));
  EXPECT_FALSE(IsGuid("0b4a7c1e-2f3d-4e5a-9b8c-7d6e5f4a3b2g"));
  EXPECT_FALSE(IsGuid("0b4a7c1e-2f3d-4e5a-9b8c7-d6e5f4a3b2c"));
  EXPECT_FALSE(IsGuid("All iOS users"));
  EXPECT_FALSE(IsGuid(""));
}

TEST(CsvFieldTest, QuotesOnlyWhatRfc4180Requires) {
  EXPECT_EQ(CsvField("alice@contoso.com"), "alice@contoso.com");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
}

TEST(EditDistanceTest, CountsSingleByteEditsIgnoringAsciiCase) {
  EXPECT_EQ(EditDistance("aply", "apply"), 1u);
  EXPECT_EQ(EditDistance("plna", "plan"), 2u);
  EXPECT_EQ(EditDistance("PLAN", "plan"), 0u);
  EXPECT_EQ(EditDistance("", "serve"), 5u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(ClosestMatchTest, ATypoFindsTheWordAnotherWordFindsNothing) {
  const std::vector<std::string> commands = {"validate", "plan", "apply", "inventory",
                                             "remove", "serve", "sandbox"};
  EXPECT_EQ(ClosestMatch("aply", commands), "apply");
  EXPECT_EQ(ClosestMatch("serv", commands), "serve");
  EXPECT_EQ(ClosestMatch("inventroy", commands), "inventory");
  EXPECT_EQ(ClosestMatch("frobnicate", commands), "");
  EXPECT_EQ(ClosestMatch("x", commands), "");
  EXPECT_EQ(ClosestMatch("apply", {}), "");
}

}  // namespace
}  // namespace certdeploy
