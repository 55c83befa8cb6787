#include "base/encoding.h"

#include <array>

#include "base/secret.h"

namespace certdeploy {
namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kBase64UrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string_view AsChars(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Symbol value of each byte in `alphabet`, -1 for bytes outside it.
using DecodeTable = std::array<int8_t, 256>;

constexpr DecodeTable MakeTable(const char* alphabet) {
  DecodeTable table{};
  for (int8_t& v : table) v = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr DecodeTable kBase64Table = MakeTable(kBase64Alphabet);
constexpr DecodeTable kBase64UrlTable = MakeTable(kBase64UrlAlphabet);

std::string Encode(std::string_view bytes, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16) |
                 (static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

bool IsSkippableWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Decodes `text` over `table`. `padding_allowed` says whether '=' may end it at all (never in
// base64url). Validates everything before writing, so the output is allocated once.
std::optional<std::string> Decode(std::string_view text, const DecodeTable& table,
                                  bool padding_allowed, const Base64DecodeOptions& options) {
  size_t symbols = 0;
  size_t padding = 0;
  for (char c : text) {
    if (options.skip_whitespace && IsSkippableWhitespace(c)) continue;
    if (c == '=' && padding_allowed) {
      ++padding;
    } else if (padding != 0 || table[static_cast<uint8_t>(c)] < 0) {
      return std::nullopt;  // Outside the alphabet, or a symbol after '='.
    } else {
      ++symbols;
    }
  }
  const size_t tail = symbols % 4;  // Symbols in the last, partial group.
  if (tail == 1 || padding > 2) return std::nullopt;
  if (padding != 0 && (tail + padding) % 4 != 0) return std::nullopt;
  if (padding == 0 && tail != 0 && padding_allowed && !options.padding_optional) {
    return std::nullopt;
  }

  std::string out(symbols / 4 * 3 + (tail == 0 ? 0 : tail - 1), '\0');
  size_t written = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int8_t v = table[static_cast<uint8_t>(c)];
    if (v < 0) continue;  // Whitespace or padding, checked above.
    acc = ((acc << 6) | static_cast<uint32_t>(v)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[written++] = static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (!options.nonzero_trailing_bits && bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    SecureWipe(out.data(), out.size());  // It may be key material (see the header).
    return std::nullopt;
  }
  return out;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) { return Encode(bytes, kBase64Alphabet, true); }

std::string Base64Encode(std::span<const uint8_t> bytes) { return Base64Encode(AsChars(bytes)); }

std::optional<std::string> Base64Decode(std::string_view text, const Base64DecodeOptions& options) {
  return Decode(text, kBase64Table, /*padding_allowed=*/true, options);
}

std::string Base64UrlEncode(std::string_view bytes) {
  return Encode(bytes, kBase64UrlAlphabet, false);
}

std::string Base64UrlEncode(std::span<const uint8_t> bytes) {
  return Base64UrlEncode(AsChars(bytes));
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  return Decode(text, kBase64UrlTable, /*padding_allowed=*/false, Base64DecodeOptions{});
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    auto b = static_cast<uint8_t>(ch);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::string HexEncode(std::span<const uint8_t> bytes) { return HexEncode(AsChars(bytes)); }

std::string PercentEncode(std::string_view s, std::string_view keep) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || keep.find(ch) != std::string_view::npos) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0f]);
    }
  }
  return out;
}

std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace certdeploy
