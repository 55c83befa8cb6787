// graph/internal/time_util.h: parsing the two date formats Graph sends.

#pragma once

#include <optional>
#include <string_view>

#include "base/clock.h"

namespace certdeploy::graph::internal {

// Parses an HTTP-date in IMF-fixdate form, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7).
// The weekday is not checked. nullopt when malformed.
std::optional<SystemTime> ParseHttpDate(std::string_view text);

// Parses RFC 3339 date-time with a mandatory offset: "2026-01-01T00:00:00Z",
// "2026-01-01T00:00:00.1234567+01:00" (fractions kept to the microsecond). nullopt when malformed.
std::optional<SystemTime> ParseRfc3339(std::string_view text);

}  // namespace certdeploy::graph::internal
