// The qs8 GEMM epilogue on NEON, for tiles whose rows are NV int32x4 vectors (4 NV columns).
// Included by the neon and neondot kernels; everything is in an anonymous namespace so each
// translation unit keeps its own copy compiled with its own flags (no ODR sharing).
#pragma once

#include <arm_neon.h>

#include <cstring>

#include "litequant/qs8_gemm_kernels.h"

namespace litequant {
namespace {

// fp32 rule: float(acc) * scale, clamp to [qmin - zp, qmax - zp], round half to even (FCVTNS),
// + zp.
template <size_t NV>
struct Fp32EpilogueNeon {
  float32x4_t scale[NV];
  float32x4_t lo, hi;
  int32x4_t zp;

  Fp32EpilogueNeon(const Qs8GemmEpilogue& ep, size_t nc) {
    if (ep.per_channel) {
      float s[4 * NV] = {};
      std::memcpy(s, ep.scale, nc * sizeof(float));
      for (size_t v = 0; v < NV; ++v) scale[v] = vld1q_f32(s + 4 * v);
    } else {
      for (size_t v = 0; v < NV; ++v) scale[v] = vdupq_n_f32(ep.scale[0]);
    }
    lo = vdupq_n_f32(static_cast<float>(ep.qmin - ep.output_zero_point));
    hi = vdupq_n_f32(static_cast<float>(ep.qmax - ep.output_zero_point));
    zp = vdupq_n_s32(ep.output_zero_point);
  }

  int32x4_t Apply(int32x4_t acc, size_t v) const {
    float32x4_t y = vmulq_f32(vcvtq_f32_s32(acc), scale[v]);
    y = vminq_f32(vmaxq_f32(y, lo), hi);
    return vaddq_s32(vcvtnq_s32_f32(y), zp);
  }
};

// TFLite's MultiplyByQuantizedMultiplier, exact: SQRDMULH is gemmlowp's
// SaturatingRoundingDoublingHighMul (saturating only for INT32_MIN * INT32_MIN, which a
// multiplier >= 0 never hits); RoundingDivideByPOT is a rounding shift (half up) after
// subtracting 1 from negative values, which turns half up into half away from zero.
template <size_t NV>
struct FixedPointEpilogueNeon {
  int32x4_t multiplier[NV], left[NV], neg_right[NV];
  int32x4_t zp, qmin, qmax;

  FixedPointEpilogueNeon(const Qs8GemmEpilogue& ep, size_t nc) {
    int32_t m[4 * NV], l[4 * NV], r[4 * NV];
    for (size_t j = 0; j < 4 * NV; ++j) {
      QuantizedMultiplier q = ep.multiplier[0];
      if (ep.per_channel) q = j < nc ? ep.multiplier[j] : QuantizedMultiplier{};
      m[j] = q.multiplier;
      l[j] = q.shift > 0 ? q.shift : 0;
      r[j] = q.shift > 0 ? 0 : q.shift;  // <= 0: vrshl shifts right by -r
    }
    for (size_t v = 0; v < NV; ++v) {
      multiplier[v] = vld1q_s32(m + 4 * v);
      left[v] = vld1q_s32(l + 4 * v);
      neg_right[v] = vld1q_s32(r + 4 * v);
    }
    zp = vdupq_n_s32(ep.output_zero_point);
    qmin = vdupq_n_s32(ep.qmin);
    qmax = vdupq_n_s32(ep.qmax);
  }

  int32x4_t Apply(int32x4_t acc, size_t v) const {
    const int32x4_t x = vshlq_s32(acc, left[v]);  // wraps, like the scalar uint32 shift
    int32x4_t y = vqrdmulhq_s32(x, multiplier[v]);
    // -1 where y < 0 and the shift is non-zero (the sign bit of y & neg_right).
    const int32x4_t fixup = vshrq_n_s32(vandq_s32(y, neg_right[v]), 31);
    y = vrshlq_s32(vqaddq_s32(y, fixup), neg_right[v]);
    y = vaddq_s32(y, zp);
    return vminq_s32(vmaxq_s32(y, qmin), qmax);
  }
};

// Requantizes and stores the first nc columns of rows acc[i][0..NV).
template <size_t MR, size_t NV, typename Epilogue>
inline void RequantizeRows(const int32x4_t (&acc)[MR][NV], const Epilogue& e, int8_t* c,
                           size_t ldc, size_t nc) {
  for (size_t i = 0; i < MR; ++i) {
    int8_t row[4 * NV + 4];
    for (size_t v = 0; v < NV; v += 2) {
      const int16x4_t h0 = vqmovn_s32(e.Apply(acc[i][v], v));
      const int16x4_t h1 = v + 1 < NV ? vqmovn_s32(e.Apply(acc[i][v + 1], v + 1)) : h0;
      vst1_s8(row + 4 * v, vqmovn_s16(vcombine_s16(h0, h1)));
    }
    std::memcpy(c + i * ldc, row, nc);
  }
}

template <size_t MR, size_t NV>
inline void RequantizeRows(const int32x4_t (&acc)[MR][NV], const Qs8GemmEpilogue& ep, int8_t* c,
                           size_t ldc, size_t nc) {
  if (ep.mode == RequantMode::kFp32) {
    RequantizeRows<MR, NV>(acc, Fp32EpilogueNeon<NV>(ep, nc), c, ldc, nc);
  } else {
    RequantizeRows<MR, NV>(acc, FixedPointEpilogueNeon<NV>(ep, nc), c, ldc, nc);
  }
}

template <size_t MR, size_t NV>
inline void StoreAccRows(const int32x4_t (&acc)[MR][NV], int32_t* out, size_t ldout, size_t nc) {
  for (size_t i = 0; i < MR; ++i) {
    int32_t row[4 * NV];
    for (size_t v = 0; v < NV; ++v) vst1q_s32(row + 4 * v, acc[i][v]);
    std::memcpy(out + i * ldout, row, nc * sizeof(int32_t));
  }
}

}  // namespace
}  // namespace litequant
