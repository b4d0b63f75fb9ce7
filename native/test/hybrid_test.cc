// Hybrid (dynamic-range) kernels and layers: the reference row quantization equals a literal
// transcription of TFLite's portable tensor_utils; every built and supported path equals the
// reference bit for bit (row quantization, epilogues, whole FULLY_CONNECTED / BATCH_MATMUL /
// CONV_2D layers); and outputs stay within the documented float tolerance of unquantized math.
//
// Float tolerance against unquantized float math (the tolerance a user sees): per output,
//   |y - y_float| <= (s_row / 2) * sum_k |W[n][k] * s_w[n]|  +  4 * 2^-24 * (|y_float| + |bias|)
// where s_row is the row's input scale (asymmetric: (max - min) / 255; symmetric: max|x| / 127):
// the only approximation is rounding each input to the grid (at most half a step), the
// weights being exact in both. The second term covers the float rounding of the epilogue and
// of the float reference's sum (scaled by the magnitudes involved).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "litequant/f32_conv.h"
#include "litequant/hybrid.h"
#include "litequant/qs8_gemm.h"
#include "litequant/thread_pool.h"

using namespace litequant;

namespace {

const std::vector<Path>& TestablePaths() {
  static const std::vector<Path> paths = [] {
    std::vector<Path> found;
    for (uint32_t i = 0; i < kPathCount; ++i) {
      const Path p = static_cast<Path>(i);
      if (PathBuilt(p) && PathSupported(DetectCpu(), p)) found.push_back(p);
      else if (PathBuilt(p)) std::printf("  skip %s: not supported by this CPU\n", PathName(p));
    }
    std::printf("  paths tested:");
    for (Path p : found) std::printf(" %s (%s)", PathName(p), HybridKernelsFor(p).name);
    std::printf("\n");
    return found;
  }();
  return paths;
}

// Equal bit patterns, or both NaN.
bool SameFloats(const float* a, const float* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return false;
  }
  return true;
}

// ---- A literal transcription of TFLite's portable_tensor_utils.cc (finite inputs) ----------

void TfliteAsymmetricQuantizeFloats(const float* values, int size, int8_t* quantized_values,
                                    float* scaling_factor, int32_t* offset) {
  const int32_t kMinScale = -128;
  const int32_t kMaxScale = 127;
  const double qmin_double = kMinScale;
  const double qmax_double = kMaxScale;
  const auto minmax = std::minmax_element(values, values + size);
  const double rmin = static_cast<double>(std::min(0.0f, *minmax.first));
  const double rmax = static_cast<double>(std::max(0.0f, *minmax.second));
  if (rmin == rmax) {
    std::memset(quantized_values, 0, size * sizeof(int8_t));
    *scaling_factor = 1;
    *offset = 0;
    return;
  }
  double scale = (rmax - rmin) / (qmax_double - qmin_double);
  const double zero_point_from_min = qmin_double - rmin / scale;
  const double zero_point_from_max = qmax_double - rmax / scale;
  const double zero_point_from_min_error = std::abs(qmin_double) + std::abs(rmin / scale);
  const double zero_point_from_max_error = std::abs(qmax_double) + std::abs(rmax / scale);
  const double zero_point_double = zero_point_from_min_error < zero_point_from_max_error
                                       ? zero_point_from_min
                                       : zero_point_from_max;
  int8_t nudged_zero_point = 0;
  if (zero_point_double <= qmin_double) {
    nudged_zero_point = kMinScale;
  } else if (zero_point_double >= qmax_double) {
    nudged_zero_point = kMaxScale;
  } else {
    nudged_zero_point = static_cast<int8_t>(std::round(zero_point_double));
  }
  *scaling_factor = scale;
  *offset = nudged_zero_point;
  const float scaling_factor_inv = 1.0f / *scaling_factor;
  for (int i = 0; i < size; ++i) {
    const int32_t quantized_value =
        static_cast<int32_t>(std::round(*offset + values[i] * scaling_factor_inv));
    quantized_values[i] = std::min(kMaxScale, std::max(kMinScale, quantized_value));
  }
}

