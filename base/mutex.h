// base/mutex.h: Mutex, MutexLock and CondVar, annotated for Clang's thread-safety analysis.
//
// Thin wrappers over std::mutex and std::condition_variable. They exist because libstdc++'s
// std::mutex is not declared a capability, so GUARDED_BY(mu_) on a std::mutex checks nothing;
// these types carry the annotations of base/thread_annotations.h. Use them for every mutex that
// guards data; std::mutex stays fine for code that annotates nothing.
//
//   Mutex mu_;
//   CondVar changed_;
//   bool done_ GUARDED_BY(mu_) = false;
//
//   void Finish() LOCKS_EXCLUDED(mu_) {
//     MutexLock lock(mu_);
//     done_ = true;
//     changed_.NotifyAll();
//   }
//   bool AwaitDone(Duration timeout) LOCKS_EXCLUDED(mu_) {
//     MutexLock lock(mu_);
//     const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
//     while (!done_) {
//       if (!changed_.WaitUntil(mu_, deadline)) break;  // Timed out.
//     }
//     return done_;
//   }
//
// Condition variables: std::condition_variable needs a std::unique_lock<std::mutex>, which the
// analysis cannot see through. CondVar therefore takes the Mutex itself, hands its std::mutex to
// std::condition_variable for the wait only (adopting the lock the caller already holds and
// giving it back locked), and is annotated REQUIRES(mu). The wait loop is written at the call
// site, as above, rather than passed as a predicate lambda: the loop's reads of guarded data are
// then checked like any other code. (std::condition_variable_any with MutexLock would also work,
// but costs an extra internal mutex per wait and hides the same reads inside a lambda.)
//
// Times are real steady-clock time: condition variables are for threads waiting on each other.
// Code that waits for time to pass uses Clock::SleepFor (base/clock.h) instead.

#pragma once

#include <atomic>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/clock.h"
#include "base/thread_annotations.h"

namespace certdeploy {

// A non-recursive exclusive lock. Prefer MutexLock to calling Lock/Unlock by hand.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() {
    mu_.lock();
    owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  }
  void Unlock() RELEASE() {
    owner_.store(std::thread::id(), std::memory_order_relaxed);
    mu_.unlock();
  }
  // In debug builds, aborts unless the calling thread holds the mutex. In every build, tells
  // the analysis that it is held (for code it cannot follow, e.g. a callback that runs under the
  // lock; prefer REQUIRES on the callback where the analysis can check the caller).
  void AssertHeld() const ASSERT_CAPABILITY(this) {
    assert(owner_.load(std::memory_order_relaxed) == std::this_thread::get_id());
  }

 private:
  friend class CondVar;

  std::mutex mu_;
  // The holder, for AssertHeld only (the default id when unlocked). Only the holder writes it
  // while it holds the lock, so relaxed order suffices for its own checks.
  std::atomic<std::thread::id> owner_{};
};

// Holds `mu` from construction to the end of the scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// A condition variable for Mutex; see the file comment. Waits may wake spuriously: always wait in
// a loop that re-checks the condition.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Atomically releases `mu` and blocks until notified, then reacquires `mu` before returning.
  void Wait(Mutex& mu) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    mu.owner_.store(std::thread::id(), std::memory_order_relaxed);
    cv_.wait(lock);
    mu.owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    lock.release();  // The caller still holds `mu`.
  }
  // As Wait, but returns false once `deadline` has passed without a notification (`mu` is
  // reacquired either way).
  bool WaitUntil(Mutex& mu, SteadyTime deadline) REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    mu.owner_.store(std::thread::id(), std::memory_order_relaxed);
    const bool notified = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    mu.owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    lock.release();
    return notified;
  }

  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace certdeploy
