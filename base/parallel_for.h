// base/parallel_for.h: run an index-based loop body on a small, bounded pool of threads.
//
// For CPU-bound work over independent items, such as opening and validating every row of a
// manifest (three PBKDF2 derivations per PFX):
//
//   std::vector<CheckedRow> out(rows.size());
//   ParallelFor(rows.size(), options.threads, [&](size_t i) { out[i] = CheckRow(rows[i]); });
//
// Each call writes only its own slot, so the results need no lock and keep the input's order.

#pragma once

#include <cstddef>
#include <functional>

namespace certdeploy {

// Calls fn(i) exactly once for every i in [0, n) and returns when every call has returned.
//
// At most `max_threads` threads run `fn` at a time, and the calling thread is one of them: with
// max_threads <= 1 (or n <= 1) every call runs on the calling thread, in index order, and no thread
// is started. Otherwise min(max_threads, n) - 1 threads are started for this call and joined
// before it returns; indices are handed out in increasing order, one at a time, to whichever
// thread is free, so slow items do not hold up the others. If the system refuses to start a
// thread, the calls run on the threads already running (never fewer than the caller's).
//
// Thread safety: `fn` is called concurrently from several threads and must be safe for that
// (typically it reads shared inputs and writes only element i of a pre-sized output). Everything
// `fn` wrote happens-before ParallelFor returns. `fn` must not throw: an exception escaping it
// terminates the process (report errors through the output slot instead). ParallelFor itself
// may be called from several threads at once; each call has its own threads.
void ParallelFor(size_t n, int max_threads, const std::function<void(size_t)>& fn);

// The number of threads the machine runs at once (std::thread::hardware_concurrency), at least 1:
// the natural max_threads for CPU-bound work.
int HardwareThreads();

}  // namespace certdeploy
