// int16x8 GEMM and CONV_2D: every built and supported path equals the reference bit for bit over
// an edge-case matrix, and the reference follows TFLite's int16x8 rules on hand-checked cases.
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "check.h"
#include "litequant/qs16_conv.h"
#include "litequant/qs16_gemm.h"
#include "litequant/thread_pool.h"

using namespace litequant;

namespace {

// Built and supported paths; the others are reported once.
const std::vector<Path>& TestablePaths() {
  static const std::vector<Path> paths = [] {
    std::vector<Path> found;
    for (uint32_t i = 0; i < kPathCount; ++i) {
      const Path p = static_cast<Path>(i);
      if (PathBuilt(p) && PathSupported(DetectCpu(), p)) found.push_back(p);
      else if (PathBuilt(p)) std::printf("  skip %s: not supported by this CPU\n", PathName(p));
    }
    std::printf("  paths tested:");
    for (Path p : found) std::printf(" %s (%s)", PathName(p), Qs16GemmKernelsFor(p).name);
    std::printf("\n");
    return found;
  }();
  return paths;
}

// Activations: mostly random, with runs of the int16 extremes (saturation and overflow checks).
std::vector<int16_t> Activations(size_t n, std::mt19937& rng, bool extreme) {
  std::uniform_int_distribution<int> u(-32768, 32767);
  std::vector<int16_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    if (extreme) v[i] = (i % 3 == 2) ? 32767 : -32768;
    else v[i] = static_cast<int16_t>(i % 11 == 0 ? (i % 2 ? 32767 : -32768) : u(rng));
  }
  return v;
}

std::vector<int8_t> Weights(size_t n, std::mt19937& rng, bool extreme) {
  std::uniform_int_distribution<int> u(-128, 127);
  std::vector<int8_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    if (extreme) v[i] = (i % 3 == 2) ? 127 : -128;
    else v[i] = static_cast<int8_t>(i % 13 == 0 ? (i % 2 ? 127 : -128) : u(rng));
  }
  return v;
}

// Weight scales spanning orders of magnitude, per channel.
std::vector<float> WeightScales(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> e(-7.0f, -1.0f);
  std::vector<float> s(n);
  for (size_t i = 0; i < n; ++i) s[i] = std::pow(10.0f, e(rng));
  return s;
}

// The truth: TFLite's loop (int64 sum of products, + bias, requantize, clamp).
std::vector<int16_t> GemmTruth(size_t m, size_t n, size_t k, const std::vector<int16_t>& a,
                               const std::vector<int8_t>& w, const int64_t* bias,
                               const Qs16Requant& rq) {
  Qs16RequantParams p;
  p.mode = rq.mode;
  p.multiplier = rq.multiplier.data();
  p.shift = rq.shift.data();
  p.scale = rq.scale.data();
  p.qmin = rq.qmin;
  p.qmax = rq.qmax;
  std::vector<int16_t> c(m * n);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      int64_t acc = 0;
      for (size_t kk = 0; kk < k; ++kk) {
        acc += static_cast<int64_t>(a[i * k + kk]) * static_cast<int64_t>(w[j * k + kk]);
      }
      if (bias != nullptr) acc += bias[j];
      c[i * n + j] = static_cast<int16_t>(Qs16RequantizeOne(acc, p, rq.channels() == 1 ? 0 : j));
    }
  }
  return c;
}

Qs16Requant MakeRequant(Qs16RequantMode mode, float s_in, const std::vector<float>& s_w,
                        float s_out, int32_t qmin = -32768, int32_t qmax = 32767) {
  Qs16Requant rq;
  const char* why = nullptr;
  const bool ok = MakeQs16Requant(mode, Qs16ScaleRule::kDoubleProduct, s_in, s_w.data(),
                                  s_w.size(), s_out, qmin, qmax, &rq, &why);
  CHECK_MSG(ok, "MakeQs16Requant: %s", why ? why : "");
  return rq;
}

