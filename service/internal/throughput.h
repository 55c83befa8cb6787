// service/internal/throughput.h: the last hour of Graph throughput and queue depth, for the
// console's budget chart (GET /v1/throughput).
//
// The daemon loop calls Sample() on every pass with the tenant's cumulative write-budget counters
// and the injected clock's time; once a budget window (limits.windowSeconds) has passed since the
// last sample it records the writes and requests granted in between and the queue depth (read
// only then, through `queue_depth`). The ring holds the newest samples covering `span` (one hour)
// and no more, so memory stays bounded however long the daemon runs. In memory only: a restart
// starts an empty history.

#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "graph/write_budget.h"

namespace certdeploy::service {

struct ThroughputSample {
  SystemTime at{};        // End of the interval.
  Duration length{0};     // Its length: one window, longer when the loop was busy.
  uint64_t writes = 0;    // Graph writes granted in the interval.
  uint64_t requests = 0;  // Graph requests granted (writes included).
  int64_t queue_depth = 0;  // Queued work items at `at`.

  bool operator==(const ThroughputSample&) const = default;
};

// Thread-safe: the loop samples while API handlers read.
class ThroughputHistory {
 public:
  // REQUIRES: window > 0, span >= window.
  ThroughputHistory(Duration window, Duration span);
  ThroughputHistory(const ThroughputHistory&) = delete;
  ThroughputHistory& operator=(const ThroughputHistory&) = delete;

  // Records a sample when a window has passed since the last one (the first call only sets the
  // baseline). `queue_depth` is called only then; a negative depth (the store could not answer)
  // is recorded as is. Returns whether a sample was recorded.
  bool Sample(SystemTime now, const graph::WriteBudgetStats& stats,
              const std::function<int64_t()>& queue_depth) LOCKS_EXCLUDED(mu_);

  // The samples, oldest first.
  std::vector<ThroughputSample> Samples() const LOCKS_EXCLUDED(mu_);
  Duration window() const { return window_; }

 private:
  const Duration window_;
  const Duration span_;
  mutable Mutex mu_;
  bool started_ GUARDED_BY(mu_) = false;
  SystemTime last_at_ GUARDED_BY(mu_) = {};
  uint64_t last_writes_ GUARDED_BY(mu_) = 0;
  uint64_t last_requests_ GUARDED_BY(mu_) = 0;
  std::deque<ThroughputSample> samples_ GUARDED_BY(mu_);
};

}  // namespace certdeploy::service
