// SandboxServer: the tenant behind http::Server.

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

class SandboxServerImpl final : public SandboxServer {
 public:
  SandboxServerImpl(std::unique_ptr<SandboxTenant> tenant) : tenant_(std::move(tenant)) {}
  ~SandboxServerImpl() override { Stop(); }

  Status Listen(const SandboxOptions& options) {
    http::ServerOptions http;
    http.listen = options.listen;
    http.handler_threads = std::max(options.handler_threads, 1);
    http.body_limit = 8 << 20;  // 20 PFX records in one $batch fit comfortably.
    SandboxTenant* tenant = tenant_.get();
    auto server = http::Server::Start(
        http, [tenant](const http::ServerRequest& r) { return tenant->Handle(r); });
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
  std::unique_ptr<http::Server> server_;
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

}  // namespace certdeploy::sandbox
