// Scalar IEEE binary16 conversions and the scalar min/max and histogram steps: the definitions
// the reference kernels use and the tails of the optimized ones. Header-only and `static inline`
// (no ODR-merged copies across translation units built for different ISAs).
#pragma once

#include <cstdint>
#include <cstring>

#include "litequant/tensor_utils.h"

namespace litequant {

static inline uint32_t F32Bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof(b));
  return b;
}

static inline float F32FromBits(uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof(x));
  return x;
}

// float -> half, round to nearest even, by integer arithmetic only.
static inline uint16_t F32ToF16One(float x) {
  const uint32_t b = F32Bits(x);
  const uint32_t sign = (b >> 16) & 0x8000u;
  const uint32_t abs = b & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));
  if (abs >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520: inf
  if (abs >= 0x38800000u) {  // >= 2^-14: normal half
    // Rebias the exponent (127 -> 15) and round the 13 dropped bits to nearest even; a carry out
    // of the mantissa correctly bumps the exponent.
    const uint32_t rounded = abs + 0xFFFu + ((abs >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
  }
  if (abs < 0x33000000u) return static_cast<uint16_t>(sign);  // < 2^-25: rounds to zero
  // Subnormal half: value = mant * 2^-24 with mant = significand >> shift, rounded to even.
  const uint32_t exponent = abs >> 23;               // 102 .. 112
  const uint32_t significand = (abs & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126u - exponent;            // 14 .. 24
  const uint32_t mant = significand >> shift;
  const uint32_t rest = significand & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  const uint32_t up = (rest > half || (rest == half && (mant & 1u))) ? 1u : 0u;
  return static_cast<uint16_t>(sign | (mant + up));  // mant + up may reach 0x400: smallest normal
}

// half -> float, exact.
static inline float F16ToF32One(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  if (exponent == 0x1Fu) {
    return F32FromBits(mant == 0 ? (sign | 0x7F800000u) : (sign | 0x7FC00000u | (mant << 13)));
  }
  if (exponent != 0) return F32FromBits(sign | ((exponent + 112u) << 23) | (mant << 13));
  if (mant == 0) return F32FromBits(sign);
  // Subnormal: normalize (the value is mant * 2^-24, exact in float).
  uint32_t e = 113u;  // biased exponent of 2^-14
  uint32_t m = mant;
  while ((m & 0x400u) == 0) {
    m <<= 1;
    --e;
  }
  return F32FromBits(sign | (e << 23) | ((m & 0x3FFu) << 13));
}

// Folds one value into a running min/max (zeros are normalized once, at the end of a kernel).
static inline void MinMaxStep(float x, F32MinMax* acc) {
  if (x != x) {
    acc->saw_nan = true;
    return;
  }
  if (x - x != 0.0f) acc->saw_inf = true;  // inf - inf is NaN
  if (x < acc->min) acc->min = x;
  if (x > acc->max) acc->max = x;
}

// -0 -> +0; everything else unchanged.
static inline void MinMaxNormalizeZeros(F32MinMax* acc) {
  acc->min = acc->min + 0.0f;
  acc->max = acc->max + 0.0f;
}

// The bin of a non-NaN x, or -1 for NaN.
static inline int64_t HistogramBin(float x, float lo, float scale, uint32_t bins) {
  if (x != x) return -1;
  float t = (x - lo) * scale;
  t = __builtin_floorf(t);
  const float last = static_cast<float>(bins - 1);
  t = t < 0.0f ? 0.0f : (t > last ? last : t);  // t cannot be NaN: x - lo is not inf - inf
  return static_cast<int64_t>(t);
}

}  // namespace litequant
