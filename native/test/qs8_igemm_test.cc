// The indirect-GEMM CONV_2D (qs8_igemm.h): every built and supported config's kernels equal the
// reference kernels bit for bit, and the driver (zero-point image, merged kernel-row runs,
// runs rounded to pairs, 1x1 sampling, panels and tiles) run with each config equals the
// reference convolution over an edge-case matrix, for any thread count. The reference config
// runs the driver on every machine (also AArch64 under qemu).
#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "check.h"
#include "litequant/qs8_conv.h"
#include "litequant/qs8_gemm_kernels.h"
#include "litequant/qs8_igemm.h"
#include "litequant/thread_pool.h"
#include "qs8_conv_cases.h"

using namespace litequant;
using namespace litequant::test;

namespace {

// The reference config and every optimized one this machine can run.
std::vector<const Qs8IgemmConfig*> TestableConfigs() {
  std::vector<const Qs8IgemmConfig*> configs = {&kQs8IgemmReference};
  for (Path path : TestablePaths()) {
    const Qs8IgemmConfig* c = Qs8IgemmConfigFor(path);
    if (c != nullptr && std::find(configs.begin(), configs.end(), c) == configs.end()) {
      configs.push_back(c);
    }
  }
  return configs;
}

const char* ConfigName(const Qs8IgemmConfig* c) { return c->wide.name; }

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
  std::vector<int8_t> input, weights, want;
  std::vector<int32_t> bias;
};

ConvCase MakeCase(const Qs8ConvParams& p, std::mt19937& rng, bool with_bias) {
  ConvCase c;
  c.params = p;
  c.input = RandomInt8(Qs8ConvInputSize(p), rng);
  c.weights = RandomInt8(Qs8ConvWeightSize(p, ConvKind::kConv2D), rng);
  if (with_bias) c.bias = RandomBias(p.output_channels, rng);
  c.want.assign(Qs8ConvOutputSize(p), 0);
  Qs8Conv2DReference(p, c.input.data(), c.weights.data(), with_bias ? c.bias.data() : nullptr,
                     c.want.data());
  return c;
}

bool RunMatches(const Qs8IgemmConfig* config, const ConvCase& c, ThreadPool* pool) {
  const auto conv = PackQs8Conv2DWithIgemm(config, c.params, c.weights.data(),
                                           c.bias.empty() ? nullptr : c.bias.data());
  std::vector<int8_t> got(c.want.size() + 1, 0x5A);
  Qs8Conv2D(*conv, c.input.data(), got.data(), pool);
  return got.back() == 0x5A && std::memcmp(got.data(), c.want.data(), c.want.size()) == 0;
}

}  // namespace

