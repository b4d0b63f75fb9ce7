// float32 CONV_2D and DEPTHWISE_CONV_2D: TFLite's output-size and padding rules; the reference
// path equals a direct TFLite-style loop (padding taps skipped, bias then (kh, kw, ic) order,
// separate multiply and add); every other built and supported path stays within the bound of
// f32_gemm_test.cc with K = the number of taps summed (KH*KW*IC for CONV_2D, KH*KW for
// depthwise): |opt - ref| <= 2*gamma(K+1)*(|bias| + sum |x*w|) + 2*(2K+1)*2^-149. Results do not
// depend on the thread count.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "check.h"
#include "litequant/f32_conv.h"
#include "litequant/f32_gemm.h"
#include "litequant/thread_pool.h"

using namespace litequant;

namespace {

std::vector<Path> TestablePaths() {
  std::vector<Path> paths;
  for (uint32_t i = 0; i < kPathCount; ++i) {
    const Path p = static_cast<Path>(i);
    if (PathBuilt(p) && PathSupported(DetectCpu(), p)) paths.push_back(p);
    else if (PathBuilt(p)) std::printf("  skip %s: not supported by this CPU\n", PathName(p));
  }
  return paths;
}

constexpr float kInf = std::numeric_limits<float>::infinity();

double Tolerance(size_t k, double abs_sum) {
  const double u = std::ldexp(1.0, -24);
  const double gamma = static_cast<double>(k + 1) * u / (1.0 - static_cast<double>(k + 1) * u);
  return 2.0 * gamma * abs_sum + 2.0 * static_cast<double>(2 * k + 1) * std::ldexp(1.0, -149);
}

bool SameFloat(float x, float y) { return (std::isnan(x) && std::isnan(y)) || x == y; }

std::vector<float> Random(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng) * scale;
  return v;
}

// Per-output-channel magnitudes spanning six orders of magnitude.
float ChannelScale(size_t c) {
  return std::pow(10.0f, static_cast<float>(static_cast<int>(c % 7) - 3));
}

struct ConvCase {
  Conv2dGeometry g;
  size_t out_c;  // CONV_2D output channels, or the depth multiplier for depthwise
  float min, max;
};

// The input pixel a tap reads in TFLite's loops, or -1 for padding.
long InputIndex(const Conv2dGeometry& g, size_t b, size_t oy, size_t ox, size_t ky, size_t kx) {
  const long iy = static_cast<long>(oy * g.stride_h + ky * g.dilation_h) - static_cast<long>(g.pad_top);
  const long ix = static_cast<long>(ox * g.stride_w + kx * g.dilation_w) - static_cast<long>(g.pad_left);
  if (iy < 0 || ix < 0 || iy >= static_cast<long>(g.in_h) || ix >= static_cast<long>(g.in_w)) return -1;
  return static_cast<long>((b * g.in_h + static_cast<size_t>(iy)) * g.in_w + static_cast<size_t>(ix));
}

// TFLite's reference CONV_2D loop, with the documented order; also the sum of |terms|.
void PlainConv(const ConvCase& c, const std::vector<float>& in, const std::vector<float>& filter,
               const std::vector<float>& bias, std::vector<float>* out, std::vector<double>* abs) {
  const Conv2dGeometry& g = c.g;
  out->assign(g.batch * g.out_h * g.out_w * c.out_c, 0.0f);
  abs->assign(out->size(), 0.0);
  for (size_t b = 0; b < g.batch; ++b)
    for (size_t oy = 0; oy < g.out_h; ++oy)
      for (size_t ox = 0; ox < g.out_w; ++ox)
        for (size_t oc = 0; oc < c.out_c; ++oc) {
          float acc = bias[oc];
          double s = std::fabs(static_cast<double>(bias[oc]));
          for (size_t ky = 0; ky < g.k_h; ++ky)
            for (size_t kx = 0; kx < g.k_w; ++kx) {
              const long pix = InputIndex(g, b, oy, ox, ky, kx);
              if (pix < 0) continue;
              for (size_t ic = 0; ic < g.in_c; ++ic) {
                const float x = in[static_cast<size_t>(pix) * g.in_c + ic];
                const float w = filter[((oc * g.k_h + ky) * g.k_w + kx) * g.in_c + ic];
                acc = acc + x * w;
                s += std::fabs(static_cast<double>(x) * w);
              }
            }
          const size_t o = ((b * g.out_h + oy) * g.out_w + ox) * c.out_c + oc;
          (*out)[o] = acc < c.min ? c.min : (acc > c.max ? c.max : acc);
          (*abs)[o] = s;
        }
}

