#include "graph/internal/time_util.h"

#include <array>
#include <chrono>
#include <string>

namespace certdeploy::graph::internal {
namespace {

// Reads exactly `n` digits at `pos`, advancing it.
bool ReadDigits(std::string_view s, size_t& pos, size_t n, int& value) {
  if (pos + n > s.size()) return false;
  value = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
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

std::optional<SystemTime> MakeTime(int year, int month, int day, int hour, int minute, int second) {
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                     std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  return SystemTime(sys_days(ymd)) + hours(hour) + minutes(minute) + seconds(second);
}

}  // namespace

std::optional<SystemTime> ParseHttpDate(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  size_t comma = s.find(", ");
  if (comma != 3) return std::nullopt;
  size_t pos = comma + 2;
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(s, pos, 2, day) || !Expect(s, pos, ' ')) return std::nullopt;
  if (pos + 4 > s.size()) return std::nullopt;
  std::string_view month_name = s.substr(pos, 3);
  int month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == month_name) month = static_cast<int>(i) + 1;
  }
  pos += 3;
  if (month == 0 || !Expect(s, pos, ' ') || !ReadDigits(s, pos, 4, year) || !Expect(s, pos, ' ') ||
      !ReadDigits(s, pos, 2, hour) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, minute) ||
      !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, second)) {
    return std::nullopt;
  }
  if (s.substr(pos) != " GMT") return std::nullopt;
  return MakeTime(year, month, day, hour, minute, second);
}

std::optional<SystemTime> ParseRfc3339(std::string_view s) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(s, pos, 4, year) || !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, month) ||
      !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, day)) {
    return std::nullopt;
  }
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't')) return std::nullopt;
  ++pos;
  if (!ReadDigits(s, pos, 2, hour) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, minute) ||
      !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, second)) {
    return std::nullopt;
  }
  std::chrono::microseconds fraction{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t micros = 0;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) {
        micros = micros * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (pos == start) return std::nullopt;
    while (digits++ < 6) micros *= 10;
    fraction = std::chrono::microseconds(micros);
  }
  if (pos >= s.size()) return std::nullopt;  // The offset is mandatory.
  std::chrono::minutes offset{0};
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!ReadDigits(s, pos, 2, oh) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = std::chrono::minutes(sign * (oh * 60 + om));
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  std::optional<SystemTime> t = MakeTime(year, month, day, hour, minute, second);
  if (!t) return std::nullopt;
  return *t + fraction - offset;
}

}  // namespace certdeploy::graph::internal