void TfliteSymmetricQuantizeFloats(const float* values, int size, int8_t* quantized_values,
                                   float* scaling_factor) {
  const auto minmax = std::minmax_element(values, values + size);
  const float min_value = *minmax.first;
  const float max_value = *minmax.second;
  const int32_t kScale = 127;
  const float range = std::max(std::abs(min_value), std::abs(max_value));
  if (range == 0) {
    std::memset(quantized_values, 0, size * sizeof(int8_t));
    *scaling_factor = 1;
    return;
  }
  *scaling_factor = range / kScale;
  const float scaling_factor_inv = kScale / range;
  for (int i = 0; i < size; ++i) {
    const int32_t quantized_value =
        static_cast<int32_t>(std::round(values[i] * scaling_factor_inv));
    quantized_values[i] =
        static_cast<int8_t>(std::min(kScale, std::max(-kScale, quantized_value)));
  }
}

// Finite rows of several kinds: mixed signs, one-signed, constant, zero, tiny, huge, and rows
// built so that many values land exactly on .5 steps.
std::vector<float> FiniteRow(size_t n, int kind, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) {
    switch (kind % 8) {
      case 0: x[i] = u(rng) * 3.0f; break;
      case 1: x[i] = std::abs(u(rng)) * 50.0f + 0.1f; break;    // all positive
      case 2: x[i] = -std::abs(u(rng)) * 1e-3f - 1e-5f; break;  // all negative
      case 3: x[i] = 0.75f; break;                              // constant
      case 4: x[i] = 0.0f; break;                               // zero row
      case 5: x[i] = u(rng) * 1e-30f; break;                    // tiny
      case 6: x[i] = u(rng) * 1e30f; break;                     // huge
      default: x[i] = (std::floor(u(rng) * 127.0f) + 0.5f) / 127.0f; break;  // ties
    }
  }
  if (kind % 8 == 7 && n > 0) x[0] = 1.0f;  // range exactly 1: x * 127 hits the .5 steps
  return x;
}

// Rows with NaN, infinities, signed zeros and denormals mixed in (kernels vs reference only).
std::vector<float> SpecialRow(size_t n, int kind, std::mt19937& rng) {
  std::vector<float> x = FiniteRow(n, kind, rng);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), -0.0f, 0.0f,
                            std::numeric_limits<float>::denorm_min(),
                            -std::numeric_limits<float>::denorm_min()};
  for (size_t i = 0; i < n; i += 7) x[i] = specials[(i / 7 + kind) % 5];
  if (kind % 5 == 4 && n > 3) x[3] = std::numeric_limits<float>::infinity();
  if (kind % 6 == 5) {
    for (auto& v : x) v = std::numeric_limits<float>::quiet_NaN();  // no value at all
  }
  return x;
}

const size_t kRowSizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000, 1031};

std::vector<int8_t> Weights(size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> u(-127, 127);
  std::vector<int8_t> w(n);
  for (size_t i = 0; i < n; ++i) {
    w[i] = static_cast<int8_t>(i % 29 == 0 ? (i % 2 ? 127 : -127) : u(rng));
  }
  return w;
}

std::vector<float> Scales(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> e(-6.0f, 0.0f);
  std::vector<float> s(n);
  for (auto& v : s) v = std::pow(10.0f, e(rng));  // six orders of magnitude
  return s;
}

}  // namespace