TEST_CASE("every config's kernels equal the reference kernels") {
  std::mt19937 rng(5);
  const Qs8IgemmConfig& ref = kQs8IgemmReference;
  for (const Qs8IgemmConfig* config : TestableConfigs()) {
    for (int narrow = 0; narrow < 2; ++narrow) {
      const Qs8IgemmKernel& k = narrow ? config->narrow : config->wide;
      const Qs8IgemmKernel& rk = narrow ? ref.narrow : ref.wide;
      CHECK(k.mr == rk.mr && k.nr == rk.nr);
      for (size_t run : {2, 4, 10, 16, 48, 130}) {
        for (size_t runs : {1, 3}) {
          // An image of random int16 values in int8 range, rows at random offsets.
          std::vector<int16_t> image(4096);
          for (auto& v : image) v = static_cast<int16_t>(std::uniform_int_distribution<int>(-128, 127)(rng));
          std::vector<ptrdiff_t> offsets(runs);
          for (size_t t = 0; t < runs; ++t) offsets[t] = static_cast<ptrdiff_t>(t * 517);
          const size_t rows = 2 * k.mr + 3;  // whole tiles and a remainder in one call
          std::vector<const int16_t*> a(rows);
          for (size_t i = 0; i < rows; ++i) a[i] = image.data() + 3 * i + (i % 2);  // odd too
          const size_t values = runs * run * k.nr;
          std::vector<int16_t, std::allocator<int16_t>> w_storage(values + 32);
          auto* w = reinterpret_cast<int16_t*>(
              (reinterpret_cast<uintptr_t>(w_storage.data()) + 63) & ~uintptr_t{63});
          if (w + values > w_storage.data() + w_storage.size()) continue;
          for (size_t i = 0; i < values; ++i) {
            w[i] = static_cast<int16_t>(std::uniform_int_distribution<int>(-128, 127)(rng));
          }
          std::vector<int32_t> init = RandomBias(k.nr, rng);
          for (RequantMode mode : {RequantMode::kFp32, RequantMode::kFixedPoint}) {
            const Qs8Requant rq = RandomRequant(k.nr, true, mode, rng);
            Qs8GemmEpilogue ep;
            ep.mode = mode;
            ep.per_channel = true;
            ep.scale = rq.scale.data();
            ep.multiplier = rq.multiplier.data();
            ep.output_zero_point = static_cast<int32_t>(run % 7) - 3;
            ep.qmin = -100;
            ep.qmax = 120;
            for (size_t m = 1; m <= rows; ++m) {
              for (size_t nc : {size_t{1}, size_t{k.nr} / 2 + 1, size_t{k.nr}}) {
                std::vector<int8_t> want(rows * k.nr, 0x11), got(rows * k.nr, 0x11);
                rk.igemm(m, nc, runs, run, a.data(), offsets.data(), w, init.data(), want.data(),
                         k.nr, ep);
                k.igemm(m, nc, runs, run, a.data(), offsets.data(), w, init.data(), got.data(),
                        k.nr, ep);
                CHECK_MSG(want == got, "%s m=%zu nc=%zu run=%zu runs=%zu %s", k.name, m, nc,
                          run, runs, ModeName(mode));
              }
            }
          }
        }
      }
    }
    // convert: contiguous and strided pixels, any channel count.
    for (size_t channels : {1, 3, 8, 15, 16, 17, 40}) {
      for (size_t stride_mul : {1, 2}) {
        const size_t pixels = 13;
        const auto in = RandomInt8(pixels * channels * stride_mul, rng);
        std::vector<int16_t> want(pixels * channels + 1, 77), got(pixels * channels + 1, 77);
        ref.convert(pixels, channels, in.data(), channels * stride_mul, want.data());
        config->convert(pixels, channels, in.data(), channels * stride_mul, got.data());
        CHECK_MSG(want == got, "%s convert c=%zu stride x%zu", ConfigName(config), channels,
                  stride_mul);
      }
    }
  }
}

TEST_CASE("the driver with every config equals the reference convolution") {
  std::mt19937 rng(2024);
  struct Kernel {
    size_t h, w;
  };
  const Kernel kernels[] = {{1, 1}, {3, 3}, {5, 5}, {1, 7}, {2, 3}};
  const size_t channel_counts[] = {1, 2, 3, 5, 8, 16, 17, 32};
  const size_t output_counts[] = {1, 7, 8, 9, 16, 17, 33};
  const size_t sizes[][2] = {{1, 1}, {2, 3}, {3, 3}, {5, 7}, {7, 5}, {9, 9}, {11, 13}, {13, 2}};
  const int32_t zero_points[] = {-128, 127, 0, -7, 33};
  size_t index = 0, cases = 0;
  for (const Kernel& k : kernels) {
    for (size_t stride : {1, 2, 3}) {
      for (size_t dilation : {1, 2}) {
        for (Padding padding : {Padding::kSame, Padding::kValid}) {
          for (size_t channels : channel_counts) {
            ++index;
            const auto* hw = sizes[index % 8];
            const size_t outputs = output_counts[(index / 3) % 7];
            Qs8ConvParams p =
                Params(hw[0], hw[1], channels, outputs, k.h, k.w, stride, dilation, padding);
            if (padding == Padding::kValid) {
              p.input_height = std::max(p.input_height, (k.h - 1) * dilation + 1 + index % 3);
              p.input_width = std::max(p.input_width, (k.w - 1) * dilation + 1 + index % 2);
            }
            p.batch = index % 5 == 0 ? 3 : 1;
            p.input_zero_point = zero_points[index % 5];
            const RequantMode mode = index % 2 ? RequantMode::kFp32 : RequantMode::kFixedPoint;
            p.requant = RandomRequant(outputs, index % 3 != 0, mode, rng);
            p.requant.output_zero_point = zero_points[(index / 5) % 5];
            if (index % 4 == 1) p.requant.qmin = p.requant.output_zero_point;
            const ConvCase c = MakeCase(p, rng, index % 6 != 0);
            ++cases;
            for (const Qs8IgemmConfig* config : TestableConfigs()) {
              CHECK_MSG(RunMatches(config, c, nullptr),
                        "%s k=%zux%zu s=%zu d=%zu %s in=%zux%zux%zux%zu out=%zu zp=%d %s",
                        ConfigName(config), k.h, k.w, stride, dilation, PaddingName(padding),
                        p.batch, p.input_height, p.input_width, channels, outputs,
                        p.input_zero_point, ModeName(mode));
            }
          }
        }
      }
    }
  }
  std::printf("  %zu configurations x %zu configs\n", cases, TestableConfigs().size());
}

