// DEPTHWISE_CONV_2D: TFLite's output-size and padding rules, the reference loops on
// hand-checked cases, the kernels' requantization epilogue on extreme accumulators, and every
// built and supported path equal to the reference bit for bit over an edge-case matrix, for
// any thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "litequant/qs8_conv.h"
#include "litequant/qs8_dwconv.h"
#include "litequant/thread_pool.h"
#include "qs8_conv_cases.h"

using namespace litequant;
using namespace litequant::test;

namespace {

Qs8ConvParams Params(size_t h, size_t w, size_t c, size_t kh, size_t kw, size_t stride,
                     size_t dilation, Padding padding, size_t multiplier) {
  Qs8ConvParams p;
  p.input_height = h;
  p.input_width = w;
  p.input_channels = c;
  p.depth_multiplier = multiplier;
  p.output_channels = c * multiplier;
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
  c.weights = RandomInt8(Qs8ConvWeightSize(params, ConvKind::kDepthwise), rng);
  if (with_bias) c.bias = RandomBias(params.output_channels, rng);
  c.want.assign(Qs8ConvOutputSize(params), 0);
  Qs8DepthwiseReference(params, c.input.data(), c.weights.data(),
                        with_bias ? c.bias.data() : nullptr, c.want.data());
  return c;
}

// Packs for `path` and runs; the output has a guard byte that must stay untouched.
std::vector<int8_t> RunOn(Path path, const ConvCase& c, ThreadPool* pool) {
  const char* why = nullptr;
  SelectPath(path, &why);
  auto packed =
      PackQs8Depthwise(c.params, c.weights.data(), c.bias.empty() ? nullptr : c.bias.data());
  std::vector<int8_t> got(c.want.size() + 1, 0x5A);
  Qs8Depthwise(*packed, c.input.data(), got.data(), pool);
  return got;
}

bool SameAsWant(const ConvCase& c, const std::vector<int8_t>& got) {
  return got.size() == c.want.size() + 1 && got.back() == 0x5A &&
         std::memcmp(got.data(), c.want.data(), c.want.size()) == 0;
}

}  // namespace

TEST_CASE("output size and padding follow TFLite's ComputePaddingHeightWidth") {
  struct G {
    size_t in, k, stride, dilation;
    Padding padding;
    size_t out, pad;
  };
  const G cases[] = {
      {5, 3, 1, 1, Padding::kSame, 5, 1},  {5, 3, 2, 1, Padding::kSame, 3, 1},
      {6, 3, 2, 1, Padding::kSame, 3, 0},  // total padding 1: the odd pixel goes after
      {7, 3, 1, 2, Padding::kSame, 7, 2},  {1, 5, 1, 1, Padding::kSame, 1, 2},
      {6, 3, 2, 1, Padding::kValid, 2, 0}, {7, 3, 1, 2, Padding::kValid, 3, 0},
      {5, 5, 3, 1, Padding::kValid, 1, 0}, {56, 3, 2, 1, Padding::kSame, 28, 0},
      {4, 1, 3, 1, Padding::kSame, 2, 0},  {4, 1, 3, 1, Padding::kValid, 2, 0},
      {8, 7, 1, 1, Padding::kSame, 8, 3}};
  for (const G& c : cases) {
    Qs8ConvParams p = Params(c.in, c.in, 1, c.k, c.k, c.stride, c.dilation, c.padding, 1);
    const Conv2dGeometry g = ComputeQs8ConvGeometry(p);
    CHECK_MSG(g.out_h == c.out && g.out_w == c.out,
              "in=%zu k=%zu s=%zu d=%zu %s: out %zu want %zu", c.in, c.k, c.stride, c.dilation,
              PaddingName(c.padding), g.out_h, c.out);
    CHECK_MSG(g.pad_top == c.pad && g.pad_left == c.pad, "in=%zu k=%zu s=%zu: pad %zu want %zu",
              c.in, c.k, c.stride, g.pad_top, c.pad);
  }
}

