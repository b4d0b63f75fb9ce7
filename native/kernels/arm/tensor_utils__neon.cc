// NEON min/max, histogram and float16 conversion kernels (FCVTN/FCVTL for float16); scalar tails
// by the rules of f16.h.
#include <arm_neon.h>

#include "litequant/f16.h"
#include "litequant/tensor_utils.h"

namespace litequant {
namespace {

// NaN lanes are replaced by the identity before FMIN/FMAX (which would propagate them; FMINNM
// would not skip signaling NaNs). An infinity was seen exactly when the running min is -inf or
// the running max is +inf.
void f32_minmax_u16__neon(size_t n, const float* x, F32MinMax* acc) {
  const float inf = __builtin_inff();
  const float32x4_t pinf = vdupq_n_f32(inf);
  const float32x4_t ninf = vdupq_n_f32(-inf);
  float32x4_t mn0 = pinf, mn1 = pinf, mn2 = pinf, mn3 = pinf;
  float32x4_t mx0 = ninf, mx1 = ninf, mx2 = ninf, mx3 = ninf;
  uint32x4_t ordered = vdupq_n_u32(~0u);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const float32x4_t x0 = vld1q_f32(x + i);
    const float32x4_t x1 = vld1q_f32(x + i + 4);
    const float32x4_t x2 = vld1q_f32(x + i + 8);
    const float32x4_t x3 = vld1q_f32(x + i + 12);
    const uint32x4_t o0 = vceqq_f32(x0, x0);
    const uint32x4_t o1 = vceqq_f32(x1, x1);
    const uint32x4_t o2 = vceqq_f32(x2, x2);
    const uint32x4_t o3 = vceqq_f32(x3, x3);
    mn0 = vminq_f32(mn0, vbslq_f32(o0, x0, pinf));
    mn1 = vminq_f32(mn1, vbslq_f32(o1, x1, pinf));
    mn2 = vminq_f32(mn2, vbslq_f32(o2, x2, pinf));
    mn3 = vminq_f32(mn3, vbslq_f32(o3, x3, pinf));
    mx0 = vmaxq_f32(mx0, vbslq_f32(o0, x0, ninf));
    mx1 = vmaxq_f32(mx1, vbslq_f32(o1, x1, ninf));
    mx2 = vmaxq_f32(mx2, vbslq_f32(o2, x2, ninf));
    mx3 = vmaxq_f32(mx3, vbslq_f32(o3, x3, ninf));
    ordered = vandq_u32(ordered, vandq_u32(vandq_u32(o0, o1), vandq_u32(o2, o3)));
  }
  for (; i + 4 <= n; i += 4) {
    const float32x4_t v = vld1q_f32(x + i);
    const uint32x4_t o = vceqq_f32(v, v);
    mn0 = vminq_f32(mn0, vbslq_f32(o, v, pinf));
    mx0 = vmaxq_f32(mx0, vbslq_f32(o, v, ninf));
    ordered = vandq_u32(ordered, o);
  }
  F32MinMax local;
  local.min = vminvq_f32(vminq_f32(vminq_f32(mn0, mn1), vminq_f32(mn2, mn3)));
  local.max = vmaxvq_f32(vmaxq_f32(vmaxq_f32(mx0, mx1), vmaxq_f32(mx2, mx3)));
  local.saw_nan = vminvq_u32(ordered) == 0;
  for (; i < n; ++i) MinMaxStep(x[i], &local);
  local.saw_inf = local.min == -inf || local.max == inf;
  if (local.min < acc->min) acc->min = local.min;
  if (local.max > acc->max) acc->max = local.max;
  acc->saw_nan = acc->saw_nan || local.saw_nan;
  acc->saw_inf = acc->saw_inf || local.saw_inf;
  MinMaxNormalizeZeros(acc);
}

void f32_histogram__neon(size_t n, const float* x, float lo, float scale, uint32_t bins,
                         uint64_t* counts) {
  const float32x4_t vlo = vdupq_n_f32(lo);
  const float32x4_t vscale = vdupq_n_f32(scale);
  const float32x4_t vlast = vdupq_n_f32(static_cast<float>(bins - 1));
  const float32x4_t zero = vdupq_n_f32(0.0f);
  int32_t idx[4];
  uint32_t ord[4];
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t v = vld1q_f32(x + i);
    float32x4_t t = vrndmq_f32(vmulq_f32(vsubq_f32(v, vlo), vscale));  // floor
    t = vminq_f32(vmaxq_f32(t, zero), vlast);  // NaN lanes stay NaN; they are skipped below
    vst1q_s32(idx, vcvtq_s32_f32(t));
    vst1q_u32(ord, vceqq_f32(v, v));
    for (int j = 0; j < 4; ++j) {
      if (ord[j] != 0) ++counts[idx[j]];
    }
  }
  for (; i < n; ++i) {
    const int64_t b = HistogramBin(x[i], lo, scale, bins);
    if (b >= 0) ++counts[b];
  }
}

void f32_f16_cvt_u8__neon(size_t n, const float* x, uint16_t* y) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x4_t h0 = vcvt_f16_f32(vld1q_f32(x + i));
    const float16x4_t h1 = vcvt_f16_f32(vld1q_f32(x + i + 4));
    vst1q_u16(y + i, vcombine_u16(vreinterpret_u16_f16(h0), vreinterpret_u16_f16(h1)));
  }
  for (; i < n; ++i) y[i] = F32ToF16One(x[i]);
}

void f16_f32_cvt_u8__neon(size_t n, const uint16_t* x, float* y) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint16x8_t h = vld1q_u16(x + i);
    vst1q_f32(y + i, vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(h))));
    vst1q_f32(y + i + 4, vcvt_f32_f16(vreinterpret_f16_u16(vget_high_u16(h))));
  }
  for (; i < n; ++i) y[i] = F16ToF32One(x[i]);
}

}  // namespace

extern const TensorUtilsKernels kTensorUtilsNeon = {f32_minmax_u16__neon, f32_histogram__neon,
                                                    f32_f16_cvt_u8__neon, f16_f32_cvt_u8__neon};

}  // namespace litequant
