// Hybrid (dynamic-range) FULLY_CONNECTED against the int8 GEMM it is built on, and the int16x8
// GEMM, per path that is built and supported; hybrid CONV_2D for --shape kind=conv.
//
//   hybrid_bench [--threads N] [--path NAME] [--family hybrid_gemm|qs8_gemm|qs16_gemm|hybrid_conv]
//                [--shape SPEC ...] [--only-shapes] [--min-time SECONDS]
//
// Shapes: M in {1, 16, 128} x K = N in {256, 1024}, then every --shape (--only-shapes drops the
// defaults). SPEC takes qs8_gemm_bench's and qs8_conv_bench's formats:
//   MxKxN                 a GEMM: qs8_gemm, hybrid_gemm and qs16_gemm lines
//   kind=conv,H=,W=,C=,OC=[,N=][,K=|KH=,KW=][,S=|SH=,SW=][,D=|DH=,DW=][,padding=SAME|VALID]
//                         hybrid_conv (defaults as qs8_conv_bench: N=1, K=3, S=1, D=1, SAME)
// (kind=dwconv is refused: there is no hybrid depthwise kernel.) Weights are packed once, outside
// the timing.
//   qs8_gemm:    Qs8Gemm, int8 in, int8 out (per-channel fp32 requantization): the baseline.
//   hybrid_gemm: HybridFullyConnected, float in, float out, everything included: the per-row
//                min/max and quantization, Qs8GemmAccumulate, the float epilogue (bias, per-
//                channel scales, RELU clamp); asymmetric and symmetric inputs. The line carries
//                "vs_qs8_gemm": its time over qs8_gemm's for the same path, shape and threads
//                (the target is <= 1.15); qs8_gemm is timed for it even when --family drops its
//                lines.
//   qs16_gemm:   Qs16Gemm, int16 in, int16 out, fixed-point requantization, with bias.
//   hybrid_conv: HybridConv2d with per-channel weight scales (so, as TFLite's
//                HybridConvPerChannel, each image is quantized asymmetrically), RELU6 clamp.
// Each shape runs for about --min-time (default 0.3 s) split into three windows; the best
// window's mean time per call is reported (shared machines drift).
//
// One JSON object per line on stdout (shape keys as qs8_gemm_bench and qs8_conv_bench print them):
//   {"family":"hybrid_gemm","path":"avx2","kernel":"...","shape":{"M":16,"K":256,"N":256,...},
//    "threads":1,"ops":...,"seconds":...,"gops":...}
// ops = 2 * multiply-accumulates per call (padded taps included); seconds per call;
// gops = ops / seconds / 1e9.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.h"
#include "litequant/f32_conv.h"
#include "litequant/hybrid.h"
#include "litequant/isa.h"
#include "litequant/qs16_gemm.h"
#include "litequant/qs8_gemm.h"
#include "litequant/thread_pool.h"

using namespace litequant;

