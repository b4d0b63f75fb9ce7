// The thread pool: every index is visited exactly once, the partition follows the documented
// formula, results do not depend on the thread count, and the edge cases (n == 0, n < grain,
// nested calls, concurrent callers, exceptions) behave as thread_pool.h says.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "check.h"
#include "litequant/thread_pool.h"

using namespace litequant;

namespace {

const size_t kThreadCounts[] = {1, 2, 3, 4, 7};

// The chunks a pool of `size` threads must produce.
std::vector<std::pair<size_t, size_t>> ExpectedChunks(size_t n, size_t grain, size_t size) {
  std::vector<std::pair<size_t, size_t>> out;
  if (n == 0) return out;
  grain = std::max<size_t>(grain, 1);
  const size_t chunk = std::max(grain, (n + 4 * size - 1) / (4 * size));
  for (size_t b = 0; b < n; b += chunk) out.emplace_back(b, std::min(n, b + chunk));
  return out;
}

std::vector<std::pair<size_t, size_t>> RecordChunks(ThreadPool& pool, size_t n, size_t grain) {
  std::mutex mu;
  std::vector<std::pair<size_t, size_t>> seen;
  pool.ParallelFor(n, grain, [&](size_t b, size_t e) {
    std::lock_guard<std::mutex> lock(mu);
    seen.emplace_back(b, e);
  });
  std::sort(seen.begin(), seen.end());
  return seen;
}

}  // namespace

TEST_CASE("size counts the caller; 0 means one per core") {
  for (size_t t : kThreadCounts) {
    ThreadPool pool(t);
    CHECK_MSG(pool.size() == t, "size %zu for %zu", pool.size(), t);
  }
  ThreadPool all(0);
  CHECK(all.size() == HardwareThreads());
}

TEST_CASE("the partition is the documented one, for any n, grain and size") {
  const size_t ns[] = {0, 1, 2, 3, 7, 8, 9, 31, 100, 1000, 4097};
  const size_t grains[] = {0, 1, 2, 5, 64, 5000};
  for (size_t t : kThreadCounts) {
    ThreadPool pool(t);
    for (size_t n : ns) {
      for (size_t g : grains) {
        const auto got = RecordChunks(pool, n, g);
        CHECK_MSG(got == ExpectedChunks(n, g, t), "threads=%zu n=%zu grain=%zu: %zu chunks", t,
                  n, g, got.size());
      }
    }
  }
}

TEST_CASE("n == 0 calls nothing; n < grain is one call on the caller") {
  for (size_t t : kThreadCounts) {
    ThreadPool pool(t);
    int calls = 0;
    pool.ParallelFor(0, 1, [&](size_t, size_t) { ++calls; });
    CHECK(calls == 0);
    std::thread::id who;
    pool.ParallelFor(3, 10, [&](size_t b, size_t e) {
      ++calls;
      who = std::this_thread::get_id();
      CHECK(b == 0 && e == 3);
    });
    CHECK(calls == 1);
    CHECK(who == std::this_thread::get_id());
  }
}

TEST_CASE("results are identical for any thread count") {
  const size_t n = 100003;
  std::vector<uint32_t> want(n);
  for (size_t i = 0; i < n; ++i) want[i] = static_cast<uint32_t>(i * 2654435761u) ^ 0x9e37u;
  for (size_t t : kThreadCounts) {
    ThreadPool pool(t);
    for (size_t grain : {1, 17, 1000}) {
      std::vector<uint32_t> got(n, 0);
      pool.ParallelFor(n, grain, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) got[i] = static_cast<uint32_t>(i * 2654435761u) ^ 0x9e37u;
      });
      CHECK_MSG(got == want, "threads=%zu grain=%zu", t, grain);
    }
  }
}

TEST_CASE("workers really run chunks, and the pool is reusable many times") {
  ThreadPool pool(3);
  std::mutex mu;
  std::set<std::thread::id> ids;
  for (int round = 0; round < 2000; ++round) {
    std::atomic<size_t> sum{0};
    pool.ParallelFor(64, 1, [&](size_t b, size_t e) {
      if (round % 100 == 0) {
        std::lock_guard<std::mutex> lock(mu);
        ids.insert(std::this_thread::get_id());
      }
      for (size_t i = b; i < e; ++i) sum += i;
      if (round == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    });
    CHECK_MSG(sum == 64 * 63 / 2, "round %d sum %zu", round, sum.load());
  }
  CHECK_MSG(ids.size() >= 2, "only %zu threads ran chunks", ids.size());
}

TEST_CASE("a nested call on the same pool runs inline instead of deadlocking") {
  ThreadPool pool(2);
  std::vector<int> hits(16 * 16, 0);
  pool.ParallelFor(16, 1, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      pool.ParallelFor(16, 1, [&](size_t b2, size_t e2) {
        for (size_t j = b2; j < e2; ++j) hits[i * 16 + j] += 1;
      });
    }
  });
  CHECK(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
}

TEST_CASE("concurrent callers on one pool take turns and both finish") {
  ThreadPool* pool = SharedThreadPool(2);
  std::vector<uint64_t> a(50000), b(50000);
  auto fill = [pool](std::vector<uint64_t>& v, uint64_t salt) {
    for (int round = 0; round < 50; ++round) {
      pool->ParallelFor(v.size(), 64, [&](size_t lo, size_t hi) {
        for (size_t i = lo; i < hi; ++i) v[i] = i * salt + static_cast<uint64_t>(round);
      });
    }
  };
  std::thread t1([&] { fill(a, 3); });
  std::thread t2([&] { fill(b, 5); });
  t1.join();
  t2.join();
  bool ok = true;
  for (size_t i = 0; i < a.size(); ++i) ok = ok && a[i] == i * 3 + 49 && b[i] == i * 5 + 49;
  CHECK(ok);
}

TEST_CASE("an exception in a chunk is rethrown on the caller after the other chunks ran") {
  for (size_t t : kThreadCounts) {
    ThreadPool pool(t);
    std::atomic<size_t> done{0};
    bool caught = false;
    try {
      pool.ParallelFor(40, 1, [&](size_t b, size_t e) {
        if (b == 0) throw std::runtime_error("chunk 0");
        done += e - b;
      });
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "chunk 0";
    }
    CHECK_MSG(caught, "threads=%zu", t);
    const size_t first = ExpectedChunks(40, 1, t).front().second;
    CHECK_MSG(done == 40 - first, "threads=%zu done=%zu", t, done.load());
    // The pool still works afterwards.
    std::atomic<size_t> again{0};
    pool.ParallelFor(40, 1, [&](size_t b, size_t e) { again += e - b; });
    CHECK(again == 40);
  }
}

TEST_CASE("shared pools: one per thread count, never null") {
  ThreadPool* one = SharedThreadPool(1);
  CHECK(one != nullptr && one->size() == 1);
  CHECK(SharedThreadPool(2) == SharedThreadPool(2));
  CHECK(SharedThreadPool(2) != SharedThreadPool(3));
  CHECK(SharedThreadPool(3)->size() == 3);
  CHECK(SharedThreadPool(0) == SharedThreadPool(HardwareThreads()));
}

TEST_MAIN()
