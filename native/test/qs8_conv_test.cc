// CONV_2D: the reference loops on hand-checked cases, and the fast paths (im2col + qs8 GEMM,
// 1x1 straight to the GEMM) on every built and supported path equal to the reference bit for
// bit over an edge-case matrix, for any thread count.
#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "litequant/qs8_conv.h"
#include "litequant/thread_pool.h"
#include "qs8_conv_cases.h"

using namespace litequant;
using namespace litequant::test;

namespace {

Qs8ConvParams Params(size_t h, size_t w, size_t c, size_t o, size_t kh, size_t kw, size_t stride,
                     size_t dilation, Padding padding) {
  Qs8ConvParams p;
  p.input_height = h;
  p.input_width = w;
  p.input_channels = c;
  p.output_channels = o;
  p.kernel_height = kh;
  p.kernel_width = kw;
  p.stride_height = p.stride_width = stride;
  p.dilation_height = p.dilation_width = dilation;
  p.padding = padding;
  p.requant.scale = {1.0f};
  return p;
}

struct ConvCase {
  Qs8ConvParams params;
  std::vector<int8_t> input, weights;
  std::vector<int32_t> bias;
  std::vector<int8_t> want;
};

ConvCase MakeCase(const Qs8ConvParams& params, std::mt19937& rng, bool with_bias = true) {
  ConvCase c;
  c.params = params;
  c.input = RandomInt8(Qs8ConvInputSize(params), rng);
  c.weights = RandomInt8(Qs8ConvWeightSize(params, ConvKind::kConv2D), rng);
  if (with_bias) c.bias = RandomBias(params.output_channels, rng);
  c.want.assign(Qs8ConvOutputSize(params), 0);
  Qs8Conv2DReference(params, c.input.data(), c.weights.data(), with_bias ? c.bias.data() : nullptr,
                     c.want.data());
  return c;
}

std::vector<int8_t> RunOn(Path path, const ConvCase& c, ThreadPool* pool) {
  const char* why = nullptr;
  SelectPath(path, &why);
  auto packed = PackQs8Conv2D(c.params, c.weights.data(), c.bias.empty() ? nullptr : c.bias.data());
  std::vector<int8_t> got(c.want.size() + 1, 0x5A);
  Qs8Conv2D(*packed, c.input.data(), got.data(), pool);
  return got;
}

bool SameAsWant(const ConvCase& c, const std::vector<int8_t>& got) {
  return got.size() == c.want.size() + 1 && got.back() == 0x5A &&
         std::memcmp(got.data(), c.want.data(), c.want.size()) == 0;
}

}  // namespace

TEST_CASE("reference skips padded taps, as TFLite") {
  // 1x3x3x2 input, zero point -1 (real value of pixel i, channel j: i + 1 + j); 2x2 kernel,
  // SAME (total padding 1: none before, one after), one output channel with weights 1 on
  // channel 0 and -1 on channel 1, so each tap contributes -1: outputs count inside taps.
  Qs8ConvParams p = Params(3, 3, 2, 1, 2, 2, 1, 1, Padding::kSame);
  p.input_zero_point = -1;
  p.requant.scale = {1.0f};
  int8_t input[18];
  for (int i = 0; i < 9; ++i) {
    input[2 * i] = static_cast<int8_t>(i);
    input[2 * i + 1] = static_cast<int8_t>(i + 1);
  }
  const int8_t weights[8] = {1, -1, 1, -1, 1, -1, 1, -1};
  int8_t out[9];
  Qs8Conv2DReference(p, input, weights, nullptr, out);
  const int want[9] = {-4, -4, -2, -4, -4, -2, -2, -2, -1};
  for (int i = 0; i < 9; ++i) {
    CHECK_MSG(out[i] == want[i], "pixel %d: %d want %d", i, out[i], want[i]);
  }
  // With bias 10 and output zero point 5, fixed-point multiplier 0.5: (-4 + 10) / 2 + 5 = 8.
  p.requant.mode = RequantMode::kFixedPoint;
  p.requant.multiplier = {QuantizeMultiplier(0.5)};
  p.requant.output_zero_point = 5;
  const int32_t bias[1] = {10};
  Qs8Conv2DReference(p, input, weights, bias, out);
  CHECK_MSG(out[0] == 8, "got %d", out[0]);
  CHECK_MSG(out[8] == 10, "got %d", out[8]);  // (-1 + 10) / 2 = 4.5 -> 5 (away from zero), + 5
}