namespace {

struct GemmShape {
  size_t m, k, n;
};

struct ConvShape {
  Conv2dGeometry g;  // before ComputeConv2dGeometry
  size_t out_c = 0;
  Padding padding = Padding::kSame;
};

struct Options {
  size_t threads = 1;
  std::string path;
  std::string family;
  double min_time = 0.3;
  bool only_shapes = false;
  std::vector<GemmShape> gemm;
  std::vector<ConvShape> conv;
};

[[noreturn]] void Usage(const std::string& problem, int code = 2) {
  std::fprintf(code == 0 ? stdout : stderr,
               "hybrid_bench: %s\nusage: hybrid_bench [--threads N] [--path NAME] "
               "[--family hybrid_gemm|qs8_gemm|qs16_gemm|hybrid_conv] [--shape SPEC ...] "
               "[--only-shapes] [--min-time SECONDS]\n"
               "  SPEC: MxKxN (GEMM) or kind=conv,H=,W=,C=,OC=[,N=][,K=|KH=,KW=][,S=|SH=,SW=]"
               "[,D=|DH=,DW=][,padding=SAME|VALID]\n",
               problem.c_str());
  std::exit(code);
}

using litequant_bench::ParseGemmShape;

// The key=value format of qs8_conv_bench (keys case-insensitive); DM=1 is accepted so that the
// same SPEC works for every bench.
ConvShape ParseConvShape(const std::string& spec) {
  const litequant_bench::ConvSpecFields f =
      litequant_bench::ParseConvSpecFields(spec, [](const std::string& why) { Usage(why); });
  const std::string& kind = f.kind;
  const std::string& padding = f.padding;
  const long oc = f.oc, kh = f.kh, kw = f.kw, sh = f.sh, sw = f.sw, dh = f.dh, dw = f.dw;
  const long k = f.k, stride = f.stride, dilation = f.dilation, dm = f.dm, n = f.n, h = f.h,
             w = f.w, c = f.c;
  if (kind == "dwconv") Usage("--shape kind=dwconv: litequant has no hybrid depthwise kernel");
  if (kind != "conv") Usage("--shape needs MxKxN or kind=conv");
  if (dm != 1) Usage("--shape kind=conv takes no depth multiplier");
  if (h < 0 || w < 0 || c < 0 || oc < 0) Usage("--shape kind=conv needs H, W, C and OC");
  if (padding != "SAME" && padding != "VALID") Usage("--shape padding must be SAME or VALID");
  ConvShape s;
  Conv2dGeometry& g = s.g;
  g.batch = static_cast<size_t>(n);
  g.in_h = static_cast<size_t>(h);
  g.in_w = static_cast<size_t>(w);
  g.in_c = static_cast<size_t>(c);
  g.k_h = static_cast<size_t>(kh > 0 ? kh : k);
  g.k_w = static_cast<size_t>(kw > 0 ? kw : k);
  g.stride_h = static_cast<size_t>(sh > 0 ? sh : stride);
  g.stride_w = static_cast<size_t>(sw > 0 ? sw : stride);
  g.dilation_h = static_cast<size_t>(dh > 0 ? dh : dilation);
  g.dilation_w = static_cast<size_t>(dw > 0 ? dw : dilation);
  s.out_c = static_cast<size_t>(oc);
  s.padding = padding == "VALID" ? Padding::kValid : Padding::kSame;
  return s;
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

// Per-channel weight scales that differ between channels.
std::vector<float> ChannelScales(size_t n) {
  std::vector<float> scales(n);
  for (size_t j = 0; j < n; ++j) scales[j] = 0.001f * static_cast<float>(1 + j % 7);
  return scales;
}

void BenchGemm(Path path, const GemmShape& s, const Options& o, ThreadPool* pool) {
  const bool all = o.family.empty();
  const bool want_qs8 = all || o.family == "qs8_gemm";
  const bool want_hybrid = all || o.family == "hybrid_gemm";
  const bool want_qs16 = all || o.family == "qs16_gemm";
  if (!want_qs8 && !want_hybrid && !want_qs16) return;
  const size_t m = s.m, k = s.k, n = s.n;
  const auto w8 = RandomInts<int8_t>(n * k, -127, 127, 1);
  const std::vector<float> scales = ChannelScales(n);
  const double ops = 2.0 * static_cast<double>(m) * static_cast<double>(n) *
                     static_cast<double>(k);
  const std::string shape = "\"M\":" + std::to_string(m) + ",\"K\":" + std::to_string(k) +
                            ",\"N\":" + std::to_string(n);
  const auto bias32 = RandomInts<int32_t>(n, -10000, 10000, 3);
  const auto qs8 = PackQs8GemmForPath(path, w8.data(), n, k, bias32.data(), -3);
  double qs8_seconds = 0.0;
  if (want_qs8 || want_hybrid) {
    Qs8Requant rq8;
    rq8.mode = RequantMode::kFp32;
    for (size_t j = 0; j < n; ++j) rq8.scale.push_back(0.0005f * static_cast<float>(1 + j % 5));
    rq8.output_zero_point = 5;
    const auto a = RandomInts<int8_t>(m * k, -128, 127, 5);
    std::vector<int8_t> c(m * n);
    qs8_seconds =
        TimeIt([&] { Qs8Gemm(*qs8, m, a.data(), k, c.data(), n, rq8, pool); }, o.min_time);
    if (want_qs8) {
      Report("qs8_gemm", Qs8PackedPath(*qs8), Qs8PackedKernelName(*qs8), shape, o.threads, ops,
             qs8_seconds);
    }
  }
  if (want_hybrid) {
    const auto bias_f = RandomFloats(n, 2);
    const auto hybrid = PackHybrid(w8.data(), n, k, scales.data(), n, bias_f.data(), path);
    const auto x = RandomFloats(m * k, 6);
    std::vector<float> y(m * n);
    const std::string kernel =
        std::string(HybridKernelsFor(HybridPackedPath(*hybrid)).name) + "+" +
        Qs8PackedKernelName(*qs8);
    for (bool asymmetric : {true, false}) {
      const double seconds = TimeIt(
          [&] {
            HybridFullyConnected(*hybrid, m, x.data(), y.data(), asymmetric, 0.0f,
                                 __builtin_inff(), pool);
          },
          o.min_time);
      Report("hybrid_gemm", HybridPackedPath(*hybrid), kernel.c_str(),
             shape + ",\"asymmetric\":" + (asymmetric ? "true" : "false"), o.threads, ops,
             seconds, seconds / qs8_seconds);
    }
  }
  if (want_qs16) {
    const auto bias64 = RandomInts<int64_t>(n, -1000000, 1000000, 4);
    const auto qs16 = PackQs16Gemm(w8.data(), n, k, bias64.data(), path);
    Qs16Requant rq16;
    const char* why = nullptr;
    const float in_scale = 1.0f / 4096.0f;
    MakeQs16Requant(Qs16RequantMode::kFixedPoint, Qs16ScaleRule::kDoubleProduct, in_scale,
                    scales.data(), n, 0.05f, -32768, 32767, &rq16, &why);
    const auto a = RandomInts<int16_t>(m * k, -32768, 32767, 7);
    std::vector<int16_t> c(m * n);
    const double seconds = TimeIt(
        [&] { Qs16Gemm(*qs16, m, a.data(), k, c.data(), n, rq16, pool); }, o.min_time);
    Report("qs16_gemm", Qs16PackedPath(*qs16), Qs16GemmKernelsFor(Qs16PackedPath(*qs16)).name,
           shape, o.threads, ops, seconds);
  }
}

void BenchConv(Path path, ConvShape s, const Options& o, ThreadPool* pool) {
  if (!o.family.empty() && o.family != "hybrid_conv") return;
  Conv2dGeometry& g = s.g;
  if (!ComputeConv2dGeometry(s.padding, &g)) {
    std::fprintf(stderr, "hybrid_bench: skipping a shape with an empty output\n");
    return;
  }
  const size_t k = g.k_h * g.k_w * g.in_c;
  const auto filter = RandomInts<int8_t>(s.out_c * k, -127, 127, 8);
  const std::vector<float> scales = ChannelScales(s.out_c);
  const auto bias = RandomFloats(s.out_c, 9);
  const auto packed =
      PackHybrid(filter.data(), s.out_c, k, scales.data(), s.out_c, bias.data(), path);
  const auto input = RandomFloats(g.batch * g.in_h * g.in_w * g.in_c, 10);
  std::vector<float> output(g.batch * g.out_h * g.out_w * s.out_c);
  const double seconds = TimeIt(
      [&] { HybridConv2d(*packed, g, input.data(), output.data(), 0.0f, 6.0f, pool); },
      o.min_time);
  char shape[320];
  std::snprintf(shape, sizeof(shape),
                "\"N\":%zu,\"H\":%zu,\"W\":%zu,\"C\":%zu,\"OC\":%zu,\"KH\":%zu,\"KW\":%zu,"
                "\"SH\":%zu,\"SW\":%zu,\"DH\":%zu,\"DW\":%zu,\"padding\":\"%s\"",
                g.batch, g.in_h, g.in_w, g.in_c, s.out_c, g.k_h, g.k_w, g.stride_h, g.stride_w,
                g.dilation_h, g.dilation_w, s.padding == Padding::kSame ? "SAME" : "VALID");
  const double outputs = static_cast<double>(g.batch * g.out_h * g.out_w * s.out_c);
  Report("hybrid_conv", HybridPackedPath(*packed), HybridKernelsFor(HybridPackedPath(*packed)).name,
         shape, o.threads, 2.0 * outputs * static_cast<double>(k), seconds);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      Usage("hybrid FULLY_CONNECTED and CONV_2D, int8 and int16x8 GEMM", 0);
    }
    if (arg == "--only-shapes") {
      o.only_shapes = true;
      continue;
    }
    if (i + 1 >= argc) Usage("missing value for " + arg);
    const std::string value = argv[++i];
    if (arg == "--threads") {
      const long t = std::strtol(value.c_str(), nullptr, 10);
      if (t < 1 || t > 256) Usage("--threads takes 1..256");
      o.threads = static_cast<size_t>(t);
    } else if (arg == "--path") {
      o.path = value;
    } else if (arg == "--family") {
      o.family = value;
      if (o.family != "hybrid_gemm" && o.family != "qs8_gemm" && o.family != "qs16_gemm" &&
          o.family != "hybrid_conv") {
        Usage("--family takes hybrid_gemm, qs8_gemm, qs16_gemm or hybrid_conv");
      }
    } else if (arg == "--shape") {
      GemmShape gemm;
      if (value.find('=') == std::string::npos) {
        if (!ParseGemmShape(value, &gemm)) Usage("--shape needs MxKxN with positive integers");
        o.gemm.push_back(gemm);
      } else {
        o.conv.push_back(ParseConvShape(value));
      }
    } else if (arg == "--min-time") {
      o.min_time = std::strtod(value.c_str(), nullptr);
      if (!(o.min_time > 0.0)) Usage("--min-time takes a positive number of seconds");
    } else {
      Usage("unknown option " + arg);
    }
  }
  std::vector<GemmShape> gemm;
  if (!o.only_shapes) {
    for (size_t kn : {256, 1024}) {
      for (size_t m : {1, 16, 128}) gemm.push_back({m, kn, kn});
    }
  }
  gemm.insert(gemm.end(), o.gemm.begin(), o.gemm.end());
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
  for (Path p : paths) {
    for (const GemmShape& s : gemm) BenchGemm(p, s, o, pool);
    for (const ConvShape& s : o.conv) {
      // A shape the kernels reject (the geometry checks throw) is reported and skipped.
      try {
        BenchConv(p, s, o, pool);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "hybrid_bench: skipping a shape: %s\n", e.what());
      }
    }
  }
  return 0;
}
