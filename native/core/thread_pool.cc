// Persistent workers that sleep on a condition variable between calls. A call publishes one
// job (the function, the chunk partition and an atomic cursor) under the mutex, wakes the
// workers and runs chunks itself. When no chunk is left to claim it closes the job and waits
// only for the workers that entered it (they may still be running a chunk); a worker that
// wakes after that skips the job. So a worker that is slow to be scheduled (a busy machine)
// delays nobody: its share is taken by the threads that are running.
#include "litequant/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace litequant {
namespace {

constexpr size_t kChunksPerThread = 4;  // enough slack to balance uneven chunks
constexpr size_t kMaxThreads = 256;

}  // namespace

struct ThreadPool::State {
  size_t size = 1;
  std::vector<std::thread> workers;

  std::mutex call_mutex;  // one ParallelFor at a time per pool

  std::mutex mu;  // guards everything below except `next`
  std::condition_variable wake;
  std::condition_variable done;
  uint64_t generation = 0;
  bool stop = false;

  // The current job.
  const std::function<void(size_t, size_t)>* fn = nullptr;
  size_t n = 0;
  size_t chunk = 1;
  size_t chunks = 0;
  size_t participants = 0;  // threads that may take part, the caller included
  bool open = false;        // workers may still enter the job
  size_t entered = 0;       // workers inside the job
  std::exception_ptr error;
  std::atomic<size_t> next{0};

  void RunChunks() {
    for (;;) {
      const size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= chunks) return;
      const size_t begin = i * chunk;
      const size_t end = std::min(n, begin + chunk);
      try {
        (*fn)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
      }
    }
  }

  void WorkerLoop(size_t index);
};

namespace {

// The pool whose job the current thread is running (workers: always their own pool), so a
// nested ParallelFor on the same pool runs inline instead of waiting for itself.
thread_local const void* tls_running_pool = nullptr;

}  // namespace

void ThreadPool::State::WorkerLoop(size_t index) {
  tls_running_pool = this;
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu);
      wake.wait(lock, [&] { return stop || generation != seen; });
      if (stop) return;
      seen = generation;
      // Worker `index` takes part only when the job has enough chunks for it and is still
      // open; otherwise it goes back to sleep without touching the job.
      if (!open || index + 1 >= participants) continue;
      ++entered;
    }
    RunChunks();
    std::lock_guard<std::mutex> lock(mu);
    if (--entered == 0 && !open) done.notify_one();
  }
}

ThreadPool::ThreadPool(size_t threads) : state_(new State) {
  if (threads == 0) threads = HardwareThreads();
  state_->size = std::min(threads, kMaxThreads);
  state_->workers.reserve(state_->size - 1);
  for (size_t i = 0; i + 1 < state_->size; ++i) {
    state_->workers.emplace_back([s = state_.get(), i] { s->WorkerLoop(i); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stop = true;
  }
  state_->wake.notify_all();
  for (std::thread& t : state_->workers) t.join();
}

size_t ThreadPool::size() const { return state_->size; }

void ThreadPool::ParallelFor(size_t n, size_t grain,
                             const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  State& s = *state_;
  grain = std::max<size_t>(grain, 1);
  const size_t spread = (n + kChunksPerThread * s.size - 1) / (kChunksPerThread * s.size);
  const size_t chunk = std::max(grain, spread);
  const size_t chunks = (n + chunk - 1) / chunk;

  if (s.size == 1 || chunks == 1 || tls_running_pool == &s) {
    // Same partition, all on this thread.
    std::exception_ptr error;
    for (size_t begin = 0; begin < n; begin += chunk) {
      try {
        fn(begin, std::min(n, begin + chunk));
      } catch (...) {
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    return;
  }

  std::lock_guard<std::mutex> call(s.call_mutex);
  const void* outer = tls_running_pool;
  tls_running_pool = &s;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.fn = &fn;
    s.n = n;
    s.chunk = chunk;
    s.chunks = chunks;
    s.participants = std::min(chunks, s.size);
    s.open = true;
    s.entered = 0;
    s.error = nullptr;
    s.next.store(0, std::memory_order_relaxed);
    ++s.generation;
  }
  s.wake.notify_all();
  s.RunChunks();
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    s.open = false;  // every chunk is claimed: late workers need not come in
    s.done.wait(lock, [&] { return s.entered == 0; });
    error = s.error;
    s.error = nullptr;
    s.fn = nullptr;
  }
  tls_running_pool = outer;
  if (error) std::rethrow_exception(error);
}

size_t HardwareThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

ThreadPool* SharedThreadPool(size_t threads) {
  if (threads == 0) threads = HardwareThreads();
  threads = std::min(threads, kMaxThreads);
  // Leaked on purpose: workers must not be joined during static destruction (an addon may be
  // unloaded while the process exits).
  static std::mutex* mu = new std::mutex;
  static auto* pools = new std::map<size_t, ThreadPool*>;
  std::lock_guard<std::mutex> lock(*mu);
  ThreadPool*& pool = (*pools)[threads];
  if (pool == nullptr) pool = new ThreadPool(threads);
  return pool;
}

}  // namespace litequant
