// base/percent_decode.h: decoding %XX escapes in URL paths, queries and form bodies.

#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace certdeploy {

// Decodes %XX escapes (either hex case); with `plus_is_space` ('application/x-www-form-urlencoded'
// and query strings) '+' becomes ' '. nullopt for a truncated or non-hex escape.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space);

}  // namespace certdeploy
