// NEON quantize kernels: 8 elements per step; FRINTA rounds half away from zero natively.
#include <arm_neon.h>

#include "litequant/quantize.h"
#include "litequant/rounding.h"

namespace litequant {
namespace {

// kHalfEven: vcvtnq rounds to nearest even; otherwise vrndaq rounds halves away from zero.
template <bool kHalfEven = false>
inline int32x4_t QuantizeStep(float32x4_t x, float32x4_t inv, float32x4_t lo, float32x4_t hi,
                              int32x4_t zp) {
  float32x4_t y = vmulq_f32(x, inv);
  y = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(y), vceqq_f32(y, y)));  // NaN -> 0
  y = vminq_f32(vmaxq_f32(y, lo), hi);
  return vaddq_s32(kHalfEven ? vcvtnq_s32_f32(y) : vcvtq_s32_f32(vrndaq_f32(y)), zp);
}

inline void StoreInt8x8(int8_t* q, int32x4_t a, int32x4_t b) {
  vst1_s8(q, vqmovn_s16(vcombine_s16(vqmovn_s32(a), vqmovn_s32(b))));
}

void QuantizeTensor(size_t n, const float* x, int8_t* q, float inv_scale, int32_t zero_point,
                    int32_t qmin, int32_t qmax) {
  const float32x4_t inv = vdupq_n_f32(inv_scale);
  const float32x4_t lo = vdupq_n_f32(static_cast<float>(qmin - zero_point));
  const float32x4_t hi = vdupq_n_f32(static_cast<float>(qmax - zero_point));
  const int32x4_t zp = vdupq_n_s32(zero_point);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    StoreInt8x8(q + i, QuantizeStep(vld1q_f32(x + i), inv, lo, hi, zp),
                QuantizeStep(vld1q_f32(x + i + 4), inv, lo, hi, zp));
  }
  for (; i < n; ++i) q[i] = QuantizeOne(x[i], inv_scale, zero_point, qmin, qmax);
}

void QuantizeTensorHalfEven(size_t n, const float* x, int8_t* q, float inv_scale,
                            int32_t zero_point, int32_t qmin, int32_t qmax) {
  const float32x4_t inv = vdupq_n_f32(inv_scale);
  const float32x4_t lo = vdupq_n_f32(static_cast<float>(qmin - zero_point));
  const float32x4_t hi = vdupq_n_f32(static_cast<float>(qmax - zero_point));
  const int32x4_t zp = vdupq_n_s32(zero_point);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    StoreInt8x8(q + i, QuantizeStep<true>(vld1q_f32(x + i), inv, lo, hi, zp),
                QuantizeStep<true>(vld1q_f32(x + i + 4), inv, lo, hi, zp));
  }
  for (; i < n; ++i) q[i] = QuantizeOneHalfEven(x[i], inv_scale, zero_point, qmin, qmax);
}

void QuantizeChannelwise(size_t n, const float* x, int8_t* q, const float* inv_scale,
                         const int32_t* zero_point, int32_t qmin, int32_t qmax) {
  const int32x4_t vqmin = vdupq_n_s32(qmin);
  const int32x4_t vqmax = vdupq_n_s32(qmax);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    int32x4_t out[2];
    for (int h = 0; h < 2; ++h) {
      const size_t j = i + 4 * h;
      const int32x4_t zp = vld1q_s32(zero_point + j);
      const float32x4_t lo = vcvtq_f32_s32(vsubq_s32(vqmin, zp));
      const float32x4_t hi = vcvtq_f32_s32(vsubq_s32(vqmax, zp));
      out[h] = QuantizeStep(vld1q_f32(x + j), vld1q_f32(inv_scale + j), lo, hi, zp);
    }
    StoreInt8x8(q + i, out[0], out[1]);
  }
  for (; i < n; ++i) q[i] = QuantizeOne(x[i], inv_scale[i], zero_point[i], qmin, qmax);
}

void DequantizeTensor(size_t n, const int8_t* q, float* x, float scale, int32_t zero_point) {
  const float32x4_t s = vdupq_n_f32(scale);
  const int32x4_t zp = vdupq_n_s32(zero_point);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const int16x8_t w = vmovl_s8(vld1_s8(q + i));
    const int32x4_t a = vsubq_s32(vmovl_s16(vget_low_s16(w)), zp);
    const int32x4_t b = vsubq_s32(vmovl_s16(vget_high_s16(w)), zp);
    vst1q_f32(x + i, vmulq_f32(s, vcvtq_f32_s32(a)));
    vst1q_f32(x + i + 4, vmulq_f32(s, vcvtq_f32_s32(b)));
  }
  for (; i < n; ++i) x[i] = DequantizeOne(q[i], scale, zero_point);
}

void DequantizeChannelwise(size_t n, const int8_t* q, float* x, const float* scale,
                           const int32_t* zero_point) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const int16x8_t w = vmovl_s8(vld1_s8(q + i));
    const int32x4_t a = vsubq_s32(vmovl_s16(vget_low_s16(w)), vld1q_s32(zero_point + i));
    const int32x4_t b = vsubq_s32(vmovl_s16(vget_high_s16(w)), vld1q_s32(zero_point + i + 4));
    vst1q_f32(x + i, vmulq_f32(vld1q_f32(scale + i), vcvtq_f32_s32(a)));
    vst1q_f32(x + i + 4, vmulq_f32(vld1q_f32(scale + i + 4), vcvtq_f32_s32(b)));
  }
  for (; i < n; ++i) x[i] = DequantizeOne(q[i], scale[i], zero_point[i]);
}

}  // namespace

extern const QuantizeKernels kQs8QuantizeNeon = {QuantizeTensor, QuantizeTensorHalfEven,
                                                 QuantizeChannelwise,
                                                 DequantizeTensor, DequantizeChannelwise};

}  // namespace litequant
