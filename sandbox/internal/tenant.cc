#include "sandbox/internal/tenant.h"

#include <algorithm>

#include "base/log.h"
#include "base/status_macros.h"

namespace certdeploy::sandbox {
namespace internal {
namespace {

// The request target split into decoded path segments and the raw query.
struct Target {
  std::vector<std::string> segments;
  std::string raw_path;
  std::string raw_query;
};

std::optional<Target> ParseTarget(const http::ServerRequest& request) {
  Target t;
  bool decoded = request.target.empty();  // Fall back on the server's decoded path.
  std::string_view target = decoded ? std::string_view(request.path) : request.target;
  size_t q = target.find('?');
  t.raw_path = std::string(target.substr(0, q));
  t.raw_query = q == std::string_view::npos ? (decoded ? request.query : "")
                                            : std::string(target.substr(q + 1));
  std::optional<std::vector<std::string>> segments = SplitPath(t.raw_path, /*decode=*/!decoded);
  if (!segments) return std::nullopt;
  t.segments = std::move(*segments);
  return t;
}

Status ValidateOptions(const SandboxOptions& o) {
  if (o.page_size < 1) return InvalidArgumentError("page size must be at least 1");
  if (o.write_limit < 0 || o.request_limit < 0) {
    return InvalidArgumentError("write and request limits must be >= 0 (0 = unlimited)");
  }
  if (o.window <= std::chrono::seconds(0)) return InvalidArgumentError("window must be > 0 s");
  for (double rate : {o.fail_rate, o.drop_rate, o.bare_rate, o.throttle_rate, o.spike_rate}) {
    if (!(rate >= 0 && rate <= 1)) {
      return InvalidArgumentError(
          "fail, drop, bare, throttle and spike rates must be within [0, 1]");
    }
  }
  if (o.latency < std::chrono::milliseconds(0) || o.spike_latency < std::chrono::milliseconds(0)) {
    return InvalidArgumentError("latency and spike latency must be >= 0");
  }
  if (o.token_lifetime <= std::chrono::seconds(0)) {
    return InvalidArgumentError("token lifetime must be > 0 s");
  }
  return OkStatus();
}

}  // namespace

SandboxTenantImpl::SandboxTenantImpl(const SandboxOptions& options, Clock& clock, Random& random,
                                     std::unique_ptr<AuthService> auth,
                                     std::unique_ptr<TenantCore> core)
    : clock_(clock),
      random_(random),
      latency_(options.latency),
      fail_rate_(options.fail_rate),
      drop_rate_(options.drop_rate),
      bare_rate_(options.bare_rate),
      throttle_rate_(options.throttle_rate),
      spike_rate_(options.spike_rate),
      spike_latency_(options.spike_latency),
      window_(options.window),
      auth_(std::move(auth)),
      core_(std::move(core)),
      budget_(options.request_limit, options.write_limit, options.window) {}

void LogRefusal(const std::string& method, const std::string& path, const Reply& reply) {
  if (!reply.rejection.empty()) {
    CD_LOG_WARN("sandbox: {} {} refused ({}): {}", method, path, reply.status, reply.rejection);
  }
}

bool SandboxTenantImpl::Chance(double p) { return p > 0 && random_.NextDouble() < p; }

Duration SandboxTenantImpl::NextLatency() {
  if (spike_latency_ <= Duration::zero() || !Chance(spike_rate_)) return latency_;
  stats_.CountLatencySpike();
  return latency_ + spike_latency_;
}

std::optional<Reply> SandboxTenantImpl::MaybeInjectThrottle(const RequestContext& ctx) {
  if (!Chance(throttle_rate_)) return std::nullopt;
  stats_.CountInjectedThrottle();
  // 1 or 2 s, but never longer than a (compressed) window: the budget frees up within that.
  const int64_t retry_after = std::min<int64_t>(1 + static_cast<int64_t>(random_.Next() % 2),
                                                std::max<int64_t>(1, window_.count()));
  return Throttled(ctx, retry_after);
}

http::ServerResponse SandboxTenantImpl::Handle(const http::ServerRequest& request) {
  RequestContext ctx;
  ctx.now = clock_.Now();
  ctx.request_id = NewGuid(random_);
  ctx.client_request_id =
      HeaderValue(request.headers, "client-request-id").value_or(ctx.request_id);
  ctx.base_url = "http://" + HeaderValue(request.headers, "host").value_or("localhost");
  std::optional<Target> target = ParseTarget(request);
  if (!target) {
    return ToServerResponse(ctx, GraphError(ctx, 400, "BadRequest", "Malformed request URL."));
  }
  const auto& seg = target->segments;
  if (!seg.empty() && seg[0] == "_sandbox") {
    return ToServerResponse(ctx, Inspect(request, seg, ctx));
  }

  stats_.EnterRequest();
  Reply reply;
  bool is_token = seg.size() == 4 && seg[1] == "oauth2" && seg[2] == "v2.0" && seg[3] == "token";
  if (is_token) {
    clock_.SleepFor(NextLatency());
    reply = auth_->HandleToken(request, ctx, ctx.base_url + target->raw_path);
    if (reply.status == 200) stats_.CountTokenIssued();
  } else if (seg.empty() || (seg[0] != "beta" && seg[0] != "v1.0")) {
    clock_.SleepFor(NextLatency());
    reply = GraphError(ctx, 400, "BadRequest",
                       "Invalid version: " + (seg.empty() ? std::string() : seg[0]));
  } else {
    Operation op;
    op.method = request.method;
    op.version = seg[0];
    op.segments.assign(seg.begin() + 1, seg.end());
    op.headers = request.headers;
    op.body = request.body;
    op.context = &ctx;
    auto query = ParseQuery(target->raw_query);
    bool is_batch = op.segments.size() == 1 && op.segments[0] == "$batch";
    // Admission happens on arrival (before the latency), like a front door would.
    std::optional<Reply> early =
        auth_->CheckBearer(HeaderValue(request.headers, "authorization"), ctx);
    if (!early && !query) {
      early = GraphError(ctx, 400, "BadRequest", "Malformed query string.");
    }
    if (!early && !is_batch) early = MaybeInjectThrottle(ctx);
    if (!early && !is_batch) {
      if (auto retry = budget_.TryAdmit(clock_.SteadyNow(), op.IsWrite())) {
        early = Throttled(ctx, *retry);
      } else if (op.IsWrite()) {
        stats_.CountAdmittedWrite();
      }
    }
    clock_.SleepFor(NextLatency());
    if (early) {
      reply = std::move(*early);
    } else if (Chance(fail_rate_)) {
      stats_.CountInjectedFailure();
      reply = GraphError(ctx, 503, "ServiceUnavailable",
                         "The service is temporarily unavailable. Please retry later.");
      if (random_.Next() % 2 == 0) {
        reply.headers.emplace_back("Retry-After", std::to_string(1 + random_.Next() % 2));
      }
    } else {
      op.query = std::move(*query);
      reply = is_batch ? HandleBatch(op) : Dispatch(op);
    }
  }
  stats_.RecordReply(reply);
  LogRefusal(request.method, target->raw_path, reply);
  http::ServerResponse response = ToServerResponse(ctx, reply);
  if (reply.write_committed && Chance(drop_rate_)) {
    stats_.CountDropped();
    CD_LOG_DEBUG("sandbox: dropping the answer to {} {} after commit", request.method,
                 target->raw_path);
    response = http::ServerResponse{};
    response.drop_connection = true;
  } else if (reply.write_committed && response.status == 201 && Chance(bare_rate_)) {
    stats_.CountBareAnswer();
    response.body = "{}";
  }
  stats_.ExitRequest();
  return response;
}

Reply SandboxTenantImpl::Dispatch(const Operation& op) {
  if (op.segments.empty()) return UnknownSegment(op, op.version);
  const std::string& root = op.segments[0];
  if (root == "users") return HandleUsers(op, *core_);
  if (root == "groups") return HandleGroups(op, *core_);
  if (root == "$batch") {
    return GraphError(*op.context, 400, "BadRequest", "A $batch request cannot be nested.");
  }
  if (root == "deviceAppManagement") {
    // Served under v1.0 and beta; the beta-only types are refused or invisible under v1.0.
    if (op.segments.size() < 2) return MethodNotAllowed(op);
    auto collection = ParseKeySegment(op.segments[1]);
    std::string name = collection ? collection->name : op.segments[1];
    if (name == "mobileApps") return HandleMobileApps(op, *core_);
    if (name == "mobileAppConfigurations") return HandleMobileAppConfigurations(op, *core_);
    return UnknownSegment(op, name);
  }
  if (root != "deviceManagement") return UnknownSegment(op, root);
  if (op.segments.size() < 2) return MethodNotAllowed(op);
  auto collection = ParseKeySegment(op.segments[1]);
  std::string name = collection ? collection->name : op.segments[1];
  if (op.version != "beta") {
    return GraphError(*op.context, 400, "BadRequest",
                      "Resource not found for the segment '" + name +
                          "'. (The sandbox serves deviceManagement under /beta only.)");
  }
  if (name == "deviceConfigurations") return HandleDeviceConfigurations(op, *core_);
  if (name == "userPfxCertificates") return HandleUserPfxCertificates(op, *core_);
  return UnknownSegment(op, name);
}

Reply SandboxTenantImpl::Inspect(const http::ServerRequest& request,
                                 const std::vector<std::string>& segments,
                                 const RequestContext& ctx) {
  Reply reply;
  const std::string& method = request.method;
  std::string what = segments.size() == 2 ? segments[1] : "";
  if (method == "POST" && what == "deviceStatuses") {
    reply = SeedDeviceStatus(request.body, ctx, *core_);
  } else if (method == "GET" && what == "state") {
    reply.body = State();
  } else if (method == "GET" && what == "stats") {
    reply.body = StatsJson();
  } else if (method == "POST" && what == "reset") {
    std::lock_guard<std::mutex> lock(core_->mu);
    if (Status s = core_->Commit({{"op", "reset"}}); !s.ok()) return CommitFailed(ctx, s);
    stats_.Reset();
    budget_.Reset();
    reply.status = 204;
  } else {
    reply = GraphError(ctx, 404, "NotFound",
                       "Sandbox inspection endpoints: GET /_sandbox/state, GET /_sandbox/stats, "
                       "POST /_sandbox/reset, POST /_sandbox/deviceStatuses.");
  }
  return reply;
}

nlohmann::json SandboxTenantImpl::State() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  // Each collection in creation order, rendered as /beta renders it.
  auto in_order = [](const std::map<std::string, ConfigRecord>& records) {
    std::vector<const ConfigRecord*> out;
    for (const auto& [id, record] : records) out.push_back(&record);
    std::sort(out.begin(), out.end(),
              [](const ConfigRecord* a, const ConfigRecord* b) { return a->seq < b->seq; });
    return out;
  };
  json out = {{"deviceConfigurations", json::array()},
              {"userPfxCertificates", json::array()},
              {"mobileApps", json::array()},
              {"mobileAppConfigurations", json::array()}};
  for (const ConfigRecord* record : in_order(core_->state.configs)) {
    json config = RenderConfig(*record, true);
    if (!record->device_statuses.empty()) config["deviceStatuses"] = record->device_statuses;
    out["deviceConfigurations"].push_back(std::move(config));
  }
  for (const auto& [id, record] : core_->state.pfx) {
    out["userPfxCertificates"].push_back(RenderPfx(record));
  }
  for (const ConfigRecord* record : in_order(core_->state.apps)) {
    out["mobileApps"].push_back(RenderMobileApp(*record, /*beta=*/true));
  }
  for (const ConfigRecord* record : in_order(core_->state.app_configs)) {
    out["mobileAppConfigurations"].push_back(
        RenderAppConfiguration(*record, /*beta=*/true, /*with_assignments=*/true));
  }
  return out;
}

SandboxStats SandboxTenantImpl::Stats() const {
  return stats_.Snapshot(budget_.max_writes_in_window(), budget_.max_write_attempts_in_window());
}

nlohmann::json SandboxTenantImpl::StatsJson() const { return StatsCollector::ToJson(Stats()); }

}  // namespace internal

