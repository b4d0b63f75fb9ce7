// Scalar rounding rules shared by the reference kernels and the tails of the
// optimized ones. Header-only and free of ISA-specific code on purpose: it is
// included by translation units compiled with different instruction sets, so
// everything here must stay `static inline` (no ODR-merged copies).
#pragma once

#include <cmath>
#include <cstdint>

namespace litequant {

// TFLite's TfLiteRound: halfway cases go away from zero.
static inline float RoundHalfAwayFromZero(float y) { return std::round(y); }

// The quantize rule of quantize.h for one element.
static inline int8_t QuantizeOne(float x, float inv_scale, int32_t zero_point, int32_t qmin,
                                 int32_t qmax) {
  float y = x * inv_scale;
  if (y != y) y = 0.0f;  // NaN -> real zero
  const float lo = static_cast<float>(qmin - zero_point);
  const float hi = static_cast<float>(qmax - zero_point);
  y = y < lo ? lo : (y > hi ? hi : y);  // clamp first: the bounds are integers, and the
                                        // int conversion below can no longer overflow
  return static_cast<int8_t>(static_cast<int32_t>(RoundHalfAwayFromZero(y)) + zero_point);
}

// QuantizeOne with halves rounded to even (std::nearbyint in the default rounding mode).
static inline int8_t QuantizeOneHalfEven(float x, float inv_scale, int32_t zero_point,
                                         int32_t qmin, int32_t qmax) {
  float y = x * inv_scale;
  if (y != y) y = 0.0f;
  const float lo = static_cast<float>(qmin - zero_point);
  const float hi = static_cast<float>(qmax - zero_point);
  y = y < lo ? lo : (y > hi ? hi : y);
  return static_cast<int8_t>(static_cast<int32_t>(std::nearbyint(y)) + zero_point);
}

static inline float DequantizeOne(int8_t q, float scale, int32_t zero_point) {
  return scale * static_cast<float>(static_cast<int32_t>(q) - zero_point);
}

}  // namespace litequant
