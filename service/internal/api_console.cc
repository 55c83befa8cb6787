// What the operator console needs beyond the REST lists: its own files under /ui/ (public, like
// any static page: the files hold no data, and every call they make needs an API key) and the
// throughput history behind the budget chart (GET /v1/throughput, scope read).

#include <string_view>

#include "service/internal/api_handlers.h"
#include "service/internal/throughput.h"
#include "service/internal/ui_assets.h"

namespace certdeploy::service {

bool IsConsolePath(std::string_view path) {
  return path == "/ui" || path.substr(0, 4) == "/ui/";
}

http::ServerResponse ServeConsole(const http::ServerRequest& r) {
  if (r.method != "GET" && r.method != "HEAD") {
    Problem p;
    p.status = 405;
    p.detail = "the console's files support GET only";
    p.allow = {"GET"};
    return p.ToResponse();
  }
  if (r.path == "/ui") {
    http::ServerResponse moved;
    moved.status = 308;
    moved.headers.emplace("location", "/ui/");
    return moved;
  }
  std::string_view name = std::string_view(r.path).substr(4);
  if (name.empty()) name = "index.html";
  for (const UiAsset& asset : UiAssets()) {
    if (asset.name != name) continue;
    http::ServerResponse resp;
    resp.status = 200;
    resp.headers.emplace("content-type", std::string(asset.content_type));
    // The files change only with the binary; revalidating each load keeps an upgrade visible.
    resp.headers.emplace("cache-control", "no-cache");
    resp.body = std::string(asset.body);
    return resp;
  }
  return NotFound("no such file in the console").ToResponse();
}

void AddSecurityHeaders(http::ServerResponse& response) {
  // Scripts, styles, images and calls only from the daemon itself; no inline script, no framing.
  response.headers.emplace("content-security-policy",
                           "default-src 'self'; base-uri 'none'; form-action 'none'; "
                           "frame-ancestors 'none'");
  response.headers.emplace("x-frame-options", "DENY");
  response.headers.emplace("referrer-policy", "no-referrer");
  response.headers.emplace("x-content-type-options", "nosniff");
}

http::ServerResponse GetThroughput(ApiContext& ctx) {
  const config::LimitsConfig& limits = ctx.deps.config->limits;
  nlohmann::ordered_json body;
  body["windowSeconds"] = limits.window.count();
  body["writesPerWindow"] = limits.writes_per_20s;
  body["requestsPerWindow"] = limits.requests_per_20s;
  nlohmann::ordered_json samples = nlohmann::ordered_json::array();
  if (ctx.deps.throughput != nullptr) {
    for (const ThroughputSample& s : ctx.deps.throughput->Samples()) {
      samples.push_back(
          {{"at", ApiTime(s.at)},
           {"seconds", std::chrono::duration_cast<std::chrono::milliseconds>(s.length).count() /
                           1000.0},
           {"writes", s.writes},
           {"requests", s.requests},
           {"queueDepth", s.queue_depth}});
    }
  }
  body["samples"] = std::move(samples);
  return http::ServerResponse::Json(200, body.dump());
}

}  // namespace certdeploy::service