Result<std::unique_ptr<SandboxTenant>> SandboxTenant::Create(const SandboxOptions& options,
                                                             Clock& clock, Random& random) {
  using namespace internal;  // NOLINT: the implementation's own namespace.
  RETURN_IF_ERROR(ValidateOptions(options));
  ASSIGN_OR_RETURN(auto directory, Directory::Load(options.users_file));
  RETURN_IF_ERROR(directory->LoadGroups(options.groups_file));
  ASSIGN_OR_RETURN(auto connector, Connector::Load(options.connector_key_file));
  ASSIGN_OR_RETURN(auto auth, AuthService::Create(options, clock, random));
  std::unique_ptr<Journal> journal;
  std::vector<json> entries;
  if (!options.state_file.empty()) {
    ASSIGN_OR_RETURN(journal, Journal::Open(options.state_file, &entries));
  }
  auto core =
      std::make_unique<TenantCore>(clock, random, options.page_size, std::move(directory),
                                   std::move(connector), std::move(journal), options.outlook_apps);
  for (size_t i = 0; i < entries.size(); ++i) {
    Status s = core->state.Apply(entries[i]);
    if (!s.ok()) {
      return DataLossError("state file " + options.state_file + " entry " + std::to_string(i + 1) +
                           ": " + std::string(s.message()));
    }
  }
  return std::unique_ptr<SandboxTenant>(
      new SandboxTenantImpl(options, clock, random, std::move(auth), std::move(core)));
}

}  // namespace certdeploy::sandbox
