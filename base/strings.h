// base/strings.h: the ASCII string helpers every module uses (case, splitting, trimming).
//
// All of them work on bytes and know only ASCII: letters outside A-Z/a-z and bytes >= 0x80 are
// never changed or folded, so UTF-8 passes through untouched and the result does not depend on
// the process locale (unlike std::tolower). That is what protocol tokens need: HTTP header names,
// Graph enum values, URL schemes and hosts, UPNs as Entra compares them.

#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace certdeploy {

// `s` with A-Z replaced by a-z; every other byte is kept. AsciiToLower("Alice@Contoso.COM") is
// "alice@contoso.com"; AsciiToLower("ÉTÉ") keeps the UTF-8 bytes of "É" and gives "ÉtÉ".
std::string AsciiToLower(std::string_view s);

// True when `a` and `b` have the same length and are equal after AsciiToLower.
// EqualsIgnoreCaseAscii("Content-Type", "content-type") is true; ("é", "É") is false.
bool EqualsIgnoreCaseAscii(std::string_view a, std::string_view b);

// True when `s` begins with `prefix`, compared as EqualsIgnoreCaseAscii does.
// StartsWithIgnoreCaseAscii("Bearer abc", "bearer ") is true; an empty prefix always matches.
bool StartsWithIgnoreCaseAscii(std::string_view s, std::string_view prefix);

// The pieces of `s` between occurrences of `separator`, in order, empty pieces included:
// SplitString("a&&b", '&') is {"a", "", "b"}, SplitString("", '&') is {""} and SplitString("a/",
// '/') is {"a", ""}. Always at least one piece. The views point into `s`, which must outlive
// them.
std::vector<std::string_view> SplitString(std::string_view s, char separator);

// `s` without leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r). Other bytes,
// including UTF-8 no-break spaces, are kept. The view points into `s`.
// TrimAsciiWhitespace(" \t120\r\n") is "120"; TrimAsciiWhitespace("  ") is "".
std::string_view TrimAsciiWhitespace(std::string_view s);

// `s` without leading and trailing bytes that occur in `chars`: TrimAny(" \ta b\t", " \t") is
// "a b". The view points into `s`.
std::string_view TrimAny(std::string_view s, std::string_view chars);

// A value a client sent, made safe for a log line: printable ASCII is kept, every other byte
// (control characters, escapes, UTF-8) becomes '?', and past `max_bytes` it is cut and ends with
// "...(N bytes)". ForLog("GET") is "GET"; ForLog(std::string(4000, 'X'), 8) is
// "XXXXXXXX...(4000 bytes)". Use it for anything from a request before logging it.
std::string ForLog(std::string_view untrusted, size_t max_bytes = 64);

// `s` with every occurrence of `from` (not empty) replaced by `to`, left to right; a
// replacement is not searched again. ReplaceAll("a-b-c", "-", "+") is "a+b+c".
std::string ReplaceAll(std::string s, std::string_view from, std::string_view to);

// Whether `s` is a GUID in its canonical text form: 8-4-4-4-12 hex digits (either case), with
// hyphens, no braces. IsGuid("0b4a7c1e-2f3d-4e5a-9b8c-7d6e5f4a3b2c") is true.
bool IsGuid(std::string_view s);

// One CSV field as RFC 4180 writes it: quoted, with every '"' doubled, when it holds a comma, a
// quote, CR or LF; as it is otherwise. CsvField("a,b") is "\"a,b\""; CsvField("ab") is "ab".
std::string CsvField(std::string_view field);

// The number of single-byte insertions, deletions and substitutions that turn `a` into `b`
// (Levenshtein), compared as EqualsIgnoreCaseAscii does: EditDistance("aply", "apply") is 1.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` by EditDistance, for "did you mean" hints: the first one at the
// smallest distance, provided that distance is at most max(1, size of the word / 3) (a typo, not
// another word). "" when none is that close. ClosestMatch("aply", {"plan", "apply"}) is "apply";
// ClosestMatch("frobnicate", {"plan", "apply"}) is "".
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace certdeploy