TEST_CASE("reference row quantization equals TFLite's portable {Asym,Sym}metricQuantizeFloats") {
  std::mt19937 rng(1);
  for (size_t n : kRowSizes) {
    for (int kind = 0; kind < 8; ++kind) {
      const auto x = FiniteRow(n, kind, rng);
      std::vector<int8_t> want(n), got(n);
      float want_scale = 0, got_scale = 0;
      int32_t want_offset = 0, got_offset = 0;
      TfliteAsymmetricQuantizeFloats(x.data(), static_cast<int>(n), want.data(), &want_scale,
                                     &want_offset);
      kHybridReference.quantize_row_asymmetric(n, x.data(), got.data(), &got_scale, &got_offset);
      CHECK_MSG(want == got && want_scale == got_scale && want_offset == got_offset,
                "asymmetric n=%zu kind=%d scale %g/%g offset %d/%d", n, kind, want_scale,
                got_scale, want_offset, got_offset);
      TfliteSymmetricQuantizeFloats(x.data(), static_cast<int>(n), want.data(), &want_scale);
      kHybridReference.quantize_row_symmetric(n, x.data(), got.data(), &got_scale);
      CHECK_MSG(want == got && want_scale == got_scale, "symmetric n=%zu kind=%d", n, kind);
    }
  }
}

TEST_CASE("row quantization on hand-checked rows") {
  // [0, 1, 2, 3]: rmin 0, rmax 3, scale 3/255, zero point from the min end: -128.
  const float x[] = {0.0f, 1.0f, 2.0f, 3.0f};
  int8_t q[4];
  float scale;
  int32_t offset;
  kHybridReference.quantize_row_asymmetric(4, x, q, &scale, &offset);
  CHECK(offset == -128);
  CHECK(scale == static_cast<float>(3.0 / 255.0));
  CHECK(q[0] == -128 && q[1] == -43 && q[2] == 42 && q[3] == 127);
  // [-2, 1] symmetric: range 2, x * 63.5: 1 -> 63.5 -> 64 (half away from zero).
  const float y[] = {-2.0f, 1.0f};
  kHybridReference.quantize_row_symmetric(2, y, q, &scale);
  CHECK(q[0] == -127 && q[1] == 64);
  CHECK(scale == 2.0f / 127.0f);
}

TEST_CASE("row quantization: every path equals the reference (NaN, inf, zeros, tails)") {
  std::mt19937 rng(2);
  for (Path path : TestablePaths()) {
    const HybridKernels& k = HybridKernelsFor(path);
    for (size_t n : kRowSizes) {
      for (int kind = 0; kind < 16; ++kind) {
        const auto x = kind < 8 ? FiniteRow(n, kind, rng) : SpecialRow(n, kind, rng);
        std::vector<int8_t> want(n + 1, 0x55), got(n + 1, 0x55);
        float ws = 0, gs = 0;
        int32_t wo = 0, go = 0;
        kHybridReference.quantize_row_asymmetric(n, x.data(), want.data(), &ws, &wo);
        k.quantize_row_asymmetric(n, x.data(), got.data(), &gs, &go);
        CHECK_MSG(want == got && SameFloats(&ws, &gs, 1) && wo == go,
                  "%s asymmetric n=%zu kind=%d", PathName(path), n, kind);
        kHybridReference.quantize_row_symmetric(n, x.data(), want.data(), &ws);
        k.quantize_row_symmetric(n, x.data(), got.data(), &gs);
        CHECK_MSG(want == got && SameFloats(&ws, &gs, 1), "%s symmetric n=%zu kind=%d",
                  PathName(path), n, kind);
      }
    }
  }
}

