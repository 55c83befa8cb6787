// sandbox/internal/stats.h: the counters behind GET /_sandbox/stats. Thread-safe.

#pragma once

#include <atomic>
#include <mutex>

#include "sandbox/internal/wire.h"
#include "sandbox/sandbox.h"

namespace certdeploy::sandbox::internal {

class StatsCollector {
 public:
  // Counts one HTTP request (top-level; a $batch counts once) and tracks concurrency.
  void EnterRequest();
  void ExitRequest();
  // Counts one answer (top-level or $batch item): status, refusal reason, duplicate, 429, ...
  void RecordReply(const Reply& reply);
  void CountBatchItem();
  void CountAdmittedWrite();
  void CountTokenIssued();
  void CountDropped();
  void CountBareAnswer();
  void CountInjectedFailure();
  void CountInjectedThrottle();
  void CountLatencySpike();

  // The window maxima come from the budget, which measures them.
  SandboxStats Snapshot(int max_writes_per_window, int max_write_attempts_per_window) const;
  void Reset();

  static json ToJson(const SandboxStats& stats);

 private:
  mutable std::mutex mu_;
  SandboxStats stats_;  // Guarded by mu_ (except the concurrency fields below).
  std::atomic<int> in_flight_{0};
  std::atomic<int> peak_{0};
};

}  // namespace certdeploy::sandbox::internal
