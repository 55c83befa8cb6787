// service/internal/scheduler_waves.h: rollout waves and the time formats the REST API accepts.
//
// A rollout deploys its items in waves, each a cumulative percentage of the manifest's rows:
//   [{"percent": 10}, {"percent": 50, "after": "PT2H"}, {"percent": 100, "after": "P1D"}]
// deploys the first 10 % of rows, then (2 hours after that wave finished) up to 50 %, then (a day
// later) the rest. The first wave's `after` delays it from the rollout's startAt. Pure functions.

#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "base/time_format.h"

namespace certdeploy::service {

struct Wave {
  int percent = 100;                  // Cumulative share of the rows, 1..100.
  Duration after = Duration::zero();  // Delay after the previous wave finished (or startAt).
  bool operator==(const Wave&) const = default;
};

// ISO 8601 durations without years or months (their length varies): "PT2H", "P1D", "P1W",
// "P1DT12H", "PT30M", "PT45S", "PT1.5S", "P0D". InvalidArgument otherwise.
Result<Duration> ParseIsoDuration(std::string_view text);
// The shortest form: "PT0S", "PT2H", "P1DT30M", "PT0.25S".
std::string FormatIsoDuration(Duration d);

// RFC 3339 date-times as the REST API accepts them ("startAt"): "2026-11-28T23:00:00Z",
// "2026-11-28T23:00:00.5+01:00" (a 'T' or ' ' separator, 'Z'/'z' or a numeric offset required),
// years 1970 to 2200 only (SystemTime ends in 2262; docs/fuzzing.md row 3). That is
// base/time_format.h's ParseRfc3339 with kApiTimeOptions. InvalidArgument otherwise.
inline constexpr Rfc3339Options kApiTimeOptions = {
    .space_separator = true, .min_year = 1970, .max_year = 2200};
Result<SystemTime> ParseApiTime(std::string_view text);

// Validates the REST "waves" array: 1..20 objects {percent (integer), after? (duration)} with
// strictly increasing percents from 1 to exactly 100 at the last wave. InvalidArgument naming
// the offending index. A null/absent value means one wave of 100 %.
Result<std::vector<Wave>> ParseWaves(const nlohmann::json& waves);
// The store's form: [{"percent":10},{"percent":100,"after":"PT2H"}] ("after" omitted when 0).
std::string WavesToJson(const std::vector<Wave>& waves);
// The inverse of WavesToJson. DataLoss if stored text does not parse.
Result<std::vector<Wave>> WavesFromJson(std::string_view text);

// The wave (1-based) of each of `count` rows in order: row i is in the first wave whose
// ceil(count * percent / 100) exceeds i. So each wave's share is rounded up and the last wave
// takes the rest.
std::vector<int> AssignWaves(int count, const std::vector<Wave>& waves);

}  // namespace certdeploy::service
