// RetryPolicy is pure: every case is a table row with exact delays, no clock.

#include "graph/retry_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fake_http_transport.h"
#include "tests/unit/graph/graph_test_util.h"

namespace certdeploy::graph {
namespace {

using certdeploy::testing::Response;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FixedRandom;

// 2026-01-01T00:00:00Z, written as an HTTP-date below.
const SystemTime kNow = SystemTime(seconds(1767225600));

TEST(RetryPolicyTest, SafeToResendOnlyForReads) {
  EXPECT_TRUE(IsSafeToResend("GET"));
  EXPECT_TRUE(IsSafeToResend("head"));
  EXPECT_FALSE(IsSafeToResend("POST"));
  EXPECT_FALSE(IsSafeToResend("PATCH"));
  EXPECT_FALSE(IsSafeToResend("DELETE"));
  EXPECT_FALSE(IsSafeToResend("PUT"));
}

struct ResponseCase {
  const char* name;
  int status;
  bool safe;
  RetryAction action;
};

TEST(RetryPolicyTest, ClassifiesStatusesByMethod) {
  const ResponseCase cases[] = {
      {"429 POST", 429, false, RetryAction::kRetry},
      {"429 GET", 429, true, RetryAction::kRetry},
      {"503 PATCH", 503, false, RetryAction::kRetry},
      {"504 GET", 504, true, RetryAction::kRetry},
      {"504 POST", 504, false, RetryAction::kStopUnknownOutcome},
      {"500 GET", 500, true, RetryAction::kStop},
      {"502 GET", 502, true, RetryAction::kStop},
      {"400 POST", 400, false, RetryAction::kStop},
      {"404 GET", 404, true, RetryAction::kStop},
      {"200 GET", 200, true, RetryAction::kStop},
  };
  RetryPolicy policy;
  FixedRandom random;
  for (const ResponseCase& c : cases) {
    RetryDecision d = policy.DecideAfterResponse(1, c.safe, Response(c.status), kNow, random);
    EXPECT_EQ(d.action, c.action) << c.name << ": " << d.reason;
  }
}

TEST(RetryPolicyTest, ClassifiesTransportErrorsByMethod) {
  RetryPolicy policy;
  FixedRandom random;
  auto decide = [&](const Status& error, bool safe) {
    return policy.DecideAfterTransportError(1, safe, error, random).action;
  };
  EXPECT_EQ(decide(UnavailableError("refused"), false), RetryAction::kRetry);
  EXPECT_EQ(decide(UnavailableError("refused"), true), RetryAction::kRetry);
  EXPECT_EQ(decide(UnknownOutcomeError("reset"), true), RetryAction::kRetry);
  EXPECT_EQ(decide(UnknownOutcomeError("reset"), false), RetryAction::kStopUnknownOutcome);
  EXPECT_EQ(decide(DeadlineExceededError("timeout"), false), RetryAction::kStopUnknownOutcome);
  EXPECT_EQ(decide(InvalidArgumentError("http://"), true), RetryAction::kStop);
}

TEST(RetryPolicyTest, ThrottlingOnlyResendsJust429s) {
  RetryPolicy policy;
  policy.throttling_only = true;
  policy.throttled_default_delay = seconds(60);
  FixedRandom random;
  auto decide = [&](int status, bool safe) {
    return policy.DecideAfterResponse(1, safe, Response(status), kNow, random);
  };
  EXPECT_EQ(decide(429, false).action, RetryAction::kRetry);
  EXPECT_EQ(decide(429, false).delay, seconds(60)) << "no Retry-After: the module's 60 s";
  EXPECT_EQ(decide(503, false).action, RetryAction::kStop);
  EXPECT_EQ(decide(503, true).action, RetryAction::kStop);
  EXPECT_EQ(decide(504, true).action, RetryAction::kStop);
  EXPECT_EQ(decide(504, false).action, RetryAction::kStopUnknownOutcome);
  RetryDecision with_header = policy.DecideAfterResponse(
      1, false, Response(429).WithHeader("Retry-After", "3"), kNow, random);
  EXPECT_EQ(with_header.delay, seconds(3));
  EXPECT_EQ(policy.DecideAfterTransportError(1, true, UnavailableError("refused"), random).action,
            RetryAction::kStop);
  EXPECT_EQ(policy.DecideAfterTransportError(1, false, UnknownOutcomeError("reset"), random).action,
            RetryAction::kStopUnknownOutcome);
}

TEST(RetryPolicyTest, HonoursRetryAfterSeconds) {
  FixedRandom random;
  RetryDecision d = RetryPolicy().DecideAfterResponse(
      1, false, Response(429).WithHeader("Retry-After", "7"), kNow, random);
  EXPECT_EQ(d.action, RetryAction::kRetry);
  EXPECT_EQ(d.delay, seconds(7));
  EXPECT_EQ(d.server_retry_after, Duration(seconds(7)));
}

TEST(RetryPolicyTest, MillisecondHeaderWinsOverRetryAfter) {
  FixedRandom random;
  RetryDecision d = RetryPolicy().DecideAfterResponse(
      1, true,
      Response(429).WithHeader("Retry-After", "2").WithHeader("x-ms-retry-after-ms", "1500"), kNow,
      random);
  EXPECT_EQ(d.delay, milliseconds(1500));
}

TEST(RetryPolicyTest, RetryAfterHttpDateIsRelativeToTheResponseDate) {
  FixedRandom random;
  // The server's clock is one hour ahead of ours: only the difference between its two dates counts.
  RetryDecision d = RetryPolicy().DecideAfterResponse(
      1, true,
      Response(503)
          .WithHeader("Date", "Thu, 01 Jan 2026 01:00:00 GMT")
          .WithHeader("Retry-After", "Thu, 01 Jan 2026 01:00:12 GMT"),
      kNow, random);
  EXPECT_EQ(d.delay, seconds(12));
}

TEST(RetryPolicyTest, RetryAfterHttpDateWithoutDateUsesNow) {
  HttpResponse r = Response(503).WithHeader("Retry-After", "Thu, 01 Jan 2026 00:00:30 GMT");
  EXPECT_EQ(ParseRetryAfter(r, kNow), Duration(seconds(30)));
  // A date in the past means "now".
  EXPECT_EQ(ParseRetryAfter(r, kNow + seconds(60)), Duration::zero());
}

TEST(RetryPolicyTest, IgnoresMalformedRetryAfter) {
  EXPECT_EQ(ParseRetryAfter(Response(429).WithHeader("Retry-After", "soon"), kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter(Response(429).WithHeader("Retry-After", "-3"), kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter(Response(429).WithHeader("Retry-After", "3s"), kNow), std::nullopt);
  EXPECT_EQ(ParseRetryAfter(Response(429), kNow), std::nullopt);
  // A malformed millisecond header falls back to Retry-After.
  EXPECT_EQ(ParseRetryAfter(
                Response(429).WithHeader("x-ms-retry-after-ms", "x").WithHeader("retry-after", "4"),
                kNow),
            Duration(seconds(4)));
}

TEST(RetryPolicyTest, CapsServerDelayAtMaxDelay) {
  FixedRandom random;
  RetryDecision d = RetryPolicy().DecideAfterResponse(
      1, true, Response(429).WithHeader("Retry-After", "3600"), kNow, random);
  EXPECT_EQ(d.delay, seconds(60));
  EXPECT_EQ(d.server_retry_after, Duration(seconds(3600)));
}

TEST(RetryPolicyTest, ExponentialBackoffWithFullJitter) {
  RetryPolicy policy;  // base 1 s, cap 60 s
  FixedRandom half(0.5);
  std::vector<Duration> delays;
  for (int attempt = 1; attempt <= 8; ++attempt) delays.push_back(policy.Backoff(attempt, half));
  EXPECT_THAT(delays, ::testing::ElementsAre(milliseconds(500), seconds(1), seconds(2), seconds(4),
                                             seconds(8), seconds(16), seconds(30), seconds(30)));
  FixedRandom zero(0.0);
  EXPECT_EQ(policy.Backoff(5, zero), Duration::zero());
  // A 503 without Retry-After uses the backoff.
  RetryDecision d = policy.DecideAfterResponse(3, false, Response(503), kNow, half);
  EXPECT_EQ(d.delay, seconds(2));
}

TEST(RetryPolicyTest, StopsWhenAttemptsAreExhausted) {
  RetryPolicy policy;
  policy.max_attempts = 3;
  FixedRandom random;
  RetryDecision d = policy.DecideAfterResponse(3, true, Response(503), kNow, random);
  EXPECT_EQ(d.action, RetryAction::kStop);
  EXPECT_TRUE(d.attempts_exhausted);
  d = policy.DecideAfterTransportError(3, true, UnavailableError("refused"), random);
  EXPECT_EQ(d.action, RetryAction::kStop);
  EXPECT_TRUE(d.attempts_exhausted);
  d = policy.DecideAfterResponse(2, true, Response(503), kNow, random);
  EXPECT_EQ(d.action, RetryAction::kRetry);
}

}  // namespace
}  // namespace certdeploy::graph
