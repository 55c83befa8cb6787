#include "base/time_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/clock.h"
#include "tests/support/status_matchers.h"

namespace certdeploy {
namespace {

using namespace std::chrono_literals;
using ::certdeploy::testing::IsOk;
using ::certdeploy::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int64_t k2026 = 1767225600;  // 2026-01-01T00:00:00Z

SystemTime At(int64_t seconds, Duration extra = Duration::zero()) {
  return SystemTime(std::chrono::seconds(seconds)) + extra;
}

TEST(ParseRfc3339Test, AcceptsWhatGraphSends) {
  struct Case {
    std::string_view text;
    SystemTime want;
  };
  const Case cases[] = {
      {"2026-01-01T00:00:00Z", At(k2026)},
      {"1970-01-01T00:00:00Z", At(0)},
      {"2026-01-01T01:00:00+01:00", At(k2026)},
      {"2025-12-31T19:00:00-05:00", At(k2026)},
      {"2026-01-01T05:45:00+05:45", At(k2026)},
      {"2026-01-01T00:00:00+00:00", At(k2026)},
      {"2026-01-01T00:00:00-00:00", At(k2026)},
      {"2026-01-01T00:00:00.5Z", At(k2026, 500ms)},
      {"2026-01-01T00:00:00.250Z", At(k2026, 250ms)},
      {"2026-01-01T00:00:00.1234567Z", At(k2026, 123456700ns)},  // .NET ticks.
      {"2026-01-01T00:00:00.123456789Z", At(k2026, 123456789ns)},
      {"2026-01-01T00:00:00.1234567891234Z", At(k2026, 123456789ns)},  // Past ns: dropped.
      {"2026-01-01T00:00:00.0000000Z", At(k2026)},
      {"2026-01-01t00:00:00z", At(k2026)},          // RFC 3339 allows either case.
      {"2024-02-29T00:00:00Z", At(1709164800)},     // Leap year.
      {"2000-02-29T00:00:00Z", At(951782400)},      // 400-year leap.
      {"2026-01-01T23:59:60Z", At(k2026 + 86400)},  // Leap second.
      {"1969-12-31T23:59:59Z", At(-1)},
      {"2262-04-11T23:47:16Z", At(9223372036)},  // The last whole second.
      {"2262-04-11T23:47:16.854775807Z", SystemTime::max()},
      {"1677-09-21T00:12:44Z", At(-9223372036)},  // The first whole second.
  };
  for (const Case& c : cases) {
    Result<SystemTime> t = ParseRfc3339(c.text);
    ASSERT_THAT(t, IsOk()) << c.text;
    EXPECT_EQ(*t, c.want) << c.text;
  }
}

TEST(ParseRfc3339Test, RefusesMalformedText) {
  for (std::string_view bad : {
           "",
           "tomorrow",
           "2026-01-01",
           "2026-01-01T00:00:00",       // No offset.
           "2026-01-01T00:00Z",         // No seconds.
           "2026-01-01 00:00:00Z",      // Space separator (off by default).
           "2026-01-01T00:00:00+0100",  // Offset without colon.
           "2026-01-01T00:00:00+01",
           "2026-01-01T00:00:00+24:00",  // Offset hours > 23.
           "2026-01-01T00:00:00+01:60",
           "2026-01-01T00:00:00.Z",  // Fraction without digits.
           "2026-01-01T00:00:00,5Z",
           "2026-01-01T00:00:00Zjunk",
           " 2026-01-01T00:00:00Z",
           "2026-01-01T00:00:00Z ",
           "2026-1-01T00:00:00Z",
           "26-01-01T00:00:00Z",
           "+2026-01-01T00:00:00Z",
           "2026-00-01T00:00:00Z",
           "2026-13-01T00:00:00Z",
           "2026-01-00T00:00:00Z",
           "2026-01-32T00:00:00Z",
           "2026-04-31T00:00:00Z",
           "2025-02-29T00:00:00Z",  // Not a leap year.
           "1900-02-29T00:00:00Z",  // Centuries are not, unless divisible by 400.
           "2026-02-30T00:00:00Z",
           "2026-01-01T24:00:00Z",
           "2026-01-01T00:60:00Z",
           "2026-01-01T00:00:61Z",
           "2026-01-01T00:00:00\xEF\xBC\xBA",  // Full-width Z.
       }) {
    EXPECT_THAT(ParseRfc3339(bad),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("not an RFC 3339 date-time")))
        << bad;
  }
}

TEST(ParseRfc3339Test, RefusesInstantsSystemTimeCannotHold) {
  // Before the fix (docs/fuzzing.md row 3), years outside 1677..2262 overflowed the nanosecond
  // count: undefined behaviour and a wrapped date.
  for (std::string_view far :
       {"0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "1013-12-01T08:00:00.250+01:00",
        "1677-09-21T00:12:43Z", "2262-04-11T23:47:17Z", "2262-04-11T23:47:16.854775808Z",
        "2262-04-12T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.9999999-23:59"}) {
    EXPECT_THAT(ParseRfc3339(far),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("out of range")))
        << far;
  }
  // The offset can carry a representable year out of range, and back in.
  EXPECT_THAT(ParseRfc3339("2262-04-11T23:47:16-00:01"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRfc3339("2262-04-12T00:30:00+01:00"), IsOk());
}

TEST(ParseRfc3339Test, ClampsWhenAsked) {
  const Rfc3339Options clamp{.clamp_to_representable = true};
  EXPECT_EQ(*ParseRfc3339("0001-01-01T00:00:00Z", clamp), SystemTime::min());
  EXPECT_EQ(*ParseRfc3339("9999-12-31T23:59:59.9999999Z", clamp), SystemTime::max());
  EXPECT_EQ(*ParseRfc3339("2026-01-01T00:00:00Z", clamp), At(k2026));
  EXPECT_THAT(ParseRfc3339("9999-12-31T23:59:59", clamp), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParseRfc3339Test, OptionsNarrowOrWidenTheSyntax) {
  const Rfc3339Options strict{.lower_case = false, .leap_second = false};
  EXPECT_THAT(ParseRfc3339("2026-01-01t00:00:00Z", strict), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRfc3339("2026-01-01T00:00:00z", strict), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRfc3339("2026-01-01T23:59:60Z", strict), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseRfc3339("2026-01-01T23:59:59Z", strict), IsOk());

  const Rfc3339Options api{.space_separator = true, .min_year = 1970, .max_year = 2200};
  EXPECT_EQ(*ParseRfc3339("2026-01-01 00:00:00Z", api), At(k2026));
  EXPECT_THAT(ParseRfc3339("1969-12-31T23:59:59Z", api),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("years 1970 to 2200 only")));
  EXPECT_THAT(ParseRfc3339("2201-01-01T00:00:00Z", api),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("years 1970 to 2200 only")));
  // The year is judged as written: this one is 1969 in UTC.
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:30:00+01:00", api), At(-1800));
}