TEST_CASE("parameter checks name the field") {
  Qs8ConvParams p = Params(4, 4, 3, 3, 3, 1, 1, Padding::kValid, 2);
  CHECK(CheckQs8ConvParams(p, ConvKind::kDepthwise).empty());
  p.output_channels = 5;
  CHECK(CheckQs8ConvParams(p, ConvKind::kDepthwise).find("output_channels") != std::string::npos);
  p = Params(2, 4, 3, 3, 3, 1, 1, Padding::kValid, 1);
  CHECK(CheckQs8ConvParams(p, ConvKind::kDepthwise).find("VALID") != std::string::npos);
  p = Params(4, 4, 3, 3, 3, 0, 1, Padding::kSame, 1);
  CHECK(CheckQs8ConvParams(p, ConvKind::kDepthwise).find("stride_height") != std::string::npos);
  p = Params(4, 4, 3, 3, 3, 1, 1, Padding::kSame, 1);
  p.requant.scale = {1.0f, 2.0f};
  CHECK(CheckQs8ConvParams(p, ConvKind::kDepthwise).find("requant.scale") != std::string::npos);
  p.requant.scale = {-1.0f};
  CHECK(CheckQs8ConvParams(p, ConvKind::kDepthwise).find("positive") != std::string::npos);
  p.requant.scale = {1.0f};
  p.requant.mode = RequantMode::kFixedPoint;
  p.requant.multiplier = {QuantizedMultiplier{12345, 0}};
  CHECK(CheckQs8ConvParams(p, ConvKind::kDepthwise).find("2^30") != std::string::npos);
  p.requant.multiplier = {QuantizeMultiplier(0.5)};
  p.requant.qmin = 10;
  p.requant.qmax = 5;
  CHECK(CheckQs8ConvParams(p, ConvKind::kDepthwise).find("qmax") != std::string::npos);
  p.requant.qmax = 20;
  p.input_zero_point = 128;
  CHECK(CheckQs8ConvParams(p, ConvKind::kDepthwise).find("input_zero_point") != std::string::npos);
  bool threw = false;
  try {
    PackQs8Depthwise(p, nullptr, nullptr);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

TEST_CASE("reference skips padded taps and applies the depth multiplier as TFLite") {
  // 1x3x3x1 input 1..9 (zero point 1, so real values 0..8), 3x3 kernel of ones, multiplier 2
  // with the second output channel's weights all 2; scale 1, SAME padding.
  Qs8ConvParams p = Params(3, 3, 1, 3, 3, 1, 1, Padding::kSame, 2);
  p.input_zero_point = 1;
  p.requant.scale = {1.0f};
  const int8_t input[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  int8_t weights[18];
  for (int t = 0; t < 9; ++t) {
    weights[2 * t] = 1;
    weights[2 * t + 1] = 2;
  }
  const int32_t bias[2] = {0, 3};
  int8_t out[18];
  Qs8DepthwiseReference(p, input, weights, bias, out);
  // Sums of (x - 1) over each 3x3 window inside the image.
  const int want[9] = {8, 15, 12, 21, 36, 27, 20, 33, 24};
  for (int i = 0; i < 9; ++i) {
    CHECK_MSG(out[2 * i] == want[i], "pixel %d channel 0: %d want %d", i, out[2 * i], want[i]);
    const int want1 = want[i] * 2 + 3 > 127 ? 127 : want[i] * 2 + 3;
    CHECK_MSG(out[2 * i + 1] == want1, "pixel %d channel 1: %d want %d", i, out[2 * i + 1], want1);
  }
  // Stride 2, VALID: one output, the full window.
  p = Params(3, 3, 1, 3, 3, 2, 1, Padding::kValid, 1);
  p.input_zero_point = 1;
  p.requant.scale = {0.5f};  // 36 * 0.5 = 18
  p.requant.output_zero_point = -3;
  Qs8DepthwiseReference(p, input, weights, nullptr, out);  // channel-0 weights at even indices
  // weights as [1,3,3,1] reads weights[t], alternating 1 and 2: 1,2,1,2,1,2,1,2,1 on x-1=0..8
  const int sum = 0 * 1 + 1 * 2 + 2 * 1 + 3 * 2 + 4 * 1 + 5 * 2 + 6 * 1 + 7 * 2 + 8 * 1;  // 52
  CHECK_MSG(out[0] == sum / 2 - 3, "got %d want %d", out[0], sum / 2 - 3);
}

TEST_CASE("kernel epilogues equal the scalar requantization on extreme accumulators") {
  // Zero weights and one tap: the output is requantize(bias), so the bias carries arbitrary
  // accumulators: int32 extremes, multiples of powers of two +-1 (rounding ties), random.
  std::mt19937 rng(5);
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
  std::uniform_int_distribution<int32_t> mult(1 << 30, INT32_MAX);
  std::uniform_int_distribution<int32_t> shift(-31, 30);
  std::uniform_int_distribution<int32_t> small_shift(-12, 2);
  const size_t channels = 37;  // two full AVX2/NEON groups, one AVX-512 group and tails
  for (Path path : TestablePaths()) {
    const Qs8DwconvKernels& k = Qs8DwconvKernelsFor(path);
    for (int round = 0; round < 400; ++round) {
      const RequantMode mode = round % 2 ? RequantMode::kFixedPoint : RequantMode::kFp32;
      std::vector<int32_t> bias(channels), multiplier(channels), shifts(channels);
      std::vector<float> scale(channels);
      for (size_t c = 0; c < channels; ++c) {
        switch ((round + c) % 4) {
          case 0: bias[c] = any(rng); break;
          case 1: {
            const int e = static_cast<int>(c % 31);
            bias[c] = static_cast<int32_t>((any(rng) >> e) * (int64_t{1} << e) / 2) +
                      (round % 3) - 1;
            break;
          }
          case 2: bias[c] = c % 2 ? INT32_MIN : INT32_MAX; break;
          default: bias[c] = any(rng) >> (c % 24);
        }
        multiplier[c] = c % 11 == 3 ? 0 : (c % 5 == 0 ? (1 << 30) : mult(rng));
        shifts[c] = c % 3 ? small_shift(rng) : shift(rng);
        scale[c] = std::ldexp(static_cast<float>(multiplier[c]) / 2147483648.0f, shifts[c]);
        if (!(scale[c] > 0.0f)) scale[c] = 1e-9f;
      }
      const std::vector<int8_t> weights(channels, 0);
      Qs8DwconvPackInput in;
      in.channels = channels;
      in.taps = 1;
      in.weights = weights.data();
      in.bias = bias.data();
      in.mode = mode;
      in.scale = scale.data();
      in.multiplier = multiplier.data();
      in.shift = shifts.data();
      std::vector<uint8_t> storage(k.packed_size(channels, 1) + 64);
      void* packed = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
      k.pack(in, packed);
      const std::vector<int8_t> x = RandomInt8(channels, rng);
      const int8_t* taps[1] = {x.data()};
      Qs8DwconvOutputParams out;
      out.mode = mode;
      out.output_zero_point = round % 5 == 0 ? -128 : (round % 5 == 1 ? 127 : round % 7 - 3);
      out.qmin = round % 4 == 3 ? out.output_zero_point : -128;
      out.qmax = round % 8 == 5 ? 100 : 127;
      std::vector<int8_t> got(channels + 1, 0x5A);
      k.dwconv(1, channels, 1, taps, 1, packed, got.data(), channels, out);
      for (size_t c = 0; c < channels; ++c) {
        const int32_t want =
            mode == RequantMode::kFp32
                ? RequantizeFp32(bias[c], scale[c], out.output_zero_point, out.qmin, out.qmax)
                : RequantizeFixedPoint(bias[c], QuantizedMultiplier{multiplier[c], shifts[c]},
                                       out.output_zero_point, out.qmin, out.qmax);
        CHECK_MSG(got[c] == want, "%s %s acc=%d m=%d shift=%d scale=%g: got %d want %d",
                  PathName(path), ModeName(mode), bias[c], multiplier[c], shifts[c], scale[c],
                  got[c], want);
      }
      CHECK_MSG(got[channels] == 0x5A, "%s wrote past the last channel", PathName(path));
    }
  }
}

TEST_CASE("kernel epilogues round ties exactly as the scalar rules (dense, unsaturated)") {
  // One tap with weight 1 and 256 pixels whose input runs over -128..127: each channel sees
  // 256 consecutive accumulators around its bias, chosen so the outputs stay unsaturated.
  // Multipliers 2^30 and 3 * 2^29 make the doubling high multiply hit exact halves; scales
  // 2^-k make the fp32 rule hit exact halves.
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> mult(1 << 30, INT32_MAX);
  const size_t channels = 41, pixels = 256;
  std::vector<int8_t> image(pixels * channels);
  for (size_t px = 0; px < pixels; ++px) {
    for (size_t c = 0; c < channels; ++c) image[px * channels + c] = static_cast<int8_t>(px - 128);
  }
  std::vector<const int8_t*> ptrs(pixels);
  for (size_t px = 0; px < pixels; ++px) ptrs[px] = image.data() + px * channels;
  const std::vector<int8_t> weights(channels, 1);
  for (Path path : TestablePaths()) {
    const Qs8DwconvKernels& k = Qs8DwconvKernelsFor(path);
    for (int round = 0; round < 60; ++round) {
      const RequantMode mode = round % 2 ? RequantMode::kFixedPoint : RequantMode::kFp32;
      std::vector<int32_t> bias(channels), multiplier(channels), shifts(channels);
      std::vector<float> scale(channels);
      for (size_t c = 0; c < channels; ++c) {
        multiplier[c] = c % 3 == 0 ? (1 << 30) : (c % 3 == 1 ? 3 << 29 : mult(rng));
        shifts[c] = static_cast<int32_t>((c + static_cast<size_t>(round)) % 17) - 14;  // -14..2
        const double real = multiplier[c] / 2147483648.0 * std::ldexp(1.0, shifts[c]);
        scale[c] = c % 4 == 0 ? std::ldexp(1.0f, -static_cast<int>(c % 9))
                              : static_cast<float>(real);
        const double s = mode == RequantMode::kFp32 ? scale[c] : real;
        std::uniform_int_distribution<int32_t> around(static_cast<int32_t>(-120.0 / s),
                                                      static_cast<int32_t>(120.0 / s));
        bias[c] = around(rng);
      }
      Qs8DwconvPackInput in;
      in.channels = channels;
      in.taps = 1;
      in.weights = weights.data();
      in.bias = bias.data();
      in.mode = mode;
      in.scale = scale.data();
      in.multiplier = multiplier.data();
      in.shift = shifts.data();
      std::vector<uint8_t> storage(k.packed_size(channels, 1) + 64);
      void* packed = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
      k.pack(in, packed);
      Qs8DwconvOutputParams out;
      out.mode = mode;
      out.output_zero_point = round % 3 - 1;
      std::vector<int8_t> got(pixels * channels);
      k.dwconv(pixels, channels, 1, ptrs.data(), 1, packed, got.data(), channels, out);
      for (size_t px = 0; px < pixels; ++px) {
        for (size_t c = 0; c < channels; ++c) {
          const int32_t acc = bias[c] + static_cast<int32_t>(px) - 128;
          const int32_t want =
              mode == RequantMode::kFp32
                  ? RequantizeFp32(acc, scale[c], out.output_zero_point, out.qmin, out.qmax)
                  : RequantizeFixedPoint(acc, QuantizedMultiplier{multiplier[c], shifts[c]},
                                         out.output_zero_point, out.qmin, out.qmax);
          CHECK_MSG(got[px * channels + c] == want, "%s %s acc=%d m=%d shift=%d: got %d want %d",
                    PathName(path), ModeName(mode), acc, multiplier[c], shifts[c],
                    got[px * channels + c], want);
        }
      }
    }
  }
}

TEST_CASE("3x3 and any-tap kernels agree with the reference kernel for long tap lists") {
  std::mt19937 rng(17);
  for (Path path : TestablePaths()) {
    const Qs8DwconvKernels& k = Qs8DwconvKernelsFor(path);
    for (size_t taps : {1, 2, 3, 9, 10, 25, 49, 81}) {
      for (size_t channels : {1, 5, 16, 31, 33, 64, 100}) {
        const size_t pixels = 3;
        const auto weights = RandomInt8(taps * channels, rng);
        const auto bias = RandomBias(channels, rng);
        const auto image = RandomInt8(pixels * taps * channels, rng);
        std::vector<const int8_t*> ptrs(pixels * taps);
        for (size_t i = 0; i < ptrs.size(); ++i) ptrs[i] = image.data() + i * channels;
        std::vector<float> scale(channels, 1.0f / 4096.0f);
        Qs8DwconvPackInput in;
        in.channels = channels;
        in.taps = taps;
        in.weights = weights.data();
        in.bias = bias.data();
        in.scale = scale.data();
        Qs8DwconvOutputParams out;
        const auto run = [&](const Qs8DwconvKernels& kk, Qs8DwconvFn fn) {
          std::vector<uint8_t> storage(kk.packed_size(channels, taps) + 64);
          void* packed =
              storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
          kk.pack(in, packed);
          // Output pixels 2 channels apart from each other: output_stride > channels.
          std::vector<int8_t> y(pixels * (channels + 2), 0x5A);
          fn(pixels, channels, taps, ptrs.data(), taps, packed, y.data(), channels + 2, out);
          return y;
        };
        const auto want = run(kQs8DwconvReference, kQs8DwconvReference.dwconv);
        CHECK_MSG(run(k, k.dwconv) == want, "%s any-tap taps=%zu channels=%zu", PathName(path),
                  taps, channels);
        if (taps == 9) {
          CHECK_MSG(run(k, k.dwconv_3x3) == want, "%s 3x3 channels=%zu", PathName(path),
                    channels);
          // Stride 1's shared columns: pixel p reads columns p..p+2, three rows each.
          const size_t row_pixels = 7, columns = row_pixels + 2;
          std::vector<const int8_t*> cols(columns * 3);
          for (size_t i = 0; i < cols.size(); ++i) cols[i] = image.data() + (i % 8) * channels;
          std::vector<uint8_t> storage_r(kQs8DwconvReference.packed_size(channels, 9) + 64);
          std::vector<uint8_t> storage_k(k.packed_size(channels, 9) + 64);
          const auto align = [](std::vector<uint8_t>& v) {
            return v.data() + (64 - reinterpret_cast<uintptr_t>(v.data()) % 64) % 64;
          };
          kQs8DwconvReference.pack(in, align(storage_r));
          k.pack(in, align(storage_k));
          std::vector<int8_t> y_ref(row_pixels * channels), y(row_pixels * channels, 0x5A);
          kQs8DwconvReference.dwconv(row_pixels, channels, 9, cols.data(), 3, align(storage_r),
                                     y_ref.data(), channels, out);
          k.dwconv_3x3(row_pixels, channels, 9, cols.data(), 3, align(storage_k), y.data(),
                       channels, out);
          CHECK_MSG(y == y_ref, "%s 3x3 shared columns channels=%zu", PathName(path), channels);
        }
      }
    }
  }
}

TEST_CASE("every path equals the reference over the edge-case matrix") {
  PathGuard guard;
  std::mt19937 rng(2024);
  struct Kernel {
    size_t h, w;
  };
  const Kernel kernels[] = {{1, 1}, {3, 3}, {5, 5}, {1, 7}, {2, 2}};
  const size_t channel_counts[] = {1, 3, 8, 17, 64};
  const size_t sizes[][2] = {{1, 1}, {2, 3}, {3, 3}, {5, 7}, {7, 5}, {9, 9}, {11, 13}, {13, 2}};
  const int32_t zero_points[] = {-128, 127, 0, -7, 33};
  const std::vector<Path> paths = TestablePaths();
  size_t cases = 0, index = 0;
  for (const Kernel& k : kernels) {
    for (size_t stride : {1, 2}) {
      for (size_t dilation : {1, 2}) {
        for (Padding padding : {Padding::kSame, Padding::kValid}) {
          for (size_t channels : channel_counts) {
            for (size_t multiplier : {1, 2}) {
              for (RequantMode mode : {RequantMode::kFp32, RequantMode::kFixedPoint}) {
                ++index;
                const auto* hw = sizes[index % 8];
                Qs8ConvParams p = Params(hw[0], hw[1], channels, k.h, k.w, stride, dilation,
                                         padding, multiplier);
                if (padding == Padding::kValid) {  // VALID needs the dilated kernel to fit
                  p.input_height = std::max(p.input_height, (k.h - 1) * dilation + 1 + index % 3);
                  p.input_width = std::max(p.input_width, (k.w - 1) * dilation + 1 + index % 2);
                }
                p.batch = index % 7 == 0 ? 2 : 1;
                p.input_zero_point = zero_points[index % 5];
                p.requant = RandomRequant(p.output_channels, index % 3 != 0, mode, rng);
                p.requant.output_zero_point = zero_points[(index / 5) % 5];
                if (index % 4 == 1) p.requant.qmin = p.requant.output_zero_point;  // RELU
                if (index % 8 == 3) {                                             // RELU6-like
                  p.requant.qmin = std::max(-128, p.requant.output_zero_point - 20);
                  p.requant.qmax = std::min(127, p.requant.output_zero_point + 60);
                }
                const ConvCase c = MakeCase(p, rng, index % 6 != 0);
                ++cases;
                for (Path path : paths) {
                  const auto got = RunOn(path, c, nullptr);
                  CHECK_MSG(SameAsWant(c, got),
                            "%s k=%zux%zu s=%zu d=%zu %s in=%zux%zux%zu m=%zu zp=%d/%d %s %s",
                            PathName(path), k.h, k.w, stride, dilation, PaddingName(padding),
                            p.input_height, p.input_width, channels, multiplier,
                            p.input_zero_point, p.requant.output_zero_point, ModeName(mode),
                            p.requant.scale.size() > 1 || p.requant.multiplier.size() > 1
                                ? "per-channel"
                                : "per-tensor");
                }
              }
            }
          }
        }
      }
    }
  }
  std::printf("  %zu configurations x %zu paths\n", cases, paths.size());
}

TEST_CASE("asymmetric strides and dilations, depth multipliers 3 and 4") {
  PathGuard guard;
  std::mt19937 rng(404);
  size_t index = 0;
  for (size_t sh : {1, 2, 3}) {
    for (size_t sw : {1, 2}) {
      for (size_t dh : {1, 3}) {
        for (size_t dw : {1, 2}) {
          for (size_t multiplier : {3, 4}) {
            ++index;
            Qs8ConvParams p = Params(10 + index % 3, 9 + index % 4, 1 + index % 5, 3, 2, 1, 1,
                                     index % 2 ? Padding::kSame : Padding::kValid, multiplier);
            p.stride_height = sh;
            p.stride_width = sw;
            p.dilation_height = dh;
            p.dilation_width = dw;
            p.input_zero_point = index % 3 == 0 ? -128 : 127;
            p.requant = RandomRequant(p.output_channels, true,
                                      index % 4 < 2 ? RequantMode::kFp32 : RequantMode::kFixedPoint,
                                      rng);
            const ConvCase c = MakeCase(p, rng);
            for (Path path : TestablePaths()) {
              CHECK_MSG(SameAsWant(c, RunOn(path, c, nullptr)), "%s s=%zux%zu d=%zux%zu m=%zu %s",
                        PathName(path), sh, sw, dh, dw, multiplier, PaddingName(p.padding));
            }
          }
        }
      }
    }
  }
}

// Every channel-tail width of the 16- and 32-channel kernels (including layers narrower than
// one group, such as VWW MobileNet's 8-channel first depthwise), on the 3x3 stride-1 sliding
// kernel, the 3x3 strided one and the any-taps one; the guard byte catches writes past the end.
TEST_CASE("every channel count from 1 to 33 (all tail widths)") {
  PathGuard guard;
  std::mt19937 rng(8);
  const std::vector<Path> paths = TestablePaths();
  for (size_t channels = 1; channels <= 33; ++channels) {
    for (size_t variant = 0; variant < 3; ++variant) {
      const size_t k = variant == 2 ? 5 : 3;
      const size_t stride = variant == 1 ? 2 : 1;
      Qs8ConvParams p = Params(6 + channels % 3, 9, channels, k, k, stride, 1, Padding::kSame, 1);
      p.input_zero_point = channels % 2 ? -128 : 127;
      p.requant = RandomRequant(channels, true,
                                channels % 4 < 2 ? RequantMode::kFp32 : RequantMode::kFixedPoint,
                                rng);
      const ConvCase c = MakeCase(p, rng);
      for (Path path : paths) {
        CHECK_MSG(SameAsWant(c, RunOn(path, c, nullptr)), "%s channels=%zu k=%zu stride=%zu",
                  PathName(path), channels, k, stride);
      }
    }
  }
}

TEST_CASE("results are identical for 1, 2 and 3 threads") {
  PathGuard guard;
  std::mt19937 rng(77);
  ThreadPool one(1), two(2), three(3);
  const Qs8ConvParams shapes[] = {Params(23, 19, 40, 3, 3, 1, 1, Padding::kSame, 1),
                                  Params(17, 30, 8, 5, 5, 2, 1, Padding::kSame, 2),
                                  Params(12, 12, 33, 3, 3, 1, 2, Padding::kValid, 1)};
  for (Qs8ConvParams p : shapes) {
    p.batch = 3;
    p.input_zero_point = -3;
    p.requant = RandomRequant(p.output_channels, true, RequantMode::kFp32, rng);
    for (auto& s : p.requant.scale) s = 1e-3f * (1.0f + s);
    const ConvCase c = MakeCase(p, rng);
    for (Path path : TestablePaths()) {
      for (ThreadPool* pool : {&one, &two, &three}) {
        CHECK_MSG(SameAsWant(c, RunOn(path, c, pool)), "%s threads=%zu", PathName(path),
                  pool->size());
      }
    }
  }
}

TEST_CASE("a depthwise handle refuses to run as CONV_2D") {
  Qs8ConvParams p = Params(3, 3, 2, 3, 3, 1, 1, Padding::kSame, 1);
  std::vector<int8_t> w(18, 1), x(18, 0), y(18, 0);
  auto packed = PackQs8Depthwise(p, w.data(), nullptr);
  CHECK(Qs8PackedConvKind(*packed) == ConvKind::kDepthwise);
  bool threw = false;
  try {
    Qs8Conv2D(*packed, x.data(), y.data(), nullptr);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

TEST_MAIN()
