#include "base/secret.h"

#include <gtest/gtest.h>

#include <sstream>
#include <type_traits>

#include "base/log.h"

namespace certdeploy {
namespace {

// The redaction rule is a compile-time property: these fail the build if it breaks.
static_assert(!fmt::is_formattable<SecretBytes>::value, "SecretBytes must not be formattable");
static_assert(fmt::is_formattable<Status>::value);
static_assert(!std::is_copy_constructible_v<SecretBytes>, "copies must be explicit");

template <typename T, typename = void>
struct IsStreamable : std::false_type {};
template <typename T>
struct IsStreamable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<T>())>>
    : std::true_type {};
static_assert(!IsStreamable<SecretBytes>::value, "SecretBytes must not be streamable");

TEST(SecretBytesTest, HoldsAndComparesBytes) {
  SecretBytes a("hunter2");
  SecretBytes b = a.Clone();
  EXPECT_EQ(a.RevealAsString(), "hunter2");
  EXPECT_TRUE(a.Equals(b));
  EXPECT_FALSE(a.Equals(SecretBytes("hunter3")));
  EXPECT_FALSE(a.Equals(SecretBytes("hunter")));
}

TEST(SecretBytesTest, MoveLeavesSourceEmpty) {
  SecretBytes a("p@ss");
  SecretBytes b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the contract under test.
  EXPECT_EQ(b.RevealAsString(), "p@ss");
}

TEST(SecretBytesTest, ClearWipesTheBufferInPlace) {
  SecretBytes a("correct horse battery staple");
  const uint8_t* data = a.Reveal().data();
  size_t n = a.size();
  // Clear() wipes before shrinking; capacity is kept, so the bytes are still ours to inspect.
  a.Clear();
  EXPECT_TRUE(a.empty());
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(data[i], 0) << "byte " << i;
}

TEST(SecureWipeTest, ZeroesMemory) {
  // The primitive behind Clear(), the destructor and ZeroizingAllocator::deallocate.
  uint8_t block[16];
  for (auto& b : block) b = 0xAB;
  SecureWipe(block, sizeof(block));
  for (auto b : block) EXPECT_EQ(b, 0);
}

TEST(LogTest, InitRejectsUnknownLevel) {
  LogOptions options;
  options.level = "loud";
  EXPECT_EQ(InitLogging(options).code(), StatusCode::kInvalidArgument);
  options.level = "debug";
  EXPECT_TRUE(InitLogging(options).ok());
  EXPECT_TRUE(InitLogging(options).ok()) << "re-initialising must work";
}

}  // namespace
}  // namespace certdeploy
