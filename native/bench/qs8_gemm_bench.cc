// qs8 GEMM benchmark: one JSON object per line per shape.
//
//   qs8_gemm_bench [--path NAME] [--threads N] [--shape MxKxN ...] [--only-shapes]
//                  [--requant fp32|fixed] [--seconds S]
//
// The path is LITEQUANT_ISA when set, else the best built and supported one; --path overrides
// both. Default shapes: M in {1, 16, 128, 512} x K = N in {256, 1024}, then every --shape
// (--only-shapes drops the defaults). Each shape repeats for about S seconds (default 0.3) in
// batches of ~30 ms; "seconds" is the median batch's time per call. Two extra fields help on a
// shared machine: "best_seconds", the fastest batch's, and "cpu_seconds", the process CPU time
// per call (all threads; with one thread, close to the uncontended time).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "bench_common.h"
#include "litequant/isa.h"
#include "litequant/qs8_gemm.h"
#include "litequant/thread_pool.h"

using namespace litequant;

namespace {

struct Shape {
  size_t m, k, n;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "qs8_gemm_bench: %s\nusage: qs8_gemm_bench [--path NAME] [--threads N] "
               "[--shape MxKxN ...] [--only-shapes] [--requant fp32|fixed] [--seconds S]\n",
               why);
  std::exit(2);
}

bool ParseShape(const char* s, Shape* out) {
  unsigned long m = 0, k = 0, n = 0;
  char tail = 0;
  if (std::sscanf(s, "%lux%lux%lu%c", &m, &k, &n, &tail) != 3 || m == 0 || k == 0 || n == 0) {
    return false;
  }
  *out = {m, k, n};
  return true;
}

using litequant_bench::CpuNow;
using litequant_bench::Now;

}  // namespace

int main(int argc, char** argv) {
  const char* path_name = std::getenv("LITEQUANT_ISA");
  if (path_name != nullptr && *path_name == '\0') path_name = nullptr;
  size_t threads = 1;
  double seconds = 0.3;
  bool only_shapes = false;
  RequantMode mode = RequantMode::kFp32;
  std::vector<Shape> extra;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--path" && value) {
      path_name = value;
      ++i;
    } else if (arg == "--threads" && value) {
      threads = std::strtoul(value, nullptr, 10);
      if (threads == 0) Usage("--threads needs a positive integer");
      ++i;
    } else if (arg == "--shape" && value) {
      Shape s;
      if (!ParseShape(value, &s)) Usage("--shape needs MxKxN with positive integers");
      extra.push_back(s);
      ++i;
    } else if (arg == "--seconds" && value) {
      seconds = std::strtod(value, nullptr);
      if (!(seconds > 0)) Usage("--seconds needs a positive number");
      ++i;
    } else if (arg == "--requant" && value) {
      if (std::strcmp(value, "fp32") == 0) mode = RequantMode::kFp32;
      else if (std::strcmp(value, "fixed") == 0) mode = RequantMode::kFixedPoint;
      else Usage("--requant needs fp32 or fixed");
      ++i;
    } else if (arg == "--only-shapes") {
      only_shapes = true;
    } else {
      Usage(("unknown argument " + arg).c_str());
    }
  }
  if (path_name != nullptr) {
    Path path;
    if (!PathFromName(path_name, &path)) Usage("unknown path name");
    const char* why = nullptr;
    if (!SelectPath(path, &why)) {
      std::fprintf(stderr, "qs8_gemm_bench: path %s unavailable: %s\n", path_name, why);
      return 2;
    }
  }

  std::vector<Shape> shapes;
  if (!only_shapes) {
    for (size_t kn : {256, 1024}) {
      for (size_t m : {1, 16, 128, 512}) shapes.push_back({m, kn, kn});
    }
  }
  shapes.insert(shapes.end(), extra.begin(), extra.end());
  ThreadPool* pool = threads > 1 ? SharedThreadPool(threads) : nullptr;

  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(-127, 127);
  for (const Shape& s : shapes) {
    std::vector<int8_t> a(s.m * s.k), w(s.n * s.k), c(s.m * s.n);
    std::vector<int32_t> bias(s.n);
    for (auto& x : a) x = static_cast<int8_t>(byte(rng));
    for (auto& x : w) x = static_cast<int8_t>(byte(rng));
    for (auto& x : bias) x = byte(rng) * 100;
    const auto packed = PackQs8Gemm(w.data(), s.n, s.k, bias.data(), -3);
    Qs8Requant rq;
    rq.mode = mode;
    for (size_t j = 0; j < s.n; ++j) {
      const float scale = 1.0f / (64.0f * static_cast<float>(s.k)) * (1.0f + 0.01f * (j % 7));
      rq.scale.push_back(scale);
      rq.multiplier.push_back(QuantizeMultiplier(scale));
    }
    rq.output_zero_point = 5;

    auto call = [&] { Qs8Gemm(*packed, s.m, a.data(), s.k, c.data(), s.n, rq, pool); };
    call();  // warm-up: scratch allocation, caches, worker wake-up
    // Batches of about 30 ms: calibrate the repeat count on one timed call.
    double t0 = Now();
    call();
    const double one = std::max(Now() - t0, 1e-7);
    const size_t reps = std::max<size_t>(1, static_cast<size_t>(0.03 / one));
    std::vector<double> per_call;
    const double start = Now();
    const double cpu_start = CpuNow();
    do {
      t0 = Now();
      for (size_t r = 0; r < reps; ++r) call();
      per_call.push_back((Now() - t0) / static_cast<double>(reps));
    } while (Now() - start < seconds);
    const double cpu = (CpuNow() - cpu_start) / static_cast<double>(per_call.size() * reps);
    std::sort(per_call.begin(), per_call.end());
    const double t = per_call[per_call.size() / 2];
    const double ops = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) *
                       static_cast<double>(s.k);
    std::printf(
        "{\"family\":\"qs8_gemm\",\"path\":\"%s\",\"shape\":{\"M\":%zu,\"K\":%zu,\"N\":%zu},"
        "\"threads\":%zu,\"ops\":%.0f,\"seconds\":%.9g,\"gops\":%.4g,\"best_seconds\":%.9g,"
        "\"cpu_seconds\":%.9g,\"kernel\":\"%s\",\"requant\":\"%s\"}\n",
        PathName(Qs8PackedPath(*packed)), s.m, s.k, s.n, threads, ops, t, ops / t * 1e-9,
        per_call.front(), cpu,
        Qs8PackedKernelName(*packed), mode == RequantMode::kFp32 ? "fp32" : "fixed");
    std::fflush(stdout);
  }
  return 0;
}
