// float32 GEMM, CONV_2D and DEPTHWISE_CONV_2D throughput per path that is built and supported.
//
//   f32_bench [--threads N] [--path NAME] [--family f32_gemm|f32_conv|f32_dwconv]
//             [--shape SPEC ...] [--only-shapes] [--min-time SECONDS]
//
// Shapes: GEMM M in {1, 16, 128, 512} x K = N in {256, 1024}; conv 3x3 64->64 and 1x1 128->128
// at 56x56 (stride 1, SAME); depthwise 3x3 C=128 at 56x56 and C=512 at 14x14; then every --shape
// (--only-shapes drops the defaults). SPEC takes qs8_gemm_bench's and qs8_conv_bench's formats:
//   MxKxN                                       a GEMM (f32_gemm)
//   kind=conv|dwconv,H=,W=,C=[,OC=][,N=][,K=|KH=,KW=][,S=|SH=,SW=][,D=|DH=,DW=][,DM=]
//       [,padding=SAME|VALID]                   f32_conv / f32_dwconv (defaults as qs8_conv_bench:
//                                               N=1, K=3, S=1, D=1, DM=1, SAME; OC needed for conv)
// --family keeps one family (of the defaults and the --shape entries). Weights are packed once,
// outside the timing. Each shape runs for about --min-time (default 0.3 s) split into three
// windows; the best window's mean time per call is reported (shared machines drift).
//
// One JSON object per line on stdout (shape keys as qs8_gemm_bench and qs8_conv_bench print them):
//   {"family":"f32_gemm","path":"avx2","kernel":"f32_gemm_6x16__avx2","shape":{"M":128,...},
//    "threads":1,"ops":...,"seconds":...,"gops":...}
// ops = 2 * multiply-accumulates per call (padded taps included); seconds per call;
// gops = ops / seconds / 1e9.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_common.h"
#include "litequant/f32_conv.h"
#include "litequant/f32_gemm.h"
#include "litequant/isa.h"
#include "litequant/thread_pool.h"

using namespace litequant;