TEST_CASE("epilogues: every path equals the reference bit for bit") {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> acc_d(-(1 << 30), 1 << 30);
  std::uniform_int_distribution<int32_t> cs_d(-200000, 200000);
  std::uniform_int_distribution<int32_t> off_d(-128, 127);
  for (Path path : TestablePaths()) {
    const HybridKernels& k = HybridKernelsFor(path);
    for (size_t n : kRowSizes) {
      std::vector<int32_t> acc(n), cs(n);
      for (size_t j = 0; j < n; ++j) {
        acc[j] = j % 13 == 0 ? (j % 2 ? INT32_MAX : INT32_MIN) : acc_d(rng);
        cs[j] = cs_d(rng);
      }
      const auto ch = Scales(n, rng);
      std::vector<float> bias(n);
      for (auto& b : bias) b = std::uniform_real_distribution<float>(-5, 5)(rng);
      if (n > 2) acc[1] = cs[1] = 0;  // with an infinite scale: 0 * inf = NaN
      for (int variant = 0; variant < 10; ++variant) {
        const int32_t offset = variant % 2 ? off_d(rng) : 0;
        // Variants 8 and 9: an infinite row scale (infinite inputs) gives inf and NaN outputs,
        // which must pass through the clamp.
        const float row_scale = variant >= 8 ? std::numeric_limits<float>::infinity()
                                             : std::pow(10.0f, -1.0f * static_cast<float>(variant));
        const float* channel = variant & 2 ? ch.data() : nullptr;
        const float* b = variant & 4 ? bias.data() : nullptr;
        const float lo = variant & 1 ? 0.0f : -std::numeric_limits<float>::infinity();
        const float hi = variant & 4 ? 6.0f : std::numeric_limits<float>::infinity();
        std::vector<float> want(n + 1, 7.0f), got(n + 1, 7.0f);
        kHybridReference.fc_epilogue(n, acc.data(), cs.data(), offset, row_scale, channel, b, lo,
                                     hi, want.data());
        k.fc_epilogue(n, acc.data(), cs.data(), offset, row_scale, channel, b, lo, hi, got.data());
        CHECK_MSG(SameFloats(want.data(), got.data(), n + 1), "%s fc n=%zu variant=%d",
                  PathName(path), n, variant);
        kHybridReference.bmm_epilogue(n, acc.data(), cs.data(), offset, row_scale, channel,
                                      want.data());
        k.bmm_epilogue(n, acc.data(), cs.data(), offset, row_scale, channel, got.data());
        CHECK_MSG(SameFloats(want.data(), got.data(), n + 1), "%s bmm n=%zu variant=%d",
                  PathName(path), n, variant);
      }
    }
  }
}

TEST_CASE("FULLY_CONNECTED and BATCH_MATMUL: every path equals the scalar reference") {
  std::mt19937 rng(4);
  const size_t ms[] = {1, 2, 3, 5, 8, 17, 33};
  const size_t ns[] = {1, 3, 8, 15, 16, 17, 33, 64};
  const size_t ks[] = {1, 2, 3, 4, 7, 8, 15, 16, 31, 33, 64, 100, 257};
  for (Path path : TestablePaths()) {
    for (size_t m : ms) {
      for (size_t n : ns) {
        for (size_t k : ks) {
          const int variant = static_cast<int>(m + 3 * n + 7 * k);
          const bool asymmetric = variant % 2 == 0;
          const bool per_channel = variant % 3 != 0;
          const bool with_bias = variant % 5 != 0;
          const auto w = Weights(n * k, rng);
          const auto scales = Scales(per_channel ? n : 1, rng);
          std::vector<float> bias(n);
          for (auto& b : bias) b = std::uniform_real_distribution<float>(-1, 1)(rng);
          std::vector<float> x;
          for (size_t i = 0; i < m; ++i) {
            const auto row = FiniteRow(k, static_cast<int>(i + variant), rng);
            x.insert(x.end(), row.begin(), row.end());
          }
          const float lo = variant % 4 == 1 ? 0.0f : -std::numeric_limits<float>::infinity();
          const float hi = std::numeric_limits<float>::infinity();
          const auto packed = PackHybrid(w.data(), n, k, scales.data(), scales.size(),
                                         with_bias ? bias.data() : nullptr, path);
          CHECK(packed != nullptr);
          if (!packed) continue;
          for (int op = 0; op < 2; ++op) {
            std::vector<float> want(m * n), got(m * n + 1, 7.0f);
            HybridGemmReference(op, w.data(), n, k, scales.data(), scales.size(),
                                with_bias ? bias.data() : nullptr, m, x.data(), want.data(),
                                asymmetric, lo, hi);
            if (op == 0) {
              HybridFullyConnected(*packed, m, x.data(), got.data(), asymmetric, lo, hi, nullptr);
            } else {
              HybridBatchMatMul(*packed, m, x.data(), got.data(), asymmetric, nullptr);
            }
            CHECK_MSG(SameFloats(want.data(), got.data(), m * n) && got[m * n] == 7.0f,
                      "%s op=%d m=%zu n=%zu k=%zu asym=%d per_channel=%d bias=%d",
                      PathName(path), op, m, n, k, asymmetric, per_channel, with_bias);
          }
        }
      }
    }
  }
}

