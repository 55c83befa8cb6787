// What the operator console needs beyond the REST lists: the throughput history behind the
// budget chart (GET /v1/throughput, scope read).

#include "service/internal/api_handlers.h"
#include "service/internal/throughput.h"

namespace certdeploy::service {

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
