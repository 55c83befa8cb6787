// Waves, ISO 8601 durations and RFC 3339 times for rollouts.

#include "service/internal/scheduler_waves.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>

namespace certdeploy::service {
namespace {

bool Digits(std::string_view s, size_t at, size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

Status BadDuration(std::string_view text) {
  return InvalidArgumentError("'" + std::string(text) +
                              "' is not an ISO 8601 duration such as PT2H, P1D or P1DT30M "
                              "(years and months are not accepted)");
}

}  // namespace

Result<Duration> ParseIsoDuration(std::string_view text) {
  if (text.size() < 3 || text.size() > 64 || text[0] != 'P') return BadDuration(text);
  bool in_time = false;
  bool any = false;
  double seconds = 0;
  std::string last_units;  // Units must appear in order, once each.
  const std::string order_date = "WD";
  const std::string order_time = "HMS";
  size_t i = 1;
  while (i < text.size()) {
    if (text[i] == 'T') {
      if (in_time || i + 1 == text.size()) return BadDuration(text);
      in_time = true;
      last_units.clear();
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    if (i == start || i == text.size()) return BadDuration(text);
    const std::string number(text.substr(start, i - start));
    if (number.find('.') != std::string::npos && (!in_time || text[i] != 'S')) {
      return BadDuration(text);  // Fractions only on seconds.
    }
    char* end = nullptr;
    const double value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) return BadDuration(text);
    const char unit = text[i++];
    const std::string& order = in_time ? order_time : order_date;
    const size_t pos = order.find(unit);
    if (pos == std::string::npos) return BadDuration(text);
    if (!last_units.empty() && order.find(last_units.back()) >= pos) return BadDuration(text);
    last_units.push_back(unit);
    static const double kDate[] = {7 * 86400.0, 86400.0};
    static const double kTime[] = {3600.0, 60.0, 1.0};
    seconds += value * (in_time ? kTime[pos] : kDate[pos]);
    any = true;
  }
  if (!any || seconds > 366.0 * 86400 * 10) return BadDuration(text);
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

std::string FormatIsoDuration(Duration d) {
  using namespace std::chrono;
  if (d <= Duration::zero()) return "PT0S";
  const int64_t total_ms = duration_cast<milliseconds>(d).count();
  int64_t seconds = total_ms / 1000;
  const int64_t ms = total_ms % 1000;
  const int64_t days = seconds / 86400;
  seconds %= 86400;
  const int64_t hours = seconds / 3600, minutes = (seconds % 3600) / 60, secs = seconds % 60;
  std::string out = "P";
  if (days > 0) out += std::to_string(days) + "D";
  if (hours || minutes || secs || ms) {
    out += "T";
    if (hours) out += std::to_string(hours) + "H";
    if (minutes) out += std::to_string(minutes) + "M";
    if (secs || ms) {
      out += std::to_string(secs);
      if (ms) {
        std::string frac = std::to_string(1000 + ms).substr(1);
        while (frac.back() == '0') frac.pop_back();
        out += "." + frac;
      }
      out += "S";
    }
  }
  return out;
}

Result<SystemTime> ParseRfc3339(std::string_view s) {
  auto bad = [&] {
    return InvalidArgumentError("'" + std::string(s.substr(0, 64)) +
                                "' is not an RFC 3339 date-time such as 2026-11-28T23:00:00Z");
  };
  int year, month, day, hour, minute, second;
  if (s.size() < 20 || !Digits(s, 0, 4, year) || s[4] != '-' || !Digits(s, 5, 2, month) ||
      s[7] != '-' || !Digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, hour) || s[13] != ':' || !Digits(s, 14, 2, minute) || s[16] != ':' ||
      !Digits(s, 17, 2, second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return bad();
  }
  // SystemTime counts nanoseconds since 1970: only years up to 2262 fit (found by fuzzing).
  if (year < 1970 || year > 2200) {
    return InvalidArgumentError("'" + std::string(s.substr(0, 64)) +
                                "' is out of range: years 1970 to 2200 only");
  }
  size_t i = 19;
  int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int64_t scale = 100000000;
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      nanos += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return bad();
  }
  int offset_minutes = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!Digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !Digits(s, i + 4, 2, om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_minutes = (s[i] == '+' ? 1 : -1) * (oh * 60 + om);
    i += 6;
  } else {
    return bad();
  }
  if (i != s.size()) return bad();
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const time_t t = timegm(&tm);
  if (tm.tm_mday != day) return bad();  // timegm normalised an impossible date (Feb 30).
  return SystemTime(std::chrono::seconds(t - offset_minutes * 60)) +
         std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(nanos));
}

Result<std::vector<Wave>> ParseWaves(const nlohmann::json& waves) {
  if (waves.is_null()) return std::vector<Wave>{Wave{}};
  if (!waves.is_array() || waves.empty() || waves.size() > 20) {
    return InvalidArgumentError("waves: expected an array of 1 to 20 objects");
  }
  std::vector<Wave> out;
  for (size_t i = 0; i < waves.size(); ++i) {
    const nlohmann::json& w = waves[i];
    const std::string where = "waves[" + std::to_string(i) + "]";
    if (!w.is_object()) return InvalidArgumentError(where + ": expected an object");
    for (const auto& [key, value] : w.items()) {
      if (key != "percent" && key != "after") {
        return InvalidArgumentError(where + "." + key + ": unknown field");
      }
    }
    if (!w.contains("percent") || !w["percent"].is_number_integer()) {
      return InvalidArgumentError(where + ".percent: expected an integer 1..100");
    }
    Wave wave;
    wave.percent = w["percent"].get<int>();
    const int previous = out.empty() ? 0 : out.back().percent;
    if (wave.percent <= previous || wave.percent > 100) {
      return InvalidArgumentError(where + ".percent: must be greater than the previous wave's (" +
                                  std::to_string(previous) + ") and at most 100");
    }
    if (w.contains("after")) {
      if (!w["after"].is_string()) return InvalidArgumentError(where + ".after: expected a string");
      Result<Duration> after = ParseIsoDuration(w["after"].get<std::string>());
      if (!after.ok()) return Status(after.status()).WithContext(where + ".after");
      wave.after = *after;
    }
    out.push_back(wave);
  }
  if (out.back().percent != 100) {
    return InvalidArgumentError("waves: the last wave must reach 100 percent");
  }
  return out;
}

std::string WavesToJson(const std::vector<Wave>& waves) {
  nlohmann::json out = nlohmann::json::array();
  for (const Wave& w : waves) {
    nlohmann::json j = {{"percent", w.percent}};
    if (w.after > Duration::zero()) j["after"] = FormatIsoDuration(w.after);
    out.push_back(std::move(j));
  }
  return out.dump();
}

Result<std::vector<Wave>> WavesFromJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return DataLossError("stored rollout waves are not JSON");
  Result<std::vector<Wave>> waves = ParseWaves(j);
  if (!waves.ok())
    return DataLossError("stored rollout waves are invalid: " +
                         std::string(waves.status().message()));
  return waves;
}

std::vector<int> AssignWaves(int count, const std::vector<Wave>& waves) {
  std::vector<int> out(static_cast<size_t>(std::max(0, count)), static_cast<int>(waves.size()));
  int from = 0;
  for (size_t w = 0; w < waves.size(); ++w) {
    const int until = static_cast<int>(
        std::min<int64_t>(count, (static_cast<int64_t>(count) * waves[w].percent + 99) / 100));
    for (int i = from; i < until; ++i) out[static_cast<size_t>(i)] = static_cast<int>(w) + 1;
    from = std::max(from, until);
  }
  return out;
}

}  // namespace certdeploy::service