TEST_CASE("FULLY_CONNECTED stays within the documented tolerance of float math") {
  std::mt19937 rng(5);
  const size_t m = 9, n = 23, k = 301;
  for (bool asymmetric : {false, true}) {
    const auto w = Weights(n * k, rng);
    const auto scales = Scales(n, rng);
    std::vector<float> bias(n);
    for (auto& b : bias) b = std::uniform_real_distribution<float>(-1, 1)(rng);
    std::vector<float> x;
    for (size_t i = 0; i < m; ++i) {
      const auto row = FiniteRow(k, static_cast<int>(i % 3), rng);
      x.insert(x.end(), row.begin(), row.end());
    }
    const auto packed = PackHybrid(w.data(), n, k, scales.data(), n, bias.data());
    std::vector<float> y(m * n);
    HybridFullyConnected(*packed, m, x.data(), y.data(), asymmetric,
                         -std::numeric_limits<float>::infinity(),
                         std::numeric_limits<float>::infinity(), nullptr);
    double worst = 0;
    for (size_t i = 0; i < m; ++i) {
      float lo = x[i * k], hi = x[i * k];
      for (size_t kk = 0; kk < k; ++kk) {
        lo = std::min(lo, x[i * k + kk]);
        hi = std::max(hi, x[i * k + kk]);
      }
      const double s_row = asymmetric ? (std::max(0.0f, hi) - std::min(0.0f, lo)) / 255.0
                                      : std::max(std::abs(lo), std::abs(hi)) / 127.0;
      for (size_t j = 0; j < n; ++j) {
        double exact = bias[j], abs_w = 0;
        for (size_t kk = 0; kk < k; ++kk) {
          const double wv = static_cast<double>(w[j * k + kk]) * scales[j];
          exact += static_cast<double>(x[i * k + kk]) * wv;
          abs_w += std::abs(wv);
        }
        const double bound = s_row / 2 * abs_w + 4 * std::ldexp(1.0, -24) *
                                                     (std::abs(exact) + std::abs(bias[j]));
        const double err = std::abs(static_cast<double>(y[i * n + j]) - exact);
        CHECK_MSG(err <= bound, "asym=%d i=%zu j=%zu err=%g bound=%g", asymmetric, i, j, err,
                  bound);
        worst = std::max(worst, err / bound);
      }
    }
    std::printf("  %s: worst error / bound = %.3f\n", asymmetric ? "asymmetric" : "symmetric",
                worst);
  }
}

