// ThroughputHistory: a bounded ring of per-window Graph throughput samples (throughput.h).

#include "service/internal/throughput.h"

#include <cassert>

namespace certdeploy::service {

ThroughputHistory::ThroughputHistory(Duration window, Duration span)
    : window_(window), span_(span) {
  assert(window > Duration::zero() && span >= window);
}

bool ThroughputHistory::Sample(SystemTime now, const graph::WriteBudgetStats& stats,
                               const std::function<int64_t()>& queue_depth) {
  MutexLock lock(mu_);
  if (!started_) {
    started_ = true;
    last_at_ = now;
    last_writes_ = stats.writes_granted;
    last_requests_ = stats.requests_granted;
    return false;
  }
  if (now - last_at_ < window_) return false;
  ThroughputSample s;
  s.at = now;
  s.length = std::chrono::duration_cast<Duration>(now - last_at_);
  // Counters only grow; guard anyway so that a reset budget cannot show a huge number.
  s.writes = stats.writes_granted >= last_writes_ ? stats.writes_granted - last_writes_ : 0;
  s.requests =
      stats.requests_granted >= last_requests_ ? stats.requests_granted - last_requests_ : 0;
  s.queue_depth = queue_depth ? queue_depth() : 0;
  samples_.push_back(s);
  last_at_ = now;
  last_writes_ = stats.writes_granted;
  last_requests_ = stats.requests_granted;
  while (!samples_.empty() && now - samples_.front().at >= span_) samples_.pop_front();
  return true;
}

std::vector<ThroughputSample> ThroughputHistory::Samples() const {
  MutexLock lock(mu_);
  return {samples_.begin(), samples_.end()};
}

}  // namespace certdeploy::service
