// int8 CONV_2D and DEPTHWISE_CONV_2D benchmark: one JSON object per line per shape.
//
//   qs8_conv_bench [--path NAME] [--threads N] [--shape SPEC ...] [--only-shapes]
//                  [--requant fp32|fixed] [--seconds S]
//
// SPEC is the NHWC geometry as comma-separated key=value pairs (keys as in the printed "shape"
// objects, case-insensitive):
//   kind=conv|dwconv  H=  W=  C=  (required)   OC= (conv: required; dwconv: C * DM)
//   N=1  KH= KW= (or K= for both; default 3)   SH= SW= (or S=; 1)   DH= DW= (or D=; 1)
//   DM=1 (depth multiplier, dwconv)            padding=SAME|VALID (SAME)
// e.g. --shape kind=dwconv,H=112,W=112,C=32,K=3,S=2
//
// The path is LITEQUANT_ISA when set, else the best built and supported one; --path overrides
// both. Default shapes (stride 1, SAME): conv 3x3 64->64 and 1x1 128->128 at 56x56; depthwise
// 3x3 C=128 at 56x56 and C=512 at 14x14. Weights are packed once, outside the timing. Each
// shape repeats for about S seconds (default 0.3) in batches of ~30 ms; "seconds" is the
// median batch's time per call. ops = 2 x multiply-accumulates, padded taps included.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench_common.h"
#include "litequant/isa.h"
#include "litequant/qs8_conv.h"
#include "litequant/thread_pool.h"

using namespace litequant;

