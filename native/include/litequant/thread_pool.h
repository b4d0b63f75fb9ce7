// A fixed pool of worker threads for splitting large kernels. The partition of [0, n) into
// chunks depends only on n, grain and the pool size, and every chunk writes disjoint output,
// so results are identical for any thread count.
//
// Workers sleep on a condition variable between calls (no spinning when idle). The calling
// thread runs chunks too, so a pool of size T starts T - 1 threads.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace litequant {

class ThreadPool {
 public:
  // threads == 1 runs everything on the calling thread. threads == 0 means one per core.
  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Total threads that run work, the caller included.
  size_t size() const;

  // Calls fn(begin, end) over [0, n) in chunks of at least `grain` items (the last may be
  // shorter), on the caller and the workers; returns when all chunks are done. n == 0 calls
  // nothing; grain == 0 counts as 1. The chunks are
  //   chunk = max(grain, ceil(n / (4 * size()))),  [i * chunk, min(n, (i + 1) * chunk))
  // and are handed out dynamically (which thread runs a chunk varies; the chunks do not).
  //
  // Calls from different threads on one pool run one after the other (a second caller waits).
  // A nested call (fn calling ParallelFor on the same pool) runs all its chunks on the calling
  // thread instead of deadlocking. If fn throws, the remaining chunks still run and the first
  // exception is rethrown on the caller.
  void ParallelFor(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A process-wide pool of `threads` threads (0: one per core), created on first use and kept
// until exit. Sessions and kernels asking for the same count share one pool, so several
// sessions never start more threads than they asked for between them per count, and calls
// from them take turns instead of oversubscribing the cores. Never null; threads == 1 gives a
// pool without workers (kernels also accept a null pool: "run on the calling thread").
ThreadPool* SharedThreadPool(size_t threads);

// std::thread::hardware_concurrency(), at least 1.
size_t HardwareThreads();

}  // namespace litequant
