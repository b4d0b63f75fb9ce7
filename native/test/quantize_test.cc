// Every built and supported path of the qs8 quantize family equals the reference
// bit for bit, and the reference follows TFLite's rounding on hand-checked cases.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "check.h"
#include "litequant/quantize.h"
#include "litequant/quantize_tensor.h"

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

float InvScale(float scale) { return static_cast<float>(1.0 / static_cast<double>(scale)); }

// Values that stress rounding and saturation at `scale`: exact ties, near-ties,
// NaN, infinities, denormals, and random values spanning the int8 range and beyond.
std::vector<float> EdgeValues(size_t n, float scale, std::mt19937& rng) {
  std::uniform_real_distribution<float> wide(-300.0f, 300.0f);
  std::vector<float> v(n);
  const float specials[] = {0.0f,
                            -0.0f,
                            std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::max(),
                            -std::numeric_limits<float>::max()};
  for (size_t i = 0; i < n; ++i) {
    switch (i % 5) {
      case 0: v[i] = (std::floor(wide(rng)) + 0.5f) * scale; break;  // ties
      case 1: v[i] = std::nextafter((std::floor(wide(rng)) + 0.5f) * scale, 0.0f); break;
      case 2: v[i] = specials[(i / 5) % (sizeof(specials) / sizeof(specials[0]))]; break;
      default: v[i] = wide(rng) * scale;
    }
  }
  return v;
}

const size_t kSizes[] = {0, 1, 2, 3, 5, 7, 8, 9, 13, 15, 16, 17, 31, 32, 33, 63, 127, 1000, 4099};
const float kScales[] = {1e-6f, 0.00392156862745098f, 0.0173f, 0.5f, 1.0f, 3.7f, 1000.0f};
const int32_t kZeroPoints[] = {-128, -1, 0, 5, 127};

}  // namespace

TEST_CASE("reference rounds half away from zero, as TFLite") {
  const auto& k = kQs8QuantizeReference;
  const float x[] = {0.25f, -0.25f, 0.75f, -0.75f, 1.25f, 1.0f, -1.0f, 0.2499f};
  int8_t q[8];
  k.quantize_tensor(8, x, q, InvScale(0.5f), 0, -128, 127);
  const int8_t want[] = {1, -1, 2, -2, 3, 2, -2, 0};  // 0.5 -> 1, -0.5 -> -1, 1.5 -> 2, 2.5 -> 3
  for (int i = 0; i < 8; ++i) CHECK_MSG(q[i] == want[i], "x=%g got %d want %d", x[i], q[i], want[i]);
}

TEST_CASE("half-even variant rounds ties to even (the runtime's QUANTIZE, XNNPACK's rule)") {
  const auto& k = kQs8QuantizeReference;
  const float x[] = {0.25f, -0.25f, 0.75f, -0.75f, 1.25f, -1.25f, 1.75f, 0.2499f};
  int8_t q[8];
  k.quantize_tensor_half_even(8, x, q, InvScale(0.5f), 3, -128, 127);
  // 0.5 -> 0, -0.5 -> 0, 1.5 -> 2, -1.5 -> -2, 2.5 -> 2, -2.5 -> -2, 3.5 -> 4 (zero point 3)
  const int8_t want[] = {3, 3, 5, 1, 5, 1, 7, 3};
  for (int i = 0; i < 8; ++i) CHECK_MSG(q[i] == want[i], "x=%g got %d want %d", x[i], q[i], want[i]);
}

TEST_CASE("reference saturates, maps NaN to the zero point, and honours qmin") {
  const auto& k = kQs8QuantizeReference;
  const float x[] = {1e30f, -1e30f, std::numeric_limits<float>::quiet_NaN(),
                     std::numeric_limits<float>::infinity(), -200.0f};
  int8_t q[5];
  k.quantize_tensor(5, x, q, 1.0f, 10, -127, 127);
  CHECK(q[0] == 127);
  CHECK(q[1] == -127);
  CHECK(q[2] == 10);
  CHECK(q[3] == 127);
  CHECK(q[4] == -127);
}

TEST_CASE("reference dequantizes as scale * (q - zero_point)") {
  const int8_t q[] = {-128, 0, 127, 5};
  float x[4];
  kQs8QuantizeReference.dequantize_tensor(4, q, x, 0.5f, -128);
  CHECK(x[0] == 0.0f);
  CHECK(x[1] == 64.0f);
  CHECK(x[2] == 127.5f);
  CHECK(x[3] == 66.5f);
}

