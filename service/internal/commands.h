// service/internal/commands.h: the CLI subcommands, one function each.
//
// main.cc parses flags with CLI11 and calls these; they never see CLI11, so each command is
// testable by calling it with an args struct and string streams.
//
// Exit codes shared by all commands:
//   0 success, 1 the work found problems (invalid rows, failed items, undeployable PFX),
//   2 usage or configuration error (bad flags, unreadable files), 3 Graph or auth failure,
//   5 stale plan.

#pragma once

#include <iosfwd>
#include <string>

namespace certdeploy::service {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitGraph = 3;
inline constexpr int kExitStalePlan = 5;

struct ValidateArgs {
  std::string pfx_file;
  std::string upn;
  std::string password_env;   // Exactly one of password_env / password_file.
  std::string password_file;
  std::string purpose = "smimeEncryption";
  std::string trust_bundle;   // Optional PEM file of extra CA certificates.
  std::string connector_key;  // Optional: prove the password seals to this key.
  std::string padding = "oaepSha512";
  int expires_soon_days = 30;
  std::string output = "text";  // "text" | "json"
};

int RunValidate(const ValidateArgs& args, std::ostream& out, std::ostream& err);

// `certdeploy serve --config FILE`: the daemon (REST API, scheduler, dispatcher; see
// service/internal/daemon.h). Prints the listening URL as the first line of stdout, logs to
// stderr, serves until SIGTERM or SIGINT, then stops accepting, finishes or hands back in-flight
// work and returns 0. Returns 2 for configuration problems (no service: section, unreadable keys,
// a store held by another process), 1 when it cannot start otherwise.
struct ServeArgs {
  std::string config;
};

int RunServe(const ServeArgs& args);

}  // namespace certdeploy::service