// Conv geometry as TFLite computes it (cross-checked with ComputeConv2dGeometry).
Conv2dGeometry Geometry(size_t batch, size_t h, size_t w, size_t c, size_t kh, size_t kw,
                        size_t sh, size_t sw, size_t dh, size_t dw, Padding padding) {
  Conv2dGeometry g;
  g.batch = batch;
  g.in_h = h;
  g.in_w = w;
  g.in_c = c;
  g.k_h = kh;
  g.k_w = kw;
  g.stride_h = sh;
  g.stride_w = sw;
  g.dilation_h = dh;
  g.dilation_w = dw;
  if (!ComputeConv2dGeometry(padding, &g)) g.out_h = g.out_w = 0;
  return g;
}

const Qs16RequantMode kModes[] = {Qs16RequantMode::kFixedPoint, Qs16RequantMode::kDouble};

}  // namespace

TEST_CASE("int64 MultiplyByQuantizedMultiplier rounds as TFLite's 16-bit reduced form") {
  // 0.5 = Q31 2^30, shift 0: reduced multiplier 2^14, total shift 15, round half up.
  QuantizedMultiplier half;
  half.multiplier = 1 << 30;
  half.shift = 0;
  CHECK(MultiplyByQuantizedMultiplier(int64_t{3}, half) == 2);    // 1.5 -> 2
  CHECK(MultiplyByQuantizedMultiplier(int64_t{-3}, half) == -1);  // -1.5 -> -1 (half up)
  CHECK(MultiplyByQuantizedMultiplier(int64_t{-5}, half) == -2);  // -2.5 -> -2
  // The reduction drops the low 16 bits of the multiplier: 0x7FFFFFFF saturates to 0x7FFF.
  QuantizedMultiplier almost_one;
  almost_one.multiplier = 0x7FFFFFFF;
  almost_one.shift = 0;
  CHECK(MultiplyByQuantizedMultiplier(int64_t{1} << 20, almost_one) == (1 << 20) - 32);
  // The double rule rounds half away from zero.
  const double scale = 0.5;
  Qs16RequantParams p;
  p.mode = Qs16RequantMode::kDouble;
  p.scale = &scale;
  CHECK(Qs16RequantizeOne(3, p, 0) == 2);
  CHECK(Qs16RequantizeOne(-3, p, 0) == -2);
  CHECK(Qs16RequantizeOne(int64_t{1} << 40, p, 0) == 32767);
  CHECK(Qs16RequantizeOne(-(int64_t{1} << 40), p, 0) == -32768);
}

TEST_CASE("MakeQs16Requant follows QuantizeMultiplier and rejects what TFLite cannot run") {
  Qs16Requant rq;
  const char* why = nullptr;
  const float s_w[] = {0.5f, 0.25f};
  CHECK(MakeQs16Requant(Qs16RequantMode::kFixedPoint, Qs16ScaleRule::kDoubleProduct, 1.0f, s_w, 2,
                        1.0f, -32768, 32767, &rq, &why));
  CHECK(rq.multiplier.size() == 2 && rq.multiplier[0] == (1 << 30) && rq.shift[0] == 0);
  CHECK(rq.multiplier[1] == (1 << 30) && rq.shift[1] == -1);
  const float big[] = {200.0f};
  CHECK(!MakeQs16Requant(Qs16RequantMode::kFixedPoint, Qs16ScaleRule::kDoubleProduct, 1.0f, big,
                         1, 1.0f, -32768, 32767, &rq, &why));
  const float zero[] = {0.0f};
  CHECK(!MakeQs16Requant(Qs16RequantMode::kDouble, Qs16ScaleRule::kDoubleProduct, 1.0f, zero, 1,
                         1.0f, -32768, 32767, &rq, &why));
  CHECK(!MakeQs16Requant(Qs16RequantMode::kDouble, Qs16ScaleRule::kDoubleProduct, 1.0f, s_w, 1,
                         1.0f, 0, 40000, &rq, &why));
  // kFloatProduct rounds s_in * s_w to float first (TFLite's per-tensor FULLY_CONNECTED).
  const float s_in = 0.1f, w1[] = {0.3f};
  CHECK(MakeQs16Requant(Qs16RequantMode::kDouble, Qs16ScaleRule::kFloatProduct, s_in, w1, 1, 0.7f,
                        -32768, 32767, &rq, &why));
  CHECK(rq.scale[0] == static_cast<double>(s_in * w1[0]) / static_cast<double>(0.7f));
}

