// GET /v1/certificates: the tenant's userPfxCertificates with expiry (deploy/inventory.h), read
// from Graph on each request, paged.
//
//   GET /v1/certificates?upn=alice@contoso.com&expiringWithinDays=30&pageSize=100&cursor=100
//   200 {"value": [{userPrincipalName, thumbprint, intendedPurpose, startDateTime,
//                   expirationDateTime, status, supersededBy, id}, ...],
//        "count": <rows in all pages>, "nextLink": "/v1/certificates?...&cursor=200" | absent}
//
// devices=true (only with upn) adds "devices": [{deviceDisplayName, platform, status,
// lastReportedDateTime}] to each object: what devices reported for the imported-PFX profile that
// delivers the certificate (deploy/inventory.h). Without upn it is a 400 of type
// urn:certdeploy:problem:devices-require-upn.

#include <charconv>

#include "config/upn.h"
#include "deploy/inventory.h"
#include "graph/intune.h"
#include "service/internal/api_paging.h"

namespace certdeploy::service {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

// A boolean query parameter: "true" or "false"; false when absent.
std::optional<bool> BoolParam(const http::ServerRequest& r, std::string_view name,
                              Problem& problem) {
  std::optional<std::string> text = r.QueryParam(name);
  if (!text || *text == "false") return false;
  if (*text == "true") return true;
  problem = BadRequest(std::string(name) + " must be true or false");
  return std::nullopt;
}

}  // namespace

http::ServerResponse ListCertificates(ApiContext& ctx, const http::ServerRequest& r) {
  if (ctx.deps.graph == nullptr) {
    return FromStatus(UnavailableError("Graph is not configured"), "reading the tenant")
        .ToResponse();
  }
  Problem problem;
  deploy::InventoryOptions options;
  options.now = ctx.deps.clock->Now();
  options.expiring_days = ctx.deps.config->pfx.expires_soon_days;
  if (std::optional<std::string> upn = r.QueryParam("upn")) {
    if (Status valid = config::ValidateUpn(*upn); !valid.ok()) {
      return BadRequest("upn: " + std::string(valid.message())).ToResponse();
    }
    options.upn = *upn;
  }
  if (r.QueryParam("expiringWithinDays")) {
    std::optional<int> days = IntParam(r, "expiringWithinDays", 0, 36500, problem);
    if (!days) return problem.ToResponse();
    options.expiring_within = *days;
    options.expiring_days = *days;
  }
  std::optional<int> page_size = IntParam(r, "pageSize", kDefaultPageSize, kMaxPageSize, problem);
  if (!page_size) return problem.ToResponse();
  if (*page_size == 0) return BadRequest("pageSize must be at least 1").ToResponse();
  std::optional<int> cursor = IntParam(r, "cursor", 0, 1 << 30, problem);
  if (!cursor) return problem.ToResponse();
  std::optional<bool> devices = BoolParam(r, "devices", problem);
  if (!devices) return problem.ToResponse();
  if (*devices && !options.upn) {
    Problem p = BadRequest(
        "devices=true needs upn: the per-device report is read for one user at a time");
    p.type = "urn:certdeploy:problem:" + std::string(deploy::kDevicesRequireUpn);
    return p.ToResponse();
  }
  options.devices = *devices;

  graph::IntuneApi intune(*ctx.deps.graph);
  Result<std::vector<deploy::InventoryRow>> rows = deploy::ReadInventory(intune, options);
  if (!rows.ok()) return FromStatus(rows.status(), "reading the tenant").ToResponse();

  nlohmann::json value = nlohmann::json::array();
  const size_t begin = std::min(rows->size(), static_cast<size_t>(*cursor));
  const size_t end = std::min(rows->size(), begin + static_cast<size_t>(*page_size));
  for (size_t i = begin; i < end; ++i) value.push_back(deploy::InventoryRowJson((*rows)[i], options.devices));
  nlohmann::json body = {{"value", std::move(value)}, {"count", rows->size()}};
  if (end < rows->size()) {
    std::string next = "/v1/certificates?pageSize=" + std::to_string(*page_size) +
                       "&cursor=" + std::to_string(end);
    if (options.upn) next += "&upn=" + graph::PercentEncodeQueryValue(*options.upn);
    if (options.expiring_within) {
      next += "&expiringWithinDays=" + std::to_string(*options.expiring_within);
    }
    if (options.devices) next += "&devices=true";
    body["nextLink"] = std::move(next);
  }
  return JsonResponse(200, body);
}

}  // namespace certdeploy::service
