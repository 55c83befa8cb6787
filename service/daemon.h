// service/daemon.h: `certdeploy serve` wired together.
//
// A Daemon owns, in order: the config, the job store (service.store), the connector public key
// and trust bundle, the Graph connection (one token source and one write budget for the tenant),
// the metrics, the REST API and its HTTP(S) server (service.listen / service.tls), and the
// scheduler and dispatcher. Every replica serves the API; the one that wins
// JobStore::TryBecomeDispatcher also runs the scheduler and dispatches Graph work (the others
// keep trying, so a survivor takes over when the leader dies).
//
//   ASSIGN_OR_RETURN(auto daemon, Daemon::Start(config, RealClock(), RealRandom()));
//   std::cout << daemon->url() << std::endl;
//   std::thread waiter([&] { WaitForSignal(); daemon->RequestStop(); daemon->StopAccepting(); });
//   daemon->Run();   // returns after RequestStop, once in-flight work is finished or handed back
//
// Graceful stop: RequestStop makes the loop end and the dispatcher wind down (imports not yet
// sent go back to the queue, sent ones are finished and recorded); StopAccepting closes the
// listener and drains in-flight requests; Run then releases the dispatcher role and returns.

#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/random.h"
#include "base/result.h"
#include "base/thread_annotations.h"
#include "config/config.h"
#include "store/job_store.h"

namespace certdeploy::deploy {
struct InventoryRow;
}  // namespace certdeploy::deploy

namespace certdeploy::service {

// Makes the process undumpable (prctl PR_SET_DUMPABLE 0: no core files, no ptrace by other
// users' processes) and sets RLIMIT_CORE to 0, so that sealed-but-in-memory secrets never reach
// a core file. Returns the first failure (the caller may log it and go on).
Status DisableCoreDumps();

class Daemon {
 public:
  // Starts everything but the loop (the HTTP server is listening when this returns).
  // REQUIRES: config.service is set. Errors: InvalidArgument/NotFound for unreadable keys or
  // certificates, FailedPrecondition if another process holds the SQLite store, Unavailable if
  // the store cannot be reached or the port bound. `clock` and `random` must outlive the daemon.
  // `store_options` are passed to store::OpenJobStore (test hooks only).
  static Result<std::unique_ptr<Daemon>> Start(const config::Config& config, Clock& clock,
                                               Random& random,
                                               const store::StoreOptions& store_options = {});
  ~Daemon();  // Stops everything still running.
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // "https://host:port" (or "http://" on loopback without TLS).
  std::string url() const;
  // This replica's name: lease owner and dispatcher name ("host:pid:random").
  const std::string& owner() const;
  store::JobStore& store();

  // The dispatch loop; see the file comment. Call once, from one thread.
  void Run() LOCKS_EXCLUDED(mu_);
  // Thread-safe. Not async-signal-safe: call it from a thread that waited for the signal.
  void RequestStop() LOCKS_EXCLUDED(mu_);
  // Stops accepting connections and drains in-flight requests (up to the server's drain
  // timeout). Idempotent, thread-safe; also done by Run before it returns.
  void StopAccepting();
  // Wakes the loop early (new work was queued). Thread-safe.
  void Wake() LOCKS_EXCLUDED(mu_);
  // For a stop that cannot wait any longer (service.shutdownTimeoutSeconds passed): every item
  // this replica still holds goes back to the queue now (store::JobStore::HandBackLeases), so
  // that the next process or replica claims it at once instead of after the lease. Returns how
  // many. Thread-safe; the process is expected to exit right after.
  Result<int> HandBackLeases();

  // One pass of the loop: dispatcher election, scheduler.RunDue(), one dispatcher batch, a
  // throughput sample once per budget window, the expiry watch when due, one webhook delivery pass (the last three on the leader only).
  // Returns how long the loop would wait before the next pass (zero when more work may be
  // waiting). Run() calls it repeatedly; tests call it directly instead of running the loop.
  Duration RunOnce();

 private:
  // RunOnce without the expiry watch.
  Duration DispatchPass();
  // The expiry watch (service.reconcileIntervalSeconds): called by RunOnce on the leader.
  void RefreshCertificateMetricsIfDue();
  // Drift repair (service/internal/drift_repair.h), on the same interval, on the leader.
  void RepairDriftIfDue();
  // certificate.expiring for the rows the expiry watch read.
  void NotifyExpiring(const std::vector<deploy::InventoryRow>& rows, SystemTime now);
  // One webhook delivery pass (service.webhooks), on the leader.
  void DeliverWebhooks();
  // The throughput history's sample, when a budget window has passed (every replica).
  void SampleThroughput();

  struct Parts;
  explicit Daemon(std::unique_ptr<Parts> parts);

  std::unique_ptr<Parts> parts_;
  Mutex mu_;
  CondVar wake_;  // Signalled when stop_ or woken_ is set.
  bool stop_ GUARDED_BY(mu_) = false;
  bool woken_ GUARDED_BY(mu_) = false;
  std::once_flag stop_accepting_;
};

}  // namespace certdeploy::service
