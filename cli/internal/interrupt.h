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

// While a QuitOnInterrupt lives, SIGINT or SIGTERM writes `note` (a string literal) to stderr and
// ends the process at once with exit 130: for the phases of `apply` that only read (planning, the
// check of the tenant, the confirmation), where stopping loses nothing. Not nested with an
// InterruptGuard: destroy it first.
class QuitOnInterrupt {
 public:
  explicit QuitOnInterrupt(const char* note);
  ~QuitOnInterrupt();
  QuitOnInterrupt(const QuitOnInterrupt&) = delete;
  QuitOnInterrupt& operator=(const QuitOnInterrupt&) = delete;
};

// The exit code of a run stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
inline constexpr int kExitInterrupted = 130;

}  // namespace certdeploy::cli
