// cli/internal/wait_notices.h: what Graph is waiting for, as a phrase for the progress line.
//
// WaitNotices is the graph::RequestObserver the CLI installs on its Graph connection. Each
// resend and each wait for the write budget becomes a notice ("Graph 503, retry 2/5 in 4 s",
// "waiting 12 s for the write budget") that stays current until its wait is over. The progress
// display of `apply` appends the current notice to its line; before the display exists (plan,
// the reads before apply) notices can be echoed to stderr as lines of their own.

#pragma once

#include <mutex>
#include <ostream>
#include <string>

#include "base/clock.h"
#include "graph/request_observer.h"

namespace certdeploy::cli {

class WaitNotices : public graph::RequestObserver {
 public:
  // `clock` must outlive the object.
  explicit WaitNotices(Clock& clock) : clock_(clock) {}

  // While set, every retry notice (and a budget wait of at least 5 s, at most one per 5 s) is
  // also written to `*err` as "<prefix>: <notice>\n". Null stops it. `err` must outlive the
  // setting.
  void EchoTo(std::ostream* err, std::string prefix);

  // The notice to show at the clock's now: the one whose wait ends last among those not over
  // yet, with the seconds left ("Graph 503, retry 2/5 in 3 s"); "" when nothing is waited for.
  std::string Current();

  // "Graph 503, retry 2/5 in 4 s"; "Graph unreachable, retry 1/5 in 1 s" without a response.
  static std::string Describe(const graph::RetryEvent& event, Duration left);
  // "waiting 12 s for the write budget".
  static std::string Describe(const graph::BudgetWaitEvent& event, Duration left);

  // graph::RequestObserver
  void OnRetry(const graph::RetryEvent& event) override;
  void OnBudgetWait(const graph::BudgetWaitEvent& event) override;

 private:
  Clock& clock_;
  std::mutex mu_;
  // The latest-ending wait (guarded by mu_): one of the two events, and when it ends.
  bool is_retry_ = false;
  graph::RetryEvent retry_;
  graph::BudgetWaitEvent budget_;
  SteadyTime ends_{};
  std::ostream* echo_ = nullptr;
  std::string echo_prefix_;
  SteadyTime last_budget_echo_{};
};

}  // namespace certdeploy::cli
