// tests/support/status_matchers.h: gmock matchers for Status and Result<T>.
//
//   EXPECT_THAT(ParsePkcs12(bytes, pw), StatusIs(StatusCode::kInvalidArgument, HasSubstr("MAC")));
//   EXPECT_THAT(result, IsOk());

#pragma once

#include <gmock/gmock.h>

#include "base/result.h"
#include "base/status.h"

namespace certdeploy::testing {

inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
const Status& GetStatus(const Result<T>& r) {
  return r.status();
}

MATCHER(IsOk, "is OK") {
  const Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s.ToString();
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + std::string(StatusCodeName(code))) {
  const Status& s = GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + std::string(StatusCodeName(code))) {
  const Status& s = GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code &&
         ::testing::Matches(message_matcher)(std::string(s.message()));
}

}  // namespace certdeploy::testing
