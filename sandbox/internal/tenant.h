// sandbox/internal/tenant.h: SandboxTenantImpl, the request pipeline.
//
// For every Graph request: parse the target, check the bearer token, maybe throttle it at random
// (429, whatever the budget), else admit it against the request/write budget (429 + Retry-After
// beyond), sleep the injected latency and maybe a latency spike (outside any lock), maybe fail it
// with a random 503 (nothing applied), dispatch it to the resource handler, and maybe drop the
// answer of a committed write. $batch items are throttled (at random and by the budget) one by
// one. Token requests skip the budget and the faults except latency and spikes; /_sandbox/*
// skips everything.

#pragma once

#include <memory>

#include "sandbox/internal/auth.h"
#include "sandbox/internal/budget.h"
#include "sandbox/internal/core.h"
#include "sandbox/internal/stats.h"
#include "sandbox/sandbox.h"

namespace certdeploy::sandbox::internal {

// Logs (warn) why a request was refused; never the body.
void LogRefusal(const std::string& method, const std::string& path, const Reply& reply);

class SandboxTenantImpl final : public SandboxTenant {
 public:
  SandboxTenantImpl(const SandboxOptions& options, Clock& clock, Random& random,
                    std::unique_ptr<AuthService> auth, std::unique_ptr<TenantCore> core);

  // SandboxTenant
  http::ServerResponse Handle(const http::ServerRequest& request) override;
  nlohmann::json State() const override;
  SandboxStats Stats() const override;
  nlohmann::json StatsJson() const override;

 private:
  // A Graph call after auth (top-level or $batch item): routes to a resource handler.
  Reply Dispatch(const Operation& op);
  // POST /{version}/$batch (batch.cc).
  Reply HandleBatch(const Operation& op);
  // GET /_sandbox/state|stats, POST /_sandbox/reset, POST /_sandbox/deviceStatuses.
  Reply Inspect(const http::ServerRequest& request, const std::vector<std::string>& segments,
                const RequestContext& ctx);
  bool Chance(double p);
  // The injected latency of one response: `latency`, plus `spike_latency` with `spike_rate`.
  Duration NextLatency();
  // A 429 answered at random (throttle_rate), counted; nullopt when this request is spared.
  std::optional<Reply> MaybeInjectThrottle(const RequestContext& ctx);

  // Constant after construction.
  Clock& clock_;
  Random& random_;
  const std::chrono::milliseconds latency_;
  const double fail_rate_;
  const double drop_rate_;
  const double bare_rate_;
  const double throttle_rate_;
  const double spike_rate_;
  const std::chrono::milliseconds spike_latency_;
  const std::chrono::seconds window_;
  std::unique_ptr<AuthService> auth_;
  std::unique_ptr<TenantCore> core_;

  // Internally synchronized.
  Budget budget_;
  StatsCollector stats_;
};

}  // namespace certdeploy::sandbox::internal
