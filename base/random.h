// base/random.h: injected randomness (jitter, ids), so tests can pin it.

#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace certdeploy {

class Random {
 public:
  virtual ~Random() = default;
  // A uniformly distributed 64-bit value. Implementations are thread-safe.
  virtual uint64_t Next() = 0;

  // Uniform in [0, 1).
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
};

// A deterministic generator (SplitMix64) for reproducible runs: the sandbox's --seed, fault
// injection, tests and fuzzers. The same seed gives the same sequence. Thread-safe. Not for
// secrets or anything an attacker must not predict.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  uint64_t Next() override;

 private:
  std::mutex mu_;
  uint64_t state_;  // Guarded by mu_.
};

// A process-wide generator seeded from the OS. Thread-safe; never destroyed.
Random& RealRandom();

// A random RFC 4122 version-4 GUID in lower case, e.g. for Graph `client-request-id`.
std::string NewGuid(Random& random);

}  // namespace certdeploy
