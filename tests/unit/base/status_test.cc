#include "base/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/result.h"
#include "base/status_macros.h"
#include "tests/support/status_matchers.h"

namespace certdeploy {
namespace {

using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using ::testing::HasSubstr;

TEST(StatusTest, DefaultIsOkAndCheap) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.details(), nullptr);
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, ErrorCarriesCodeMessageAndDetails) {
  StatusDetails d;
  d.http_status = 429;
  d.service_code = "TooManyRequests";
  d.request_id = "abc-123";
  d.retry_after = std::chrono::milliseconds(7000);
  Status s(StatusCode::kResourceExhausted, "throttled", d);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  ASSERT_NE(s.details(), nullptr);
  EXPECT_EQ(s.details()->retry_after, std::chrono::milliseconds(7000));
  EXPECT_EQ(s.ToString(),
            "resource-exhausted: throttled (http 429, TooManyRequests, request-id abc-123)");
}

TEST(StatusTest, ToStringNamesTheRequestIdOnceWhateverTheContexts) {
  StatusDetails d;
  d.http_status = 400;
  d.service_code = "BadRequest";
  d.request_id = "rid-7";
  // As the Graph client words it, then wrapped by two callers.
  Status s = Status(StatusCode::kInvalidArgument, "POST /x: HTTP 400 BadRequest: no (request-id rid-7)",
                    d)
                 .WithContext("importing line 3")
                 .WithContext("apply");
  const std::string text = s.ToString();
  size_t count = 0;
  for (size_t at = text.find("rid-7"); at != std::string::npos; at = text.find("rid-7", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u) << text;
  EXPECT_EQ(text,
            "invalid-argument: apply: importing line 3: POST /x: HTTP 400 BadRequest: no "
            "(request-id rid-7) (http 400, BadRequest)");
}

TEST(StatusTest, CopyIsDeepAndEqualityComparesEverything) {
  Status a = NotFoundError("no such user");
  Status b = a;
  EXPECT_EQ(a, b);
  EXPECT_NE(a, NotFoundError("other"));
  EXPECT_NE(a, InvalidArgumentError("no such user"));
  EXPECT_NE(a, OkStatus());
}

TEST(StatusTest, WithContextPrefixesMessage) {
  EXPECT_EQ(UnavailableError("reset").WithContext("GET /users").message(), "GET /users: reset");
  EXPECT_TRUE(OkStatus().WithContext("x").ok());
}

TEST(StatusTest, OkCodeWithMessageIsOk) {
  EXPECT_TRUE(Status(StatusCode::kOk, "ignored").ok());
}

TEST(StatusTest, CodeNamesAreStable) {
  EXPECT_EQ(StatusCodeName(StatusCode::kUnknownOutcome), "unknown-outcome");
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "invalid-argument");
  EXPECT_EQ(StatusCodeName(StatusCode::kFailedPrecondition), "failed-precondition");
}

Result<int> ParsePositive(int v) {
  if (v <= 0) return InvalidArgumentError("not positive: " + std::to_string(v));
  return v;
}

Result<int> Doubled(int v) {
  ASSIGN_OR_RETURN(int x, ParsePositive(v));
  return 2 * x;
}

Status CheckAll(int a, int b) {
  RETURN_IF_ERROR(ParsePositive(a).status());
  RETURN_IF_ERROR(ParsePositive(b).status());
  return OkStatus();
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> ok = Doubled(21);
  ASSERT_THAT(ok, IsOk());
  EXPECT_EQ(*ok, 42);
  EXPECT_THAT(Doubled(-1), StatusIs(StatusCode::kInvalidArgument, HasSubstr("not positive: -1")));
  EXPECT_EQ(Doubled(-1).value_or(7), 7);
}

TEST(ResultTest, MacrosReturnTheFirstError) {
  EXPECT_THAT(CheckAll(1, 2), IsOk());
  EXPECT_THAT(CheckAll(1, -2), StatusIs(StatusCode::kInvalidArgument, HasSubstr("-2")));
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r = InternalError("boom");
  EXPECT_DEATH((void)r.value(), "boom");
}

}  // namespace
}  // namespace certdeploy
