// Api::Handle: authentication, routing, scopes, health endpoints and request metrics.

#include "service/api.h"

#include <algorithm>
#include <cctype>

#include "base/log.h"
#include "base/parallel_for.h"
#include "base/strings.h"
#include "pkcs/digest.h"
#include "service/internal/api_handlers.h"

namespace certdeploy::service {
namespace {

using config::ApiScope;

// Compares two equal-length strings without an early exit.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

struct Route {
  const char* method;
  const char* pattern;           // Segments; "{id}" captures one.
  std::vector<ApiScope> scopes;  // Any of these; empty: any valid key.
  bool public_route = false;     // No authentication (only /healthz).
};

const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = {
      {"GET", "/healthz", {}, true},
      {"GET", "/readyz", {}},
      {"GET", "/metrics", {ApiScope::kRead}},
      {"GET", "/openapi.json", {ApiScope::kRead}},
      {"POST", "/v1/enrollments", {ApiScope::kEnroll}},
      {"GET", "/v1/me", {}},
      {"GET", "/v1/enrollments", {ApiScope::kRead}},
      {"GET", "/v1/enrollments/{id}", {ApiScope::kRead}},
      {"POST", "/v1/offboardings", {ApiScope::kEnroll}},
      {"GET", "/v1/offboardings/{id}", {ApiScope::kRead, ApiScope::kEnroll}},
      {"GET", "/v1/certificates", {ApiScope::kRead}},
      {"POST", "/v1/rollouts", {ApiScope::kRollouts}},
      {"GET", "/v1/rollouts", {ApiScope::kRead, ApiScope::kRollouts}},
      {"GET", "/v1/rollouts/{id}", {ApiScope::kRead, ApiScope::kRollouts}},
      {"GET", "/v1/rollouts/{id}/items", {ApiScope::kRead, ApiScope::kRollouts}},
      {"GET", "/v1/rollouts/{id}/plan", {ApiScope::kRead, ApiScope::kRollouts}},
      {"POST", "/v1/rollouts/{id}/pause", {ApiScope::kRollouts}},
      {"POST", "/v1/rollouts/{id}/resume", {ApiScope::kRollouts}},
      {"POST", "/v1/rollouts/{id}/cancel", {ApiScope::kRollouts}},
      {"GET", "/v1/audit", {ApiScope::kRead}},
      {"GET", "/v1/throughput", {ApiScope::kRead}},
  };
  return routes;
}

std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < path.size()) {
    size_t slash = path.find('/', at);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > at) out.emplace_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return out;
}

