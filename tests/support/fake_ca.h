// tests/support/fake_ca.h: a CA certificate as the planner sees it, without real DER.

#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "base/clock.h"
#include "pkcs/certificate.h"
#include "pkcs/digest.h"

namespace certdeploy::testing {

// A CA named `cn` whose "DER" is five bytes ending in `tag` (distinct tags, distinct SHA-1s),
// valid for ten years after `now`.
inline pkcs::Certificate FakeCa(char tag, const std::string& cn, SystemTime now) {
  pkcs::Certificate c;
  c.der = {0x30, 0x03, 0x02, 0x01, static_cast<uint8_t>(tag)};
  c.sha1 = pkcs::Sha1Hex(std::string(c.der.begin(), c.der.end()));
  c.common_name = cn;
  c.is_ca = true;
  c.not_after = now + std::chrono::hours(3650 * 24);
  return c;
}

}  // namespace certdeploy::testing
