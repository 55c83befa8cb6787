// `certdeploy sandbox`: process setup (signals, logging, the seeded generator) around a
// sandbox::SandboxServer.

#include <pthread.h>
#include <signal.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "base/file.h"
#include "base/log.h"
#include "base/random.h"
#include "cli/commands.h"
#include "sandbox/sandbox.h"

namespace certdeploy::cli {
namespace {

// The flags as SandboxOptions; a usage error names what is wrong.
Result<sandbox::SandboxOptions> ToOptions(const SandboxArgs& args) {
  sandbox::SandboxOptions o;
  if (args.latency_ms < 0 || args.spike_ms < 0 || args.window_seconds <= 0 ||
      args.token_lifetime_seconds <= 0 || args.write_limit <= 0 || args.request_limit <= 0 ||
      args.page_size <= 0) {
    return InvalidArgumentError(
        "latency and spikes must be >= 0; window, limits, page size and token lifetime must be "
        "> 0");
  }
  if (!args.client_secret_env.empty()) {
    Result<SecretBytes> secret = ReadSecretEnv(args.client_secret_env);
    if (!secret.ok()) {
      return InvalidArgumentError("--client-secret-env: " +
                                  std::string(secret.status().message()));
    }
    o.client_secret = std::move(*secret);
  }
  o.listen = args.listen;
  o.connector_key_file = args.connector_key;
  o.users_file = args.users;
  o.groups_file = args.groups;
  o.client_id = args.client_id;
  o.app_cert_file = args.app_cert;
  o.latency = std::chrono::milliseconds(args.latency_ms);
  o.write_limit = args.write_limit;
  o.window = std::chrono::seconds(args.window_seconds);
  o.request_limit = args.request_limit;
  o.fail_rate = args.fail_rate;
  o.drop_rate = args.drop_rate;
  o.bare_rate = args.bare_rate;
  o.throttle_rate = args.throttle_rate;
  o.spike_rate = args.spike_rate;
  o.spike_latency = std::chrono::milliseconds(args.spike_ms);
  o.page_size = args.page_size;
  o.state_file = args.state;
  o.seed = args.seed;
  o.token_lifetime = std::chrono::seconds(args.token_lifetime_seconds);
  o.outlook_apps = !args.without_outlook;
  return o;
}

}  // namespace

int RunSandbox(const SandboxArgs& args, std::ostream& out, std::ostream& err) {
  Result<sandbox::SandboxOptions> options = ToOptions(args);
  if (!options.ok()) {
    err << "certdeploy sandbox: " << options.status().message() << "\n";
    return kExitUsage;
  }
  // Block SIGINT/SIGTERM before any thread starts so that every server thread inherits the mask
  // and this thread receives them through sigwait.
  sigset_t signals, previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &previous);

  std::unique_ptr<Random> seeded;
  Random* random = &RealRandom();
  if (options->seed != 0) {
    seeded = std::make_unique<SeededRandom>(options->seed);
    random = seeded.get();
  }
  auto server = sandbox::SandboxServer::Start(*options, RealClock(), *random);
  if (!server.ok()) {
    CD_LOG_ERROR("sandbox: cannot start: {}", server.status());
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return server.status().code() == StatusCode::kInvalidArgument ||
                   server.status().code() == StatusCode::kFailedPrecondition
               ? kExitUsage
               : kExitFindings;
  }
  // Logs go to stderr: stdout carries only the URL.
  const std::string url = (*server)->url();
  out << url << std::endl;
  const sandbox::SandboxOptions& o = *options;
  CD_LOG_INFO(
      "sandbox: serving a fake Intune tenant at {} (write limit {} per {} s, page size {}, "
      "latency {} ms, fail rate {}, drop rate {}, state {})",
      url, o.write_limit, o.window.count(), o.page_size, o.latency.count(), o.fail_rate,
      o.drop_rate, o.state_file.empty() ? "in memory" : o.state_file);
  int received = 0;
  sigwait(&signals, &received);
  CD_LOG_INFO("sandbox: signal {} received, stopping", received);
  (*server)->Stop();
  CD_LOG_INFO("sandbox: stopped; final stats {}", (*server)->tenant().StatsJson().dump());
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return kExitOk;
}

}  // namespace certdeploy::cli
