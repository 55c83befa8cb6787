#include "base/time_format.h"

#include <array>
#include <cstdio>

namespace certdeploy {
namespace {

using TimePoint = std::chrono::system_clock::time_point;
using Rep = TimePoint::duration;

// The whole seconds since the epoch a TimePoint holds with any fraction: [kMinSeconds,
// kMaxSeconds], plus a fraction up to Rep::max() at the top (2262-04-11T23:47:16.854775807Z).
constexpr int64_t kMaxSeconds =
    std::chrono::duration_cast<std::chrono::seconds>(Rep::max()).count();
constexpr int64_t kMinSeconds =
    std::chrono::duration_cast<std::chrono::seconds>(Rep::min()).count();

constexpr std::array<std::string_view, 7> kDayNames = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> kMonthNames = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month, day, hour, minute, second;
  unsigned weekday;  // 0 = Sunday.
};

// The UTC calendar fields of `secs` seconds since the epoch (H. Hinnant's civil_from_days).
Civil CivilFromSeconds(int64_t secs) {
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  Civil c{};
  c.hour = static_cast<unsigned>(rem / 3600);
  c.minute = static_cast<unsigned>(rem % 3600 / 60);
  c.second = static_cast<unsigned>(rem % 60);
  c.weekday = static_cast<unsigned>((days % 7 + 11) % 7);  // 1970-01-01 was a Thursday.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = static_cast<int64_t>(yoe) + era * 400 + (c.month <= 2);
  return c;
}

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Reads exactly `n` ASCII digits at `pos`, advancing it.
bool ReadDigits(std::string_view s, size_t& pos, size_t n, int& value) {
  if (pos + n > s.size()) return false;
  value = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

enum class Fit { kFits, kTooEarly, kTooLate };

// Whether `secs` seconds plus `nanos` (0 <= nanos < 1e9) since the epoch fit a TimePoint, and
// the TimePoint when they do.
Fit MakeTimePoint(int64_t secs, int64_t nanos, TimePoint& out) {
  const Rep fraction = std::chrono::duration_cast<Rep>(std::chrono::nanoseconds(nanos));
  if (secs < kMinSeconds) return Fit::kTooEarly;
  if (secs > kMaxSeconds) return Fit::kTooLate;
  const Rep whole = std::chrono::duration_cast<Rep>(std::chrono::seconds(secs));
  if (secs == kMaxSeconds && fraction > Rep::max() - whole) return Fit::kTooLate;
  out = TimePoint(whole + fraction);
  return Fit::kFits;
}

std::string Quoted(std::string_view text) {
  std::string out = "'";
  out.append(text.substr(0, 64));
  if (text.size() > 64) out.append("...");
  out.push_back('\'');
  return out;
}

Status NotRepresentable(std::string_view text) {
  return InvalidArgumentError(Quoted(text) +
                              " is out of range: only 1677-09-21T00:12:44Z to "
                              "2262-04-11T23:47:16Z can be represented");
}

// "YYYY-MM-DDThh:mm:ss" of `secs` in UTC.
std::string FormatSeconds(int64_t secs, char* buf, size_t size) {
  const Civil c = CivilFromSeconds(secs);
  std::snprintf(buf, size, "%04lld-%02u-%02uT%02u:%02u:%02u", static_cast<long long>(c.year),
                c.month, c.day, c.hour, c.minute, c.second);
  return buf;
}

// Whole seconds of `t` (rounded down) and the rest, in nanoseconds. Computed without converting
// the seconds back to a TimePoint, which would overflow within a second of TimePoint::min().
std::pair<int64_t, int64_t> Split(TimePoint t) {
  const Rep since_epoch = t.time_since_epoch();
  int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
  Rep rest = since_epoch - std::chrono::duration_cast<Rep>(std::chrono::seconds(secs));
  if (rest < Rep::zero()) {  // duration_cast truncated toward zero; round down instead.
    --secs;
    rest += std::chrono::duration_cast<Rep>(std::chrono::seconds(1));
  }
  return {secs, std::chrono::duration_cast<std::chrono::nanoseconds>(rest).count()};
}

}  // namespace

Result<TimePoint> ParseRfc3339(std::string_view s, const Rfc3339Options& options) {
  auto bad = [&] {
    return InvalidArgumentError(Quoted(s) +
                                " is not an RFC 3339 date-time such as 2026-11-28T23:00:00Z");
  };
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(s, pos, 4, year) || !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, month) ||
      !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, day) || pos >= s.size()) {
    return bad();
  }
  const char separator = s[pos++];
  if (separator != 'T' && !(options.lower_case && separator == 't') &&
      !(options.space_separator && separator == ' ')) {
    return bad();
  }
  if (!ReadDigits(s, pos, 2, hour) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, minute) ||
      !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, second)) {
    return bad();
  }
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    const size_t start = ++pos;
    int64_t scale = 100000000;
    for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos) {
      nanos += (s[pos] - '0') * scale;  // Digits past the ninth add 0.
      scale /= 10;
    }
    if (pos == start) return bad();
  }
  int offset_minutes = 0;
  if (pos >= s.size()) return bad();  // The offset is mandatory.
  if (s[pos] == 'Z' || (options.lower_case && s[pos] == 'z')) {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    const int sign = s[pos++] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!ReadDigits(s, pos, 2, oh) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, om) ||
        oh > 23 || om > 59) {
      return bad();
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  if (month < 1 || month > 12 || day < 1 ||
      static_cast<unsigned>(day) > DaysInMonth(year, static_cast<unsigned>(month)) || hour > 23 ||
      minute > 59 || second > (options.leap_second ? 60 : 59)) {
    return bad();
  }
  if (year < options.min_year || year > options.max_year) {
    return InvalidArgumentError(Quoted(s) + " is out of range: years " +
                                std::to_string(options.min_year) + " to " +
                                std::to_string(options.max_year) + " only");
  }
  const int64_t secs =
      DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + second - int64_t{offset_minutes} * 60;
  TimePoint t;
  switch (MakeTimePoint(secs, nanos, t)) {
    case Fit::kFits:
      return t;
    case Fit::kTooEarly:
      if (options.clamp_to_representable) return TimePoint::min();
      return NotRepresentable(s);
    case Fit::kTooLate:
      if (options.clamp_to_representable) return TimePoint::max();
      return NotRepresentable(s);
  }
  return bad();
}

