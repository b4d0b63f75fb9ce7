// Hybrid (dynamic-range) FULLY_CONNECTED against the int8 GEMM it is built on, and the int16x8
// GEMM, per path that is built and supported.
//
//   hybrid_bench [--threads N] [--path NAME] [--family hybrid_gemm|qs8_gemm|qs16_gemm]
//                [--min-time SECONDS]
//
// Shapes: M in {1, 16, 128} x K = N in {256, 1024}. Weights are packed once, outside the timing.
//   qs8_gemm:    Qs8Gemm, int8 in, int8 out (per-channel fp32 requantization): the baseline.
//   hybrid_gemm: HybridFullyConnected, float in, float out, everything included: the per-row
//                min/max and quantization, Qs8GemmAccumulate, the float epilogue (bias, per-
//                channel scales, RELU clamp); asymmetric and symmetric inputs. The line carries
//                "vs_qs8_gemm": its time over qs8_gemm's for the same path, shape and threads
//                (the target is <= 1.15).
//   qs16_gemm:   Qs16Gemm, int16 in, int16 out, fixed-point requantization, with bias.
// Each shape runs for about --min-time (default 0.3 s) split into three windows; the best
// window's mean time per call is reported (shared machines drift).
//
// One JSON object per line on stdout:
//   {"family":"hybrid_gemm","path":"avx2","kernel":"...","shape":{"m":16,"k":256,"n":256,...},
//    "threads":1,"ops":...,"seconds":...,"gops":...}
// ops = 2 * M * N * K per call; seconds per call; gops = ops / seconds / 1e9.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "litequant/hybrid.h"
#include "litequant/isa.h"
#include "litequant/qs16_gemm.h"
#include "litequant/qs8_gemm.h"
#include "litequant/thread_pool.h"

using namespace litequant;

