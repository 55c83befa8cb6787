// base/encoding.h: byte-to-text encodings: Base64 (RFC 4648 section 4), Base64url (section 5, as
// JWTs use it), lowercase hex and URL percent-encoding (RFC 3986 section 2.1).
//
// Encoders take bytes either as a std::string_view or as a std::span<const uint8_t> and cannot
// fail. Decoders return the bytes in a std::string (binary-safe) or std::nullopt when the text is
// not valid; they never throw and never return partial output. They allocate their result once,
// at its final size, so a caller decoding key material can wipe it without earlier copies
// having been left behind.

#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace certdeploy {

// ---- Base64 ---------------------------------------------------------------------------------

// Standard base64 with '=' padding and no line breaks: Base64Encode("hello") is "aGVsbG8=",
// Base64Encode("") is "".
std::string Base64Encode(std::string_view bytes);
std::string Base64Encode(std::span<const uint8_t> bytes);

// What Base64Decode tolerates beyond canonical base64. The default accepts only canonical text:
// the standard alphabet, padding to a multiple of four characters, zero bits in the unused low
// bits of the last symbol, and nothing else (no whitespace, no '-' or '_').
struct Base64DecodeOptions {
  // Skips ' ', '\t', '\r' and '\n' wherever they appear: PEM bodies, base64 wrapped at 64 or 76
  // columns.
  bool skip_whitespace = false;
  // Accepts text whose padding is left out ("aGk" for "aGk="). Padding that is present must
  // still be right.
  bool padding_optional = false;
  // Accepts non-zero unused bits in the last symbol ("aGl=" decodes like "aGk=", to "hi"), as
  // OpenSSL does.
  bool nonzero_trailing_bits = false;
};

// What the product accepts from PEM files, Graph and the REST API ("pfx" in an enrollment):
// everything above. Characters outside the alphabet, '=' before the end, more than two '=',
// or a length that cannot come from whole bytes are still refused.
inline constexpr Base64DecodeOptions kLenientBase64 = {
    .skip_whitespace = true, .padding_optional = true, .nonzero_trailing_bits = true};

// Decodes standard base64. nullopt when `text` has a character outside the alphabet (other
// than whitespace skipped by `options`), '=' anywhere but at the end, more than two '=',
// padding that does not complete a group of four, or a group of a single symbol; and, unless
// `options` allow them, missing padding or non-zero unused bits. "" decodes to "".
// Examples (default options): "aGVsbG8=" -> "hello"; "aGVsbG8" -> nullopt (no padding);
// "aGV sbG8=" -> nullopt (space); "aGVsbG9=" -> nullopt (trailing bits); "a-_=" -> nullopt.
std::optional<std::string> Base64Decode(std::string_view text,
                                        const Base64DecodeOptions& options = {});

// Base64url without padding (RFC 7515 appendix C), for JWT segments and opaque URL tokens:
// Base64UrlEncode("\xfb\xff") is "-_8".
std::string Base64UrlEncode(std::string_view bytes);
std::string Base64UrlEncode(std::span<const uint8_t> bytes);

// Decodes unpadded base64url. nullopt for any character outside the URL alphabet ('=',
// '+', '/' and whitespace included), a length that leaves a single symbol in the last group, or
// non-zero unused bits: "-_8" -> "\xfb\xff"; "-_8=" -> nullopt.
std::optional<std::string> Base64UrlDecode(std::string_view text);

// ---- Hex ------------------------------------------------------------------------------------

// Two lowercase hex digits per byte: HexEncode("\x01\xab") is "01ab" (digests, thumbprints,
// key identifiers).
std::string HexEncode(std::string_view bytes);
std::string HexEncode(std::span<const uint8_t> bytes);

// ---- Percent-encoding -----------------------------------------------------------------------

// Replaces every byte that is neither an RFC 3986 unreserved character (A-Z a-z 0-9 - . _ ~) nor
// listed in `keep` by "%XX" (upper-case hex, as RFC 3986 recommends). UTF-8 is encoded byte by
// byte. PercentEncode("a b/é") is "a%20b%2F%C3%A9"; PercentEncode("o'neil@x", "@") is
// "o%27neil@x".
std::string PercentEncode(std::string_view s, std::string_view keep = {});

// Decodes %XX escapes (either hex case) in URL paths, query strings and form bodies; with
// `plus_is_space` (query strings and application/x-www-form-urlencoded) '+' becomes ' ',
// otherwise it is kept. nullopt for a truncated ("%4") or non-hex ("%zz") escape: malformed
// input is refused, never passed through. The result may hold any byte, NUL included.
// PercentDecode("a%20b+c", true) is "a b c"; PercentDecode("a+b", false) is "a+b".
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space);

}  // namespace certdeploy
