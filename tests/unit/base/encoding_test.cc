#include "base/encoding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace certdeploy {
namespace {

using ::testing::Optional;

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

// RFC 4648 section 10 test vectors, plus binary data.
TEST(Base64Test, EncodesTheRfcVectors) {
  struct Case {
    std::string bytes, text;
  };
  const Case cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {Bytes({0}), "AA=="},
      {Bytes({0xfb, 0xff}), "+/8="},
      {Bytes({0xff, 0xff, 0xff}), "////"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Base64Encode(c.bytes), c.text);
    const std::vector<uint8_t> bytes(c.bytes.begin(), c.bytes.end());
    EXPECT_EQ(Base64Encode(std::span<const uint8_t>(bytes)), c.text);
    EXPECT_THAT(Base64Decode(c.text), Optional(c.bytes)) << c.text;
    EXPECT_THAT(Base64Decode(c.text, kLenientBase64), Optional(c.bytes)) << c.text;
  }
}

TEST(Base64Test, StrictAndLenientDecoding) {
  struct Case {
    std::string_view text;
    std::optional<std::string> strict;   // Default options (the sandbox's model of Graph).
    std::optional<std::string> lenient;  // kLenientBase64 (PEM bodies, the REST API).
  };
  const std::optional<std::string> kRefused;
  const Case cases[] = {
      {"aGVsbG8=", "hello", "hello"},
      {"aGVsbG8", kRefused, "hello"},         // Missing padding.
      {"aGk", kRefused, "hi"},                // Missing padding.
      {"aGVs\r\nbG8=\n", kRefused, "hello"},  // Line breaks, as in PEM.
      {" aGV sbG8= ", kRefused, "hello"},     // Spaces.
      {"aGVsbG8=\n=", kRefused, kRefused},    // Three '=' in effect (one too many).
      {"aGVsbG9=", kRefused, "hello"},        // Non-zero unused bits.
      {"aGl=", kRefused, "hi"},               // Non-zero unused bits.
      {"a-_=", kRefused, kRefused},           // The URL alphabet.
      {"aGVsbG8==", kRefused, kRefused},      // Padding that completes no group.
      {"aGk==", kRefused, kRefused},          // One '=' too many.
      {"aG=k", kRefused, kRefused},           // '=' before the end.
      {"=", kRefused, kRefused},
      {"====", kRefused, kRefused},
      {"A", kRefused, kRefused},  // A lone symbol holds no byte.
      {"AAAAA", kRefused, kRefused},
      {"AAAAA===", kRefused, kRefused},
      {"AA=", kRefused, kRefused},      // Neither padded nor unpadded.
      {"AA\x80=", kRefused, kRefused},  // Non-ASCII byte.
      {std::string_view("AA\0=", 4), kRefused, kRefused},
      {"\t\n", kRefused, ""},  // Only whitespace.
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Base64Decode(c.text), c.strict) << "strict: " << c.text;
    EXPECT_EQ(Base64Decode(c.text, kLenientBase64), c.lenient) << "lenient: " << c.text;
  }
}

TEST(Base64Test, OptionsApplyOneByOne) {
  EXPECT_THAT(Base64Decode("aGk", {.padding_optional = true}), Optional(std::string("hi")));
  EXPECT_EQ(Base64Decode("aGk =", {.padding_optional = true}), std::nullopt);
  EXPECT_THAT(Base64Decode("aG k=", {.skip_whitespace = true}), Optional(std::string("hi")));
  EXPECT_EQ(Base64Decode("aGl=", {.skip_whitespace = true}), std::nullopt);
  EXPECT_THAT(Base64Decode("aGl=", {.nonzero_trailing_bits = true}), Optional(std::string("hi")));
}

TEST(Base64Test, RoundTripsEveryLengthAndByte) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    EXPECT_THAT(Base64Decode(Base64Encode(bytes)), Optional(bytes)) << i;
    EXPECT_THAT(Base64UrlDecode(Base64UrlEncode(bytes)), Optional(bytes)) << i;
    bytes.push_back(static_cast<char>(i * 151 + 7));
  }
}

TEST(Base64UrlTest, Table) {
  struct Case {
    std::string bytes, text;
  };
  const Case cases[] = {
      {"", ""},
      {Bytes({0xfb, 0xff}), "-_8"},
      {Bytes({0xfb, 0xef, 0xff}), "--__"},
      {"{\"alg\":\"PS256\"}", "eyJhbGciOiJQUzI1NiJ9"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Base64UrlEncode(c.bytes), c.text);
    EXPECT_THAT(Base64UrlDecode(c.text), Optional(c.bytes)) << c.text;
  }
  for (std::string_view bad : {"-_8=", "+/8", "-_9", "A", "ey J9", "ey\nJ9"}) {
    EXPECT_EQ(Base64UrlDecode(bad), std::nullopt) << bad;
  }
}

TEST(HexEncodeTest, Table) {
  EXPECT_EQ(HexEncode(std::string_view()), "");
  EXPECT_EQ(HexEncode(Bytes({0x01, 0xab, 0x00, 0xff})), "01ab00ff");
  const uint8_t digest[] = {0xde, 0xad, 0xbe, 0xef};
  EXPECT_EQ(HexEncode(std::span<const uint8_t>(digest)), "deadbeef");
}

TEST(PercentEncodeTest, Table) {
  struct Case {
    std::string_view in, keep, out;
  };
  const Case cases[] = {
      {"", "", ""},
      {"Ab-9._~", "", "Ab-9._~"},
      {"a b'c", "", "a%20b%27c"},
      {"a+b&c=d/\xC3\xA9", "", "a%2Bb%26c%3Dd%2F%C3%A9"},
      {"o'neil@contoso.com", "@", "o%27neil@contoso.com"},
      {"a/b?c#d%e f", "@", "a%2Fb%3Fc%23d%25e%20f"},
      {std::string_view("\0\x7f", 2), "", "%00%7F"},
  };
  for (const Case& c : cases) EXPECT_EQ(PercentEncode(c.in, c.keep), c.out) << c.in;
}

TEST(PercentDecodeTest, Table) {
  struct Case {
    std::string_view in;
    bool plus_is_space;
    std::optional<std::string> out;
  };
  const Case cases[] = {
      {"", false, ""},
      {"a%20b%2Fc%2f", false, "a b/c/"},
      {"a+b", false, "a+b"},
      {"a+b%2B", true, "a b+"},
      {"%C3%A9", true, "\xC3\xA9"},
      {"%00", false, std::string(1, '\0')},
      {"o%27neil%40contoso.com", false, "o'neil@contoso.com"},
      {"abc%", false, std::nullopt},
      {"abc%4", false, std::nullopt},
      {"%zz", false, std::nullopt},
      {"%g0", true, std::nullopt},
      {"100%", true, std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(PercentDecode(c.in, c.plus_is_space), c.out) << c.in;
}

TEST(PercentDecodeTest, InvertsPercentEncode) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  EXPECT_THAT(PercentDecode(PercentEncode(bytes), false), Optional(bytes));
  EXPECT_THAT(PercentDecode(PercentEncode(bytes), true), Optional(bytes));
}

}  // namespace
}  // namespace certdeploy
