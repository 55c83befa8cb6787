// sandbox/internal/budget.h: Intune's request budgets as sliding windows.
//
// Intune counts requests per app per tenant over a rolling 20 s window (100 writes, 1000 of any
// kind). A SlidingWindow admits an event at time t when fewer than `limit` admitted events lie in
// (t - window, t]; otherwise it says how long until the oldest one leaves the window. It also
// records the largest number of admitted events ever seen in one window, which is what a test
// asserts to prove that a client stayed within its budget. Not thread-safe: Budget locks.

#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "base/clock.h"

namespace certdeploy::sandbox::internal {

class SlidingWindow {
 public:
  // limit <= 0: unlimited (still measured).
  SlidingWindow(int limit, Duration window) : limit_(limit), window_(window) {}

  // How long until an event at `now` could be admitted; zero if it can be now.
  Duration WaitTime(SteadyTime now);
  // Records an admitted event at `now` (call only after WaitTime(now) == 0).
  void Admit(SteadyTime now);
  int max_in_window() const { return max_in_window_; }
  void Reset();

 private:
  void Prune(SteadyTime now);

  const int limit_;
  const Duration window_;
  std::deque<SteadyTime> events_;
  int max_in_window_ = 0;
};

// The pair of windows (all requests, writes) behind one lock.
class Budget {
 public:
  Budget(int request_limit, int write_limit, Duration window)
      : requests_(request_limit, window), writes_(write_limit, window), attempts_(0, window) {}

  // Admits one request (a write also takes a write slot) and returns nullopt, or returns the
  // Retry-After in whole seconds (at least 1) and admits nothing.
  std::optional<int64_t> TryAdmit(SteadyTime now, bool is_write);
  int max_writes_in_window() const;
  // The most writes ever attempted in one window, refused ones included: what the client sent.
  int max_write_attempts_in_window() const;
  void Reset();

 private:
  mutable std::mutex mu_;
  SlidingWindow requests_;
  SlidingWindow writes_;
  SlidingWindow attempts_;  // Unlimited: measures every write, admitted or not.
};

}  // namespace certdeploy::sandbox::internal
