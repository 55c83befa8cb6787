// Query parameters and keyset paging for the list endpoints (api_paging.h).

#include "service/internal/api_paging.h"

#include <charconv>

#include "base/encoding.h"
#include "base/strings.h"

namespace certdeploy::service {
namespace {

// Parses a whole decimal integer; false for anything else.
template <typename T>
bool ParseWhole(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

std::optional<int> IntParam(const http::ServerRequest& r, std::string_view name, int fallback,
                            int max, Problem& problem) {
  std::optional<std::string> text = r.QueryParam(name);
  if (!text) return fallback;
  int value = 0;
  if (!ParseWhole(*text, value) || value < 0 || value > max) {
    problem = BadRequest(std::string(name) + " must be an integer from 0 to " + std::to_string(max));
    return std::nullopt;
  }
  return value;
}

std::optional<PageRequest> ParsePageRequest(const http::ServerRequest& r, Problem& problem) {
  PageRequest page;
  std::optional<int> limit = IntParam(r, "limit", kDefaultPageLimit, kMaxPageLimit, problem);
  if (!limit) return std::nullopt;
  if (*limit == 0) {
    problem = BadRequest("limit must be at least 1");
    return std::nullopt;
  }
  page.limit = *limit;
  if (std::optional<std::string> cursor = r.QueryParam("cursor")) {
    page.after = DecodeCursor(*cursor);
    if (!page.after) {
      // Never echoed: a cursor is client text.
      problem = BadRequest("cursor: not a cursor this API handed out (use the `next` link)");
      return std::nullopt;
    }
  }
  return page;
}

// Cursor text: base64url of "<created_at ms>:<manifest line>:<id>".
std::string EncodeCursor(const store::PagePosition& last) {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(last.created_at.time_since_epoch())
          .count();
  return Base64UrlEncode(std::to_string(ms) + ":" + std::to_string(last.manifest_line) + ":" +
                         last.id);
}

std::optional<store::PagePosition> DecodeCursor(std::string_view cursor) {
  if (cursor.empty() || cursor.size() > 256) return std::nullopt;
  std::optional<std::string> text = Base64UrlDecode(cursor);
  if (!text) return std::nullopt;
  const size_t first = text->find(':');
  if (first == std::string::npos) return std::nullopt;
  const size_t second = text->find(':', first + 1);
  if (second == std::string::npos) return std::nullopt;
  int64_t ms = 0;
  store::PagePosition out;
  if (!ParseWhole(std::string_view(*text).substr(0, first), ms) || ms < 0) return std::nullopt;
  if (!ParseWhole(std::string_view(*text).substr(first + 1, second - first - 1),
                  out.manifest_line) ||
      out.manifest_line < 0) {
    return std::nullopt;
  }
  out.id = text->substr(second + 1);
  if (out.id.empty() || out.id.size() > 64) return std::nullopt;
  out.created_at = SystemTime(std::chrono::duration_cast<SystemTime::duration>(
      std::chrono::milliseconds(ms)));
  return out;
}

std::string NextLink(std::string_view path,
                     const std::vector<std::pair<std::string, std::string>>& params, int limit,
                     const store::PagePosition& last) {
  std::string link(path);
  char sep = '?';
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    link += sep + name + "=" + PercentEncode(value);
    sep = '&';
  }
  link += sep + std::string("limit=") + std::to_string(limit) + "&cursor=" + EncodeCursor(last);
  return link;
}

}  // namespace certdeploy::service
