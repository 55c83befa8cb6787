// graph/write_budget.h: one shared request budget per tenant+app, so concurrency never exceeds it.
//
// Intune allows 100 writes (POST/PUT/PATCH/DELETE) and 1000 requests of any kind per 20 s per app
// per tenant, and answers 429 beyond that. Every GraphClient built for the same tenant+app must
// draw from the SAME WriteBudget: create one per (tenant, client id) and pass it to each client.
//
// The budget is enforced as a sliding-window log, not a token bucket: a grant is recorded with its
// time, and a new grant waits until fewer than N grants remain in the last W. So no window of
// length W, anywhere, ever holds more than N grants; a token bucket of capacity N refilled at N/W
// can let 2N through one fixed window, which is exactly what a server counting fixed windows
// punishes.
//
//   WriteBudget budget(WriteBudgetOptions{}, clock);   // shared by all workers of the tenant+app
//   budget.Acquire(/*is_write=*/true);                 // may block on clock.SleepFor
//   ... send ...
//   budget.RecordResponse(status);
//   if (status == 429) budget.PauseUntil(clock.SteadyNow() + retry_after, /*writes_only=*/true);

#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "graph/request_observer.h"

namespace certdeploy::graph {

struct WriteBudgetOptions {
  int max_writes = 100;  // Writes allowed in any window below.
  Duration write_window = std::chrono::seconds(20);
  int max_requests = 1000;  // All requests (writes included).
  Duration request_window = std::chrono::seconds(20);
  // Added to both windows. The budget spaces SENDS; the server counts ARRIVALS, whose latency
  // varies. A small padding (e.g. 1 s for a 20 s window) absorbs that jitter at ~5% throughput.
  Duration window_padding{0};
  // Optional: told of every wait in Acquire before it sleeps (graph/request_observer.h). Must
  // outlive the budget.
  RequestObserver* observer = nullptr;
};

// A snapshot of the counters, for logs, metrics and tests.
struct WriteBudgetStats {
  uint64_t writes_granted = 0;
  uint64_t requests_granted = 0;                // Writes included.
  std::map<int, uint64_t> responses_by_status;  // HTTP status -> count (batch items included).
  uint64_t throttled = 0;                       // 429 responses seen.
  uint64_t transport_errors = 0;                // Sends that produced no HTTP response.
  Duration time_waiting{0};                     // Total time callers spent blocked in Acquire.
};

// Thread-safe. `clock` must outlive the budget.
class WriteBudget {
 public:
  WriteBudget(const WriteBudgetOptions& options, Clock& clock);
  WriteBudget(const WriteBudget&) = delete;
  WriteBudget& operator=(const WriteBudget&) = delete;

  // Blocks (through clock.SleepFor) until one more request, a write when `is_write`, fits in the
  // budget and no pause covers it, then records the grant and returns. Waiters re-check after
  // each sleep, so concurrent workers can never be granted more than the budget; a sleeping worker
  // may lose a freed slot to another, which affects fairness only. Never sleeps for zero.
  void Acquire(bool is_write) LOCKS_EXCLUDED(mu_);

  // After a 429 with Retry-After: no grant is made before `until`. With `writes_only` only writes
  // are held (Intune throttles writes separately, reads may still pass); otherwise all requests.
  // A pause never shortens an existing one.
  void PauseUntil(SteadyTime until, bool writes_only) LOCKS_EXCLUDED(mu_);

  // Counters fed by the client after each send.
  void RecordResponse(int http_status) LOCKS_EXCLUDED(mu_);
  void RecordTransportError() LOCKS_EXCLUDED(mu_);

  WriteBudgetStats Stats() const LOCKS_EXCLUDED(mu_);

 private:
  // Earliest time >= now at which `log` admits one more entry. Pure: the caller passes a log it
  // holds the lock for.
  static SteadyTime EarliestSlot(const std::deque<SteadyTime>& log, int max, Duration window,
                                 SteadyTime now);

  // Constant after construction.
  const WriteBudgetOptions options_;
  Clock& clock_;

  mutable Mutex mu_;
  // Times of the last <= max_writes write grants, and of the last <= max_requests grants.
  std::deque<SteadyTime> write_log_ GUARDED_BY(mu_);
  std::deque<SteadyTime> request_log_ GUARDED_BY(mu_);
  SteadyTime writes_paused_until_ GUARDED_BY(mu_) = {};
  SteadyTime all_paused_until_ GUARDED_BY(mu_) = {};
  WriteBudgetStats stats_ GUARDED_BY(mu_);
};

}  // namespace certdeploy::graph
