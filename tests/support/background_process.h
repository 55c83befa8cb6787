// tests/support/background_process.h: a child process kept running during a test, e.g.
// `certdeploy sandbox` or `certdeploy serve`, whose first stdout line is its URL.

#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace certdeploy::testing {

class BackgroundProcess {
 public:
  // Starts argv (argv[0] is a path) with `env` added. Its stderr goes to `log_file` (appended)
  // if given, else is inherited.
  BackgroundProcess(const std::vector<std::string>& argv,
                    const std::map<std::string, std::string>& env = {},
                    const std::string& log_file = "");
  ~BackgroundProcess();  // Kills (SIGKILL) if still running, and reaps.
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // Reads the first line of stdout (without "\n"); "" if the process exits or `timeout` passes.
  std::string ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  pid_t pid() const { return pid_; }
  // Sends `signal` and waits up to `timeout` for exit. Returns the exit code, 128+signal when
  // killed by a signal, or -1 on timeout (the process is then SIGKILLed).
  int Stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;
  bool reaped_ = false;
  int exit_code_ = -1;
};

}  // namespace certdeploy::testing