TEST_CASE("GEMM: every path equals the int64 reference over sizes, tails and extremes") {
  std::mt19937 rng(16);
  const size_t ms[] = {1, 2, 3, 4, 5, 7, 13, 33};
  const size_t ns[] = {1, 3, 8, 15, 16, 17, 31, 33};
  const size_t ks[] = {1, 2, 3, 5, 7, 16, 31, 64, 255, 256, 257, 511, 513};
  for (Path path : TestablePaths()) {
    for (size_t m : ms) {
      for (size_t n : ns) {
        for (size_t k : ks) {
          const bool extreme = (m + n + k) % 4 == 0;
          const auto a = Activations(m * k, rng, extreme);
          const auto w = Weights(n * k, rng, extreme);
          std::vector<int64_t> bias(n);
          std::uniform_int_distribution<int64_t> ub(-(int64_t{1} << 30), int64_t{1} << 30);
          for (auto& b : bias) b = ub(rng);
          if (n > 2) {
            bias[0] = kQs16MaxAbsBias;
            bias[1] = -kQs16MaxAbsBias;
          }
          const Qs16RequantMode mode = kModes[(m * 7 + n * 3 + k) % 2];
          // Output scales around the typical magnitude of the sums, so outputs span the int16
          // range and saturate at both ends.
          const float s_in = 1.0f / 32768.0f;
          const float s_out = 1.0f / 32768.0f * static_cast<float>(k) * 40.0f;
          std::vector<float> s_w = WeightScales(n, rng);
          for (auto& s : s_w) s = std::min(s * 1e4f, 0.05f);
          const bool per_tensor = (k % 2) == 1;
          if (per_tensor) s_w.resize(1);
          const bool with_bias = (m + k) % 3 != 0;
          const int32_t qmin = (n % 2) ? -32768 : 0;  // a RELU-style clamp on some cases
          const Qs16Requant rq = MakeRequant(mode, s_in, s_w, s_out, qmin, 32767);
          const auto want = GemmTruth(m, n, k, a, w, with_bias ? bias.data() : nullptr, rq);
          const auto packed = PackQs16Gemm(w.data(), n, k, with_bias ? bias.data() : nullptr, path);
          CHECK(packed != nullptr);
          if (!packed) continue;
          // Output with a stride wider than n, guards around it untouched.
          const size_t ldc = n + 3;
          std::vector<int16_t> c(m * ldc + 1, 0x5555);
          Qs16Gemm(*packed, m, a.data(), k, c.data(), ldc, rq, nullptr);
          bool same = c[m * ldc] == 0x5555;
          for (size_t i = 0; i < m && same; ++i) {
            same = std::memcmp(&c[i * ldc], &want[i * n], n * sizeof(int16_t)) == 0;
            for (size_t j = n; j < ldc && same; ++j) same = c[i * ldc + j] == 0x5555;
          }
          CHECK_MSG(same, "%s m=%zu n=%zu k=%zu mode=%d per_tensor=%d bias=%d", PathName(path), m,
                    n, k, static_cast<int>(mode), per_tensor, with_bias);
        }
      }
    }
  }
}

TEST_CASE("GEMM: long K of extreme values needs the int64 widening (no int32 overflow)") {
  std::mt19937 rng(5);
  for (Path path : TestablePaths()) {
    for (size_t k : {size_t{4099}, size_t{20000}}) {
      const size_t m = 5, n = 19;
      // All products +2^22: a sum of 20000 of them is 2^36, far beyond int32.
      std::vector<int16_t> a(m * k, -32768);
      std::vector<int8_t> w(n * k, -128);
      for (size_t j = 0; j < n; j += 3) w[j * k + 1] = 127;  // break the symmetry a little
      for (Qs16RequantMode mode : kModes) {
        const std::vector<float> s_w = {1.0f / 128.0f};
        // The output scale maps the sum to about 20000 (no saturation), checking every bit.
        const float s_out = static_cast<float>(k) / 20000.0f;
        const Qs16Requant rq = MakeRequant(mode, 1.0f / 32768.0f, s_w, s_out);
        const auto want = GemmTruth(m, n, k, a, w, nullptr, rq);
        const auto packed = PackQs16Gemm(w.data(), n, k, nullptr, path);
        std::vector<int16_t> c(m * n);
        Qs16Gemm(*packed, m, a.data(), k, c.data(), n, rq, nullptr);
        CHECK_MSG(c == want, "%s k=%zu mode=%d", PathName(path), k, static_cast<int>(mode));
        CHECK_MSG(want[0] > 15000 && want[0] < 25000, "want[0]=%d", want[0]);
      }
    }
    (void)rng;
  }
}

