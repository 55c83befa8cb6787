#include "config/upn.h"

#include <string>

namespace certdeploy::config {
namespace {

bool IsAsciiAlnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Entra's username set: A-Z a-z 0-9 ' . - _ ! # ^ ~.
bool IsUsernameChar(unsigned char c) {
  return IsAsciiAlnum(c) || std::string_view("'.-_!#^~").find(static_cast<char>(c)) !=
                                std::string_view::npos;
}

// The UPN suffix: letters, numbers, periods, dashes and underscores.
bool IsDomainChar(unsigned char c) { return IsAsciiAlnum(c) || c == '.' || c == '-' || c == '_'; }

// Names a character for a message without echoing anything unprintable.
std::string Describe(unsigned char c) {
  if (c == ' ') return "a space";
  if (c < 0x20 || c == 0x7f) return "a control character";
  if (c >= 0x80) return "a non-ASCII character";
  return std::string("'") + static_cast<char>(c) + "'";
}

}  // namespace

Status ValidateUpn(std::string_view upn) {
  if (upn.empty()) return InvalidArgumentError("the user principal name is empty");
  for (char ch : upn) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      return InvalidArgumentError(
          "a user principal name holds ASCII characters only (no accented letters, no invisible "
          "or direction-changing characters)");
    }
  }
  const size_t at = upn.find('@');
  if (at == std::string_view::npos) {
    return InvalidArgumentError("a user principal name has the form name@domain (no '@' found)");
  }
  if (upn.find('@', at + 1) != std::string_view::npos) {
    return InvalidArgumentError("a user principal name has exactly one '@'");
  }
  const std::string_view name = upn.substr(0, at);
  const std::string_view domain = upn.substr(at + 1);
  if (name.empty()) return InvalidArgumentError("the name before '@' is empty");
  if (domain.empty()) return InvalidArgumentError("the domain after '@' is empty");
  if (upn.size() > kMaxUpnLength) {
    return InvalidArgumentError("the user principal name is " + std::to_string(upn.size()) +
                                " characters long; Entra allows at most 113");
  }
  if (name.size() > kMaxUpnUsernameLength) {
    return InvalidArgumentError("the name before '@' is " + std::to_string(name.size()) +
                                " characters long; Entra allows at most 64");
  }
  if (domain.size() > kMaxUpnDomainLength) {
    return InvalidArgumentError("the domain after '@' is " + std::to_string(domain.size()) +
                                " characters long; Entra allows at most 48");
  }
  for (char ch : name) {
    if (!IsUsernameChar(static_cast<unsigned char>(ch))) {
      return InvalidArgumentError("the name before '@' contains " +
                                  Describe(static_cast<unsigned char>(ch)) +
                                  "; Entra allows letters, digits and ' . - _ ! # ^ ~");
    }
  }
  if (name.back() == '.') {
    return InvalidArgumentError("the name before '@' ends with '.', which Entra does not allow");
  }
  for (char ch : domain) {
    if (!IsDomainChar(static_cast<unsigned char>(ch))) {
      return InvalidArgumentError("the domain after '@' contains " +
                                  Describe(static_cast<unsigned char>(ch)) +
                                  "; a domain holds letters, digits, '.', '-' and '_'");
    }
  }
  if (domain.find('.') == std::string_view::npos || domain.front() == '.' ||
      domain.back() == '.' || domain.find("..") != std::string_view::npos) {
    return InvalidArgumentError(
        "the domain after '@' is not a dotted domain name such as contoso.com");
  }
  return OkStatus();
}

}  // namespace certdeploy::config