TEST_CASE("CONV_2D: every path equals a direct loop over the quantized image") {
  struct Shape {
    size_t batch, h, w, c, out_c, kh, kw, sh, sw, dh, dw;
  };
  const Shape shapes[] = {{1, 5, 5, 1, 1, 3, 3, 1, 1, 1, 1},  {2, 7, 6, 3, 5, 3, 3, 2, 2, 1, 1},
                          {1, 8, 9, 8, 16, 3, 2, 1, 2, 2, 1}, {2, 4, 4, 17, 9, 1, 1, 1, 1, 1, 1},
                          {1, 10, 3, 5, 33, 2, 3, 3, 1, 2, 3}, {3, 6, 6, 4, 7, 5, 5, 2, 3, 1, 1},
                          // More output pixels than one im2col block (256).
                          {2, 20, 17, 3, 6, 3, 3, 1, 1, 1, 1}};
  std::mt19937 rng(6);
  for (const Shape& s : shapes) {
    for (Padding padding : {Padding::kSame, Padding::kValid}) {
      Conv2dGeometry g;
      g.batch = s.batch;
      g.in_h = s.h;
      g.in_w = s.w;
      g.in_c = s.c;
      g.k_h = s.kh;
      g.k_w = s.kw;
      g.stride_h = s.sh;
      g.stride_w = s.sw;
      g.dilation_h = s.dh;
      g.dilation_w = s.dw;
      if (!ComputeConv2dGeometry(padding, &g)) continue;
      const size_t k = s.kh * s.kw * s.c;
      const size_t image = s.h * s.w * s.c;
      const auto filter = Weights(s.out_c * k, rng);
      std::vector<float> bias(s.out_c);
      for (auto& b : bias) b = std::uniform_real_distribution<float>(-1, 1)(rng);
      std::vector<float> input;
      for (size_t b = 0; b < s.batch; ++b) {
        const auto img = FiniteRow(image, static_cast<int>(b + s.c), rng);
        input.insert(input.end(), img.begin(), img.end());
      }
      for (bool per_channel : {false, true}) {
        const auto scales = per_channel ? Scales(s.out_c, rng) : std::vector<float>(s.out_c, 0.02f);
        // The truth: quantize each image with the reference (asymmetric iff the scales
        // differ), then TFLite's direct loop (padded taps skipped), then the FC epilogue rule.
        bool asymmetric = false;
        for (float v : scales) asymmetric |= v != scales[0];
        const size_t out_size = s.batch * g.out_h * g.out_w * s.out_c;
        std::vector<float> want(out_size);
        for (size_t b = 0; b < s.batch; ++b) {
          std::vector<int8_t> q(image);
          float sf = 1;
          int32_t off = 0;
          if (asymmetric) {
            kHybridReference.quantize_row_asymmetric(image, &input[b * image], q.data(), &sf, &off);
          } else {
            kHybridReference.quantize_row_symmetric(image, &input[b * image], q.data(), &sf);
            sf *= scales[0];
          }
          for (size_t oy = 0; oy < g.out_h; ++oy) {
            for (size_t ox = 0; ox < g.out_w; ++ox) {
              for (size_t oc = 0; oc < s.out_c; ++oc) {
                int32_t acc = 0;
                for (size_t fy = 0; fy < s.kh; ++fy) {
                  const ptrdiff_t iy = static_cast<ptrdiff_t>(oy * s.sh + fy * s.dh) -
                                       static_cast<ptrdiff_t>(g.pad_top);
                  for (size_t fx = 0; fx < s.kw; ++fx) {
                    const ptrdiff_t ix = static_cast<ptrdiff_t>(ox * s.sw + fx * s.dw) -
                                         static_cast<ptrdiff_t>(g.pad_left);
                    if (iy < 0 || ix < 0 || iy >= static_cast<ptrdiff_t>(s.h) ||
                        ix >= static_cast<ptrdiff_t>(s.w)) {
                      continue;
                    }
                    for (size_t ic = 0; ic < s.c; ++ic) {
                      const size_t at =
                          (static_cast<size_t>(iy) * s.w + static_cast<size_t>(ix)) * s.c + ic;
                      acc += filter[((oc * s.kh + fy) * s.kw + fx) * s.c + ic] * (q[at] - off);
                    }
                  }
                }
                const float scale = asymmetric ? scales[oc] * sf : sf;
                want[((b * g.out_h + oy) * g.out_w + ox) * s.out_c + oc] =
                    HybridFcOne(acc, 0, 0, scale, bias[oc], 0.0f, 6.0f);
              }
            }
          }
        }
        for (Path path : TestablePaths()) {
          const auto packed = PackHybrid(filter.data(), s.out_c, k, scales.data(), scales.size(),
                                         bias.data(), path);
          std::vector<float> got(out_size + 1, 7.0f);
          HybridConv2d(*packed, g, input.data(), got.data(), 0.0f, 6.0f, nullptr);
          CHECK_MSG(SameFloats(want.data(), got.data(), out_size) && got[out_size] == 7.0f,
                    "%s %zux%zux%zux%zu k%zux%zu s%zux%zu d%zux%zu pad=%d per_channel=%d",
                    PathName(path), s.batch, s.h, s.w, s.c, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw,
                    static_cast<int>(padding), per_channel);
        }
      }
    }
  }
}