TEST_CASE("GEMM: exact ties round as the reference (half up / half away) on every path") {
  std::mt19937 rng(3);
  const size_t m = 6, n = 21, k = 9;
  std::vector<int16_t> a(m * k);
  std::uniform_int_distribution<int> small(-40, 40);
  for (auto& v : a) v = static_cast<int16_t>(small(rng));
  const auto w = Weights(n * k, rng, false);
  for (Qs16RequantMode mode : kModes) {
    for (float s_out : {2.0f, 4.0f, 8.0f, 0.5f}) {
      // Power-of-two multipliers: many sums land exactly on .5 after scaling.
      const Qs16Requant rq = MakeRequant(mode, 1.0f, {1.0f}, s_out);
      const auto want = GemmTruth(m, n, k, a, w, nullptr, rq);
      for (Path path : TestablePaths()) {
        const auto packed = PackQs16Gemm(w.data(), n, k, nullptr, path);
        std::vector<int16_t> c(m * n);
        Qs16Gemm(*packed, m, a.data(), k, c.data(), n, rq, nullptr);
        CHECK_MSG(c == want, "%s mode=%d s_out=%g", PathName(path), static_cast<int>(mode), s_out);
      }
    }
  }
}

TEST_CASE("GEMM: results do not depend on the thread count") {
  std::mt19937 rng(77);
  ThreadPool pool(2);
  for (Path path : TestablePaths()) {
    const size_t m = 150, n = 70, k = 300;
    const auto a = Activations(m * k, rng, false);
    const auto w = Weights(n * k, rng, false);
    const Qs16Requant rq = MakeRequant(Qs16RequantMode::kFixedPoint, 1.0f / 32768.0f,
                                       WeightScales(n, rng), 0.01f);
    const auto packed = PackQs16Gemm(w.data(), n, k, nullptr, path);
    std::vector<int16_t> c1(m * n), c2(m * n);
    Qs16Gemm(*packed, m, a.data(), k, c1.data(), n, rq, nullptr);
    Qs16Gemm(*packed, m, a.data(), k, c2.data(), n, rq, &pool);
    CHECK_MSG(c1 == c2, "%s", PathName(path));
    CHECK_MSG(c1 == GemmTruth(m, n, k, a, w, nullptr, rq), "%s", PathName(path));
  }
}