bool ValidId(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// Matches `path` against a pattern; fills `id` for "{id}".
bool Matches(const Route& route, const std::vector<std::string>& segments, std::string& id) {
  const std::vector<std::string> pattern = Segments(route.pattern);
  if (pattern.size() != segments.size()) return false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == "{id}") {
      if (!ValidId(segments[i])) return false;
      id = segments[i];
    } else if (pattern[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

struct Api::Impl {
  ApiContext ctx;

  // The key presented in "Authorization: Bearer <key>", checked against every configured hash
  // (all of them, so the time taken does not reveal which one matched).
  const config::ApiKeyConfig* Authenticate(const http::ServerRequest& request) const {
    std::optional<std::string> header = request.Header("authorization");
    if (!header || header->size() < 8) return nullptr;
    if (!StartsWithIgnoreCaseAscii(*header, "bearer ")) return nullptr;
    std::string_view key = std::string_view(*header).substr(7);
    while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
    if (key.empty()) return nullptr;
    const std::string digest = pkcs::Sha256Hex(key);
    const config::ApiKeyConfig* match = nullptr;
    for (const config::ApiKeyConfig& k : ctx.service().api_keys) {
      if (ConstantTimeEquals(digest, k.sha256) && match == nullptr) match = &k;
    }
    return match;
  }

  http::ServerResponse Dispatch(const Route& route, const std::string& id, const Caller& caller,
                          const http::ServerRequest& r) {
    const std::string pattern = route.pattern;
    if (pattern == "/healthz") return JsonResponse(200, {{"status", "ok"}});
    if (pattern == "/readyz") return Ready();
    if (pattern == "/metrics") {
      graph::WriteBudgetStats stats;
      if (ctx.deps.budget != nullptr) stats = ctx.deps.budget->Stats();
      http::ServerResponse resp = http::ServerResponse::Text(
          200, ctx.deps.metrics->Render(ctx.deps.store, ctx.deps.budget ? &stats : nullptr));
      resp.headers.erase("content-type");
      resp.headers.emplace("content-type", "text/plain; version=0.0.4; charset=utf-8");
      return resp;
    }
    if (pattern == "/openapi.json") return JsonResponse(200, OpenApiDocument());
    if (pattern == "/v1/enrollments" && r.method != "POST") return ListEnrollments(ctx, r);
    if (pattern == "/v1/enrollments") return CreateEnrollment(ctx, caller, r);
    if (pattern == "/v1/me") return Me(caller);
    if (pattern == "/v1/enrollments/{id}") return GetEnrollment(ctx, id);
    if (pattern == "/v1/offboardings") return CreateOffboarding(ctx, caller, r);
    if (pattern == "/v1/offboardings/{id}") return GetOffboarding(ctx, id);
    if (pattern == "/v1/certificates") return ListCertificates(ctx, r);
    if (pattern == "/v1/audit") return ListAudit(ctx, r);
    if (pattern == "/v1/throughput") return GetThroughput(ctx);
    if (pattern == "/v1/rollouts" && r.method != "POST") return ListRollouts(ctx, r);
    if (pattern == "/v1/rollouts") return CreateRollout(ctx, caller, r);
    if (pattern == "/v1/rollouts/{id}/items") return ListRolloutItems(ctx, id, r);
    if (pattern == "/v1/rollouts/{id}") return GetRollout(ctx, id);
    if (pattern == "/v1/rollouts/{id}/plan") return GetRolloutPlan(ctx, caller, id, r);
    const std::string action = pattern.substr(pattern.rfind('/') + 1);
    return RolloutAction(ctx, caller, id, action);
  }

  http::ServerResponse Ready() {
    nlohmann::json body;
    bool ready = true;
    const store::RolloutStatus none[] = {store::RolloutStatus::kRunning};
    Result<std::vector<store::Rollout>> probe = ctx.deps.store->ListRollouts(none, 1);
    body["store"] = probe.ok() ? "ok" : "unavailable";
    ready = ready && probe.ok();
    if (ctx.deps.graph_ready) {
      Status graph = ctx.deps.graph_ready();
      body["graph"] = graph.ok() ? "ok" : std::string(StatusCodeName(graph.code()));
      ready = ready && graph.ok();
    }
    body["status"] = ready ? "ready" : "not ready";
    return JsonResponse(ready ? 200 : 503, body);
  }

  http::ServerResponse Handle(const http::ServerRequest& r, std::string& route_name) {
    if (IsConsolePath(r.path)) {
      route_name = "/ui/";
      return ServeConsole(r);
    }
    const std::vector<std::string> segments = Segments(r.path);
    const Route* route = nullptr;
    std::vector<std::string> allow;
    std::string id;
    for (const Route& candidate : Routes()) {
      if (!Matches(candidate, segments, id)) continue;
      if (r.method == candidate.method ||
          (r.method == "HEAD" && std::string(candidate.method) == "GET")) {
        route = &candidate;
        break;
      }
      allow.push_back(candidate.method);
    }
    if (route != nullptr) route_name = route->pattern;
    if (route != nullptr && route->public_route) return Dispatch(*route, id, Caller{}, r);

    const config::ApiKeyConfig* key = Authenticate(r);
    if (key == nullptr) {
      Problem p;
      p.status = 401;
      p.type = "urn:certdeploy:problem:unauthenticated";
      p.detail = "send Authorization: Bearer <API key> with a configured key";
      return p.ToResponse();
    }
    if (route == nullptr) {
      if (allow.empty()) return NotFound("no such endpoint").ToResponse();
      Problem p;
      p.status = 405;
      p.detail = "this endpoint does not support " + r.method;
      p.allow = allow;
      return p.ToResponse();
    }
    const bool allowed =
        route->scopes.empty() ||
        std::any_of(route->scopes.begin(), route->scopes.end(), [&](ApiScope s) {
          return std::find(key->scopes.begin(), key->scopes.end(), s) != key->scopes.end();
        });
    if (!allowed) {
      Problem p;
      p.status = 403;
      p.type = "urn:certdeploy:problem:missing-scope";
      p.detail = "the API key '" + key->name + "' lacks the scope '" +
                 std::string(config::ApiScopeName(route->scopes.front())) + "'";
      return p.ToResponse();
    }
    return Dispatch(*route, id, Caller{key->name, key->scopes}, r);
  }
};

Api::Api(ApiDeps deps) : impl_(std::make_unique<Impl>(Impl{ApiContext{std::move(deps), nullptr}})) {
  // One PFX job per core, and two handler threads always left for everything else.
  const config::ServiceConfig& service = impl_->ctx.service();
  const int spare = std::max(1, service.workers - 2);
  const int slots = std::min(HardwareThreads(), spare);
  impl_->ctx.pfx_gate =
      std::make_unique<PfxGate>(slots, std::max(0, spare - slots), service.pfx_workers_per_key);
}

Api::~Api() = default;

http::ServerResponse Api::Handle(const http::ServerRequest& request) {
  const SteadyTime start = impl_->ctx.deps.clock->SteadyNow();
  std::string route = "unmatched";
  http::ServerResponse response = impl_->Handle(request, route);
  AddSecurityHeaders(response);
  const Duration elapsed = impl_->ctx.deps.clock->SteadyNow() - start;
  impl_->ctx.deps.metrics->ObserveHttp(route, request.method, response.status, elapsed);
  // Method label, route template and status only: never the body, the query or the raw method.
  CD_LOG_INFO("{} {} -> {} ({} ms)", Metrics::MethodLabel(request.method), route, response.status,
              std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
  return response;
}

}  // namespace certdeploy::service
