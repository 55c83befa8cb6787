// service/internal/api_paging.h: query parameters and keyset paging shared by the list endpoints
// (GET /v1/certificates, /v1/rollouts, /v1/rollouts/{id}/items, /v1/enrollments, /v1/audit).
//
// A page is asked for with ?limit=N (1..200, default 50) and ?cursor=C, where C is the opaque
// `next` link's cursor from the previous page. A cursor is base64url text naming the last row
// shown (its creation time, manifest line and id), so a page starts right after that row however
// many rows were added meanwhile. A malformed cursor or limit is a 400 problem.

#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "service/internal/api_handlers.h"
#include "store/job.h"

namespace certdeploy::service {

// A non-negative integer query parameter no larger than `max`; `fallback` when absent. nullopt
// (with `problem` set to a 400) when it is not such an integer.
std::optional<int> IntParam(const http::ServerRequest& r, std::string_view name, int fallback,
                            int max, Problem& problem);

// ?limit= and ?cursor= of a list request.
struct PageRequest {
  int limit = 50;
  std::optional<store::PagePosition> after;
};
inline constexpr int kDefaultPageLimit = 50;
inline constexpr int kMaxPageLimit = 200;
// nullopt (with `problem` set to a 400 invalid-request) for a bad limit or cursor.
std::optional<PageRequest> ParsePageRequest(const http::ServerRequest& r, Problem& problem);

// The cursor text for a page that ended at `last`, and its inverse (nullopt when malformed).
std::string EncodeCursor(const store::PagePosition& last);
std::optional<store::PagePosition> DecodeCursor(std::string_view cursor);

// "<path>?<name>=<value>&...&limit=<limit>&cursor=<cursor>", values percent-encoded; parameters
// with an empty value are left out. What a list answers as `next`.
std::string NextLink(std::string_view path,
                     const std::vector<std::pair<std::string, std::string>>& params, int limit,
                     const store::PagePosition& last);

}  // namespace certdeploy::service
