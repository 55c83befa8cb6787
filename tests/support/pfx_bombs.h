// tests/support/pfx_bombs.h: PFX files that ask for absurd key-derivation work ("iteration
// bombs"), made at test time from a good PFX by rewriting its iteration counts, so that no
// derivation is needed to make them (a real 2^31-1 export would take minutes to write).
//
// The rewritten file keeps its old MAC value, so it can never open; it exists to be refused
// before any derivation runs.

#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace certdeploy::testing {

struct IterationRewrite {
  std::optional<int64_t> mac{};    // The integrity MAC's iteration count.
  std::optional<int64_t> parts{};  // Every encrypted part (the certificates, usually).
  std::optional<int64_t> keys{};   // Every encrypted private key in a plain part.
};

// `pfx` with the iteration counts of `rewrite` set; empty if `pfx` does not decode.
std::vector<uint8_t> RewriteIterations(std::span<const uint8_t> pfx,
                                       const IterationRewrite& rewrite);

}  // namespace certdeploy::testing
