// tests/support/fake_clock.h: a Clock whose time moves only when told to.
//
// SleepFor(d) advances both clocks by d at once and records d, so a test can assert an exact
// backoff sequence in zero wall time. Thread-safe.

#pragma once

#include <mutex>
#include <vector>

#include "base/clock.h"

namespace certdeploy::testing {

class FakeClock : public Clock {
 public:
  // Starts at 2026-01-01T00:00:00Z unless told otherwise.
  explicit FakeClock(SystemTime start = SystemTime(std::chrono::seconds(1767225600)))
      : now_(start), steady_(SteadyTime(std::chrono::hours(1))) {}

  SystemTime Now() override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  SteadyTime SteadyNow() override {
    std::lock_guard<std::mutex> lock(mu_);
    return steady_;
  }
  void SleepFor(Duration d) override {
    std::lock_guard<std::mutex> lock(mu_);
    sleeps_.push_back(d);
    if (d > Duration::zero()) {
      now_ += std::chrono::duration_cast<SystemTime::duration>(d);
      steady_ += d;
    }
  }

  void Advance(Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += std::chrono::duration_cast<SystemTime::duration>(d);
    steady_ += d;
  }
  void SetNow(SystemTime t) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ = t;
  }
  std::vector<Duration> sleeps() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sleeps_;
  }

 private:
  mutable std::mutex mu_;
  SystemTime now_;
  SteadyTime steady_;
  std::vector<Duration> sleeps_;
};

}  // namespace certdeploy::testing
