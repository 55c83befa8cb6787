// pkcs/digest.h: HMAC-SHA256 against the RFC 4231 test vectors.

#include "pkcs/digest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace certdeploy::pkcs {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(HmacSha256Test, MatchesRfc4231Vectors) {
  // Test case 1: a 20-byte key of 0x0b, "Hi There".
  EXPECT_EQ(HmacSha256Hex(Bytes(std::string(20, '\x0b')), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: key "Jefe".
  EXPECT_EQ(HmacSha256Hex(Bytes("Jefe"), "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a 131-byte key (longer than the block), hashed first.
  EXPECT_EQ(HmacSha256Hex(Bytes(std::string(131, '\xaa')),
                          "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, EmptyKeyAndBody) {
  // openssl dgst -sha256 -hmac '' </dev/null
  EXPECT_EQ(HmacSha256Hex({}, ""),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

}  // namespace
}  // namespace certdeploy::pkcs
