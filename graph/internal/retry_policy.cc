#include "graph/retry_policy.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include "base/strings.h"
#include "base/time_format.h"

namespace certdeploy::graph {
namespace {

// A non-negative decimal integer and nothing else.
std::optional<int64_t> ParseNonNegative(std::string_view s) {
  s = TrimAsciiWhitespace(s);
  if (s.empty()) return std::nullopt;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

bool IsSafeToResend(std::string_view method) {
  return EqualsIgnoreCaseAscii(method, "GET") || EqualsIgnoreCaseAscii(method, "HEAD");
}

std::optional<Duration> ParseRetryAfter(const HttpResponse& response, SystemTime now) {
  if (std::optional<std::string> ms = response.Header("x-ms-retry-after-ms")) {
    if (std::optional<int64_t> value = ParseNonNegative(*ms)) {
      return std::chrono::milliseconds(*value);
    }
  }
  std::optional<std::string> header = response.Header("Retry-After");
  if (!header) return std::nullopt;
  if (std::optional<int64_t> seconds = ParseNonNegative(*header)) {
    return std::chrono::seconds(*seconds);
  }
  Result<SystemTime> when = ParseHttpDate(*header);
  if (!when.ok()) return std::nullopt;
  // The date is in the server's clock: measure it against the server's Date when there is one.
  SystemTime reference = now;
  if (std::optional<std::string> date = response.Header("Date")) {
    if (Result<SystemTime> server_now = ParseHttpDate(*date); server_now.ok()) {
      reference = *server_now;
    }
  }
  return std::max(Duration::zero(), std::chrono::duration_cast<Duration>(*when - reference));
}

Duration RetryPolicy::Backoff(int attempt, Random& random) const {
  // Full jitter: uniform in [0, min(max_delay, base * 2^(attempt-1))).
  double cap = static_cast<double>(base_delay.count()) * std::ldexp(1.0, std::max(0, attempt - 1));
  cap = std::min(cap, static_cast<double>(max_delay.count()));
  return Duration(static_cast<Duration::rep>(random.NextDouble() * cap));
}

RetryDecision RetryPolicy::DecideAfterResponse(int attempt, bool safe_to_resend,
                                               const HttpResponse& response, SystemTime now,
                                               Random& random) const {
  RetryDecision decision;
  const int status = response.status;
  const std::string code = std::to_string(status);
  if (status == 504 && !safe_to_resend) {
    // The gateway may have forwarded the write before timing out.
    decision.action = RetryAction::kStopUnknownOutcome;
    decision.reason = "504 on a write: the gateway may have forwarded it";
    return decision;
  }
  if (status != 429 && (throttling_only || (status != 503 && status != 504))) {
    decision.reason = "status " + code + " is final";
    return decision;
  }
  decision.server_retry_after = ParseRetryAfter(response, now);
  if (attempt >= max_attempts) {
    decision.attempts_exhausted = true;
    decision.reason = code + " after " + std::to_string(attempt) + " attempts";
    return decision;
  }
  decision.action = RetryAction::kRetry;
  if (throttling_only) {
    decision.delay = decision.server_retry_after.value_or(throttled_default_delay);
    decision.reason = code + ", sleeping as the server asked";
  } else if (decision.server_retry_after) {
    decision.delay = std::min(*decision.server_retry_after, max_delay);
    decision.reason = code + ", server asked to wait";
  } else {
    decision.delay = Backoff(attempt, random);
    decision.reason = code + ", backoff";
  }
  return decision;
}

RetryDecision RetryPolicy::DecideAfterTransportError(int attempt, bool safe_to_resend,
                                                     const Status& error, Random& random) const {
  RetryDecision decision;
  const bool unknown =
      error.code() == StatusCode::kUnknownOutcome || error.code() == StatusCode::kDeadlineExceeded;
  if (unknown && !safe_to_resend) {
    decision.action = RetryAction::kStopUnknownOutcome;
    decision.reason = "the write was sent but its outcome is unknown";
    return decision;
  }
  if (throttling_only || (!unknown && error.code() != StatusCode::kUnavailable)) {
    decision.reason = "transport error is final";
    return decision;
  }
  if (attempt >= max_attempts) {
    decision.attempts_exhausted = true;
    decision.reason = "transport error after " + std::to_string(attempt) + " attempts";
    return decision;
  }
  decision.action = RetryAction::kRetry;
  decision.delay = Backoff(attempt, random);
  decision.reason = unknown ? "lost response to a safe request, backoff" : "not delivered, backoff";
  return decision;
}

}  // namespace certdeploy::graph
