// `certdeploy serve`: process setup (core dumps off, signals) around the Daemon.

#include <pthread.h>
#include <signal.h>

#include <ostream>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
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
  if (!args.log_level_given && !config->logging.level.empty()) {
    // The config's level (already checked by the loader); --log-level wins when given.
    if (Status s = InitLogging({.level = config->logging.level}); !s.ok()) {
      err << "certdeploy serve: " << s.message() << "\n";
      return kExitUsage;
    }
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
  const std::chrono::seconds deadline = config->service->shutdown_timeout;
  std::mutex mu;
  std::condition_variable ran_out;
  bool finished = false;
  std::thread waiter([&] {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0 || sig == SIGUSR1) return;
    CD_LOG_INFO("certdeploy serve: received {}; stopping within {} s",
                sig == SIGTERM ? "SIGTERM" : "SIGINT", deadline.count());
    d.RequestStop();
    // The hard deadline: work still running then (a Graph write waiting for the budget, a
    // handler still checking a PFX) is abandoned; what this replica holds goes back to the queue
    // and the process exits. Nothing is lost: the next claim reads Graph before resending.
    std::thread watchdog([&] {
      std::unique_lock<std::mutex> lock(mu);
      if (ran_out.wait_for(lock, deadline, [&] { return finished; })) return;
      Result<int> handed = d.HandBackLeases();
      if (handed.ok()) {
        CD_LOG_WARN("certdeploy serve: not stopped after {} s; handed {} item(s) back to the "
                    "queue; exiting",
                    deadline.count(), *handed);
      } else {
        CD_LOG_ERROR("certdeploy serve: not stopped after {} s; handing items back failed ({}); "
                     "their leases expire instead; exiting",
                     deadline.count(), handed.status());
      }
      spdlog::default_logger()->flush();
      std::_Exit(kExitOk);
    });
    d.StopAccepting();
    watchdog.join();
  });
  d.Run();
  {
    std::lock_guard<std::mutex> lock(mu);
    finished = true;
  }
  ran_out.notify_all();
  pthread_kill(waiter.native_handle(), SIGUSR1);
  waiter.join();
  daemon->reset();
  return kExitOk;
}

}  // namespace certdeploy::cli