namespace {

struct Options {
  size_t threads = 1;
  std::string path;
  std::string family;
  double min_time = 0.3;
};

[[noreturn]] void Usage(const char* problem) {
  std::fprintf(stderr,
               "hybrid_bench: %s\nusage: hybrid_bench [--threads N] [--path NAME] "
               "[--family hybrid_gemm|qs8_gemm|qs16_gemm] [--min-time SECONDS]\n",
               problem);
  std::exit(2);
}

double TimeIt(const std::function<void()>& fn, double min_time) {
  using Clock = std::chrono::steady_clock;
  fn();
  double best = 1e30;
  for (int window = 0; window < 3; ++window) {
    const auto start = Clock::now();
    size_t calls = 0;
    double elapsed = 0.0;
    do {
      fn();
      ++calls;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < min_time / 3);
    best = std::min(best, elapsed / static_cast<double>(calls));
  }
  return best;
}

void Report(const char* family, Path path, const char* kernel, const std::string& shape,
            size_t threads, double ops, double seconds, double vs_qs8 = 0.0) {
  std::printf(
      "{\"family\":\"%s\",\"path\":\"%s\",\"kernel\":\"%s\",\"shape\":{%s},\"threads\":%zu,"
      "\"ops\":%.0f,\"seconds\":%.9f,\"gops\":%.3f",
      family, PathName(path), kernel, shape.c_str(), threads, ops, seconds, ops / seconds / 1e9);
  if (vs_qs8 > 0.0) std::printf(",\"vs_qs8_gemm\":%.3f", vs_qs8);
  std::printf("}\n");
  std::fflush(stdout);
}

std::vector<float> RandomFloats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

template <typename T>
std::vector<T> RandomInts(size_t n, int lo, int hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(d(rng));
  return v;
}

std::string Shape(size_t m, size_t k, size_t n) {
  return "\"m\":" + std::to_string(m) + ",\"k\":" + std::to_string(k) + ",\"n\":" +
         std::to_string(n);
}

void Bench(Path path, const Options& o, ThreadPool* pool) {
  const bool all = o.family.empty();
  for (size_t kn : {256, 1024}) {
    const size_t k = kn, n = kn;
    const auto w8 = RandomInts<int8_t>(n * k, -127, 127, 1);
    std::vector<float> scales(n);
    for (size_t j = 0; j < n; ++j) scales[j] = 0.001f * static_cast<float>(1 + j % 7);
    const auto bias_f = RandomFloats(n, 2);
    const auto bias32 = RandomInts<int32_t>(n, -10000, 10000, 3);
    const auto bias64 = RandomInts<int64_t>(n, -1000000, 1000000, 4);
    const auto qs8 = PackQs8GemmForPath(path, w8.data(), n, k, bias32.data(), -3);
    const auto hybrid = PackHybrid(w8.data(), n, k, scales.data(), n, bias_f.data(), path);
    const auto qs16 = PackQs16Gemm(w8.data(), n, k, bias64.data(), path);
    Qs8Requant rq8;
    rq8.mode = RequantMode::kFp32;
    for (size_t j = 0; j < n; ++j) rq8.scale.push_back(0.0005f * static_cast<float>(1 + j % 5));
    rq8.output_zero_point = 5;
    Qs16Requant rq16;
    const char* why = nullptr;
    const float in_scale = 1.0f / 4096.0f;
    MakeQs16Requant(Qs16RequantMode::kFixedPoint, Qs16ScaleRule::kDoubleProduct, in_scale,
                    scales.data(), n, 0.05f, -32768, 32767, &rq16, &why);
    for (size_t m : {1, 16, 128}) {
      const double ops = 2.0 * static_cast<double>(m) * static_cast<double>(n) *
                         static_cast<double>(k);
      const std::string shape = Shape(m, k, n);
      double qs8_seconds = 0.0;
      if (all || o.family == "qs8_gemm" || o.family == "hybrid_gemm") {
        const auto a = RandomInts<int8_t>(m * k, -128, 127, 5);
        std::vector<int8_t> c(m * n);
        qs8_seconds = TimeIt(
            [&] { Qs8Gemm(*qs8, m, a.data(), k, c.data(), n, rq8, pool); }, o.min_time);
        if (all || o.family == "qs8_gemm") {
          Report("qs8_gemm", Qs8PackedPath(*qs8), Qs8PackedKernelName(*qs8), shape, o.threads,
                 ops, qs8_seconds);
        }
      }
      if (all || o.family == "hybrid_gemm") {
        const auto x = RandomFloats(m * k, 6);
        std::vector<float> y(m * n);
        for (bool asymmetric : {true, false}) {
          const double seconds = TimeIt(
              [&] {
                HybridFullyConnected(*hybrid, m, x.data(), y.data(), asymmetric, 0.0f,
                                     __builtin_inff(), pool);
              },
              o.min_time);
          const std::string kernel = std::string(HybridKernelsFor(HybridPackedPath(*hybrid)).name) +
                                     "+" + Qs8PackedKernelName(*qs8);
          Report("hybrid_gemm", HybridPackedPath(*hybrid), kernel.c_str(),
                 shape + ",\"asymmetric\":" + (asymmetric ? "true" : "false"), o.threads, ops,
                 seconds, seconds / qs8_seconds);
        }
      }
      if (all || o.family == "qs16_gemm") {
        const auto a = RandomInts<int16_t>(m * k, -32768, 32767, 7);
        std::vector<int16_t> c(m * n);
        const double seconds = TimeIt(
            [&] { Qs16Gemm(*qs16, m, a.data(), k, c.data(), n, rq16, pool); }, o.min_time);
        Report("qs16_gemm", Qs16PackedPath(*qs16), Qs16GemmKernelsFor(Qs16PackedPath(*qs16)).name,
               shape, o.threads, ops, seconds);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) Usage(("missing value for " + arg).c_str());
    const char* value = argv[++i];
    if (arg == "--threads") {
      const long t = std::strtol(value, nullptr, 10);
      if (t < 1 || t > 256) Usage("--threads takes 1..256");
      o.threads = static_cast<size_t>(t);
    } else if (arg == "--path") {
      o.path = value;
    } else if (arg == "--family") {
      o.family = value;
      if (o.family != "hybrid_gemm" && o.family != "qs8_gemm" && o.family != "qs16_gemm") {
        Usage("--family takes hybrid_gemm, qs8_gemm or qs16_gemm");
      }
    } else if (arg == "--min-time") {
      o.min_time = std::strtod(value, nullptr);
      if (!(o.min_time > 0.0)) Usage("--min-time takes a positive number of seconds");
    } else {
      Usage(("unknown option " + arg).c_str());
    }
  }
  std::vector<Path> paths;
  for (uint32_t i = 0; i < kPathCount; ++i) {
    const Path p = static_cast<Path>(i);
    if (!o.path.empty() && o.path != PathName(p)) continue;
    if (!PathBuilt(p)) continue;
    if (!PathSupported(DetectCpu(), p)) {
      std::fprintf(stderr, "skip %s: not supported by this CPU\n", PathName(p));
      continue;
    }
    paths.push_back(p);
  }
  if (paths.empty()) Usage("no such path is built and supported here");
  ThreadPool* pool = o.threads > 1 ? SharedThreadPool(o.threads) : nullptr;
  for (Path p : paths) Bench(p, o, pool);
  return 0;
}
