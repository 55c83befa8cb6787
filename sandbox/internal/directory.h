// sandbox/internal/directory.h: the sandbox's users (Entra ID directory).
//
// Either a closed list loaded from a file, or "open": every syntactically valid UPN exists. Each
// user's id is a GUID derived from SHA-256 of the lower-cased UPN, so ids are stable across
// restarts and runs. Thread-safe.

#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace certdeploy::sandbox::internal {

struct DirectoryUser {
  std::string id;   // GUID, lower case, with hyphens.
  std::string upn;  // As listed (or as first looked up in an open directory).
  std::string display_name;
  std::string mail;                          // Default: the UPN.
  std::vector<std::string> proxy_addresses;  // Default: {"SMTP:" + mail}.
};

// A group of the directory: only what a lookup by name needs.
struct DirectoryGroup {
  std::string id;  // GUID, lower case, with hyphens.
  std::string display_name;
};

// A UPN Entra would hold: its documented username policy (see directory.cc), written here
// independently of the product's rule so that the two can be tested against each other.
bool IsValidUpn(std::string_view upn);
// The stable user id of `upn` (case-insensitive).
std::string UserIdForUpn(std::string_view upn);

class Directory {
 public:
  // Empty path: an open directory. Otherwise one UPN per line ('#' comments, blank lines
  // ignored) or a CSV with a userPrincipalName column and optional `mail` and `proxyAddresses`
  // (';'-separated, "SMTP:" marks the primary) columns. InvalidArgument naming the file and line.
  static Result<std::unique_ptr<Directory>> Load(const std::string& path);

  bool open() const { return open_; }
  // Case-insensitive UPN lookup.
  std::optional<DirectoryUser> FindByUpn(std::string_view upn) const;
  // By id (case-insensitive GUID) or UPN.
  std::optional<DirectoryUser> FindByIdOrUpn(std::string_view key) const;
  // Listed users (for an open directory: the users looked up so far), ordered by lower-case UPN.
  std::vector<DirectoryUser> List() const;

  // Adds the groups of `path` (empty: none): one per line, '#' comments and blank lines
  // ignored, "<display name>" or "<guid>,<display name>" (the name is the rest of the line,
  // commas included). Without a GUID the id is derived from the name and how often it was
  // listed before, so a name may be listed twice (two groups, one name) and ids are stable.
  // InvalidArgument naming the file and line for a name Entra would refuse (over 256
  // characters, control characters) or a repeated id. Call before the directory is shared.
  Status LoadGroups(const std::string& path);
  // Every group, in file order.
  const std::vector<DirectoryGroup>& groups() const { return groups_; }

 private:
  explicit Directory(bool open) : open_(open) {}
  void Add(const std::string& upn, const std::string& mail = "",
           const std::vector<std::string>& proxy_addresses = {}) const;

  const bool open_;
  mutable std::mutex mu_;
  // Lower-case UPN -> user; for an open directory it grows as users are looked up.
  mutable std::map<std::string, DirectoryUser> by_upn_;
  mutable std::map<std::string, std::string> upn_by_id_;
  std::vector<DirectoryGroup> groups_;  // Constant once shared.
};

}  // namespace certdeploy::sandbox::internal