// TFLite's reference DEPTHWISE_CONV_2D loop (c.out_c is the depth multiplier).
void PlainDwconv(const ConvCase& c, const std::vector<float>& in,
                 const std::vector<float>& filter, const std::vector<float>& bias,
                 std::vector<float>* out, std::vector<double>* abs) {
  const Conv2dGeometry& g = c.g;
  const size_t dm = c.out_c;
  const size_t oc_count = g.in_c * dm;
  out->assign(g.batch * g.out_h * g.out_w * oc_count, 0.0f);
  abs->assign(out->size(), 0.0);
  for (size_t b = 0; b < g.batch; ++b)
    for (size_t oy = 0; oy < g.out_h; ++oy)
      for (size_t ox = 0; ox < g.out_w; ++ox)
        for (size_t ic = 0; ic < g.in_c; ++ic)
          for (size_t m = 0; m < dm; ++m) {
            const size_t oc = ic * dm + m;
            float acc = bias[oc];
            double s = std::fabs(static_cast<double>(bias[oc]));
            for (size_t ky = 0; ky < g.k_h; ++ky)
              for (size_t kx = 0; kx < g.k_w; ++kx) {
                const long pix = InputIndex(g, b, oy, ox, ky, kx);
                if (pix < 0) continue;
                const float x = in[static_cast<size_t>(pix) * g.in_c + ic];
                const float w = filter[(ky * g.k_w + kx) * oc_count + oc];
                acc = acc + x * w;
                s += std::fabs(static_cast<double>(x) * w);
              }
            const size_t o = ((b * g.out_h + oy) * g.out_w + ox) * oc_count + oc;
            (*out)[o] = acc < c.min ? c.min : (acc > c.max ? c.max : acc);
            (*abs)[o] = s;
          }
}

// A deterministic sample of the edge-case space: sizes 1..small primes, filters larger than
// the input (SAME), strides and dilations 1..3, odd total padding, 1x1 (direct GEMM) and
// channel counts around every path's tile.
std::vector<ConvCase> Cases(bool depthwise, size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  const size_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 11, 13};
  const size_t filters[][2] = {{1, 1}, {3, 3}, {2, 3}, {5, 1}, {1, 4}, {3, 5}, {1, 1}, {3, 3}};
  const size_t channels[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 33, 64, 67};
  const size_t outs[] = {1, 3, 5, 8, 15, 16, 17, 32, 33, 40};
  const float clamps[][2] = {{-kInf, kInf}, {0.0f, 6.0f}, {-1.0f, 1.0f}, {0.0f, kInf}};
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  std::vector<ConvCase> cases;
  while (cases.size() < count) {
    ConvCase c;
    c.g.batch = 1 + pick(2);
    c.g.in_h = sizes[pick(9)];
    c.g.in_w = sizes[pick(9)];
    c.g.in_c = channels[pick(15)];
    const auto& f = filters[pick(8)];
    c.g.k_h = f[0];
    c.g.k_w = f[1];
    c.g.stride_h = 1 + pick(3) / 2 * (1 + pick(2));  // mostly 1, else 2 or 3
    c.g.stride_w = cases.size() % 5 == 0 ? c.g.stride_h : 1 + pick(3);
    c.g.dilation_h = pick(4) == 0 ? 2 : 1;
    c.g.dilation_w = pick(4) == 0 ? 1 + pick(3) : 1;
    const Padding padding = pick(2) == 0 ? Padding::kSame : Padding::kValid;
    if (!ComputeConv2dGeometry(padding, &c.g)) continue;  // VALID with the filter too large
    c.out_c = depthwise ? 1 + pick(3) * (pick(2)) : outs[pick(10)];
    c.min = clamps[cases.size() % 4][0];
    c.max = clamps[cases.size() % 4][1];
    cases.push_back(c);
  }
  return cases;
}

}  // namespace