TEST_CASE("edge-model shapes, asymmetric geometry and thread counts") {
  std::mt19937 rng(77);
  ThreadPool two(2), three(3);
  std::vector<Qs8ConvParams> shapes = {
      Params(32, 32, 3, 16, 3, 3, 1, 1, Padding::kSame),   // ResNet-8's first layer
      Params(32, 32, 16, 32, 3, 3, 2, 1, Padding::kSame),  // stride 2, even input
      Params(32, 32, 16, 32, 1, 1, 2, 1, Padding::kSame),  // 1x1 strided shortcut
      Params(96, 96, 3, 8, 3, 3, 2, 1, Padding::kSame),    // VWW's first layer (narrow tile)
      Params(9, 9, 64, 70, 3, 3, 1, 1, Padding::kValid),   // several tiles, last partial
      Params(12, 10, 7, 5, 3, 2, 1, 1, Padding::kSame),
  };
  Qs8ConvParams asym = Params(13, 17, 5, 19, 3, 2, 1, 1, Padding::kSame);
  asym.stride_height = 2;
  asym.dilation_width = 3;  // runs of one tap each
  shapes.push_back(asym);
  Qs8ConvParams tall = Params(17, 6, 3, 12, 5, 1, 1, 1, Padding::kValid);
  tall.stride_width = 2;
  tall.dilation_height = 2;
  shapes.push_back(tall);
  size_t index = 0;
  for (Qs8ConvParams p : shapes) {
    ++index;
    p.batch = index % 2 ? 1 : 2;
    p.input_zero_point = index % 3 == 0 ? 127 : -128;
    p.requant = RandomRequant(p.output_channels, index % 2 == 0,
                              index % 3 ? RequantMode::kFp32 : RequantMode::kFixedPoint, rng);
    ConvCase c = MakeCase(p, rng, true);
    // Weights at -128 everywhere in one column: the int16 products stay exact.
    for (size_t k = 0; k < c.weights.size() / p.output_channels; ++k) c.weights[k] = -128;
    Qs8Conv2DReference(p, c.input.data(), c.weights.data(), c.bias.data(), c.want.data());
    for (const Qs8IgemmConfig* config : TestableConfigs()) {
      for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &two, &three}) {
        CHECK_MSG(RunMatches(config, c, pool), "%s shape %zu threads %zu", ConfigName(config),
                  index, pool == nullptr ? 1 : pool->size());
      }
    }
  }
}

TEST_CASE("CONV_2D takes the indirect GEMM on paths that have it") {
  PathGuard guard;
  std::mt19937 rng(1);
  const Qs8ConvParams p = Params(8, 8, 16, 16, 3, 3, 1, 1, Padding::kSame);
  const auto w = RandomInt8(Qs8ConvWeightSize(p, ConvKind::kConv2D), rng);
  for (Path path : TestablePaths()) {
    const char* why = nullptr;
    SelectPath(path, &why);
    const auto conv = PackQs8Conv2D(p, w.data(), nullptr);
    const Qs8GemmConfig* gemm = Qs8GemmConfigFor(path);
    const Qs8IgemmConfig* igemm = gemm != nullptr ? Qs8IgemmConfigFor(gemm->path) : nullptr;
    const char* name = Qs8PackedConvKernelName(*conv);
    if (igemm != nullptr) {
      CHECK_MSG(std::strcmp(name, igemm->wide.name) == 0, "%s: %s", PathName(path), name);
    } else {
      CHECK_MSG(std::strstr(name, "igemm") == nullptr, "%s: %s", PathName(path), name);
    }
  }
}

TEST_MAIN()
