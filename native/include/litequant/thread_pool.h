// A fixed pool of worker threads for splitting large kernels. The partition of [0, n) into
// chunks depends only on n, grain and the pool size, and every chunk writes disjoint output,
// so results are identical for any thread count.
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
  // shorter), on the caller and the workers; returns when all chunks are done. Not reentrant:
  // fn must not call ParallelFor on the same pool.
  void ParallelFor(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace litequant
