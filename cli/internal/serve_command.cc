// `certdeploy serve`: process setup (core dumps off, signals) around the Daemon.

#include <pthread.h>
#include <signal.h>

#include <ostream>
#include <thread>

#include "base/log.h"
#include "cli/commands.h"
#include "config/config.h"
#include "service/daemon.h"
#include "store/job_store.h"

namespace certdeploy::cli {
namespace {

bool IsConfigProblem(StatusCode code) {
  return code == StatusCode::kInvalidArgument || code == StatusCode::kNotFound ||
         code == StatusCode::kFailedPrecondition || code == StatusCode::kPermissionDenied;
}

}  // namespace

int RunServe(const ServeArgs& args, std::ostream& out, std::ostream& err) {
  if (Status hardened = service::DisableCoreDumps(); !hardened.ok()) {
    CD_LOG_WARN("certdeploy serve: {}", hardened);
  }
  Result<config::Config> config = config::LoadConfig(args.config);
  if (!config.ok()) {
    err << "certdeploy serve: " << config.status().message() << "\n";
    return kExitUsage;
  }
  if (!config->service) {
    err << "certdeploy serve: " << args.config
              << ": no service: section (listen, store, apiKeys, ...)\n";
    return kExitUsage;
  }
  // Every thread started from here on inherits the blocked set; only `waiter` takes signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);  // Internal: ends the waiter when the daemon stops by itself.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  store::StoreOptions store_options;
  store_options.migration_delay = std::chrono::milliseconds(args.diag_migration_delay_ms);
  Result<std::unique_ptr<service::Daemon>> daemon =
      service::Daemon::Start(*config, RealClock(), RealRandom(), store_options);
  if (!daemon.ok()) {
    err << "certdeploy serve: " << daemon.status().message() << "\n";
    return IsConfigProblem(daemon.status().code()) ? kExitUsage : kExitFindings;
  }
  out << (*daemon)->url() << std::endl;

  service::Daemon& d = **daemon;
  std::thread waiter([&d, &signals] {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0 || sig == SIGUSR1) return;
    CD_LOG_INFO("certdeploy serve: received {}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    d.RequestStop();
    d.StopAccepting();
  });
  d.Run();
  pthread_kill(waiter.native_handle(), SIGUSR1);
  waiter.join();
  daemon->reset();
  return kExitOk;
}

}  // namespace certdeploy::cli