TEST_CASE("CONV_2D: every path equals TFLite's reference loop (stride, dilation, padding)") {
  struct Shape {
    size_t batch, h, w, c, out_c, kh, kw, sh, sw, dh, dw;
  };
  const Shape shapes[] = {
      {1, 5, 5, 1, 1, 3, 3, 1, 1, 1, 1},   {2, 7, 6, 3, 5, 3, 3, 2, 2, 1, 1},
      {1, 8, 9, 8, 16, 3, 2, 1, 2, 2, 1},  {1, 4, 4, 17, 17, 1, 1, 1, 1, 1, 1},
      {2, 6, 5, 2, 8, 7, 7, 1, 1, 1, 1},   {1, 3, 12, 64, 64, 3, 4, 1, 2, 1, 1},
      {1, 10, 3, 5, 33, 2, 3, 3, 1, 2, 3}, {3, 1, 1, 9, 4, 1, 1, 1, 1, 1, 1},
      {1, 9, 9, 4, 7, 5, 5, 2, 3, 1, 1},
  };
  std::mt19937 rng(2);
  for (const Shape& s : shapes) {
    for (Padding padding : {Padding::kSame, Padding::kValid}) {
      const Conv2dGeometry g =
          Geometry(s.batch, s.h, s.w, s.c, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, padding);
      if (g.out_h == 0) continue;  // VALID with a filter larger than the input
      const size_t k = s.kh * s.kw * s.c;
      const auto input = Activations(s.batch * s.h * s.w * s.c, rng, false);
      const auto filter = Weights(s.out_c * k, rng, false);
      std::vector<int64_t> bias(s.out_c);
      std::uniform_int_distribution<int64_t> ub(-(int64_t{1} << 28), int64_t{1} << 28);
      for (auto& b : bias) b = ub(rng);
      for (Qs16RequantMode mode : kModes) {
        const Qs16Requant rq = MakeRequant(mode, 1.0f / 32768.0f, WeightScales(s.out_c, rng),
                                           static_cast<float>(k) * 2e-6f);
        const size_t out_size = s.batch * g.out_h * g.out_w * s.out_c;
        std::vector<int16_t> want(out_size);
        Qs16Conv2dReference(g, s.out_c, input.data(), filter.data(), bias.data(), want.data(), rq);
        for (Path path : TestablePaths()) {
          const auto packed = PackQs16Gemm(filter.data(), s.out_c, k, bias.data(), path);
          std::vector<int16_t> got(out_size + 1, 0x5555);
          Qs16Conv2d(*packed, g, input.data(), got.data(), rq, nullptr);
          CHECK_MSG(std::memcmp(got.data(), want.data(), out_size * sizeof(int16_t)) == 0 &&
                        got[out_size] == 0x5555,
                    "%s %zux%zux%zux%zu k%zux%zu s%zux%zu d%zux%zu pad=%d mode=%d",
                    PathName(path), s.batch, s.h, s.w, s.c, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw,
                    static_cast<int>(padding), static_cast<int>(mode));
        }
      }
    }
  }
}