TEST_CASE("output sizes and padding follow TFLite's ComputeOutSize and ComputePaddingWithOffset") {
  struct Want {
    size_t in, k, stride, dilation;
    Padding padding;
    size_t out, pad;
  };
  const Want wants[] = {
      {5, 3, 2, 1, Padding::kSame, 3, 1},    // total 2: 1 before, 1 after
      {6, 3, 2, 1, Padding::kSame, 3, 0},    // total 1: the odd pixel goes after
      {224, 3, 2, 1, Padding::kSame, 112, 0},
      {7, 3, 1, 1, Padding::kSame, 7, 1},
      {7, 3, 1, 2, Padding::kSame, 7, 2},    // dilated filter 5
      {7, 3, 2, 2, Padding::kValid, 2, 0},   // (7 - 5 + 2) / 2
      {7, 3, 1, 1, Padding::kValid, 5, 0},
      {2, 5, 1, 1, Padding::kSame, 2, 2},    // filter larger than the input
      {1, 1, 3, 1, Padding::kSame, 1, 0},
      {10, 4, 3, 1, Padding::kValid, 3, 0},
      {10, 4, 3, 1, Padding::kSame, 4, 1},   // total (4-1)*3 + 4 - 10 = 3
  };
  for (const Want& w : wants) {
    Conv2dGeometry g;
    g.in_h = w.in;
    g.in_w = 1;
    g.k_h = w.k;
    g.stride_h = w.stride;
    g.dilation_h = w.dilation;
    CHECK(ComputeConv2dGeometry(w.padding, &g));
    CHECK_MSG(g.out_h == w.out && g.pad_top == w.pad, "in=%zu k=%zu s=%zu d=%zu: out %zu pad %zu",
              w.in, w.k, w.stride, w.dilation, g.out_h, g.pad_top);
  }
  Conv2dGeometry g;
  g.in_h = 2;
  g.k_h = 3;
  CHECK(!ComputeConv2dGeometry(Padding::kValid, &g));  // empty output
  g.stride_w = 0;
  CHECK(!ComputeConv2dGeometry(Padding::kSame, &g));
}

TEST_CASE("CONV_2D: reference equals TFLite's loop; every path within the bound") {
  const std::vector<ConvCase> cases = Cases(false, 300, 11);
  const std::vector<Path> paths = TestablePaths();
  std::vector<double> worst(paths.size(), 0.0);
  std::mt19937 rng(12);
  for (const ConvCase& c : cases) {
    const Conv2dGeometry& g = c.g;
    const size_t k = g.k_h * g.k_w * g.in_c;
    const std::vector<float> in = Random(g.batch * g.in_h * g.in_w * g.in_c, rng);
    std::vector<float> filter = Random(c.out_c * k, rng);
    std::vector<float> bias = Random(c.out_c, rng);
    for (size_t oc = 0; oc < c.out_c; ++oc) {
      for (size_t i = 0; i < k; ++i) filter[oc * k + i] *= ChannelScale(oc);
      bias[oc] *= ChannelScale(oc);
    }
    std::vector<float> want;
    std::vector<double> abs;
    PlainConv(c, in, filter, bias, &want, &abs);
    std::vector<float> ref;
    for (size_t pi = 0; pi < paths.size(); ++pi) {
      const Path path = paths[pi];
      auto packed = PackF32Gemm(filter.data(), c.out_c, k, bias.data(), path);
      std::vector<float> got(want.size() + 1, -7.0f);
      F32Conv2d(*packed, g, in.data(), got.data(), c.min, c.max, nullptr);
      CHECK_MSG(got.back() == -7.0f, "%s wrote past the output", PathName(path));
      got.pop_back();
      if (path == Path::kReference) ref = got;
      for (size_t o = 0; o < want.size(); ++o) {
        if (path == Path::kReference) {
          CHECK_MSG(SameFloat(got[o], want[o]),
                    "reference %zux%zux%zux%zu k%zux%zu s%zu,%zu d%zu,%zu oc=%zu at %zu: %.9g vs %.9g",
                    g.batch, g.in_h, g.in_w, g.in_c, g.k_h, g.k_w, g.stride_h, g.stride_w,
                    g.dilation_h, g.dilation_w, c.out_c, o, got[o], want[o]);
          continue;
        }
        const double diff = std::fabs(static_cast<double>(got[o]) - ref[o]);
        const double tol = Tolerance(k, abs[o]);
        if (tol > 0) worst[pi] = std::max(worst[pi], diff / tol);
        CHECK_MSG(diff <= tol,
                  "%s %zux%zux%zux%zu k%zux%zu s%zu,%zu d%zu,%zu oc=%zu at %zu: %.9g vs %.9g",
                  PathName(path), g.batch, g.in_h, g.in_w, g.in_c, g.k_h, g.k_w, g.stride_h,
                  g.stride_w, g.dilation_h, g.dilation_w, c.out_c, o, got[o], ref[o]);
      }
    }
  }
  for (size_t pi = 0; pi < paths.size(); ++pi) {
    std::printf("  %s: worst |diff|/tolerance %.3f over %zu convolutions\n", PathName(paths[pi]),
                worst[pi], cases.size());
  }
}