TEST(ParseRfc3339Test, MessagesQuoteAtMost64Characters) {
  const std::string long_text(1000, '9');
  Result<SystemTime> t = ParseRfc3339(long_text);
  ASSERT_THAT(t, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_LT(t.status().message().size(), 200u);
}

TEST(FormatRfc3339Test, Table) {
  struct Case {
    SystemTime t;
    std::string_view utc, millis, ticks;
  };
  const Case cases[] = {
      {At(0), "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00Z"},
      {At(k2026, 999ms), "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.999Z",
       "2026-01-01T00:00:00.999Z"},
      {At(k2026, 250ms), "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.250Z",
       "2026-01-01T00:00:00.25Z"},
      {At(k2026, 123456789ns), "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.123Z",
       "2026-01-01T00:00:00.1234567Z"},
      {At(k2026, 99ns), "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000Z",
       "2026-01-01T00:00:00Z"},  // Under one tick: no fraction.
      {At(1709164800 + 86399), "2024-02-29T23:59:59Z", "2024-02-29T23:59:59.000Z",
       "2024-02-29T23:59:59Z"},
      {At(-1, 500ms), "1969-12-31T23:59:59Z", "1969-12-31T23:59:59.500Z", "1969-12-31T23:59:59.5Z"},
      {SystemTime::max(), "2262-04-11T23:47:16Z", "2262-04-11T23:47:16.854Z",
       "2262-04-11T23:47:16.8547758Z"},
      {SystemTime::min(), "1677-09-21T00:12:43Z", "1677-09-21T00:12:43.145Z",
       "1677-09-21T00:12:43.1452241Z"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatRfc3339Utc(c.t), c.utc);
    EXPECT_EQ(FormatRfc3339UtcMillis(c.t), c.millis);
    EXPECT_EQ(FormatRfc3339UtcTicks(c.t), c.ticks);
  }
}

TEST(FormatRfc3339Test, ParsesBackWhatItWrites) {
  for (int64_t s : {int64_t{0}, k2026, int64_t{951782400}, int64_t{4102444800}, int64_t{-86400}}) {
    for (Duration extra : {Duration::zero(), Duration(250ms), Duration(123456700ns)}) {
      const SystemTime t = At(s, extra);
      EXPECT_EQ(*ParseRfc3339(FormatRfc3339UtcTicks(t)), t);
      EXPECT_EQ(*ParseRfc3339(FormatRfc3339Utc(t)), std::chrono::floor<std::chrono::seconds>(t));
    }
  }
}

TEST(HttpDateTest, ParsesImfFixdate) {
  struct Case {
    std::string_view text;
    SystemTime want;
  };
  const Case cases[] = {
      {"Thu, 01 Jan 2026 00:00:00 GMT", At(k2026)},
      {"Sun, 06 Nov 1994 08:49:37 GMT", At(784111777)},
      {"  Thu, 01 Jan 2026 00:00:12 GMT\t", At(k2026 + 12)},  // Header whitespace.
      {"Mon, 01 Jan 2026 00:00:00 GMT", At(k2026)},           // Day name not checked.
      {"Thu, 29 Feb 2024 12:00:00 GMT", At(1709208000)},
      {"Thu, 31 Dec 2026 23:59:60 GMT", At(k2026 + 365 * 86400)},  // Leap second.
  };
  for (const Case& c : cases) {
    Result<SystemTime> t = ParseHttpDate(c.text);
    ASSERT_THAT(t, IsOk()) << c.text;
    EXPECT_EQ(*t, c.want) << c.text;
  }
  for (std::string_view bad : {
           "",
           "7",
           "Sunday, 06-Nov-94 08:49:37 GMT",  // RFC 850.
           "Sun Nov  6 08:49:37 1994",        // asctime.
           "Sun, 06 Nov 1994 08:49:37 UTC",
           "Sun, 06 Nov 1994 08:49:37 GMTx",
           "Sun, 6 Nov 1994 08:49:37 GMT",
           "Sun, 06 nov 1994 08:49:37 GMT",
           "Xyz, 06 Nov 1994 08:49:37 GMT",
           "Sun,  06 Nov 1994 08:49:37 GMT",
           "Sun, 30 Feb 1994 08:49:37 GMT",
           "Sat, 29 Feb 2025 00:00:00 GMT",
           "Sun, 06 Nov 1994 24:00:00 GMT",
           "Sun, 06 Nov 1994 08:60:00 GMT",
           "Sun, 06 Nov 1994 08:49:61 GMT",
           "Mon, 01 Jan 0001 00:00:00 GMT",  // Not representable.
           "Fri, 31 Dec 9999 23:59:59 GMT",
       }) {
    EXPECT_THAT(ParseHttpDate(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(HttpDateTest, FormatsImfFixdate) {
  EXPECT_EQ(FormatHttpDate(At(k2026)), "Thu, 01 Jan 2026 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(At(784111777, 999ms)), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatHttpDate(At(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(At(-86400)), "Wed, 31 Dec 1969 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(At(1709208000)), "Thu, 29 Feb 2024 12:00:00 GMT");
  for (int64_t day = 0; day < 3000; day += 7) {  // Every weekday and month round-trips.
    const SystemTime t = At(k2026 + day * 86400 + day * 13);
    EXPECT_EQ(*ParseHttpDate(FormatHttpDate(t)), t) << FormatHttpDate(t);
  }
}

}  // namespace
}  // namespace certdeploy
