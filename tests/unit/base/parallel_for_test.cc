#include "base/parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace certdeploy {
namespace {

TEST(ParallelForTest, CallsEveryIndexExactlyOnce) {
  for (int threads : {-1, 0, 1, 2, 4, 64}) {
    for (size_t n : {0u, 1u, 2u, 7u, 1000u}) {
      std::vector<std::atomic<int>> calls(n);
      ParallelFor(n, threads, [&](size_t i) { calls[i].fetch_add(1); });
      for (size_t i = 0; i < n; ++i) {
        EXPECT_EQ(calls[i].load(), 1) << "index " << i << " of " << n << ", threads " << threads;
      }
    }
  }
}

TEST(ParallelForTest, OneThreadRunsInOrderOnTheCaller) {
  std::vector<size_t> order;
  std::set<std::thread::id> ids;
  ParallelFor(5, 1, [&](size_t i) {
    order.push_back(i);  // No lock: everything runs on this thread.
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(ids, (std::set<std::thread::id>{std::this_thread::get_id()}));
}

TEST(ParallelForTest, NeverRunsMoreThanMaxThreadsAtOnce) {
  constexpr int kMaxThreads = 3;
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::mutex mu;
  std::set<std::thread::id> ids;
  ParallelFor(200, kMaxThreads, [&](size_t) {
    int now = running.fetch_add(1) + 1;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(std::this_thread::get_id());
    }
    std::this_thread::yield();
    running.fetch_sub(1);
  });
  EXPECT_LE(peak.load(), kMaxThreads);
  EXPECT_LE(ids.size(), static_cast<size_t>(kMaxThreads));
  EXPECT_EQ(running.load(), 0);
}

TEST(ParallelForTest, WritesAreVisibleWhenItReturns) {
  std::vector<size_t> squares(500);
  ParallelFor(squares.size(), 4, [&](size_t i) { squares[i] = i * i; });
  for (size_t i = 0; i < squares.size(); ++i) ASSERT_EQ(squares[i], i * i);
}

TEST(ParallelForTest, NestedAndConcurrentCallsComplete) {
  std::atomic<int> total{0};
  std::thread other([&] { ParallelFor(50, 2, [&](size_t) { total.fetch_add(1); }); });
  ParallelFor(10, 2, [&](size_t) { ParallelFor(10, 2, [&](size_t) { total.fetch_add(1); }); });
  other.join();
  EXPECT_EQ(total.load(), 150);
}

}  // namespace
}  // namespace certdeploy
