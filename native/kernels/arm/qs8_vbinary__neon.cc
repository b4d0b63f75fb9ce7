// NEON qs8 ADD/SUB/MUL: 16 elements per step widened to four int32x4, scalar tails with the
// shared one-element rules (vbinary.h).
//
// ADD: vmlaq_s32 wraps like the reference's int32 sums; vshlq_s32 by -shift is an arithmetic,
// truncating right shift (round half up after the bias's 2^(shift-1)). The shifted sum is far
// inside int32 (shift >= 13), so the zero point is added there; saturating narrows then clamp.
// MUL: (a - zp_a) and (b - zp_b) are exact in int16 (vsubl), their product in int32 (vmull) and
// in float; vcvtnq rounds half to even, as RequantizeFp32's nearbyint.
#include <arm_neon.h>

#include "litequant/vbinary.h"

namespace litequant {
namespace {

// Four int32x4 (elements 0-15 in order) to 16 saturated int8.
inline int8x16_t Narrow16(int32x4_t v0, int32x4_t v1, int32x4_t v2, int32x4_t v3) {
  const int16x8_t lo = vcombine_s16(vqmovn_s32(v0), vqmovn_s32(v1));
  const int16x8_t hi = vcombine_s16(vqmovn_s32(v2), vqmovn_s32(v3));
  return vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi));
}

struct Widened {
  int32x4_t v[4];
  explicit Widened(int8x16_t x) {
    const int16x8_t lo = vmovl_s8(vget_low_s8(x));
    const int16x8_t hi = vmovl_s8(vget_high_s8(x));
    v[0] = vmovl_s16(vget_low_s16(lo));
    v[1] = vmovl_s16(vget_high_s16(lo));
    v[2] = vmovl_s16(vget_low_s16(hi));
    v[3] = vmovl_s16(vget_high_s16(hi));
  }
};

struct AddConstants {
  int32x4_t bias, right_shift, zero_point;
  int32_t a_multiplier, b_multiplier;
  int8x16_t qmin, qmax;
  explicit AddConstants(const Qs8AddParams& p)
      : bias(vdupq_n_s32(p.bias)),
        right_shift(vdupq_n_s32(-static_cast<int32_t>(p.shift))),
        zero_point(vdupq_n_s32(p.output_zero_point)),
        a_multiplier(p.a_multiplier),
        b_multiplier(p.b_multiplier),
        qmin(vdupq_n_s8(static_cast<int8_t>(p.qmin))),
        qmax(vdupq_n_s8(static_cast<int8_t>(p.qmax))) {}

  int32x4_t Finish(int32x4_t acc) const {
    return vaddq_s32(vshlq_s32(acc, right_shift), zero_point);
  }
  int8x16_t Store(const int32x4_t (&acc)[4]) const {
    const int8x16_t y = Narrow16(Finish(acc[0]), Finish(acc[1]), Finish(acc[2]), Finish(acc[3]));
    return vminq_s8(vmaxq_s8(y, qmin), qmax);
  }
};

void VAdd(size_t n, const int8_t* a, const int8_t* b, int8_t* out, const Qs8AddParams& p) {
  const AddConstants k(p);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const Widened wa(vld1q_s8(a + i));
    const Widened wb(vld1q_s8(b + i));
    int32x4_t acc[4];
    for (int j = 0; j < 4; ++j) {
      acc[j] = vmlaq_n_s32(vmlaq_n_s32(k.bias, wa.v[j], k.a_multiplier), wb.v[j], k.b_multiplier);
    }
    vst1q_s8(out + i, k.Store(acc));
  }
  for (; i < n; ++i) out[i] = Qs8AddOne(a[i], b[i], p);
}

