// cli/internal/interrupt.h: SIGINT/SIGTERM during `apply` as a stop token.
//
// While an InterruptGuard lives, the first SIGINT or SIGTERM sets its token (the executor then
// starts no further write) and writes one line to stderr; a second one ends the process at once
// with exit 130. The handler only stores to a lock-free atomic and calls write(2) and _exit(2),
// all async-signal-safe. The previous handlers are restored on destruction.

#pragma once

#include <atomic>

namespace certdeploy::cli {

class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  // Set by the first signal. Lives as long as the process.
  const std::atomic<bool>& token() const;
  bool interrupted() const { return token().load(); }
};

// The exit code of a run stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
inline constexpr int kExitInterrupted = 130;

}  // namespace certdeploy::cli