namespace {

constexpr float kInf = __builtin_inff();

struct GemmShape {
  size_t m, k, n;
};

struct ConvShape {
  bool depthwise = false;
  Conv2dGeometry g;  // before ComputeConv2dGeometry
  size_t out_c = 0;  // depthwise: in_c * depth_multiplier
  size_t depth_multiplier = 1;
  Padding padding = Padding::kSame;
};

struct Options {
  size_t threads = 1;
  std::string path;    // empty: every built and supported path
  std::string family;  // empty: all
  double min_time = 0.3;
  bool only_shapes = false;
  std::vector<GemmShape> gemm;
  std::vector<ConvShape> conv;  // both kinds, in command-line order
};

[[noreturn]] void Usage(const std::string& why, int code = 2) {
  std::fprintf(code == 0 ? stdout : stderr,
               "f32_bench: %s\nusage: f32_bench [--threads N] [--path NAME] "
               "[--family f32_gemm|f32_conv|f32_dwconv] [--shape SPEC ...] [--only-shapes] "
               "[--min-time SECONDS]\n"
               "  SPEC: MxKxN (GEMM) or kind=conv|dwconv,H=,W=,C=[,OC=][,N=][,K=|KH=,KW=]"
               "[,S=|SH=,SW=][,D=|DH=,DW=][,DM=][,padding=SAME|VALID]\n",
               why.c_str());
  std::exit(code);
}

using litequant_bench::ParseGemmShape;

// The key=value format of qs8_conv_bench (keys case-insensitive).
ConvShape ParseConvShape(const std::string& spec) {
  const litequant_bench::ConvSpecFields f =
      litequant_bench::ParseConvSpecFields(spec, [](const std::string& why) { Usage(why); });
  const std::string& kind = f.kind;
  const std::string& padding = f.padding;
  const long oc = f.oc, kh = f.kh, kw = f.kw, sh = f.sh, sw = f.sw, dh = f.dh, dw = f.dw;
  const long k = f.k, stride = f.stride, dilation = f.dilation, dm = f.dm, n = f.n, h = f.h,
             w = f.w, c = f.c;
  ConvShape s;
  if (kind == "conv") s.depthwise = false;
  else if (kind == "dwconv") s.depthwise = true;
  else Usage("--shape needs MxKxN, kind=conv or kind=dwconv");
  if (h < 0 || w < 0 || c < 0) Usage("--shape needs H, W and C");
  if (!s.depthwise && oc < 0) Usage("--shape kind=conv needs OC");
  if (padding != "SAME" && padding != "VALID") Usage("--shape padding must be SAME or VALID");
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
  s.depth_multiplier = s.depthwise ? static_cast<size_t>(dm) : 1;
  s.out_c = s.depthwise ? g.in_c * s.depth_multiplier : static_cast<size_t>(oc);
  s.padding = padding == "VALID" ? Padding::kValid : Padding::kSame;
  return s;
}

ConvShape MakeConv(bool depthwise, size_t hw, size_t c, size_t oc, size_t k) {
  ConvShape s;
  s.depthwise = depthwise;
  s.g.in_h = s.g.in_w = hw;
  s.g.in_c = c;
  s.g.k_h = s.g.k_w = k;
  s.out_c = oc;
  return s;
}

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

void BenchGemm(Path path, const GemmShape& s, const Options& o, ThreadPool* pool) {
  const std::vector<float> w = Random(s.n * s.k, 1);
  const std::vector<float> bias = Random(s.n, 2);
  auto packed = PackF32Gemm(w.data(), s.n, s.k, bias.data(), path);
  const std::vector<float> a = Random(s.m * s.k, 3);
  std::vector<float> c(s.m * s.n);
  const double seconds = TimeIt(
      [&] { F32Gemm(*packed, s.m, a.data(), s.k, c.data(), s.n, -kInf, kInf, pool); },
      o.min_time);
  const std::string shape = "\"M\":" + std::to_string(s.m) + ",\"K\":" + std::to_string(s.k) +
                            ",\"N\":" + std::to_string(s.n);
  Report("f32_gemm", path, F32GemmKernelsFor(path).name, shape, o.threads,
         2.0 * static_cast<double>(s.m) * static_cast<double>(s.k) * static_cast<double>(s.n),
         seconds);
}

void BenchConv(Path path, ConvShape s, const Options& o, ThreadPool* pool) {
  Conv2dGeometry& g = s.g;
  if (!ComputeConv2dGeometry(s.padding, &g)) {
    std::fprintf(stderr, "f32_bench: skipping a shape with an empty output\n");
    return;
  }
  const size_t taps = g.k_h * g.k_w;
  const size_t per_output = s.depthwise ? taps : taps * g.in_c;
  const std::vector<float> filter = Random(s.out_c * per_output, 4);
  const std::vector<float> bias = Random(s.out_c, 5);
  const std::vector<float> input = Random(g.batch * g.in_h * g.in_w * g.in_c, 6);
  std::vector<float> output(g.batch * g.out_h * g.out_w * s.out_c);
  double seconds = 0.0;
  const char* kernel = nullptr;
  if (s.depthwise) {
    // filter [KH, KW, C * DM] holds per_output * out_c values as well.
    auto packed = PackF32Dwconv(filter.data(), bias.data(), g.k_h, g.k_w, s.out_c, path);
    seconds = TimeIt(
        [&] {
          F32DepthwiseConv2d(*packed, g, s.depth_multiplier, input.data(), output.data(), 0.0f,
                             6.0f, pool);
        },
        o.min_time);
    kernel = F32DwconvKernelsFor(path).name;
  } else {
    auto packed = PackF32Gemm(filter.data(), s.out_c, per_output, bias.data(), path);
    seconds = TimeIt(
        [&] { F32Conv2d(*packed, g, input.data(), output.data(), 0.0f, 6.0f, pool); },
        o.min_time);
    kernel = F32GemmKernelsFor(path).name;
  }
  char shape[320];
  std::snprintf(shape, sizeof(shape),
                "\"N\":%zu,\"H\":%zu,\"W\":%zu,\"C\":%zu,\"OC\":%zu,\"KH\":%zu,\"KW\":%zu,"
                "\"SH\":%zu,\"SW\":%zu,\"DH\":%zu,\"DW\":%zu,\"DM\":%zu,\"padding\":\"%s\"",
                g.batch, g.in_h, g.in_w, g.in_c, s.out_c, g.k_h, g.k_w, g.stride_h, g.stride_w,
                g.dilation_h, g.dilation_w, s.depth_multiplier,
                s.padding == Padding::kSame ? "SAME" : "VALID");
  const double outputs = static_cast<double>(g.batch * g.out_h * g.out_w * s.out_c);
  Report(s.depthwise ? "f32_dwconv" : "f32_conv", path, kernel, shape, o.threads,
         2.0 * outputs * static_cast<double>(per_output), seconds);
}

// A shape the kernels reject (the geometry checks throw) is reported and skipped.
void BenchConvOrSkip(Path path, const ConvShape& s, const Options& o, ThreadPool* pool) {
  try {
    BenchConv(path, s, o, pool);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "f32_bench: skipping a shape: %s\n", e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") Usage("float32 GEMM, CONV_2D and DEPTHWISE_CONV_2D", 0);
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
      if (o.family != "f32_gemm" && o.family != "f32_conv" && o.family != "f32_dwconv") {
        Usage("--family takes f32_gemm, f32_conv or f32_dwconv");
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
  std::vector<ConvShape> conv, dwconv;
  if (!o.only_shapes) {
    for (size_t kn : {256, 1024}) {
      for (size_t m : {1, 16, 128, 512}) gemm.push_back({m, kn, kn});
    }
    conv.push_back(MakeConv(false, 56, 64, 64, 3));
    conv.push_back(MakeConv(false, 56, 128, 128, 1));
    dwconv.push_back(MakeConv(true, 56, 128, 128, 3));
    dwconv.push_back(MakeConv(true, 14, 512, 512, 3));
  }
  gemm.insert(gemm.end(), o.gemm.begin(), o.gemm.end());
  for (const ConvShape& s : o.conv) (s.depthwise ? dwconv : conv).push_back(s);

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
    if (o.family.empty() || o.family == "f32_gemm") {
      for (const GemmShape& s : gemm) BenchGemm(p, s, o, pool);
    }
    if (o.family.empty() || o.family == "f32_conv") {
      for (const ConvShape& s : conv) BenchConvOrSkip(p, s, o, pool);
    }
    if (o.family.empty() || o.family == "f32_dwconv") {
      for (const ConvShape& s : dwconv) BenchConvOrSkip(p, s, o, pool);
    }
  }
  return 0;
}
