// NEON hybrid kernels (f32_qd8_hybrid__neon): row min/max and quantization 16 floats per step,
// epilogues 4 outputs per step, scalar tails with the shared rules of hybrid.h.
#include <arm_neon.h>

#include <cstring>
#include <limits>

#include "litequant/hybrid.h"

namespace litequant {
namespace {

// FMINNM/FMAXNM return the number when the other operand is a quiet NaN: NaN is skipped.
void MinMax(size_t n, const float* x, float* min_value, float* max_value) {
  const float inf = std::numeric_limits<float>::infinity();
  float32x4_t lo[4], hi[4];
  for (int v = 0; v < 4; ++v) {
    lo[v] = vdupq_n_f32(inf);
    hi[v] = vdupq_n_f32(-inf);
  }
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int v = 0; v < 4; ++v) {
      const float32x4_t xv = vld1q_f32(x + i + 4 * v);
      lo[v] = vminnmq_f32(lo[v], xv);
      hi[v] = vmaxnmq_f32(hi[v], xv);
    }
  }
  for (; i + 4 <= n; i += 4) {
    const float32x4_t xv = vld1q_f32(x + i);
    lo[0] = vminnmq_f32(lo[0], xv);
    hi[0] = vmaxnmq_f32(hi[0], xv);
  }
  float rl = vminnmvq_f32(vminnmq_f32(vminnmq_f32(lo[0], lo[1]), vminnmq_f32(lo[2], lo[3])));
  float rh = vmaxnmvq_f32(vmaxnmq_f32(vmaxnmq_f32(hi[0], hi[1]), vmaxnmq_f32(hi[2], hi[3])));
  for (; i < n; ++i) {
    if (x[i] < rl) rl = x[i];
    if (x[i] > rh) rh = x[i];
  }
  *min_value = rl;
  *max_value = rh;
}

// clamp(round_half_away(offset + x * inv)) as int32 (FCVTAS rounds ties away), NaN products 0.
static inline int32x4_t QuantizeStep(float32x4_t x, float32x4_t inv, float32x4_t offset,
                                     float32x4_t lo, float32x4_t hi) {
  float32x4_t t = vmulq_f32(x, inv);
  t = vbslq_f32(vceqq_f32(t, t), t, vdupq_n_f32(0.0f));
  float32x4_t y = vaddq_f32(offset, t);
  y = vminq_f32(vmaxq_f32(y, lo), hi);
  return vcvtaq_s32_f32(y);
}

template <bool kAsymmetric>
void QuantizeRow(size_t n, const float* x, int8_t* q, float inv_scale, float offset_f) {
  const float32x4_t inv = vdupq_n_f32(inv_scale);
  const float32x4_t off = vdupq_n_f32(kAsymmetric ? offset_f : 0.0f);
  const float32x4_t lo = vdupq_n_f32(kAsymmetric ? -128.0f : -127.0f);
  const float32x4_t hi = vdupq_n_f32(127.0f);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const int32x4_t v0 = QuantizeStep(vld1q_f32(x + i), inv, off, lo, hi);
    const int32x4_t v1 = QuantizeStep(vld1q_f32(x + i + 4), inv, off, lo, hi);
    const int32x4_t v2 = QuantizeStep(vld1q_f32(x + i + 8), inv, off, lo, hi);
    const int32x4_t v3 = QuantizeStep(vld1q_f32(x + i + 12), inv, off, lo, hi);
    const int16x8_t a = vcombine_s16(vmovn_s32(v0), vmovn_s32(v1));
    const int16x8_t b = vcombine_s16(vmovn_s32(v2), vmovn_s32(v3));
    vst1q_s8(q + i, vcombine_s8(vmovn_s16(a), vmovn_s16(b)));
  }
  for (; i < n; ++i) {
    q[i] = kAsymmetric ? HybridQuantizeAsymmetricOne(x[i], inv_scale, offset_f)
                       : HybridQuantizeSymmetricOne(x[i], inv_scale);
  }
}

