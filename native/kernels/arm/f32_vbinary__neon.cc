// NEON f32 ADD/SUB/MUL with the activation clamp: 8 floats per step, scalar tails. The clamp is
// compare-and-select (vbslq), not vmaxq/vminq: FMAX returns NaN for a NaN operand either way
// but orders -0.0 below +0.0, where the reference keeps v = -0.0 against a bound of 0.
#include <arm_neon.h>

#include "litequant/vbinary.h"

namespace litequant {
namespace {

struct Add {
  static float32x4_t Apply(float32x4_t x, float32x4_t y) { return vaddq_f32(x, y); }
  static float Apply(float x, float y) { return x + y; }
};
struct Sub {
  static float32x4_t Apply(float32x4_t x, float32x4_t y) { return vsubq_f32(x, y); }
  static float Apply(float x, float y) { return x - y; }
};
struct RSub {  // the constant on the left
  static float32x4_t Apply(float32x4_t x, float32x4_t y) { return vsubq_f32(y, x); }
  static float Apply(float x, float y) { return y - x; }
};
struct Mul {
  static float32x4_t Apply(float32x4_t x, float32x4_t y) { return vmulq_f32(x, y); }
  static float Apply(float x, float y) { return x * y; }
};

inline float32x4_t Clamp(float32x4_t v, float32x4_t lo, float32x4_t hi) {
  v = vbslq_f32(vcltq_f32(v, lo), lo, v);
  return vbslq_f32(vcgtq_f32(v, hi), hi, v);
}

template <typename Op>
void VV(size_t n, const float* a, const float* b, float* out, const F32MinMaxParams& p) {
  const float32x4_t lo = vdupq_n_f32(p.min);
  const float32x4_t hi = vdupq_n_f32(p.max);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4_t v0 = Op::Apply(vld1q_f32(a + i), vld1q_f32(b + i));
    const float32x4_t v1 = Op::Apply(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    vst1q_f32(out + i, Clamp(v0, lo, hi));
    vst1q_f32(out + i + 4, Clamp(v1, lo, hi));
  }
  for (; i < n; ++i) out[i] = F32ClampOne(Op::Apply(a[i], b[i]), p);
}

template <typename Op>
void VC(size_t n, const float* a, float c, float* out, const F32MinMaxParams& p) {
  const float32x4_t lo = vdupq_n_f32(p.min);
  const float32x4_t hi = vdupq_n_f32(p.max);
  const float32x4_t vc = vdupq_n_f32(c);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4_t v0 = Op::Apply(vld1q_f32(a + i), vc);
    const float32x4_t v1 = Op::Apply(vld1q_f32(a + i + 4), vc);
    vst1q_f32(out + i, Clamp(v0, lo, hi));
    vst1q_f32(out + i + 4, Clamp(v1, lo, hi));
  }
  for (; i < n; ++i) out[i] = F32ClampOne(Op::Apply(a[i], c), p);
}

}  // namespace

extern const F32VBinaryKernels kF32VBinaryNeon = {
    "f32_vbinary__neon", VV<Add>, VV<Sub>, VV<Mul>, VC<Add>, VC<Sub>, VC<RSub>, VC<Mul>};

}  // namespace litequant
