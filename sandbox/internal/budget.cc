#include "sandbox/internal/budget.h"

#include <algorithm>

namespace certdeploy::sandbox::internal {

void SlidingWindow::Prune(SteadyTime now) {
  // The window is (now - window, now]: an event exactly `window` old has left it.
  while (!events_.empty() && events_.front() <= now - window_) events_.pop_front();
}

Duration SlidingWindow::WaitTime(SteadyTime now) {
  Prune(now);
  if (limit_ <= 0 || static_cast<int>(events_.size()) < limit_) return Duration::zero();
  // The slot frees when the (size - limit + 1)-th oldest event leaves the window.
  SteadyTime frees = events_[events_.size() - static_cast<size_t>(limit_)] + window_;
  return frees - now;
}

void SlidingWindow::Admit(SteadyTime now) {
  Prune(now);
  events_.push_back(now);
  max_in_window_ = std::max(max_in_window_, static_cast<int>(events_.size()));
}

void SlidingWindow::Reset() {
  events_.clear();
  max_in_window_ = 0;
}

std::optional<int64_t> Budget::TryAdmit(SteadyTime now, bool is_write) {
  std::lock_guard<std::mutex> lock(mu_);
  if (is_write) attempts_.Admit(now);
  Duration wait = requests_.WaitTime(now);
  if (is_write) wait = std::max(wait, writes_.WaitTime(now));
  if (wait > Duration::zero()) {
    auto secs = std::chrono::ceil<std::chrono::seconds>(wait).count();
    return std::max<int64_t>(secs, 1);
  }
  requests_.Admit(now);
  if (is_write) writes_.Admit(now);
  return std::nullopt;
}

int Budget::max_writes_in_window() const {
  std::lock_guard<std::mutex> lock(mu_);
  return writes_.max_in_window();
}

int Budget::max_write_attempts_in_window() const {
  std::lock_guard<std::mutex> lock(mu_);
  return attempts_.max_in_window();
}

void Budget::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.Reset();
  writes_.Reset();
  attempts_.Reset();
}

}  // namespace certdeploy::sandbox::internal
