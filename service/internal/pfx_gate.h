// service/internal/pfx_gate.h: a bound on the CPU-heavy part of API requests.
//
// Opening, validating and sealing a PFX costs key derivations (up to pkcs::kMaxTotalKdfIterations
// per file, about a second of one core at worst), and it runs on the HTTP server's handler
// threads. Without a bound, a few concurrent PFX uploads take every handler thread and /healthz,
// reads and other API keys wait behind them. The gate admits at most `slots` PFX jobs at once
// (one per core), lets at most `max_waiting` more wait for a slot (so that some handler threads
// always stay free for everything else), and at most `per_key` jobs (running or waiting) per API
// key, so one key cannot starve the others.
//
//   Result<PfxGate::Ticket> ticket = gate.Enter(caller.key_name, deadline);
//   if (!ticket.ok()) return ...;   // ResourceExhausted (this key: 429) or Unavailable (503)
//   ... PrepareItem(...) ...        // the slot is released when `ticket` goes out of scope
//
// Thread-safe.

#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/result.h"
#include "base/thread_annotations.h"

namespace certdeploy::service {

class PfxGate {
 public:
  // REQUIRES: slots >= 1, max_waiting >= 0, per_key >= 1.
  PfxGate(int slots, int max_waiting, int per_key) LOCKS_EXCLUDED(mu_);
  PfxGate(const PfxGate&) = delete;
  PfxGate& operator=(const PfxGate&) = delete;

  // Holds a slot until destroyed. Movable.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : gate_(other.gate_), key_(std::move(other.key_)) {
      other.gate_ = nullptr;
    }
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() {
      if (gate_ != nullptr) gate_->Leave(key_);
    }

   private:
    friend class PfxGate;
    Ticket(PfxGate* gate, std::string key) : gate_(gate), key_(std::move(key)) {}
    PfxGate* gate_;
    std::string key_;
  };

  // Takes a slot for `key` (an API key's name). ResourceExhausted at once when `key` already has
  // per_key jobs running or waiting; Unavailable at once when max_waiting jobs already wait, or
  // when no slot frees up before `deadline` (a steady_clock instant).
  Result<Ticket> Enter(std::string_view key, SteadyTime deadline) LOCKS_EXCLUDED(mu_);

  // Jobs running and waiting now (for tests and metrics).
  int running() const LOCKS_EXCLUDED(mu_);
  int waiting() const LOCKS_EXCLUDED(mu_);

 private:
  void Leave(const std::string& key) LOCKS_EXCLUDED(mu_);

  const int slots_;
  const int max_waiting_;
  const int per_key_;
  mutable Mutex mu_;
  CondVar freed_;
  int running_ GUARDED_BY(mu_) = 0;
  int waiting_ GUARDED_BY(mu_) = 0;
  std::map<std::string, int, std::less<>> by_key_ GUARDED_BY(mu_);  // Running + waiting.
};

}  // namespace certdeploy::service
