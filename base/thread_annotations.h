// base/thread_annotations.h: Clang thread-safety annotations (-Wthread-safety).
//
// These macros state which mutex protects which data, and which locks a function needs, so that
// Clang checks every access at compile time. Under any other compiler they expand to nothing.
// The analysis only understands annotated capability types: use certdeploy::Mutex and MutexLock
// (base/mutex.h), not std::mutex and std::lock_guard, whose libstdc++ versions are unannotated.
//
//   class Counter {
//    public:
//     void Add(int n) LOCKS_EXCLUDED(mu_) {
//       MutexLock lock(mu_);
//       AddLocked(n);
//     }
//
//    private:
//     void AddLocked(int n) REQUIRES(mu_) { total_ += n; }
//
//     Mutex mu_;
//     int total_ GUARDED_BY(mu_) = 0;
//   };
//
// Conventions in certdeploy:
//   - Every member protected by a mutex carries GUARDED_BY (or PT_GUARDED_BY for the pointee);
//     members that are constant after construction carry nothing and are grouped apart.
//   - A function that expects the caller to hold a lock says REQUIRES(mu_); by convention its
//     name ends in "Locked" unless it is a hook documented as "called with mu_ held".
//   - A lambda that runs while its creator holds the lock (a transaction body, a callback run
//     under the lock) is annotated itself: [&]() REQUIRES(mu_) -> Status { ... }.
//   - NO_THREAD_SAFETY_ANALYSIS is a last resort and needs a comment saying why it is safe.
//
// The check: scripts/thread_safety.sh builds graph/, store/ and service/ with clang++
// -Wthread-safety -Werror=thread-safety (scripts/test.sh --ci runs it). Reference:
// https://clang.llvm.org/docs/ThreadSafetyAnalysis.html

#pragma once

#if defined(__clang__)
#define CERTDEPLOY_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define CERTDEPLOY_THREAD_ANNOTATION_(x)
#endif

// ---- On data ----

// The member may be read or written only with `x` held.
#define GUARDED_BY(x) CERTDEPLOY_THREAD_ANNOTATION_(guarded_by(x))
// The object the (smart) pointer member points to may be used only with `x` held; the pointer
// itself is unprotected.
#define PT_GUARDED_BY(x) CERTDEPLOY_THREAD_ANNOTATION_(pt_guarded_by(x))

// ---- On mutexes: lock order ----

// This mutex is always taken before / after the listed ones (checked with -Wthread-safety-beta).
#define ACQUIRED_BEFORE(...) CERTDEPLOY_THREAD_ANNOTATION_(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) CERTDEPLOY_THREAD_ANNOTATION_(acquired_after(__VA_ARGS__))

// ---- On functions ----

// The caller must hold the listed mutexes (exclusively / at least shared) when calling.
#define REQUIRES(...) CERTDEPLOY_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) CERTDEPLOY_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))
// The caller must NOT hold the listed mutexes: the function takes them itself.
#define LOCKS_EXCLUDED(...) CERTDEPLOY_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
// The function returns a reference to mutex `x` (for accessors of a private mutex).
#define RETURN_CAPABILITY(x) CERTDEPLOY_THREAD_ANNOTATION_(lock_returned(x))
// Turns the analysis off for one function. Say in a comment why the function is safe anyway.
#define NO_THREAD_SAFETY_ANALYSIS CERTDEPLOY_THREAD_ANNOTATION_(no_thread_safety_analysis)

// ---- For implementing lock types (base/mutex.h); rarely needed elsewhere ----

// The class is a lockable capability; `x` names its kind in diagnostics ("mutex").
#define CAPABILITY(x) CERTDEPLOY_THREAD_ANNOTATION_(capability(x))
// The class is an RAII guard: it acquires in its constructor and releases in its destructor.
#define SCOPED_CAPABILITY CERTDEPLOY_THREAD_ANNOTATION_(scoped_lockable)
// The function acquires / releases the listed capabilities (`this` when none are listed).
#define ACQUIRE(...) CERTDEPLOY_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) CERTDEPLOY_THREAD_ANNOTATION_(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) CERTDEPLOY_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) CERTDEPLOY_THREAD_ANNOTATION_(release_shared_capability(__VA_ARGS__))
// The function acquires the capability when it returns `success` (true or false).
#define TRY_ACQUIRE(...) CERTDEPLOY_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
// The function checks (at run time, in debug builds) that the capability is held, and tells the
// analysis to assume so from here on.
#define ASSERT_CAPABILITY(x) CERTDEPLOY_THREAD_ANNOTATION_(assert_capability(x))
