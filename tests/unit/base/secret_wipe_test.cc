// Secret buffers are wiped when their memory is given back, not only on Clear().
//
// secret_test.cc checks Clear(), whose buffer stays allocated. Freed blocks cannot be read after
// free() without undefined behaviour, so this file replaces the global operator new/delete (a
// replacement the standard allows; this binary's other tests only see malloc/free behind them).
// The replaced operator delete, when handed the one block a test is watching, copies its bytes
// (as unsigned char) *before* releasing it; the test then checks that copy. A control shows that
// the hook does see the contents of a block that was not wiped.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "base/secret.h"

namespace {

constexpr size_t kSnapshotMax = 256;

std::atomic<const void*> g_watched{nullptr};
size_t g_watched_size = 0;
unsigned char g_snapshot[kSnapshotMax];
std::atomic<bool> g_seen{false};

void InspectBeforeFree(void* p) {
  if (p == nullptr || p != g_watched.load()) return;
  std::memcpy(g_snapshot, p, std::min(g_watched_size, kSnapshotMax));
  g_watched.store(nullptr);
  g_seen.store(true);
}

}  // namespace

void* operator new(std::size_t n) {
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  InspectBeforeFree(p);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  InspectBeforeFree(p);
  std::free(p);
}

namespace certdeploy {
namespace {

// Watches the heap block at `data`: the first `size` bytes are captured when it is freed.
void Watch(const void* data, size_t size) {
  ASSERT_LE(size, kSnapshotMax);
  g_seen.store(false);
  g_watched_size = size;
  std::memset(g_snapshot, 0x5A, sizeof(g_snapshot));
  g_watched.store(data);
}

// The captured bytes, or a failure when the watched block was never freed.
::testing::AssertionResult FreedAllZero(size_t size) {
  if (!g_seen.load()) return ::testing::AssertionFailure() << "the watched block was not freed";
  for (size_t i = 0; i < size; ++i) {
    if (g_snapshot[i] != 0) {
      return ::testing::AssertionFailure()
             << "byte " << i << " of the freed block is 0x" << std::hex << int{g_snapshot[i]};
    }
  }
  return ::testing::AssertionSuccess();
}

constexpr char kSecret[] = "correct horse battery staple, 32+";

TEST(SecretWipeTest, TheHookSeesBlocksThatAreNotWiped) {
  // The control: a plain vector's block reaches free() with its contents intact, so the checks
  // below can fail.
  {
    auto* plain = new std::vector<unsigned char>(sizeof(kSecret), 0xAB);
    Watch(plain->data(), plain->size());
    delete plain;
  }
  ASSERT_TRUE(g_seen.load());
  EXPECT_FALSE(FreedAllZero(sizeof(kSecret)));
  EXPECT_EQ(g_snapshot[0], 0xAB);
  EXPECT_EQ(g_snapshot[sizeof(kSecret) - 1], 0xAB);
}

TEST(SecretWipeTest, DestructionWipesTheBuffer) {
  {
    SecretBytes secret{std::string_view(kSecret)};
    Watch(secret.Reveal().data(), secret.size());
  }
  EXPECT_TRUE(FreedAllZero(sizeof(kSecret) - 1));
}

TEST(SecretWipeTest, GrowingWipesTheOldBlock) {
  SecretBytes secret{std::string_view(kSecret)};
  const size_t size = secret.size();
  Watch(secret.Reveal().data(), size);
  secret.Append(std::string(4096, 'x'));  // Reallocates: the old block is freed.
  EXPECT_TRUE(FreedAllZero(size));
  EXPECT_EQ(secret.RevealAsString().substr(0, size), std::string_view(kSecret));
}

TEST(SecretWipeTest, MoveAssignmentWipesTheReplacedBuffer) {
  SecretBytes target{std::string_view(kSecret)};
  SecretBytes source{std::string_view("another secret value")};
  Watch(target.Reveal().data(), target.size());
  target = std::move(source);
  EXPECT_TRUE(FreedAllZero(sizeof(kSecret) - 1));
  EXPECT_EQ(target.RevealAsString(), "another secret value");
}

TEST(SecretWipeTest, TheAllocatorWipesOnItsOwn) {
  // Without SecretBytes::Clear(): ZeroizingAllocator::deallocate alone wipes.
  std::vector<uint8_t, ZeroizingAllocator<uint8_t>> bytes(kSecret, kSecret + sizeof(kSecret));
  Watch(bytes.data(), bytes.size());
  bytes.reserve(bytes.capacity() * 4);
  EXPECT_TRUE(FreedAllZero(sizeof(kSecret)));
  auto* heap = new std::vector<uint8_t, ZeroizingAllocator<uint8_t>>(kSecret, kSecret + 8);
  Watch(heap->data(), heap->size());
  delete heap;
  EXPECT_TRUE(FreedAllZero(8));
}

}  // namespace
}  // namespace certdeploy
