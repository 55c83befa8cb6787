#include "sandbox/internal/stats.h"

namespace certdeploy::sandbox::internal {

void StatsCollector::EnterRequest() {
  int now = in_flight_.fetch_add(1) + 1;
  int peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.requests += 1;
}

void StatsCollector::ExitRequest() { in_flight_.fetch_sub(1); }

void StatsCollector::RecordReply(const Reply& reply) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.requests_by_status[reply.status] += 1;
  if (reply.status == 429) stats_.throttled += 1;
  if (reply.write_committed && !reply.batch_envelope) stats_.writes_applied += 1;
  if (reply.duplicate) stats_.duplicates += 1;
  if (reply.auth_failure) stats_.auth_failures += 1;
  if (!reply.rejection.empty()) stats_.rejections[reply.rejection] += 1;
}

void StatsCollector::CountBatchItem() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.batch_items += 1;
}

void StatsCollector::CountAdmittedWrite() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.writes += 1;
}

void StatsCollector::CountTokenIssued() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.tokens_issued += 1;
}

void StatsCollector::CountDropped() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.dropped += 1;
}

void StatsCollector::CountBareAnswer() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.bare_answers += 1;
}

void StatsCollector::CountInjectedFailure() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.injected_failures += 1;
}

void StatsCollector::CountInjectedThrottle() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.injected_throttles += 1;
}

void StatsCollector::CountLatencySpike() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.latency_spikes += 1;
}

SandboxStats StatsCollector::Snapshot(int max_writes_per_window,
                                      int max_write_attempts_per_window) const {
  std::lock_guard<std::mutex> lock(mu_);
  SandboxStats out = stats_;
  out.peak_concurrency = peak_.load();
  out.max_writes_per_window = max_writes_per_window;
  out.max_write_attempts_per_window = max_write_attempts_per_window;
  return out;
}

void StatsCollector::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_ = SandboxStats{};
  peak_.store(in_flight_.load());
}

json StatsCollector::ToJson(const SandboxStats& s) {
  json by_status = json::object();
  for (const auto& [status, count] : s.requests_by_status)
    by_status[std::to_string(status)] = count;
  json rejections = json::object();
  for (const auto& [reason, count] : s.rejections) rejections[reason] = count;
  return json{{"requests", s.requests},
              {"requestsByStatus", by_status},
              {"batchItems", s.batch_items},
              {"writes", s.writes},
              {"writesApplied", s.writes_applied},
              {"throttled", s.throttled},
              {"duplicates", s.duplicates},
              {"rejections", rejections},
              {"peakConcurrency", s.peak_concurrency},
              {"maxWritesPerWindow", s.max_writes_per_window},
              {"maxWriteAttemptsPerWindow", s.max_write_attempts_per_window},
              {"dropped", s.dropped},
              {"bareAnswers", s.bare_answers},
              {"injectedFailures", s.injected_failures},
              {"injectedThrottles", s.injected_throttles},
              {"latencySpikes", s.latency_spikes},
              {"tokensIssued", s.tokens_issued},
              {"authFailures", s.auth_failures}};
}

}  // namespace certdeploy::sandbox::internal
