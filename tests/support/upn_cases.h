// tests/support/upn_cases.h: one table of user principal names, valid and invalid by Entra's
// documented UPN policy (config/upn.h cites it). The config tests check the rule against it, and
// the service tests check that the manifest loader and the REST API agree on every row.

#pragma once

#include <string>
#include <vector>

namespace certdeploy::testing {

struct UpnCase {
  std::string upn;
  bool valid = false;
  std::string why;  // For invalid rows: a substring of the rule's message.
};

inline std::vector<UpnCase> UpnCases() {
  return {
      {"alice@contoso.com", true, ""},
      {"Alice.Example@Contoso.COM", true, ""},
      {"o'neil@contoso.com", true, ""},
      {"first_last-2!#^~@sub.contoso.co.uk", true, ""},
      {"a@b.c", true, ""},
      {"user@contoso_test.onmicrosoft.com", true, ""},
      {std::string(64, 'a') + "@" + std::string(44, 'b') + ".com", true, ""},  // 64 + 1 + 48
      {"", false, "empty"},
      {"alice.contoso.com", false, "no '@'"},
      {"@contoso.com", false, "name before '@' is empty"},
      {"alice@", false, "domain after '@' is empty"},
      {"a@b@contoso.com", false, "exactly one '@'"},
      {"alice smith@contoso.com", false, "a space"},
      {"alice+tag@contoso.com", false, "'+'"},
      {"alice&bob@contoso.com", false, "'&'"},
      {"al\"ice@contoso.com", false, "'\"'"},
      {"alice.@contoso.com", false, "ends with '.'"},
      {"alice@contoso", false, "dotted domain"},
      {"alice@.contoso.com", false, "dotted domain"},
      {"alice@contoso..com", false, "dotted domain"},
      {"alice@contoso.com.", false, "dotted domain"},
      {"alice@con/toso.com", false, "'/'"},
      {"al\tice@contoso.com", false, "control character"},
      {"alice\x7f@contoso.com", false, "control character"},
      {"j\xc3\xbcrgen@contoso.com", false, "ASCII"},                  // ü
      {"alice\xe2\x80\x8b@contoso.com", false, "ASCII"},             // zero-width space (Cf)
      {"\xe2\x80\xae" "alice@contoso.com", false, "ASCII"},          // right-to-left override
      {std::string(65, 'a') + "@contoso.com", false, "at most 64"},
      {"a@" + std::string(45, 'b') + ".com", false, "at most 48"},
      {std::string(64, 'a') + "@" + std::string(45, 'b') + ".com", false, "at most 113"},
      {std::string(20000, 'a') + "@contoso.com", false, "at most 113"},
  };
}

}  // namespace certdeploy::testing
