#include "graph/write_budget.h"

#include <algorithm>

namespace certdeploy::graph {

WriteBudget::WriteBudget(const WriteBudgetOptions& options, Clock& clock)
    : options_(options), clock_(clock) {}

SteadyTime WriteBudget::EarliestSlot(const std::deque<SteadyTime>& log, int max, Duration window,
                                     SteadyTime now) {
  // The log holds the last `max` grants in time order. One more fits once the oldest of them has
  // left the window [t - window, t].
  if (max <= 0 || static_cast<int>(log.size()) < max) return now;
  return std::max(now, log[log.size() - static_cast<size_t>(max)] + window);
}

void WriteBudget::Acquire(bool is_write) {
  const Duration write_window = options_.write_window + options_.window_padding;
  const Duration request_window = options_.request_window + options_.window_padding;
  for (;;) {
    Duration wait{0};
    {
      MutexLock lock(mu_);
      const SteadyTime now = clock_.SteadyNow();
      SteadyTime slot = std::max(now, all_paused_until_);
      slot = std::max(slot, EarliestSlot(request_log_, options_.max_requests, request_window, now));
      if (is_write) {
        slot = std::max(slot, writes_paused_until_);
        slot = std::max(slot, EarliestSlot(write_log_, options_.max_writes, write_window, now));
      }
      if (slot <= now) {
        // Grant now. Logs only grow at `now`, which never goes back, so they stay sorted.
        request_log_.push_back(now);
        if (static_cast<int>(request_log_.size()) > std::max(options_.max_requests, 1)) {
          request_log_.pop_front();
        }
        ++stats_.requests_granted;
        if (is_write) {
          write_log_.push_back(now);
          if (static_cast<int>(write_log_.size()) > std::max(options_.max_writes, 1)) {
            write_log_.pop_front();
          }
          ++stats_.writes_granted;
        }
        return;
      }
      wait = slot - now;
      stats_.time_waiting += wait;
    }
    // Sleep outside the lock, then re-check: another worker may have taken the freed slot.
    if (options_.observer != nullptr) options_.observer->OnBudgetWait({is_write, wait});
    clock_.SleepFor(wait);
  }
}

void WriteBudget::PauseUntil(SteadyTime until, bool writes_only) {
  MutexLock lock(mu_);
  SteadyTime& paused = writes_only ? writes_paused_until_ : all_paused_until_;
  paused = std::max(paused, until);
}

void WriteBudget::RecordResponse(int http_status) {
  MutexLock lock(mu_);
  ++stats_.responses_by_status[http_status];
  if (http_status == 429) ++stats_.throttled;
}

void WriteBudget::RecordTransportError() {
  MutexLock lock(mu_);
  ++stats_.transport_errors;
}

WriteBudgetStats WriteBudget::Stats() const {
  MutexLock lock(mu_);
  return stats_;
}

}  // namespace certdeploy::graph