TEST_CASE("CONV_2D: the reference loop equals the GEMM of explicit patches (padding adds 0)") {
  // A hand-checkable case: 1 channel 3x3 input, 3x3 all-ones filter, SAME: the centre output
  // sums all nine inputs, a corner sums its four in-image neighbours.
  const Conv2dGeometry g = Geometry(1, 3, 3, 1, 3, 3, 1, 1, 1, 1, Padding::kSame);
  CHECK(g.out_h == 3 && g.out_w == 3 && g.pad_top == 1 && g.pad_left == 1);
  const int16_t input[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const int8_t filter[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  Qs16Requant rq = MakeRequant(Qs16RequantMode::kFixedPoint, 1.0f, {1.0f}, 1.0f);
  int16_t out[9];
  Qs16Conv2dReference(g, 1, input, filter, nullptr, out, rq);
  CHECK_MSG(out[4] == 45, "centre %d", out[4]);
  CHECK_MSG(out[0] == 1 + 2 + 4 + 5, "corner %d", out[0]);
  CHECK_MSG(out[8] == 5 + 6 + 8 + 9, "corner %d", out[8]);
}

TEST_CASE("CONV_2D: results do not depend on the thread count") {
  std::mt19937 rng(8);
  ThreadPool pool(2);
  const Conv2dGeometry g = Geometry(2, 20, 17, 6, 3, 3, 1, 1, 1, 1, Padding::kSame);
  const size_t k = 3 * 3 * 6, out_c = 20;
  const auto input = Activations(2 * 20 * 17 * 6, rng, false);
  const auto filter = Weights(out_c * k, rng, false);
  const Qs16Requant rq = MakeRequant(Qs16RequantMode::kFixedPoint, 1.0f / 32768.0f,
                                     WeightScales(out_c, rng), 0.001f);
  for (Path path : TestablePaths()) {
    const auto packed = PackQs16Gemm(filter.data(), out_c, k, nullptr, path);
    const size_t out_size = 2 * g.out_h * g.out_w * out_c;
    std::vector<int16_t> c1(out_size), c2(out_size);
    Qs16Conv2d(*packed, g, input.data(), c1.data(), rq, nullptr);
    Qs16Conv2d(*packed, g, input.data(), c2.data(), rq, &pool);
    CHECK_MSG(c1 == c2, "%s", PathName(path));
  }
}

TEST_CASE("DEPTHWISE_CONV_2D equals CONV_2D run on each input channel alone") {
  // Channel ic of a depthwise conv is a one-channel conv with depth_multiplier outputs: the
  // independent check runs Qs16Conv2dReference on each channel's image and filter slice.
  struct Shape {
    size_t batch, h, w, c, mult, kh, kw, sh, sw, dh, dw;
  };
  const Shape shapes[] = {{1, 5, 5, 3, 1, 3, 3, 1, 1, 1, 1}, {2, 7, 6, 4, 2, 3, 3, 2, 2, 1, 1},
                          {1, 9, 8, 5, 3, 5, 3, 1, 2, 2, 1}, {1, 1, 12, 64, 1, 1, 4, 1, 1, 1, 2}};
  std::mt19937 rng(12);
  ThreadPool pool(2);
  for (const Shape& s : shapes) {
    for (Padding padding : {Padding::kSame, Padding::kValid}) {
      const Conv2dGeometry g =
          Geometry(s.batch, s.h, s.w, s.c, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, padding);
      if (g.out_h == 0) continue;
      const size_t channels = s.c * s.mult;
      const auto input = Activations(s.batch * s.h * s.w * s.c, rng, false);
      const auto filter = Weights(s.kh * s.kw * channels, rng, false);
      std::vector<int64_t> bias(channels);
      for (size_t i = 0; i < channels; ++i) bias[i] = static_cast<int64_t>(i) * 77777 - 100000;
      const Qs16Requant rq = MakeRequant(Qs16RequantMode::kFixedPoint, 1.0f / 32768.0f,
                                         WeightScales(channels, rng), 1e-5f);
      const size_t pixels = s.batch * g.out_h * g.out_w;
      std::vector<int16_t> got(pixels * channels), got2(pixels * channels);
      Qs16DepthwiseConv2d(g, s.mult, input.data(), filter.data(), bias.data(), got.data(), rq,
                          nullptr);
      Qs16DepthwiseConv2d(g, s.mult, input.data(), filter.data(), bias.data(), got2.data(), rq,
                          &pool);
      CHECK(got == got2);
      Conv2dGeometry g1 = g;
      g1.in_c = 1;
      for (size_t ic = 0; ic < s.c; ++ic) {
        std::vector<int16_t> image(s.batch * s.h * s.w);
        for (size_t i = 0; i < image.size(); ++i) image[i] = input[i * s.c + ic];
        std::vector<int8_t> f(s.mult * s.kh * s.kw);  // OHWI with I = 1
        Qs16Requant rq1 = rq;
        rq1.multiplier.clear();
        rq1.shift.clear();
        for (size_t mm = 0; mm < s.mult; ++mm) {
          const size_t oc = ic * s.mult + mm;
          for (size_t t = 0; t < s.kh * s.kw; ++t) {
            f[mm * s.kh * s.kw + t] = filter[t * channels + oc];
          }
          rq1.multiplier.push_back(rq.multiplier[oc]);
          rq1.shift.push_back(rq.shift[oc]);
        }
        std::vector<int16_t> want(pixels * s.mult);
        Qs16Conv2dReference(g1, s.mult, image.data(), f.data(), bias.data() + ic * s.mult,
                            want.data(), rq1);
        bool same = true;
        for (size_t p = 0; p < pixels && same; ++p) {
          for (size_t mm = 0; mm < s.mult; ++mm) {
            same = same && got[p * channels + ic * s.mult + mm] == want[p * s.mult + mm];
          }
        }
        CHECK_MSG(same, "%zux%zux%zux%zu mult %zu k%zux%zu pad=%d channel %zu", s.batch, s.h, s.w,
                  s.c, s.mult, s.kh, s.kw, static_cast<int>(padding), ic);
      }
    }
  }
}

TEST_CASE("Qs16ExpandPerTensor repeats the per-tensor entry: same GEMM, conv and depthwise bits") {
  std::mt19937 rng(31);
  ThreadPool pool(2);
  for (Qs16RequantMode mode : kModes) {
    const Qs16Requant rq = MakeRequant(mode, 1.0f / 32768.0f, {0.003f}, 0.02f, -100, 30000);
    Qs16Requant wide = rq;
    Qs16ExpandPerTensor(&wide, 19);
    CHECK(wide.channels() == 19 && wide.mode == rq.mode && wide.qmin == -100 && wide.qmax == 30000);
    Qs16Requant one = rq;
    Qs16ExpandPerTensor(&one, 1);  // one channel: unchanged
    CHECK(one.channels() == 1);
    Qs16Requant twice = wide;
    Qs16ExpandPerTensor(&twice, 7);  // already per channel: unchanged
    CHECK(twice.channels() == 19);
    for (Path path : TestablePaths()) {
      const size_t m = 9, n = 19, k = 37;
      const auto a = Activations(m * k, rng, false);
      const auto w = Weights(n * k, rng, false);
      const auto packed = PackQs16Gemm(w.data(), n, k, nullptr, path);
      std::vector<int16_t> c1(m * n), c2(m * n);
      Qs16Gemm(*packed, m, a.data(), k, c1.data(), n, rq, nullptr);
      Qs16Gemm(*packed, m, a.data(), k, c2.data(), n, wide, &pool);
      CHECK_MSG(c1 == c2, "GEMM %s mode=%d", PathName(path), static_cast<int>(mode));
      const Conv2dGeometry g = Geometry(2, 5, 6, 3, 3, 2, 2, 1, 1, 1, Padding::kSame);
      const auto input = Activations(2 * 5 * 6 * 3, rng, false);
      const auto filter = Weights(n * 3 * 2 * 3, rng, false);
      const auto conv = PackQs16Gemm(filter.data(), n, 3 * 2 * 3, nullptr, path);
      const size_t out = 2 * g.out_h * g.out_w * n;
      std::vector<int16_t> o1(out), o2(out);
      Qs16Conv2d(*conv, g, input.data(), o1.data(), rq, nullptr);
      Qs16Conv2d(*conv, g, input.data(), o2.data(), wide, nullptr);
      CHECK_MSG(o1 == o2, "CONV_2D %s mode=%d", PathName(path), static_cast<int>(mode));
    }
    const Conv2dGeometry g = Geometry(1, 6, 5, 19, 3, 3, 1, 1, 1, 1, Padding::kValid);
    const auto input = Activations(6 * 5 * 19, rng, false);
    const auto filter = Weights(3 * 3 * 19, rng, false);
    const size_t out = g.out_h * g.out_w * 19;
    std::vector<int16_t> d1(out), d2(out);
    Qs16DepthwiseConv2d(g, 1, input.data(), filter.data(), nullptr, d1.data(), rq, nullptr);
    Qs16DepthwiseConv2d(g, 1, input.data(), filter.data(), nullptr, d2.data(), wide, nullptr);
    CHECK_MSG(d1 == d2, "DEPTHWISE_CONV_2D mode=%d", static_cast<int>(mode));
  }
}

TEST_CASE("Qs16PackedKernelName names the kernels of the path packed for") {
  const int8_t w[4] = {1, 2, 3, 4};
  for (Path path : TestablePaths()) {
    const auto packed = PackQs16Gemm(w, 2, 2, nullptr, path);
    // A path without its own kernels (neondot) packs for the one it falls back to.
    CHECK(std::strcmp(Qs16PackedKernelName(*packed), Qs16GemmKernelsFor(path).name) == 0);
    CHECK(std::strcmp(Qs16PackedKernelName(*packed),
                      Qs16GemmKernelsFor(Qs16PackedPath(*packed)).name) == 0);
  }
}

TEST_CASE("PackQs16Gemm rejects K and bias outside the exactness bounds") {
  const int8_t w[4] = {1, 2, 3, 4};
  const int64_t big[2] = {kQs16MaxAbsBias + 1, 0};
  CHECK(PackQs16Gemm(w, 2, 2, big) == nullptr);
  const int64_t ok[2] = {kQs16MaxAbsBias, -kQs16MaxAbsBias};
  CHECK(PackQs16Gemm(w, 2, 2, ok) != nullptr);
}

TEST_MAIN()