TEST_CASE("optimized per-tensor kernels equal the reference") {
  std::mt19937 rng(1234);
  for (Path path : TestablePaths()) {
    const QuantizeKernels& k = Qs8QuantizeKernelsFor(path);
    for (size_t n : kSizes) {
      for (float scale : kScales) {
        for (int32_t zp : kZeroPoints) {
          for (int32_t qmin : {-128, -127}) {
            if (zp < qmin) continue;
            const std::vector<float> x = EdgeValues(n, scale, rng);
            std::vector<int8_t> want(n + 1, 0x55), got(n + 1, 0x55);  // +1 guards overrun
            kQs8QuantizeReference.quantize_tensor(n, x.data(), want.data(), InvScale(scale), zp,
                                                  qmin, 127);
            k.quantize_tensor(n, x.data(), got.data(), InvScale(scale), zp, qmin, 127);
            CHECK_MSG(std::memcmp(want.data(), got.data(), n + 1) == 0,
                      "%s quantize n=%zu scale=%g zp=%d qmin=%d", PathName(path), n, scale, zp,
                      qmin);
            std::vector<int8_t> even_want(n + 1, 0x55), even_got(n + 1, 0x55);
            kQs8QuantizeReference.quantize_tensor_half_even(n, x.data(), even_want.data(),
                                                            InvScale(scale), zp, qmin, 127);
            k.quantize_tensor_half_even(n, x.data(), even_got.data(), InvScale(scale), zp, qmin,
                                        127);
            CHECK_MSG(std::memcmp(even_want.data(), even_got.data(), n + 1) == 0,
                      "%s quantize half-even n=%zu scale=%g zp=%d qmin=%d", PathName(path), n,
                      scale, zp, qmin);
            std::vector<float> dwant(n + 1, 7.0f), dgot(n + 1, 7.0f);
            kQs8QuantizeReference.dequantize_tensor(n, want.data(), dwant.data(), scale, zp);
            k.dequantize_tensor(n, want.data(), dgot.data(), scale, zp);
            CHECK_MSG(std::memcmp(dwant.data(), dgot.data(), (n + 1) * sizeof(float)) == 0,
                      "%s dequantize n=%zu scale=%g zp=%d", PathName(path), n, scale, zp);
          }
        }
      }
    }
  }
}

TEST_CASE("optimized channelwise kernels equal the reference") {
  std::mt19937 rng(99);
  std::uniform_int_distribution<int> pick_scale(0, 6), pick_zp(0, 4);
  for (Path path : TestablePaths()) {
    const QuantizeKernels& k = Qs8QuantizeKernelsFor(path);
    for (size_t n : kSizes) {
      std::vector<float> scale(n), inv(n);
      std::vector<int32_t> zp(n);
      for (size_t i = 0; i < n; ++i) {
        scale[i] = kScales[pick_scale(rng)];  // spans nine orders of magnitude
        inv[i] = InvScale(scale[i]);
        zp[i] = kZeroPoints[pick_zp(rng)];
      }
      std::vector<float> x = EdgeValues(n, 0.05f, rng);
      for (size_t i = 0; i < n; ++i) x[i] *= scale[i] / 0.05f;
      std::vector<int8_t> want(n + 1, 0x55), got(n + 1, 0x55);
      kQs8QuantizeReference.quantize_channelwise(n, x.data(), want.data(), inv.data(), zp.data(),
                                                 -128, 127);
      k.quantize_channelwise(n, x.data(), got.data(), inv.data(), zp.data(), -128, 127);
      CHECK_MSG(std::memcmp(want.data(), got.data(), n + 1) == 0, "%s n=%zu", PathName(path), n);
      std::vector<float> dwant(n + 1, 7.0f), dgot(n + 1, 7.0f);
      kQs8QuantizeReference.dequantize_channelwise(n, want.data(), dwant.data(), scale.data(),
                                                   zp.data());
      k.dequantize_channelwise(n, want.data(), dgot.data(), scale.data(), zp.data());
      CHECK_MSG(std::memcmp(dwant.data(), dgot.data(), (n + 1) * sizeof(float)) == 0,
                "%s dequantize n=%zu", PathName(path), n);
    }
  }
}

TEST_CASE("per-axis tensors quantize each channel with its own parameters, on every path") {
  const AxisLayout layouts[] = {{1, 1, 37}, {1, 5, 9}, {3, 7, 1}, {2, 3, 17}, {4, 33, 1}};
  std::mt19937 rng(7);
  const Path before = SelectedPath();
  for (const AxisLayout& l : layouts) {
    std::vector<float> scale(l.channels);
    std::vector<int32_t> zp(l.channels);
    for (size_t c = 0; c < l.channels; ++c) {
      scale[c] = kScales[c % 7];
      zp[c] = kZeroPoints[c % 5];
    }
    std::vector<float> x(l.size());
    std::uniform_real_distribution<float> u(-200.0f, 200.0f);
    for (size_t i = 0; i < x.size(); ++i) x[i] = u(rng) * scale[(i / l.inner) % l.channels];
    // The expected values come from the reference rule applied element by element.
    std::vector<int8_t> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const size_t c = (i / l.inner) % l.channels;
      kQs8QuantizeReference.quantize_tensor(1, &x[i], &want[i], InvScale(scale[c]), zp[c], -128,
                                            127);
    }
    for (Path path : TestablePaths()) {
      const char* why = nullptr;
      CHECK(SelectPath(path, &why));
      std::vector<int8_t> got(x.size());
      QuantizeToInt8(x.data(), got.data(), l, scale.data(), zp.data(), -128, 127);
      CHECK_MSG(got == want, "%s layout %zux%zux%zu", PathName(path), l.outer, l.channels, l.inner);
      std::vector<float> back(x.size());
      DequantizeFromInt8(got.data(), back.data(), l, scale.data(), zp.data());
      for (size_t i = 0; i < x.size(); ++i) {
        const size_t c = (i / l.inner) % l.channels;
        CHECK_MSG(back[i] == scale[c] * static_cast<float>(got[i] - zp[c]), "%s i=%zu",
                  PathName(path), i);
      }
    }
  }
  const char* why = nullptr;
  SelectPath(before, &why);
}

TEST_MAIN()