TEST_CASE("DEPTHWISE_CONV_2D: reference equals TFLite's loop; every path within the bound") {
  const std::vector<ConvCase> cases = Cases(true, 400, 21);
  const std::vector<Path> paths = TestablePaths();
  std::vector<double> worst(paths.size(), 0.0);
  std::mt19937 rng(22);
  for (const ConvCase& c : cases) {
    const Conv2dGeometry& g = c.g;
    const size_t dm = c.out_c;
    const size_t oc_count = g.in_c * dm;
    const size_t taps = g.k_h * g.k_w;
    const std::vector<float> in = Random(g.batch * g.in_h * g.in_w * g.in_c, rng);
    std::vector<float> filter = Random(taps * oc_count, rng);
    std::vector<float> bias = Random(oc_count, rng);
    for (size_t oc = 0; oc < oc_count; ++oc) {
      for (size_t t = 0; t < taps; ++t) filter[t * oc_count + oc] *= ChannelScale(oc);
      bias[oc] *= ChannelScale(oc);
    }
    std::vector<float> want;
    std::vector<double> abs;
    PlainDwconv(c, in, filter, bias, &want, &abs);
    std::vector<float> ref;
    for (size_t pi = 0; pi < paths.size(); ++pi) {
      const Path path = paths[pi];
      auto packed = PackF32Dwconv(filter.data(), bias.data(), g.k_h, g.k_w, oc_count, path);
      std::vector<float> got(want.size() + 1, -7.0f);
      F32DepthwiseConv2d(*packed, g, dm, in.data(), got.data(), c.min, c.max, nullptr);
      CHECK_MSG(got.back() == -7.0f, "%s wrote past the output", PathName(path));
      got.pop_back();
      if (path == Path::kReference) ref = got;
      for (size_t o = 0; o < want.size(); ++o) {
        if (path == Path::kReference) {
          CHECK_MSG(SameFloat(got[o], want[o]),
                    "reference %zux%zux%zux%zu k%zux%zu s%zu,%zu d%zu,%zu dm=%zu at %zu: %.9g vs %.9g",
                    g.batch, g.in_h, g.in_w, g.in_c, g.k_h, g.k_w, g.stride_h, g.stride_w,
                    g.dilation_h, g.dilation_w, dm, o, got[o], want[o]);
          continue;
        }
        const double diff = std::fabs(static_cast<double>(got[o]) - ref[o]);
        const double tol = Tolerance(taps, abs[o]);
        if (tol > 0) worst[pi] = std::max(worst[pi], diff / tol);
        CHECK_MSG(diff <= tol,
                  "%s %zux%zux%zux%zu k%zux%zu s%zu,%zu d%zu,%zu dm=%zu at %zu: %.9g vs %.9g",
                  PathName(path), g.batch, g.in_h, g.in_w, g.in_c, g.k_h, g.k_w, g.stride_h,
                  g.stride_w, g.dilation_h, g.dilation_w, dm, o, got[o], ref[o]);
      }
    }
  }
  for (size_t pi = 0; pi < paths.size(); ++pi) {
    std::printf("  %s: worst |diff|/tolerance %.3f over %zu depthwise convolutions\n",
                PathName(paths[pi]), worst[pi], cases.size());
  }
}