TEST_CASE("results do not depend on the thread count") {
  std::mt19937 rng(7);
  ThreadPool pool(2);
  const size_t m = 70, n = 90, k = 130;
  const auto w = Weights(n * k, rng);
  const auto scales = Scales(n, rng);
  std::vector<float> x;
  for (size_t i = 0; i < m; ++i) {
    const auto row = FiniteRow(k, static_cast<int>(i), rng);
    x.insert(x.end(), row.begin(), row.end());
  }
  for (Path path : TestablePaths()) {
    const auto packed = PackHybrid(w.data(), n, k, scales.data(), n, nullptr, path);
    std::vector<float> y1(m * n), y2(m * n);
    HybridFullyConnected(*packed, m, x.data(), y1.data(), true, -1e30f, 1e30f, nullptr);
    HybridFullyConnected(*packed, m, x.data(), y2.data(), true, -1e30f, 1e30f, &pool);
    CHECK_MSG(SameFloats(y1.data(), y2.data(), m * n), "%s", PathName(path));
  }
}

TEST_CASE("CONV_2D results do not depend on the thread count") {
  std::mt19937 rng(8);
  ThreadPool pool(2);
  Conv2dGeometry g;
  g.batch = 2;
  g.in_h = 30;
  g.in_w = 21;
  g.in_c = 5;
  g.k_h = g.k_w = 3;
  CHECK(ComputeConv2dGeometry(Padding::kSame, &g));
  const size_t k = 3 * 3 * 5, out_c = 12;
  const auto filter = Weights(out_c * k, rng);
  const auto input = FiniteRow(2 * 30 * 21 * 5, 0, rng);
  for (bool per_channel : {false, true}) {
    const auto scales = per_channel ? Scales(out_c, rng) : std::vector<float>(1, 0.01f);
    for (Path path : TestablePaths()) {
      const auto packed = PackHybrid(filter.data(), out_c, k, scales.data(), scales.size(),
                                     nullptr, path);
      const size_t out_size = 2 * g.out_h * g.out_w * out_c;
      std::vector<float> y1(out_size), y2(out_size);
      HybridConv2d(*packed, g, input.data(), y1.data(), -1e30f, 1e30f, nullptr);
      HybridConv2d(*packed, g, input.data(), y2.data(), -1e30f, 1e30f, &pool);
      CHECK_MSG(SameFloats(y1.data(), y2.data(), out_size), "%s per_channel=%d", PathName(path),
                per_channel);
    }
  }
}

TEST_CASE("HybridPackedKernelName names the int8 GEMM kernel the weights were packed for") {
  const int8_t w[6] = {1, 2, 3, 4, 5, 6};
  const float scale[] = {0.5f};
  for (Path path : TestablePaths()) {
    const auto packed = PackHybrid(w, 2, 3, scale, 1, nullptr, path);
    const auto gemm = PackQs8GemmForPath(path, w, 2, 3, nullptr, 0);
    CHECK(packed != nullptr && gemm != nullptr);
    if (!packed || !gemm) continue;
    CHECK_MSG(std::strcmp(HybridPackedKernelName(*packed), Qs8PackedKernelName(*gemm)) == 0,
              "%s: %s", PathName(path), HybridPackedKernelName(*packed));
  }
}

TEST_CASE("PackHybrid rejects invalid scales and shapes") {
  const int8_t w[6] = {1, 2, 3, 4, 5, 6};
  const float bad[] = {0.0f};
  const float two[] = {1.0f, 2.0f};
  CHECK(PackHybrid(w, 2, 3, bad, 1, nullptr) == nullptr);
  CHECK(PackHybrid(w, 3, 2, two, 2, nullptr) == nullptr);  // 2 scales for 3 channels
  CHECK(PackHybrid(w, 2, 0, two, 2, nullptr) == nullptr);
  CHECK(PackHybrid(w, 2, 3, two, 2, nullptr) != nullptr);
}

TEST_MAIN()
