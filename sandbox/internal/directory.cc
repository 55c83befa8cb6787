#include "sandbox/internal/directory.h"

#include <openssl/evp.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "base/encoding.h"
#include "base/strings.h"
#include "sandbox/internal/wire.h"

namespace certdeploy::sandbox::internal {
namespace {

// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
std::vector<std::string> SplitCsv(std::string_view line) {
  std::vector<std::string> fields;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back(TrimAsciiWhitespace(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  fields.emplace_back(TrimAsciiWhitespace(cur));
  return fields;
}

std::string DisplayNameFor(std::string_view upn) {
  std::string local(upn.substr(0, upn.find('@')));
  std::string out;
  bool upper = true;
  for (char c : local) {
    if (c == '.' || c == '_' || c == '-') {
      out += ' ';
      upper = true;
    } else {
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
  }
  return out;
}

}  // namespace

bool IsValidUpn(std::string_view upn) {
  // Entra's username policy (learn.microsoft.com/entra/identity/authentication/concept-sspr-policy,
  // "Username policies"): at most 64 characters before '@', 48 after, 113 in all; the username
  // from A-Z a-z 0-9 ' . - _ ! # ^ ~ and not ending in '.'. The suffix must be one of the
  // tenant's (dotted, routable) domains: letters, digits, '.', '-', '_'
  // (learn.microsoft.com/microsoft-365/enterprise/prepare-for-directory-synchronization).
  const size_t at = upn.find('@');
  if (at == std::string_view::npos || upn.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view user = upn.substr(0, at);
  const std::string_view domain = upn.substr(at + 1);
  if (user.empty() || user.size() > 64 || domain.empty() || domain.size() > 48 ||
      upn.size() > 113 || user.back() == '.') {
    return false;
  }
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  for (char c : user) {
    if (!alnum(c) && std::string_view("'.-_!#^~").find(c) == std::string_view::npos) return false;
  }
  for (char c : domain) {
    if (!alnum(c) && c != '.' && c != '-' && c != '_') return false;
  }
  return domain.find('.') != std::string_view::npos && domain.front() != '.' &&
         domain.back() != '.' && domain.find("..") == std::string_view::npos;
}

namespace {

// A GUID (RFC 9562 version 8) made of the SHA-256 of `seed`.
std::string GuidFromDigest(std::string_view seed) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(seed.data(), seed.size(), digest, &len, EVP_sha256(), nullptr);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x80);  // RFC 9562 version 8.
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // Variant 10xx.
  std::string out = HexEncode(std::span<const uint8_t>(digest, 16));
  for (size_t dash : {20, 16, 12, 8}) out.insert(dash, 1, '-');  // 8-4-4-4-12.
  return out;
}

}  // namespace

std::string UserIdForUpn(std::string_view upn) { return GuidFromDigest(AsciiToLower(upn)); }

Status Directory::LoadGroups(const std::string& path) {
  if (path.empty()) return OkStatus();
  std::ifstream in(path);
  if (!in) return InvalidArgumentError("groups file " + path + ": cannot be read");
  std::map<std::string, int> times_listed;
  std::set<std::string> ids;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    std::string trimmed(TrimAsciiWhitespace(line));
    if (trimmed.empty() || trimmed[0] == '#') continue;
    auto refuse = [&](const std::string& why) {
      return InvalidArgumentError("groups file " + path + " line " + std::to_string(line_no) +
                                  ": " + why);
    };
    DirectoryGroup group;
    const size_t comma = trimmed.find(',');
    if (comma != std::string::npos && IsGuid(trimmed.substr(0, comma))) {
      group.id = AsciiToLower(trimmed.substr(0, comma));
      group.display_name = std::string(TrimAsciiWhitespace(trimmed.substr(comma + 1)));
    } else {
      group.display_name = trimmed;
      const int n = times_listed[trimmed]++;
      group.id = GuidFromDigest("group:" + std::to_string(n) + ":" + trimmed);
    }
    // The group resource: displayName is required, at most 256 characters
    // (https://learn.microsoft.com/graph/api/resources/group?view=graph-rest-1.0).
    size_t characters = 0;
    for (char c : group.display_name) {
      const auto b = static_cast<unsigned char>(c);
      if (b < 0x20 || b == 0x7f) return refuse("a display name holds a control character");
      if ((b & 0xc0) != 0x80) ++characters;
    }
    if (characters == 0 || characters > 256) {
      return refuse("a display name has 1 to 256 characters");
    }
    if (!ids.insert(group.id).second) return refuse("the group id " + group.id + " is repeated");
    groups_.push_back(std::move(group));
  }
  return OkStatus();
}

Result<std::unique_ptr<Directory>> Directory::Load(const std::string& path) {
  if (path.empty()) return std::unique_ptr<Directory>(new Directory(true));
  std::ifstream in(path);
  if (!in) return InvalidArgumentError("users file " + path + ": cannot be read");
  std::unique_ptr<Directory> dir(new Directory(false));
  std::string line;
  int line_no = 0;
  int upn_column = -1;  // >= 0 once a CSV header has been seen.
  int mail_column = -1;
  int proxy_column = -1;
  bool first = true;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (first && line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    std::string trimmed(TrimAsciiWhitespace(line));
    if (trimmed.empty() || trimmed[0] == '#') continue;
    if (first) {
      first = false;
      std::vector<std::string> header = SplitCsv(trimmed);
      for (size_t i = 0; i < header.size(); ++i) {
        if (EqualsIgnoreCaseAscii(header[i], "userPrincipalName")) upn_column = static_cast<int>(i);
        if (EqualsIgnoreCaseAscii(header[i], "mail")) mail_column = static_cast<int>(i);
        if (EqualsIgnoreCaseAscii(header[i], "proxyAddresses")) proxy_column = static_cast<int>(i);
      }
      if (upn_column >= 0) continue;
      if (header.size() > 1) {
        return InvalidArgumentError("users file " + path +
                                    ": CSV header has no userPrincipalName column");
      }
    }
    std::string upn = trimmed;
    std::string mail;
    std::vector<std::string> proxies;
    if (upn_column >= 0) {
      std::vector<std::string> fields = SplitCsv(trimmed);
      auto field = [&fields](int column) {
        return column >= 0 && static_cast<size_t>(column) < fields.size() ? fields[column]
                                                                           : std::string();
      };
      mail = field(mail_column);
      const std::string proxy_field = field(proxy_column);
      for (std::string_view p : SplitString(proxy_field, ';')) {
        std::string trimmed_proxy(TrimAsciiWhitespace(p));
        if (!trimmed_proxy.empty()) proxies.push_back(trimmed_proxy);
      }
      if (static_cast<size_t>(upn_column) >= fields.size()) {
        return InvalidArgumentError("users file " + path + " line " + std::to_string(line_no) +
                                    ": missing userPrincipalName field");
      }
      upn = fields[upn_column];
    }
    if (!IsValidUpn(upn)) {
      return InvalidArgumentError("users file " + path + " line " + std::to_string(line_no) +
                                  ": not a valid user principal name");
    }
    dir->Add(upn, mail, proxies);
  }
  return dir;
}

void Directory::Add(const std::string& upn, const std::string& mail,
                    const std::vector<std::string>& proxy_addresses) const {
  std::string key = AsciiToLower(upn);
  if (by_upn_.count(key)) return;
  DirectoryUser user{UserIdForUpn(upn), upn, DisplayNameFor(upn), mail.empty() ? upn : mail,
                     proxy_addresses};
  if (user.proxy_addresses.empty()) user.proxy_addresses.push_back("SMTP:" + user.mail);
  upn_by_id_[user.id] = key;
  by_upn_.emplace(key, std::move(user));
}

std::optional<DirectoryUser> Directory::FindByUpn(std::string_view upn) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_upn_.find(AsciiToLower(upn));
  if (it != by_upn_.end()) return it->second;
  if (!open_ || !IsValidUpn(upn)) return std::nullopt;
  Add(std::string(upn));
  return by_upn_.at(AsciiToLower(upn));
}

std::optional<DirectoryUser> Directory::FindByIdOrUpn(std::string_view key) const {
  if (key.find('@') != std::string_view::npos) return FindByUpn(key);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = upn_by_id_.find(AsciiToLower(key));
  if (it == upn_by_id_.end()) return std::nullopt;
  return by_upn_.at(it->second);
}

std::vector<DirectoryUser> Directory::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DirectoryUser> out;
  for (const auto& [key, user] : by_upn_) out.push_back(user);
  return out;
}

}  // namespace certdeploy::sandbox::internal
