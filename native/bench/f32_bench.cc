// float32 GEMM, CONV_2D and DEPTHWISE_CONV_2D throughput per path that is built and supported.
//
//   f32_bench [--threads N] [--path NAME] [--family f32_gemm|f32_conv|f32_dwconv]
//             [--min-time SECONDS]
//
// Shapes: GEMM M in {1, 16, 128, 512} x K = N in {256, 1024}; conv 3x3 64->64 and 1x1 128->128
// at 56x56 (stride 1, SAME); depthwise 3x3 C=128 at 56x56 and C=512 at 14x14. Weights are packed
// once, outside the timing. Each shape runs for about --min-time (default 0.3 s) split into three
// windows; the best window's mean time per call is reported (shared machines drift).
//
// One JSON object per line on stdout:
//   {"family":"f32_gemm","path":"avx2","kernel":"f32_gemm_6x16__avx2","shape":{"m":128,...},
//    "threads":1,"ops":...,"seconds":...,"gops":...}
// ops = 2 * multiply-accumulates per call; seconds per call; gops = ops / seconds / 1e9.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "litequant/f32_conv.h"
#include "litequant/f32_gemm.h"
#include "litequant/isa.h"
#include "litequant/thread_pool.h"

using namespace litequant;

namespace {

constexpr float kInf = __builtin_inff();

struct Options {
  size_t threads = 1;
  std::string path;    // empty: every built and supported path
  std::string family;  // empty: all
  double min_time = 0.3;
};

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// Mean seconds per call of the best of three windows.
double TimeIt(const std::function<void()>& fn, double min_time) {
  using Clock = std::chrono::steady_clock;
  fn();  // warm caches and the pool
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
            size_t threads, double ops, double seconds) {
  std::printf(
      "{\"family\":\"%s\",\"path\":\"%s\",\"kernel\":\"%s\",\"shape\":{%s},\"threads\":%zu,"
      "\"ops\":%.0f,\"seconds\":%.9f,\"gops\":%.3f}\n",
      family, PathName(path), kernel, shape.c_str(), threads, ops, seconds, ops / seconds / 1e9);
  std::fflush(stdout);
}

void BenchGemm(Path path, const Options& o, ThreadPool* pool) {
  for (size_t kn : {256, 1024}) {
    const std::vector<float> w = Random(kn * kn, 1);
    const std::vector<float> bias = Random(kn, 2);
    auto packed = PackF32Gemm(w.data(), kn, kn, bias.data(), path);
    for (size_t m : {1, 16, 128, 512}) {
      const std::vector<float> a = Random(m * kn, 3);
      std::vector<float> c(m * kn);
      const double seconds = TimeIt(
          [&] { F32Gemm(*packed, m, a.data(), kn, c.data(), kn, -kInf, kInf, pool); },
          o.min_time);
      const std::string shape = "\"m\":" + std::to_string(m) + ",\"k\":" + std::to_string(kn) +
                                ",\"n\":" + std::to_string(kn);
      Report("f32_gemm", path, F32GemmKernelsFor(path).name, shape, o.threads,
             2.0 * static_cast<double>(m * kn * kn), seconds);
    }
  }
}

void BenchConv(Path path, const Options& o, ThreadPool* pool) {
  struct Shape {
    size_t hw, cin, cout, k;
  };
  for (const Shape& s : {Shape{56, 64, 64, 3}, Shape{56, 128, 128, 1}}) {
    Conv2dGeometry g;
    g.in_h = g.in_w = s.hw;
    g.in_c = s.cin;
    g.k_h = g.k_w = s.k;
    ComputeConv2dGeometry(Padding::kSame, &g);
    const size_t k = s.k * s.k * s.cin;
    const std::vector<float> filter = Random(s.cout * k, 4);
    const std::vector<float> bias = Random(s.cout, 5);
    const std::vector<float> input = Random(s.hw * s.hw * s.cin, 6);
    std::vector<float> output(g.out_h * g.out_w * s.cout);
    auto packed = PackF32Gemm(filter.data(), s.cout, k, bias.data(), path);
    const double seconds = TimeIt(
        [&] { F32Conv2d(*packed, g, input.data(), output.data(), 0.0f, 6.0f, pool); }, o.min_time);
    const std::string shape = "\"h\":" + std::to_string(s.hw) + ",\"w\":" + std::to_string(s.hw) +
                              ",\"cin\":" + std::to_string(s.cin) + ",\"cout\":" +
                              std::to_string(s.cout) + ",\"kh\":" + std::to_string(s.k) +
                              ",\"kw\":" + std::to_string(s.k) + ",\"stride\":1";
    Report("f32_conv", path, F32GemmKernelsFor(path).name, shape, o.threads,
           2.0 * static_cast<double>(g.out_h * g.out_w * s.cout * k), seconds);
  }
}

void BenchDwconv(Path path, const Options& o, ThreadPool* pool) {
  struct Shape {
    size_t hw, c;
  };
  for (const Shape& s : {Shape{56, 128}, Shape{14, 512}}) {
    Conv2dGeometry g;
    g.in_h = g.in_w = s.hw;
    g.in_c = s.c;
    g.k_h = g.k_w = 3;
    ComputeConv2dGeometry(Padding::kSame, &g);
    const std::vector<float> filter = Random(9 * s.c, 7);
    const std::vector<float> bias = Random(s.c, 8);
    const std::vector<float> input = Random(s.hw * s.hw * s.c, 9);
    std::vector<float> output(g.out_h * g.out_w * s.c);
    auto packed = PackF32Dwconv(filter.data(), bias.data(), 3, 3, s.c, path);
    const double seconds = TimeIt(
        [&] {
          F32DepthwiseConv2d(*packed, g, 1, input.data(), output.data(), 0.0f, 6.0f, pool);
        },
        o.min_time);
    const std::string shape = "\"h\":" + std::to_string(s.hw) + ",\"w\":" + std::to_string(s.hw) +
                              ",\"c\":" + std::to_string(s.c) + ",\"kh\":3,\"kw\":3," +
                              "\"depth_multiplier\":1,\"stride\":1";
    Report("f32_dwconv", path, F32DwconvKernelsFor(path).name, shape, o.threads,
           2.0 * static_cast<double>(g.out_h * g.out_w * s.c * 9), seconds);
  }
}

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "f32_bench: %s\nusage: f32_bench [--threads N] [--path NAME] "
               "[--family f32_gemm|f32_conv|f32_dwconv] [--min-time SECONDS]\n",
               why);
  std::exit(2);
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
    // Families without kernels for a path fall back to another; measure each kernel once.
    if (p != Path::kReference && F32GemmKernelsFor(p).gemm == F32GemmKernelsFor(FallbackPath(p)).gemm &&
        F32DwconvKernelsFor(p).dwconv == F32DwconvKernelsFor(FallbackPath(p)).dwconv) {
      continue;
    }
    paths.push_back(p);
  }
  if (paths.empty()) Usage("no such path is built and supported here");
  ThreadPool* pool = o.threads > 1 ? SharedThreadPool(o.threads) : nullptr;
  for (Path p : paths) {
    if (o.family.empty() || o.family == "f32_gemm") BenchGemm(p, o, pool);
    if (o.family.empty() || o.family == "f32_conv") BenchConv(p, o, pool);
    if (o.family.empty() || o.family == "f32_dwconv") BenchDwconv(p, o, pool);
  }
  return 0;
}