std::string FormatRfc3339Utc(TimePoint t) {
  char buf[48];
  return FormatSeconds(Split(t).first, buf, sizeof(buf)) + "Z";
}

std::string FormatRfc3339UtcMillis(TimePoint t) {
  const auto [secs, nanos] = Split(t);
  char buf[48];
  std::string out = FormatSeconds(secs, buf, sizeof(buf));
  std::snprintf(buf, sizeof(buf), ".%03lldZ", static_cast<long long>(nanos / 1000000));
  return out + buf;
}

std::string FormatRfc3339UtcTicks(TimePoint t) {
  const auto [secs, nanos] = Split(t);
  char buf[48];
  std::string out = FormatSeconds(secs, buf, sizeof(buf));
  if (const int64_t ticks = nanos / 100; ticks != 0) {
    std::snprintf(buf, sizeof(buf), ".%07lld", static_cast<long long>(ticks));
    std::string fraction(buf);
    while (fraction.back() == '0') fraction.pop_back();
    out += fraction;
  }
  return out + "Z";
}

Result<TimePoint> ParseHttpDate(std::string_view s) {
  auto bad = [&] {
    return InvalidArgumentError(Quoted(s) +
                                " is not an HTTP-date such as Sun, 06 Nov 1994 08:49:37 GMT");
  };
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  // "Sun, 06 Nov 1994 08:49:37 GMT": exactly 29 characters.
  if (s.size() != 29) return bad();
  bool known_day = false;
  for (std::string_view name : kDayNames) known_day = known_day || s.substr(0, 3) == name;
  unsigned month = 0;
  for (size_t i = 0; i < kMonthNames.size(); ++i) {
    if (s.substr(8, 3) == kMonthNames[i]) month = static_cast<unsigned>(i) + 1;
  }
  size_t pos = 3;
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!known_day || month == 0 || !Expect(s, pos, ',') || !Expect(s, pos, ' ') ||
      !ReadDigits(s, pos, 2, day) || !Expect(s, pos, ' ')) {
    return bad();
  }
  pos += 3;  // The month, read above.
  if (!Expect(s, pos, ' ') || !ReadDigits(s, pos, 4, year) || !Expect(s, pos, ' ') ||
      !ReadDigits(s, pos, 2, hour) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, minute) ||
      !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, second) || s.substr(pos) != " GMT") {
    return bad();
  }
  if (day < 1 || static_cast<unsigned>(day) > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return bad();
  }
  const int64_t secs = DaysFromCivil(year, month, static_cast<unsigned>(day)) * 86400 +
                       hour * 3600 + minute * 60 + second;
  TimePoint t;
  if (MakeTimePoint(secs, 0, t) != Fit::kFits) return NotRepresentable(s);
  return t;
}

std::string FormatHttpDate(TimePoint t) {
  const Civil c = CivilFromSeconds(Split(t).first);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s, %02u %s %04lld %02u:%02u:%02u GMT",
                kDayNames[c.weekday].data(), c.day, kMonthNames[c.month - 1].data(),
                static_cast<long long>(c.year), c.hour, c.minute, c.second);
  return buf;
}

}  // namespace certdeploy
