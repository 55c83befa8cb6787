// graph/request_observer.h: what the Graph client is waiting for, told to whoever shows progress.
//
// The client retries and paces on its own; without a word, a run that waits for Graph looks
// hung. A RequestObserver, injected through GraphClientOptions::observer and
// WriteBudgetOptions::observer, hears about every wait before it starts: a resend after a
// retryable failure (429, 503, a transport error) and a wait for a slot of the write budget. The
// graph module knows nothing of terminals or commands; the CLI draws these on its progress line.
//
//   class Line : public graph::RequestObserver {
//     void OnRetry(const graph::RetryEvent& e) override { ... "Graph 503, retry 2/5 in 4 s" ... }
//   };

#pragma once

#include <string>

#include "base/clock.h"

namespace certdeploy::graph {

// A resend about to be waited for.
struct RetryEvent {
  std::string what;     // "POST /deviceManagement/userPfxCertificates" (no query).
  int http_status = 0;  // The failed attempt's HTTP status; 0 when no response came back.
  std::string reason;   // RetryDecision::reason: "503, backoff", "429 with Retry-After", ...
  int retry = 0;        // 1 for the first resend.
  int max_retries = 0;  // RetryPolicy::max_attempts - 1.
  Duration delay{0};    // How long the client waits before resending.
};

// A wait for the write budget (graph/write_budget.h) about to start.
struct BudgetWaitEvent {
  bool is_write = false;  // A write slot (else any request).
  Duration wait{0};
};

// Called on the thread that is about to wait, possibly from many threads at once: implementations
// must be thread-safe and return quickly (never block, never call back into the client).
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void OnRetry(const RetryEvent& event) = 0;
  virtual void OnBudgetWait(const BudgetWaitEvent& event) = 0;
};

}  // namespace certdeploy::graph
