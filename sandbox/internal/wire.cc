#include "sandbox/internal/wire.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>

namespace certdeploy::sandbox::internal {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Encode(std::string_view bytes, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                 (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    if (pad) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

// Decodes unpadded symbols of `alphabet`; refuses non-zero trailing bits.
std::optional<std::string> Decode(std::string_view text, const char* alphabet) {
  std::array<int, 256> table;
  table.fill(-1);
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(alphabet[i])] = i;
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = table[static_cast<uint8_t>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ParseDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

std::tm UtcTm(SystemTime t) {
  std::time_t secs =
      std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

}  // namespace

std::optional<std::string> HeaderValue(const http::HeaderMap& headers, std::string_view name) {
  auto it = headers.find(ToLower(name));
  if (it != headers.end()) return it->second;
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

std::optional<std::string> Operation::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::string PercentEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : in) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view raw) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('&', start);
    if (end == std::string_view::npos) end = raw.size();
    std::string_view part = raw.substr(start, end - start);
    if (!part.empty()) {
      size_t eq = part.find('=');
      auto key = PercentDecode(part.substr(0, eq), true);
      auto value = eq == std::string_view::npos ? std::optional<std::string>("")
                                                : PercentDecode(part.substr(eq + 1), true);
      if (!key || !value) return std::nullopt;
      out.emplace_back(std::move(*key), std::move(*value));
    }
    start = end + 1;
  }
  return out;
}

std::string EncodeBase64(std::string_view bytes) { return Encode(bytes, kB64, true); }

std::optional<std::string> DecodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  return Decode(text.substr(0, text.size() - pad), kB64);
}

std::string EncodeBase64Url(std::string_view bytes) { return Encode(bytes, kB64Url, false); }

std::optional<std::string> DecodeBase64Url(std::string_view text) { return Decode(text, kB64Url); }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::optional<SystemTime> ParseRfc3339(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (s.size() < 20 || !ParseDigits(s, 0, 4, &year) || s[4] != '-' ||
      !ParseDigits(s, 5, 2, &month) || s[7] != '-' || !ParseDigits(s, 8, 2, &day) || s[10] != 'T' ||
      !ParseDigits(s, 11, 2, &hour) || s[13] != ':' || !ParseDigits(s, 14, 2, &minute) ||
      s[16] != ':' || !ParseDigits(s, 17, 2, &second)) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] ||
      (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    int64_t scale = 100000000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        nanos += (s[pos] - '0') * scale;
        scale /= 10;
      }
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!ParseDigits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ParseDigits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;  // No offset: refused, as the brief (and DateTimeOffset) requires.
  }
  if (pos != s.size()) return std::nullopt;
  int64_t secs =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return SystemTime(std::chrono::duration_cast<SystemTime::duration>(
      std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos)));
}

std::string FormatDateTime(SystemTime t) {
  auto whole = std::chrono::floor<std::chrono::seconds>(t);
  std::string base = FormatRfc3339Utc(whole);  // "...Z"
  auto frac = std::chrono::duration_cast<std::chrono::nanoseconds>(t - whole).count();
  if (frac == 0) return base;
  char buf[32];
  std::snprintf(buf, sizeof(buf), ".%07lld", static_cast<long long>(frac / 100));
  std::string f(buf);
  while (f.size() > 2 && f.back() == '0') f.pop_back();
  base.insert(base.size() - 1, f);
  return base;
}

std::string FormatHttpDate(SystemTime t) {
  std::tm tm = UtcTm(t);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

int64_t ToUnixMillis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SystemTime FromUnixMillis(int64_t ms) {
  return SystemTime(
      std::chrono::duration_cast<SystemTime::duration>(std::chrono::milliseconds(ms)));
}

json GraphErrorBody(const RequestContext& ctx, std::string_view code, std::string_view message) {
  std::string date = FormatRfc3339Utc(ctx.now);
  if (!date.empty() && date.back() == 'Z') date.pop_back();
  return json{{"error",
               {{"code", code},
                {"message", message},
                {"innerError",
                 {{"date", date},
                  {"request-id", ctx.request_id},
                  {"client-request-id", ctx.client_request_id}}}}}};
}

Reply GraphError(const RequestContext& ctx, int status, std::string_view code,
                 std::string_view message) {
  Reply reply;
  reply.status = status;
  reply.body = GraphErrorBody(ctx, code, message);
  return reply;
}

Reply FromRefusal(const RequestContext& ctx, const Refusal& refusal) {
  Reply reply = GraphError(ctx, refusal.status, refusal.code, refusal.message);
  reply.rejection = refusal.reason;
  return reply;
}

Reply Throttled(const RequestContext& ctx, int64_t retry_after_seconds) {
  std::string date = FormatRfc3339Utc(ctx.now);
  if (!date.empty() && date.back() == 'Z') date.pop_back();
  Reply reply;
  reply.status = 429;
  reply.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  reply.body = json{{"error",
                     {{"code", "TooManyRequests"},
                      {"innerError",
                       {{"code", "429"},
                        {"date", date},
                        {"message", "Please retry after"},
                        {"request-id", ctx.request_id},
                        {"client-request-id", ctx.client_request_id},
                        {"status", "429"}}},
                      {"message", "Please retry again later."}}}};
  return reply;
}

std::string IntuneOpaqueMessage(const RequestContext& ctx, std::string_view url_path) {
  json inner = {{"_version", 3},
                {"Message", "An error has occurred - Operation ID (for customer support): " +
                                ctx.request_id + " - Activity ID: " + ctx.client_request_id +
                                " - Url: https://fef.sandbox.manage.microsoft.com/RACerts/"
                                "StatelessImportPFXService/" +
                                std::string(url_path) + "?api-version=5021-04-09"},
                {"CustomApiErrorPhrase", ""},
                {"RetryAfter", nullptr},
                {"ErrorSourceService", ""},
                {"HttpHeaders", "{}"}};
  return inner.dump(-1, ' ', false, json::error_handler_t::replace);
}

http::ServerResponse ToServerResponse(const RequestContext& ctx, const Reply& reply) {
  http::ServerResponse response;
  response.status = reply.status;
  response.headers.emplace("request-id", ctx.request_id);
  response.headers.emplace("client-request-id", ctx.client_request_id);
  response.headers.emplace("date", FormatHttpDate(ctx.now));
  for (const auto& [name, value] : reply.headers) response.headers.emplace(ToLower(name), value);
  if (reply.body.has_value()) {
    response.headers.emplace("content-type", "application/json; charset=utf-8");
    response.body = reply.body->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return response;
}

}  // namespace certdeploy::sandbox::internal