namespace {

struct Shape {
  ConvKind kind = ConvKind::kConv2D;
  Qs8ConvParams p;
};

[[noreturn]] void Usage(const std::string& why, int code = 2) {
  std::fprintf(code == 0 ? stdout : stderr,
               "qs8_conv_bench: %s\nusage: qs8_conv_bench [--path NAME] [--threads N] "
               "[--shape SPEC ...] [--only-shapes] [--requant fp32|fixed] [--seconds S]\n"
               "  SPEC: kind=conv|dwconv,H=,W=,C=[,OC=][,N=][,K=|KH=,KW=][,S=|SH=,SW=]"
               "[,D=|DH=,DW=][,DM=][,padding=SAME|VALID]\n",
               why.c_str());
  std::exit(code);
}

Shape Make(ConvKind kind, size_t hw, size_t c, size_t oc, size_t k) {
  Shape s;
  s.kind = kind;
  s.p.input_height = s.p.input_width = hw;
  s.p.input_channels = c;
  s.p.output_channels = oc;
  s.p.kernel_height = s.p.kernel_width = k;
  s.p.padding = Padding::kSame;
  return s;
}

Shape ParseShape(const std::string& spec) {
  Shape s;
  const litequant_bench::ConvSpecFields f =
      litequant_bench::ParseConvSpecFields(spec, [](const std::string& why) { Usage(why); });
  const std::string& kind = f.kind;
  const std::string& padding = f.padding;
  const long oc = f.oc, kh = f.kh, kw = f.kw, sh = f.sh, sw = f.sw, dh = f.dh, dw = f.dw;
  const long k = f.k, stride = f.stride, dilation = f.dilation, dm = f.dm, n = f.n, h = f.h,
             w = f.w, c = f.c;
  if (kind == "conv") s.kind = ConvKind::kConv2D;
  else if (kind == "dwconv") s.kind = ConvKind::kDepthwise;
  else Usage("--shape needs kind=conv or kind=dwconv");
  if (h < 0 || w < 0 || c < 0) Usage("--shape needs H, W and C");
  if (s.kind == ConvKind::kConv2D && oc < 0) Usage("--shape kind=conv needs OC");
  if (padding != "SAME" && padding != "VALID") Usage("--shape padding must be SAME or VALID");
  Qs8ConvParams& p = s.p;
  p.batch = static_cast<size_t>(n);
  p.input_height = static_cast<size_t>(h);
  p.input_width = static_cast<size_t>(w);
  p.input_channels = static_cast<size_t>(c);
  p.depth_multiplier = s.kind == ConvKind::kDepthwise ? static_cast<size_t>(dm) : 1;
  p.output_channels = s.kind == ConvKind::kDepthwise ? p.input_channels * p.depth_multiplier
                                                     : static_cast<size_t>(oc);
  p.kernel_height = static_cast<size_t>(kh > 0 ? kh : k);
  p.kernel_width = static_cast<size_t>(kw > 0 ? kw : k);
  p.stride_height = static_cast<size_t>(sh > 0 ? sh : stride);
  p.stride_width = static_cast<size_t>(sw > 0 ? sw : stride);
  p.dilation_height = static_cast<size_t>(dh > 0 ? dh : dilation);
  p.dilation_width = static_cast<size_t>(dw > 0 ? dw : dilation);
  p.padding = padding == "VALID" ? Padding::kValid : Padding::kSame;
  return s;
}

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
    if (arg == "--help" || arg == "-h") {
      Usage("benchmarks int8 CONV_2D and DEPTHWISE_CONV_2D", 0);
    } else if (arg == "--path" && value) {
      path_name = value;
      ++i;
    } else if (arg == "--threads" && value) {
      threads = std::strtoul(value, nullptr, 10);
      if (threads == 0) Usage("--threads needs a positive integer");
      ++i;
    } else if (arg == "--shape" && value) {
      extra.push_back(ParseShape(value));
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
      Usage("unknown argument " + arg);
    }
  }
  if (path_name != nullptr) {
    Path path;
    if (!PathFromName(path_name, &path)) Usage("unknown path name");
    const char* why = nullptr;
    if (!SelectPath(path, &why)) {
      std::fprintf(stderr, "qs8_conv_bench: path %s unavailable: %s\n", path_name, why);
      return 2;
    }
  }

  std::vector<Shape> shapes;
  if (!only_shapes) {
    shapes.push_back(Make(ConvKind::kConv2D, 56, 64, 64, 3));
    shapes.push_back(Make(ConvKind::kConv2D, 56, 128, 128, 1));
    shapes.push_back(Make(ConvKind::kDepthwise, 56, 128, 128, 3));
    shapes.push_back(Make(ConvKind::kDepthwise, 14, 512, 512, 3));
  }
  shapes.insert(shapes.end(), extra.begin(), extra.end());
  ThreadPool* pool = threads > 1 ? SharedThreadPool(threads) : nullptr;

  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(-127, 127);
  for (Shape& s : shapes) {
    Qs8ConvParams& p = s.p;
    const size_t taps = p.kernel_height * p.kernel_width;
    const size_t per_output = s.kind == ConvKind::kConv2D ? taps * p.input_channels : taps;
    p.input_zero_point = -3;
    p.requant.mode = mode;
    for (size_t j = 0; j < p.output_channels; ++j) {
      const float scale =
          1.0f / (64.0f * static_cast<float>(per_output)) * (1.0f + 0.01f * (j % 7));
      p.requant.scale.push_back(scale);
      p.requant.multiplier.push_back(QuantizeMultiplier(scale));
    }
    p.requant.output_zero_point = 5;
    const std::string why = CheckQs8ConvParams(p, s.kind);
    if (!why.empty()) {
      std::fprintf(stderr, "qs8_conv_bench: skipping a shape: %s\n", why.c_str());
      continue;
    }
    std::vector<int8_t> input(Qs8ConvInputSize(p)), weights(Qs8ConvWeightSize(p, s.kind));
    std::vector<int8_t> output(Qs8ConvOutputSize(p));
    std::vector<int32_t> bias(p.output_channels);
    for (auto& x : input) x = static_cast<int8_t>(byte(rng));
    for (auto& x : weights) x = static_cast<int8_t>(byte(rng));
    for (auto& x : bias) x = byte(rng) * 100;
    const auto packed = s.kind == ConvKind::kConv2D
                            ? PackQs8Conv2D(p, weights.data(), bias.data())
                            : PackQs8Depthwise(p, weights.data(), bias.data());
    auto call = [&] {
      if (s.kind == ConvKind::kConv2D) Qs8Conv2D(*packed, input.data(), output.data(), pool);
      else Qs8Depthwise(*packed, input.data(), output.data(), pool);
    };
    call();  // warm-up: caches, worker wake-up
    double t0 = Now();
    call();
    const double one = std::max(Now() - t0, 1e-7);
    const size_t reps = std::max<size_t>(1, static_cast<size_t>(0.03 / one));
    std::vector<double> per_call;
    const double start = Now();
    do {
      t0 = Now();
      for (size_t r = 0; r < reps; ++r) call();
      per_call.push_back((Now() - t0) / static_cast<double>(reps));
    } while (Now() - start < seconds);
    std::sort(per_call.begin(), per_call.end());
    const double t = per_call[per_call.size() / 2];
    const double ops =
        2.0 * static_cast<double>(Qs8ConvOutputSize(p)) * static_cast<double>(per_output);
    std::printf(
        "{\"family\":\"%s\",\"path\":\"%s\",\"shape\":{\"N\":%zu,\"H\":%zu,\"W\":%zu,\"C\":%zu,"
        "\"OC\":%zu,\"KH\":%zu,\"KW\":%zu,\"SH\":%zu,\"SW\":%zu,\"DH\":%zu,\"DW\":%zu,\"DM\":%zu,"
        "\"padding\":\"%s\"},\"threads\":%zu,\"ops\":%.0f,\"seconds\":%.9g,\"gops\":%.4g,"
        "\"kernel\":\"%s\",\"requant\":\"%s\"}\n",
        s.kind == ConvKind::kConv2D ? "qs8_conv" : "qs8_dwconv",
        PathName(Qs8PackedConvPath(*packed)),
        p.batch, p.input_height, p.input_width, p.input_channels, p.output_channels,
        p.kernel_height, p.kernel_width, p.stride_height, p.stride_width, p.dilation_height,
        p.dilation_width, p.depth_multiplier, p.padding == Padding::kSame ? "SAME" : "VALID",
        threads, ops, t, ops / t * 1e-9, Qs8PackedConvKernelName(*packed),
        mode == RequantMode::kFp32 ? "fp32" : "fixed");
    std::fflush(stdout);
  }
  return 0;
}