void QuantizeRowAsymmetric(size_t n, const float* x, int8_t* q, float* scale, int32_t* offset) {
  float lo, hi;
  MinMax(n, x, &lo, &hi);
  if (!HybridAsymmetricParams(lo, hi, scale, offset)) {
    std::memset(q, 0, n);
    return;
  }
  QuantizeRow<true>(n, x, q, 1.0f / *scale, static_cast<float>(*offset));
}

void QuantizeRowSymmetric(size_t n, const float* x, int8_t* q, float* scale) {
  float lo, hi, inv;
  MinMax(n, x, &lo, &hi);
  if (!HybridSymmetricParams(lo, hi, scale, &inv)) {
    std::memset(q, 0, n);
    return;
  }
  QuantizeRow<false>(n, x, q, inv, 0.0f);
}

void FcEpilogue(size_t n, const int32_t* acc, const int32_t* column_sums, int32_t offset,
                float row_scale, const float* channel_scale, const float* bias, float min,
                float max, float* y) {
  const int32x4_t off = vdupq_n_s32(offset);
  const float32x4_t rs = vdupq_n_f32(row_scale);
  const float32x4_t lo = vdupq_n_f32(min);
  const float32x4_t hi = vdupq_n_f32(max);
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const int32x4_t corrected = vmlsq_s32(vld1q_s32(acc + j), off, vld1q_s32(column_sums + j));
    const float32x4_t f = vcvtq_f32_s32(corrected);
    const float32x4_t s =
        channel_scale != nullptr ? vmulq_f32(vld1q_f32(channel_scale + j), rs) : rs;
    const float32x4_t b = bias != nullptr ? vld1q_f32(bias + j) : vdupq_n_f32(0.0f);
    float32x4_t v = vaddq_f32(b, vmulq_f32(f, s));
    // Comparisons are false for NaN, which therefore passes through, as in the reference.
    v = vbslq_f32(vcltq_f32(v, lo), lo, v);
    v = vbslq_f32(vcgtq_f32(v, hi), hi, v);
    vst1q_f32(y + j, v);
  }
  for (; j < n; ++j) {
    const float s = channel_scale != nullptr ? channel_scale[j] * row_scale : row_scale;
    y[j] = HybridFcOne(acc[j], column_sums[j], offset, s, bias != nullptr ? bias[j] : 0.0f, min,
                       max);
  }
}

void BmmEpilogue(size_t n, const int32_t* acc, const int32_t* column_sums, int32_t offset,
                 float row_scale, const float* channel_scale, float* y) {
  const float32x4_t off = vdupq_n_f32(static_cast<float>(offset));
  const float32x4_t rs = vdupq_n_f32(row_scale);
  const float32x4_t tmin = vdupq_n_f32(-2147483648.0f);
  const float32x4_t tmax = vdupq_n_f32(2147483520.0f);
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float32x4_t a = vcvtq_f32_s32(vld1q_s32(acc + j));
    const float32x4_t cs = vcvtq_f32_s32(vld1q_s32(column_sums + j));
    float32x4_t t = vsubq_f32(a, vmulq_f32(cs, off));
    t = vminq_f32(vmaxq_f32(t, tmin), tmax);
    const float32x4_t total = vcvtq_f32_s32(vcvtq_s32_f32(t));  // FCVTZS truncates
    const float32x4_t s =
        channel_scale != nullptr ? vmulq_f32(rs, vld1q_f32(channel_scale + j)) : rs;
    vst1q_f32(y + j, vaddq_f32(vdupq_n_f32(0.0f), vmulq_f32(s, total)));
  }
  for (; j < n; ++j) {
    const float s = channel_scale != nullptr ? row_scale * channel_scale[j] : row_scale;
    y[j] = HybridBmmOne(acc[j], column_sums[j], offset, s);
  }
}

}  // namespace

extern const HybridKernels kHybridNeon = {QuantizeRowAsymmetric, QuantizeRowSymmetric, FcEpilogue,
                                          BmmEpilogue, "f32_qd8_hybrid__neon"};

}  // namespace litequant
