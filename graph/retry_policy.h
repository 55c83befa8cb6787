// graph/retry_policy.h: when to resend a Graph request and how long to wait first (pure logic).
//
// The Graph client loop is: send -> classify -> RetryPolicy::Decide -> Clock::SleepFor(delay). This
// header holds only the decision, with no clock and no I/O, so tables of cases test it exactly.
//
// Rules (Graph throttling and error docs, plus the "never blindly resend a write"):
//   - 429 and 503 mean "not processed": retry, whatever the method.
//   - 504 and a transport kUnknownOutcome mean "maybe processed": retry only methods that are safe
//     to resend (GET, HEAD); for a write stop with kStopUnknownOutcome so the caller reconciles by
//     reading first.
//   - A transport kUnavailable (nothing delivered) is retried for every method.
//   - Everything else (2xx, other 4xx/5xx, invalid requests) is final.
//   - Delay: `x-ms-retry-after-ms` (milliseconds; wins when both are present, it is more precise),
//     else `Retry-After` (delta-seconds or an HTTP-date taken relative to the response's Date
//     header, or to `now` without one), else exponential backoff with full jitter:
//     uniform[0, min(max_delay, base_delay * 2^(attempt-1))). Every delay is capped at max_delay.
//
//   RetryPolicy policy;
//   RetryDecision d = policy.DecideAfterResponse(attempt, IsSafeToResend("POST"), response,
//                                                clock.Now(), random);
//   if (d.action == RetryAction::kRetry) clock.SleepFor(d.delay);

#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "graph/http_transport.h"

namespace certdeploy::graph {

enum class RetryAction {
  kStop,                // Final: surface the response or error as it is.
  kRetry,               // Resend after `delay`.
  kStopUnknownOutcome,  // A write may have been applied: surface kUnknownOutcome, do not resend.
};

struct RetryDecision {
  RetryAction action = RetryAction::kStop;
  Duration delay{0};  // Only meaningful for kRetry.
  // Why, for logs and error messages: "429 with Retry-After", "503, backoff", "attempts exhausted".
  std::string reason;
  // True when the condition was retryable but `attempt` reached max_attempts.
  bool attempts_exhausted = false;
  // The server-requested delay (before capping), when the response carried one.
  std::optional<Duration> server_retry_after;

  bool operator==(const RetryDecision&) const = default;
};

// True for methods whose resend cannot duplicate a side effect: GET and HEAD.
bool IsSafeToResend(std::string_view method);

// Parses the server's requested delay from `response`: `x-ms-retry-after-ms`, else `Retry-After`
// (delta-seconds or IMF-fixdate HTTP-date, relative to the response's `Date` header when present,
// else to `now`). A date in the past yields zero. Returns nullopt when absent or unparseable.
std::optional<Duration> ParseRetryAfter(const HttpResponse& response, SystemTime now);

// A value type: copy it freely. Decide* are const and thread-safe (Random& must be).
struct RetryPolicy {
  int max_attempts = 6;  // Total sends, the first included. >= 1.
  Duration base_delay = std::chrono::seconds(1);
  Duration max_delay = std::chrono::seconds(60);
  // Total time budget for one logical call, retries and waits included (used by the client loop,
  // which fails with kDeadlineExceeded when a wait would cross it).
  Duration total_deadline = std::chrono::minutes(5);
  // The baseline strategy of `certdeploy apply --serial` (Microsoft's PowerShell module): resend
  // only 429s, after their Retry-After or throttled_default_delay without one; every other status
  // and transport error is final (a write whose outcome is unknown still stops with
  // kStopUnknownOutcome, so nothing is ever blindly resent).
  bool throttling_only = false;
  Duration throttled_default_delay = std::chrono::seconds(60);

  // Decision after attempt number `attempt` (1-based) received `response`.
  RetryDecision DecideAfterResponse(int attempt, bool safe_to_resend, const HttpResponse& response,
                                    SystemTime now, Random& random) const;

  // Decision after attempt number `attempt` failed in the transport with `error` (not OK).
  RetryDecision DecideAfterTransportError(int attempt, bool safe_to_resend, const Status& error,
                                          Random& random) const;

  // The jittered exponential backoff for `attempt` (1-based), capped at max_delay.
  Duration Backoff(int attempt, Random& random) const;
};

}  // namespace certdeploy::graph
