// config/upn.h: the one rule for a user principal name (UPN), used wherever certdeploy takes one
// from a person: manifest rows (`plan`, `apply`, rollouts) and the REST API (enrollments).
//
// The rule is Microsoft Entra ID's documented UPN policy, so that a row certdeploy accepts is one
// the directory can hold and a row it refuses could never name a real user:
//   - "Password policies and account restrictions in Microsoft Entra ID", section "Username
//     policies" (learn.microsoft.com/entra/identity/authentication/concept-sspr-policy):
//     at most 113 characters in total, at most 64 before the "@" and at most 48 after it;
//     characters allowed in the username: A-Z a-z 0-9 ' . - _ ! # ^ ~; no "@" other than the
//     separator; no "." immediately before the "@".
//   - "Prepare for directory synchronization to Microsoft 365"
//     (learn.microsoft.com/microsoft-365/enterprise/prepare-for-directory-synchronization):
//     letters with diacritical marks and other non-ASCII characters are invalid; spaces and
//     \ % & * + / = ? { } | < > ( ) ; : , [ ] " are invalid; the username cannot end with a
//     period; the UPN suffix (domain) holds letters, numbers, periods, dashes and underscores and
//     must be a routable (dotted) domain.
//   - Graph's user resource (learn.microsoft.com/graph/api/resources/user, userPrincipalName):
//     alias@domain, where the domain is one of the tenant's verified domains; no accent
//     characters.
// Being ASCII-only, the rule also refuses every control and invisible format character (Unicode
// categories Cc and Cf: zero-width spaces, bidi overrides), which could make one address look
// like another in a review.
//
// Comparison is case-insensitive (Entra treats UPNs so); callers keep the spelling they were
// given.

#pragma once

#include <string_view>

#include "base/status.h"

namespace certdeploy::config {

inline constexpr size_t kMaxUpnLength = 113;
inline constexpr size_t kMaxUpnUsernameLength = 64;
inline constexpr size_t kMaxUpnDomainLength = 48;

// OK when `upn` is a valid user principal name by the rule above; otherwise InvalidArgument with
// a message that says which part breaks which rule, e.g. "the domain after '@' is 52 characters
// long; Entra allows at most 48". The message never quotes the input (it may be hostile or huge):
// callers that want to show it add it themselves, shortened.
Status ValidateUpn(std::string_view upn);

}  // namespace certdeploy::config
