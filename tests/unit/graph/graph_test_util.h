// tests/unit/graph/graph_test_util.h: small doubles shared by the graph unit tests.

#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "base/random.h"
#include "base/status.h"
#include "graph/token_source.h"

namespace certdeploy::graph::testing {

// NextDouble() always returns `fraction` (so jittered delays are exact), while the low bits of
// Next() count up, so successive NewGuid() calls still differ.
class FixedRandom : public Random {
 public:
  explicit FixedRandom(double fraction = 0.5)
      : high_(static_cast<uint64_t>(fraction * 9007199254740992.0) << 11) {}
  uint64_t Next() override {
    std::lock_guard<std::mutex> lock(mu_);
    return high_ | (counter_++ & 0x7ff);
  }

 private:
  std::mutex mu_;
  const uint64_t high_;
  uint64_t counter_ = 0;
};

// Hands out "token-1", then "token-2" after each Invalidate(); or a scripted error.
class FakeTokenSource : public TokenSource {
 public:
  Result<std::string> Token() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++token_calls_;
    if (!error_.ok()) return error_;
    return "token-" + std::to_string(generation_);
  }
  void Invalidate() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
    ++invalidations_;
  }
  void SetError(Status error) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::move(error);
  }
  int invalidations() const {
    std::lock_guard<std::mutex> lock(mu_);
    return invalidations_;
  }

 private:
  mutable std::mutex mu_;
  int generation_ = 1;
  int invalidations_ = 0;
  int token_calls_ = 0;
  Status error_;
};

}  // namespace certdeploy::graph::testing
