// tests/support/subprocess.h: run a command and capture its exit code, stdout and stderr.

#pragma once

#include <map>
#include <string>
#include <vector>

namespace certdeploy::testing {

struct CommandResult {
  int exit_code = -1;  // -1 if it did not exit normally.
  std::string out;
  std::string err;
};

// Runs argv[0] (a path) with `argv`, adding `env` to the current environment, with `input` on
// stdin. Blocks until it exits.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {},
                         const std::string& input = "");

}  // namespace certdeploy::testing