TEST_CASE("every path equals the reference over the edge-case matrix") {
  PathGuard guard;
  std::mt19937 rng(31337);
  struct Kernel {
    size_t h, w;
  };
  const Kernel kernels[] = {{1, 1}, {3, 3}, {5, 5}, {1, 7}, {2, 3}};
  const size_t channel_counts[] = {1, 3, 8, 17, 64};
  const size_t output_counts[] = {1, 5, 16, 19, 33};
  const size_t sizes[][2] = {{1, 1}, {2, 3}, {3, 3}, {5, 7}, {7, 5}, {9, 9}, {11, 13}, {13, 2}};
  const int32_t zero_points[] = {-128, 127, 0, -7, 33};
  const std::vector<Path> paths = TestablePaths();
  size_t cases = 0, index = 0;
  for (const Kernel& k : kernels) {
    for (size_t stride : {1, 2}) {
      for (size_t dilation : {1, 2}) {
        for (Padding padding : {Padding::kSame, Padding::kValid}) {
          for (size_t channels : channel_counts) {
            for (RequantMode mode : {RequantMode::kFp32, RequantMode::kFixedPoint}) {
              ++index;
              const auto* hw = sizes[index % 8];
              const size_t outputs = output_counts[(index / 2) % 5];
              Qs8ConvParams p =
                  Params(hw[0], hw[1], channels, outputs, k.h, k.w, stride, dilation, padding);
              if (padding == Padding::kValid) {
                p.input_height = std::max(p.input_height, (k.h - 1) * dilation + 1 + index % 3);
                p.input_width = std::max(p.input_width, (k.w - 1) * dilation + 1 + index % 2);
              }
              p.batch = index % 7 == 0 ? 2 : 1;
              p.input_zero_point = zero_points[index % 5];
              p.requant = RandomRequant(outputs, index % 3 != 0, mode, rng);
              p.requant.output_zero_point = zero_points[(index / 5) % 5];
              if (index % 4 == 1) p.requant.qmin = p.requant.output_zero_point;
              if (index % 8 == 3) {
                p.requant.qmin = std::max(-128, p.requant.output_zero_point - 20);
                p.requant.qmax = std::min(127, p.requant.output_zero_point + 60);
              }
              const ConvCase c = MakeCase(p, rng, index % 6 != 0);
              ++cases;
              for (Path path : paths) {
                CHECK_MSG(SameAsWant(c, RunOn(path, c, nullptr)),
                          "%s k=%zux%zu s=%zu d=%zu %s in=%zux%zux%zu out=%zu zp=%d/%d %s",
                          PathName(path), k.h, k.w, stride, dilation, PaddingName(padding),
                          p.input_height, p.input_width, channels, outputs, p.input_zero_point,
                          p.requant.output_zero_point, ModeName(mode));
              }
            }
          }
        }
      }
    }
  }
  std::printf("  %zu configurations x %zu paths\n", cases, paths.size());
}

TEST_CASE("larger shapes (several im2col tiles, K not a multiple of any tile)") {
  PathGuard guard;
  std::mt19937 rng(8);
  const Qs8ConvParams shapes[] = {
      Params(20, 21, 37, 45, 3, 3, 1, 1, Padding::kSame),   // K = 333, 420 pixels
      Params(16, 16, 64, 64, 3, 3, 2, 1, Padding::kSame),   // stride 2, even input
      Params(15, 17, 29, 70, 1, 1, 1, 1, Padding::kValid),  // 1x1 straight to the GEMM
      Params(15, 17, 29, 70, 1, 1, 2, 1, Padding::kSame),   // 1x1 strided: row by row
      Params(30, 9, 3, 16, 7, 7, 2, 1, Padding::kSame),     // a first layer (C = 3)
  };
  for (Qs8ConvParams p : shapes) {
    p.input_zero_point = 12;
    p.requant = RandomRequant(p.output_channels, true, RequantMode::kFp32, rng);
    for (auto& s : p.requant.scale) s = 2e-4f * (1.0f + s);
    const ConvCase c = MakeCase(p, rng);
    for (Path path : TestablePaths()) {
      CHECK_MSG(SameAsWant(c, RunOn(path, c, nullptr)), "%s %zux%zux%zu -> %zu k=%zu s=%zu",
                PathName(path), p.input_height, p.input_width, p.input_channels,
                p.output_channels, p.kernel_height, p.stride_height);
    }
  }
}

