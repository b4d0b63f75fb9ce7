// Helpers shared by qs8_conv_test.cc and qs8_dwconv_test.cc: random tensors over the full int8
// range, requantization parameters over orders of magnitude, and the paths to test.
#pragma once

#include <cstdio>
#include <random>
#include <vector>

#include "litequant/isa.h"
#include "litequant/qs8_conv.h"
#include "litequant/requantization.h"

namespace litequant::test {

inline std::vector<Path> TestablePaths() {
  std::vector<Path> paths;
  for (uint32_t i = 0; i < kPathCount; ++i) {
    const Path p = static_cast<Path>(i);
    if (PathBuilt(p) && PathSupported(DetectCpu(), p)) paths.push_back(p);
    else if (PathBuilt(p)) std::printf("  skip %s: not supported by this CPU\n", PathName(p));
  }
  return paths;
}

// Restores the selected path when a test case ends.
struct PathGuard {
  Path saved = SelectedPath();
  ~PathGuard() {
    const char* why = nullptr;
    SelectPath(saved, &why);
  }
};

inline std::vector<int8_t> RandomInt8(size_t n, std::mt19937& rng, int lo = -128, int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

// Biases of realistic size (|bias| < 2^20) with a few at the int32 extremes, so accumulators
// also wrap around (every path wraps the same way).
inline std::vector<int32_t> RandomBias(size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> d(-(1 << 20), 1 << 20);
  std::vector<int32_t> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = d(rng);
    if (i % 13 == 5) v[i] = INT32_MAX - static_cast<int32_t>(i);
    if (i % 13 == 7) v[i] = INT32_MIN + static_cast<int32_t>(i);
  }
  return v;
}

// Scales from 1e-6 to 10 (real multipliers s_in * s_w / s_out), per tensor or per channel,
// in either requantization mode.
inline Qs8Requant RandomRequant(size_t channels, bool per_channel, RequantMode mode,
                                std::mt19937& rng) {
  static const float kMagnitudes[] = {1e-6f, 1e-5f, 1e-4f, 1e-3f, 1e-2f, 0.1f, 1.0f, 10.0f};
  std::uniform_int_distribution<int> pick(0, 7);
  std::uniform_real_distribution<float> mantissa(1.0f, 9.99f);
  Qs8Requant r;
  r.mode = mode;
  const size_t n = per_channel ? channels : 1;
  for (size_t i = 0; i < n; ++i) {
    // Around 1/sqrt(taps * channels) keeps most outputs unsaturated; the extremes saturate.
    const float s = kMagnitudes[pick(rng)] * mantissa(rng);
    r.scale.push_back(s);
    r.multiplier.push_back(QuantizeMultiplier(static_cast<double>(s)));
  }
  return r;
}

inline const char* ModeName(RequantMode m) {
  return m == RequantMode::kFp32 ? "fp32" : "fixed";
}

inline const char* PaddingName(Padding p) { return p == Padding::kSame ? "SAME" : "VALID"; }

}  // namespace litequant::test