TEST_CASE("NaN inputs reach exactly the outputs whose windows read them") {
  Conv2dGeometry g;
  g.in_h = g.in_w = 5;
  g.in_c = 3;
  g.k_h = g.k_w = 3;
  CHECK(ComputeConv2dGeometry(Padding::kSame, &g));
  std::mt19937 rng(31);
  std::vector<float> in = Random(25 * 3, rng);
  in[(0 * 5 + 0) * 3 + 1] = std::numeric_limits<float>::quiet_NaN();  // corner pixel, channel 1
  const std::vector<float> filter = Random(4 * 27, rng);
  const std::vector<float> dw_filter = Random(9 * 3, rng);
  const std::vector<float> bias(4, 0.5f);
  for (Path path : TestablePaths()) {
    auto packed = PackF32Gemm(filter.data(), 4, 27, bias.data(), path);
    std::vector<float> out(25 * 4);
    F32Conv2d(*packed, g, in.data(), out.data(), 0.0f, 6.0f, nullptr);
    for (size_t oy = 0; oy < 5; ++oy)
      for (size_t ox = 0; ox < 5; ++ox)
        for (size_t oc = 0; oc < 4; ++oc) {
          const bool reads = oy <= 1 && ox <= 1;
          CHECK_MSG(std::isnan(out[(oy * 5 + ox) * 4 + oc]) == reads, "%s conv (%zu,%zu)",
                    PathName(path), oy, ox);
        }
    auto dw = PackF32Dwconv(dw_filter.data(), bias.data(), 3, 3, 3, path);
    std::vector<float> dout(25 * 3);
    F32DepthwiseConv2d(*dw, g, 1, in.data(), dout.data(), -kInf, kInf, nullptr);
    for (size_t oy = 0; oy < 5; ++oy)
      for (size_t ox = 0; ox < 5; ++ox)
        for (size_t c = 0; c < 3; ++c) {
          const bool reads = oy <= 1 && ox <= 1 && c == 1;
          CHECK_MSG(std::isnan(dout[(oy * 5 + ox) * 3 + c]) == reads, "%s dwconv (%zu,%zu,%zu)",
                    PathName(path), oy, ox, c);
        }
  }
}

TEST_CASE("results are identical for every thread count") {
  std::unique_ptr<ThreadPool> pools[] = {std::make_unique<ThreadPool>(2),
                                         std::make_unique<ThreadPool>(3),
                                         std::make_unique<ThreadPool>(4)};
  std::mt19937 rng(41);
  for (Path path : TestablePaths()) {
    for (size_t k : {1, 3}) {
      Conv2dGeometry g;
      g.batch = 2;
      g.in_h = 23;
      g.in_w = 19;
      g.in_c = 24;
      g.k_h = g.k_w = k;
      g.stride_h = k == 3 ? 2 : 1;
      CHECK(ComputeConv2dGeometry(Padding::kSame, &g));
      const size_t oc = 40;
      const std::vector<float> in = Random(g.batch * g.in_h * g.in_w * g.in_c, rng);
      const std::vector<float> filter = Random(oc * k * k * g.in_c, rng);
      const std::vector<float> bias = Random(oc, rng);
      auto packed = PackF32Gemm(filter.data(), oc, k * k * g.in_c, bias.data(), path);
      const size_t out_size = g.batch * g.out_h * g.out_w * oc;
      std::vector<float> serial(out_size), threaded(out_size);
      F32Conv2d(*packed, g, in.data(), serial.data(), -kInf, kInf, nullptr);
      auto dw = PackF32Dwconv(filter.data(), bias.data(), k, k, g.in_c * 2, path);
      const size_t dw_size = g.batch * g.out_h * g.out_w * g.in_c * 2;
      std::vector<float> dserial(dw_size), dthreaded(dw_size);
      F32DepthwiseConv2d(*dw, g, 2, in.data(), dserial.data(), -kInf, kInf, nullptr);
      for (auto& pool : pools) {
        F32Conv2d(*packed, g, in.data(), threaded.data(), -kInf, kInf, pool.get());
        CHECK_MSG(std::memcmp(serial.data(), threaded.data(), out_size * sizeof(float)) == 0,
                  "%s conv %zux%zu threads=%zu", PathName(path), k, k, pool->size());
        F32DepthwiseConv2d(*dw, g, 2, in.data(), dthreaded.data(), -kInf, kInf, pool.get());
        CHECK_MSG(std::memcmp(dserial.data(), dthreaded.data(), dw_size * sizeof(float)) == 0,
                  "%s dwconv %zux%zu threads=%zu", PathName(path), k, k, pool->size());
      }
    }
  }
}

TEST_MAIN()