TEST_CASE("asymmetric strides, dilations and kernels") {
  PathGuard guard;
  std::mt19937 rng(405);
  size_t index = 0;
  for (size_t sh : {1, 3}) {
    for (size_t sw : {1, 2}) {
      for (size_t dh : {1, 2}) {
        for (size_t dw : {1, 3}) {
          ++index;
          Qs8ConvParams p = Params(11 + index % 3, 10 + index % 4, 1 + index % 6, 3 + index % 4,
                                   index % 2 ? 1 : 3, 2, sh, 1,
                                   index % 3 ? Padding::kSame : Padding::kValid);
          p.stride_width = sw;
          p.dilation_height = dh;
          p.dilation_width = dw;
          p.input_zero_point = index % 2 ? -128 : 127;
          p.requant = RandomRequant(p.output_channels, true,
                                    index % 4 < 2 ? RequantMode::kFp32 : RequantMode::kFixedPoint,
                                    rng);
          const ConvCase c = MakeCase(p, rng);
          for (Path path : TestablePaths()) {
            CHECK_MSG(SameAsWant(c, RunOn(path, c, nullptr)), "%s s=%zux%zu d=%zux%zu k=%zux%zu",
                      PathName(path), sh, sw, dh, dw, p.kernel_height, p.kernel_width);
          }
        }
      }
    }
  }
}

TEST_CASE("results are identical for 1, 2 and 3 threads") {
  PathGuard guard;
  std::mt19937 rng(99);
  ThreadPool one(1), two(2), three(3);
  const Qs8ConvParams shapes[] = {Params(19, 23, 16, 24, 3, 3, 1, 1, Padding::kSame),
                                  Params(14, 14, 24, 40, 1, 1, 1, 1, Padding::kValid),
                                  Params(14, 15, 24, 40, 1, 1, 2, 1, Padding::kValid),
                                  Params(12, 12, 5, 9, 5, 5, 2, 2, Padding::kSame)};
  for (Qs8ConvParams p : shapes) {
    p.batch = 2;
    p.input_zero_point = -100;
    p.requant = RandomRequant(p.output_channels, true, RequantMode::kFixedPoint, rng);
    const ConvCase c = MakeCase(p, rng);
    for (Path path : TestablePaths()) {
      for (ThreadPool* pool : {&one, &two, &three}) {
        CHECK_MSG(SameAsWant(c, RunOn(path, c, pool)), "%s threads=%zu k=%zu", PathName(path),
                  pool->size(), p.kernel_height);
      }
    }
  }
}

TEST_CASE("CONV_2D parameter checks and kinds") {
  Qs8ConvParams p = Params(4, 4, 3, 8, 3, 3, 1, 1, Padding::kSame);
  CHECK(CheckQs8ConvParams(p, ConvKind::kConv2D).empty());
  p.depth_multiplier = 2;
  CHECK(CheckQs8ConvParams(p, ConvKind::kConv2D).find("depth_multiplier") != std::string::npos);
  p.depth_multiplier = 1;
  p.output_channels = 0;
  CHECK(CheckQs8ConvParams(p, ConvKind::kConv2D).find("output_channels") != std::string::npos);
  p.output_channels = 8;
  p.requant.scale = std::vector<float>(7, 1.0f);
  CHECK(CheckQs8ConvParams(p, ConvKind::kConv2D).find("1 or 8") != std::string::npos);
  p.requant.scale = {1.0f};
  p.input_height = size_t{1} << 20;
  p.input_width = size_t{1} << 20;
  CHECK(CheckQs8ConvParams(p, ConvKind::kConv2D).find("2^31") != std::string::npos);
  p.input_height = p.input_width = 4;
  std::vector<int8_t> w(8 * 27, 1), x(48, 0), y(128, 0);
  auto packed = PackQs8Conv2D(p, w.data(), nullptr);
  CHECK(Qs8PackedConvKind(*packed) == ConvKind::kConv2D);
  bool threw = false;
  try {
    Qs8Depthwise(*packed, x.data(), y.data(), nullptr);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

TEST_MAIN()
