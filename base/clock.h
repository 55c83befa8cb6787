// base/clock.h: the only way certdeploy code reads time or waits.
//
// Production code takes a `Clock&` and never calls std::chrono::*::now() or sleeps directly, so
// retries, token expiry, schedules and rate limits are tested on a FakeClock
// (tests/support/fake_clock.h) in zero wall time.

#pragma once

#include <chrono>

namespace certdeploy {

using SystemTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;

  // Wall-clock time: certificate validity, schedules, audit records.
  virtual SystemTime Now() = 0;
  // Monotonic time: deadlines, backoff, timeouts, rate limits.
  virtual SteadyTime SteadyNow() = 0;
  // Blocks the calling thread for `d` (a fake clock advances instead). d <= 0 returns at once.
  virtual void SleepFor(Duration d) = 0;
};

// The process-wide real clock. Thread-safe; never destroyed.
Clock& RealClock();

}  // namespace certdeploy
