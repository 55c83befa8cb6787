// SandboxServer and RunSandbox: the tenant behind service::HttpServer.

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/status_macros.h"
#include "sandbox/sandbox.h"

namespace certdeploy::sandbox {
namespace internal {
namespace {

// SplitMix64: small, seedable, good enough for fault injection and ids. Thread-safe.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  uint64_t Next() override {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::mutex mu_;
  uint64_t state_;
};

class SandboxServerImpl final : public SandboxServer {
 public:
  SandboxServerImpl(std::unique_ptr<SandboxTenant> tenant) : tenant_(std::move(tenant)) {}
  ~SandboxServerImpl() override { Stop(); }

  Status Listen(const SandboxOptions& options) {
    service::HttpServerOptions http;
    http.listen = options.listen;
    http.handler_threads = std::max(options.handler_threads, 1);
    http.body_limit = 8 << 20;  // 20 PFX records in one $batch fit comfortably.
    SandboxTenant* tenant = tenant_.get();
    auto server = service::HttpServer::Start(
        http, [tenant](const service::ServerRequest& r) { return tenant->Handle(r); });
    if (!server.ok()) return server.status();
    server_ = std::move(server).value();
    return OkStatus();
  }

  std::string url() const override { return server_->url(); }
  SandboxTenant& tenant() override { return *tenant_; }
  void Stop() override {
    if (server_) server_->Stop();
  }

 private:
  std::unique_ptr<SandboxTenant> tenant_;
  std::unique_ptr<service::HttpServer> server_;
};

}  // namespace
}  // namespace internal

Result<std::unique_ptr<SandboxServer>> SandboxServer::Start(const SandboxOptions& options,
                                                            Clock& clock, Random& random) {
  ASSIGN_OR_RETURN(auto tenant, SandboxTenant::Create(options, clock, random));
  auto server = std::make_unique<internal::SandboxServerImpl>(std::move(tenant));
  RETURN_IF_ERROR(server->Listen(options));
  return std::unique_ptr<SandboxServer>(std::move(server));
}

int RunSandbox(const SandboxOptions& options) {
  // Block SIGINT/SIGTERM before any thread starts so that every server thread inherits the mask
  // and this thread receives them through sigwait.
  sigset_t signals, previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &previous);

  // Logs go to stderr: stdout carries only the URL. The CLI has configured logging already; a
  // caller that has not gets the default (info, stderr).
  if (spdlog::default_logger()->name().empty()) {
    LogOptions log;
    log.level = "info";
    (void)InitLogging(log);
  }
  std::unique_ptr<Random> seeded;
  Random* random = &RealRandom();
  if (options.seed != 0) {
    seeded = std::make_unique<internal::SeededRandom>(options.seed);
    random = seeded.get();
  }
  auto server = SandboxServer::Start(options, RealClock(), *random);
  if (!server.ok()) {
    CD_LOG_ERROR("sandbox: cannot start: {}", server.status());
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return server.status().code() == StatusCode::kInvalidArgument ||
                   server.status().code() == StatusCode::kFailedPrecondition
               ? 2
               : 1;
  }
  std::string url = (*server)->url();
  std::fprintf(stdout, "%s\n", url.c_str());
  std::fflush(stdout);
  CD_LOG_INFO(
      "sandbox: serving a fake Intune tenant at {} (write limit {} per {} s, page size {}, "
      "latency {} ms, fail rate {}, drop rate {}, state {})",
      url, options.write_limit, options.window.count(), options.page_size, options.latency.count(),
      options.fail_rate, options.drop_rate,
      options.state_file.empty() ? "in memory" : options.state_file);
  int received = 0;
  sigwait(&signals, &received);
  CD_LOG_INFO("sandbox: signal {} received, stopping", received);
  (*server)->Stop();
  CD_LOG_INFO("sandbox: stopped; final stats {}", (*server)->tenant().StatsJson().dump());
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return 0;
}

}  // namespace certdeploy::sandbox
