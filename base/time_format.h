// base/time_format.h: the one RFC 3339 and HTTP-date parser and formatter in certdeploy.
//
// RFC 3339 date-times are what Graph sends and accepts ("2026-11-28T23:00:00Z",
// "2026-11-28T23:00:00.1234567+01:00"), what plan files and the REST API carry and what logs
// show. HTTP-dates (RFC 9110 section 5.6.7, IMF-fixdate only) come in Retry-After and Date
// headers: "Sun, 06 Nov 1994 08:49:37 GMT".
//
// The instants are std::chrono::system_clock::time_point (SystemTime in base/clock.h), which
// counts nanoseconds in 64 bits and so holds only 1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z.
// Parsers never overflow: text naming an instant outside that range is refused (or, when the
// caller asks, clamped to the nearest end); see docs/fuzzing.md, findings 2 and 3.

#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"

namespace certdeploy {

// What ParseRfc3339 accepts beyond the strict RFC 3339 section 5.6 "date-time" with an upper-case
// 'T' and 'Z'. The defaults suit text from Graph.
struct Rfc3339Options {
  // 't' and 'z' as well as 'T' and 'Z' (RFC 3339 section 5.6 allows either case).
  bool lower_case = true;
  // ' ' as well as 'T' between the date and the time (RFC 3339 section 5.6 allows it "for
  // readability"; Graph does not).
  bool space_separator = false;
  // Second 60 (a leap second), read as second 0 of the next minute. Graph (.NET) refuses it.
  bool leap_second = true;
  // The years accepted, inclusive, as written (before the offset is applied). Narrow it where a
  // range is part of the contract, e.g. the REST API's 1970 to 2200.
  int min_year = 0;
  int max_year = 9999;
  // An instant SystemTime cannot hold (within the years above): false refuses it, true clamps it
  // to SystemTime::min() or SystemTime::max(). Graph writes 0001-01-01T00:00:00Z and
  // 9999-12-31T23:59:59Z for "no date"; a reader of Graph may prefer the clamped value to an
  // error.
  bool clamp_to_representable = false;
};

// Parses an RFC 3339 date-time with a mandatory offset: YYYY-MM-DD "T" hh:mm:ss, an optional
// fraction of one or more digits (any number; digits past nanoseconds are dropped, not rounded),
// then "Z" or +hh:mm / -hh:mm (hh <= 23, mm <= 59). The date must exist (2024-02-29 does,
// 2025-02-29 does not); hh <= 23, mm <= 59, ss <= 59 (60 with `leap_second`).
// InvalidArgument, quoting up to 64 characters of the text, for anything else: no offset,
// "+0100", one-digit fields, "." without digits, trailing text, or a year or instant out of
// range (see Rfc3339Options).
// Examples: "2026-11-28T23:00:00Z", "2026-11-29T00:00:00+01:00" and
// "2026-11-28T23:00:00.000000000001Z" are the same instant; "2026-11-28T23:00:00" is refused.
Result<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text,
                                                           const Rfc3339Options& options = {});

// Formats `t` in UTC with "Z" and whole seconds (the fraction is dropped, rounding down):
// "2026-11-28T11:49:53Z". The form plan files, Graph requests and messages use.
std::string FormatRfc3339Utc(std::chrono::system_clock::time_point t);

// As FormatRfc3339Utc with exactly three fraction digits (milliseconds, rounded down):
// "2026-11-28T11:49:53.250Z". The REST API's timestamps.
std::string FormatRfc3339UtcMillis(std::chrono::system_clock::time_point t);

// As Graph writes a DateTimeOffset: the fraction in 100 ns units (.NET ticks, rounded down),
// trailing zeros dropped, no fraction at all when it is zero: "2026-11-28T11:49:53Z",
// "2026-11-28T11:49:53.25Z", "2026-11-28T11:49:53.1234567Z".
std::string FormatRfc3339UtcTicks(std::chrono::system_clock::time_point t);

// Parses an HTTP-date in IMF-fixdate form, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 section
// 5.6.7): a day name (Mon..Sun, not checked against the date), two-digit day, month name
// (Jan..Dec, case-sensitive), four-digit year, hh:mm:ss (ss may be 60) and "GMT". Spaces around
// the value (as header values carry) are ignored. InvalidArgument for the obsolete RFC 850 and
// asctime forms, an impossible date, or an instant SystemTime cannot hold.
Result<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view text);

// Formats `t` as an IMF-fixdate for Date headers, whole seconds rounded down:
// "Thu, 01 Jan 2026 00:00:00 GMT".
std::string FormatHttpDate(std::chrono::system_clock::time_point t);

}  // namespace certdeploy