void VAddC(size_t n, const int8_t* a, int8_t* out, const Qs8AddParams& p) {
  const AddConstants k(p);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const Widened wa(vld1q_s8(a + i));
    int32x4_t acc[4];
    for (int j = 0; j < 4; ++j) acc[j] = vmlaq_n_s32(k.bias, wa.v[j], k.a_multiplier);
    vst1q_s8(out + i, k.Store(acc));
  }
  for (; i < n; ++i) out[i] = Qs8AddOne(a[i], 0, p);
}

struct MulConstants {
  float32x4_t lo, hi;
  float scale;
  int32x4_t zero_point;
  explicit MulConstants(const Qs8MulParams& p)
      : lo(vdupq_n_f32(static_cast<float>(p.qmin - p.output_zero_point))),
        hi(vdupq_n_f32(static_cast<float>(p.qmax - p.output_zero_point))),
        scale(p.scale),
        zero_point(vdupq_n_s32(p.output_zero_point)) {}

  // No NaN can occur here, so vmax/vmin equal the reference's compare-and-select clamp.
  int32x4_t Requantize(int32x4_t acc) const {
    float32x4_t y = vmulq_n_f32(vcvtq_f32_s32(acc), scale);
    y = vminq_f32(vmaxq_f32(y, lo), hi);
    return vaddq_s32(vcvtnq_s32_f32(y), zero_point);
  }
};

// (x - zp) for 16 int8 values as two int16x8.
inline void Centered(int8x16_t x, int8x8_t zp, int16x8_t* lo, int16x8_t* hi) {
  *lo = vsubl_s8(vget_low_s8(x), zp);
  *hi = vsubl_s8(vget_high_s8(x), zp);
}

inline int8x16_t MulStore(const MulConstants& k, int16x8_t a_lo, int16x8_t a_hi, int16x8_t b_lo,
                          int16x8_t b_hi) {
  return Narrow16(k.Requantize(vmull_s16(vget_low_s16(a_lo), vget_low_s16(b_lo))),
                  k.Requantize(vmull_s16(vget_high_s16(a_lo), vget_high_s16(b_lo))),
                  k.Requantize(vmull_s16(vget_low_s16(a_hi), vget_low_s16(b_hi))),
                  k.Requantize(vmull_s16(vget_high_s16(a_hi), vget_high_s16(b_hi))));
}

void VMul(size_t n, const int8_t* a, const int8_t* b, int8_t* out, const Qs8MulParams& p) {
  const MulConstants k(p);
  const int8x8_t za = vdup_n_s8(static_cast<int8_t>(p.a_zero_point));
  const int8x8_t zb = vdup_n_s8(static_cast<int8_t>(p.b_zero_point));
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    int16x8_t a_lo, a_hi, b_lo, b_hi;
    Centered(vld1q_s8(a + i), za, &a_lo, &a_hi);
    Centered(vld1q_s8(b + i), zb, &b_lo, &b_hi);
    vst1q_s8(out + i, MulStore(k, a_lo, a_hi, b_lo, b_hi));
  }
  for (; i < n; ++i) {
    out[i] = Qs8MulOne((int32_t{a[i]} - p.a_zero_point) * (int32_t{b[i]} - p.b_zero_point), p);
  }
}

void VMulC(size_t n, const int8_t* a, int32_t c, int8_t* out, const Qs8MulParams& p) {
  const MulConstants k(p);
  const int8x8_t za = vdup_n_s8(static_cast<int8_t>(p.a_zero_point));
  const int16x8_t vc = vdupq_n_s16(static_cast<int16_t>(c));  // c in [-255, 255]
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    int16x8_t a_lo, a_hi;
    Centered(vld1q_s8(a + i), za, &a_lo, &a_hi);
    vst1q_s8(out + i, MulStore(k, a_lo, a_hi, vc, vc));
  }
  for (; i < n; ++i) out[i] = Qs8MulOne((int32_t{a[i]} - p.a_zero_point) * c, p);
}

}  // namespace

extern const Qs8VBinaryKernels kQs8VBinaryNeon = {"qs8_vbinary__neon", VAdd, VAddC, VMul, VMulC};

}  // namespace litequant
