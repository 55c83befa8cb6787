// Notices of Graph resends and write-budget waits.

#include "cli/internal/wait_notices.h"

#include <algorithm>
#include <chrono>

namespace certdeploy::cli {
namespace {

using namespace std::chrono_literals;

// Budget waits shorter than this are normal pacing, not news; and many workers wait at once, so
// at most one budget line is echoed per this interval.
constexpr Duration kEchoBudgetWait = 5s;

// Whole seconds, rounded up, so a wait never reads "0 s" before it ends.
long long CeilSeconds(Duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return ms <= 0 ? 0 : (ms + 999) / 1000;
}

}  // namespace

std::string WaitNotices::Describe(const graph::RetryEvent& event, Duration left) {
  std::string out = event.http_status > 0 ? "Graph " + std::to_string(event.http_status)
                                          : std::string("Graph unreachable");
  out += ", retry " + std::to_string(event.retry);
  if (event.max_retries > 0) out += "/" + std::to_string(event.max_retries);
  return out + " in " + std::to_string(CeilSeconds(left)) + " s";
}

std::string WaitNotices::Describe(const graph::BudgetWaitEvent& event, Duration left) {
  return "waiting " + std::to_string(CeilSeconds(left)) + " s for the " +
         (event.is_write ? "write budget" : "request budget");
}

void WaitNotices::EchoTo(std::ostream* err, std::string prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  echo_ = err;
  echo_prefix_ = std::move(prefix);
}

std::string WaitNotices::Current() {
  const SteadyTime now = clock_.SteadyNow();
  std::lock_guard<std::mutex> lock(mu_);
  if (ends_ <= now) return "";
  return is_retry_ ? Describe(retry_, ends_ - now) : Describe(budget_, ends_ - now);
}

void WaitNotices::OnRetry(const graph::RetryEvent& event) {
  const SteadyTime ends = clock_.SteadyNow() + event.delay;
  std::lock_guard<std::mutex> lock(mu_);
  // A resend is news even when a longer budget wait is current.
  if (ends >= ends_ || !is_retry_) {
    is_retry_ = true;
    retry_ = event;
    ends_ = std::max(ends, clock_.SteadyNow());
  }
  if (echo_ != nullptr) *echo_ << echo_prefix_ << ": " << Describe(event, event.delay) << "\n";
}

void WaitNotices::OnBudgetWait(const graph::BudgetWaitEvent& event) {
  const SteadyTime ends = clock_.SteadyNow() + event.wait;
  std::lock_guard<std::mutex> lock(mu_);
  if (ends > ends_ && !(is_retry_ && ends_ > clock_.SteadyNow())) {
    is_retry_ = false;
    budget_ = event;
    ends_ = ends;
  }
  const SteadyTime now = clock_.SteadyNow();
  if (echo_ != nullptr && event.wait >= kEchoBudgetWait &&
      (last_budget_echo_ == SteadyTime{} || now - last_budget_echo_ >= kEchoBudgetWait)) {
    last_budget_echo_ = now;
    *echo_ << echo_prefix_ << ": " << Describe(event, event.wait) << "\n";
  }
}

}  // namespace certdeploy::cli
