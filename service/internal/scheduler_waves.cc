// Waves, ISO 8601 durations and RFC 3339 times for rollouts.

#include "service/internal/scheduler_waves.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "base/time_format.h"

namespace certdeploy::service {
namespace {

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

Result<SystemTime> ParseApiTime(std::string_view text) {
  return ParseRfc3339(text, kApiTimeOptions);
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
