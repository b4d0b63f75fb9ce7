// NEON LSTM kernels, 4 floats per step: the same algorithms as lstm_f32__avx2.cc (Cody-Waite
// exp with a degree-7 Taylor polynomial, sigmoid = 1 / (1 + exp(-x)), tanh by its odd Taylor
// polynomial below |x| = 0.625 and (1 - u) / (1 + u), u = exp(-2|x|), above), and the hybrid
// recurrent int8 GEMV.
#include <arm_neon.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "litequant/lstm.h"

namespace litequant {
namespace {

inline float32x4_t Fma(float32x4_t acc, float32x4_t a, float32x4_t b) {
  return vfmaq_f32(acc, a, b);  // acc + a * b, fused
}

inline float32x4_t Exp(float32x4_t t) {
  const float32x4_t n = vrndnq_f32(vmulq_n_f32(t, 1.44269504088896341f));
  float32x4_t r = vfmsq_f32(t, n, vdupq_n_f32(0.693359375f));
  r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
  float32x4_t p = vdupq_n_f32(1.0f / 5040.0f);
  p = Fma(vdupq_n_f32(1.0f / 720.0f), p, r);
  p = Fma(vdupq_n_f32(1.0f / 120.0f), p, r);
  p = Fma(vdupq_n_f32(1.0f / 24.0f), p, r);
  p = Fma(vdupq_n_f32(1.0f / 6.0f), p, r);
  p = Fma(vdupq_n_f32(0.5f), p, r);
  p = Fma(vdupq_n_f32(1.0f), p, r);
  p = Fma(vdupq_n_f32(1.0f), p, r);
  const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
  return vmulq_f32(p, vreinterpretq_f32_s32(e));
}

inline float32x4_t Clamp(float32x4_t t) {
  return vmaxq_f32(vminq_f32(t, vdupq_n_f32(88.37f)), vdupq_n_f32(-87.33f));
}

inline float32x4_t KeepNan(float32x4_t x, float32x4_t y) {
  return vbslq_f32(vceqq_f32(x, x), y, x);  // x == x is false only for NaN
}

inline float32x4_t Sigmoid4(float32x4_t x) {
  const float32x4_t one = vdupq_n_f32(1.0f);
  const float32x4_t e = Exp(Clamp(vnegq_f32(x)));
  return KeepNan(x, vdivq_f32(one, vaddq_f32(one, e)));
}

inline float32x4_t Tanh4(float32x4_t x) {
  const float32x4_t a = vabsq_f32(x);
  const float32x4_t x2 = vmulq_f32(x, x);
  float32x4_t q = vdupq_n_f32(0.000590027440945586f);
  q = Fma(vdupq_n_f32(-0.0014558343870513183f), q, x2);
  q = Fma(vdupq_n_f32(0.003592128036572481f), q, x2);
  q = Fma(vdupq_n_f32(-0.008863235529902197f), q, x2);
  q = Fma(vdupq_n_f32(0.021869488536155203f), q, x2);
  q = Fma(vdupq_n_f32(-0.05396825396825397f), q, x2);
  q = Fma(vdupq_n_f32(0.13333333333333333f), q, x2);
  q = Fma(vdupq_n_f32(-0.3333333333333333f), q, x2);
  const float32x4_t small = Fma(x, vmulq_f32(q, x2), x);
  const float32x4_t one = vdupq_n_f32(1.0f);
  const float32x4_t u = Exp(Clamp(vmulq_n_f32(a, -2.0f)));
  const float32x4_t big = vdivq_f32(vsubq_f32(one, u), vaddq_f32(one, u));
  const uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u));
  const float32x4_t signed_big = vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(big), sign));
  return KeepNan(x, vbslq_f32(vcltq_f32(a, vdupq_n_f32(0.625f)), small, signed_big));
}

template <float32x4_t (*F)(float32x4_t)>
void Unary(size_t n, const float* x, float* y) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, F(vld1q_f32(x + i)));
  if (i < n) {
    float buf[4] = {};
    std::memcpy(buf, x + i, (n - i) * sizeof(float));
    vst1q_f32(buf, F(vld1q_f32(buf)));
    std::memcpy(y + i, buf, (n - i) * sizeof(float));
  }
}

void Cell(size_t n, const float* i, const float* f, const float* g, float clip, float* c) {
  const float32x4_t one = vdupq_n_f32(1.0f);
  size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    const float32x4_t fv = vld1q_f32(f + k);
    const float32x4_t in = i == nullptr ? vsubq_f32(one, fv) : vld1q_f32(i + k);
    float32x4_t v = vaddq_f32(vmulq_f32(fv, vld1q_f32(c + k)), vmulq_f32(vld1q_f32(g + k), in));
    if (clip > 0.0f) {
      // FMIN/FMAX propagate NaN.
      v = vmaxq_f32(vminq_f32(v, vdupq_n_f32(clip)), vdupq_n_f32(-clip));
    }
    vst1q_f32(c + k, v);
  }
  for (; k < n; ++k) {
    const float in = i == nullptr ? 1.0f - f[k] : i[k];
    const float fc = f[k] * c[k];
    const float gi = g[k] * in;
    float v = fc + gi;
    if (clip > 0.0f) v = v > clip ? clip : (v < -clip ? -clip : v);
    c[k] = v;
  }
}

// qs8_gemv: 16 weight bytes (4 outputs x 4 k) times the quad of x repeated 4 times (SMULL to
// int16: |w * x| <= 127 * 128), SADALP adds pairs into int32 lanes (two per output); a final
// pairwise add gives the 4 outputs.
void Qs8Gemv(size_t n, size_t k, const int8_t* packed, const int8_t* x, int32_t* acc) {
  const size_t k4 = (k + 3) / 4;
  const size_t groups = (n + kLstmQs8GemvGroup - 1) / kLstmQs8GemvGroup;
  for (size_t g = 0; g < groups; ++g) {
    const int8_t* w = packed + g * k4 * 32;
    int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0;
    for (size_t q = 0; q < k4; ++q) {
      int32_t quad;
      std::memcpy(&quad, x + 4 * q, sizeof(quad));
      const int8x16_t xq = vreinterpretq_s8_s32(vdupq_n_s32(quad));
      const int8x16_t w0 = vld1q_s8(w + q * 32);       // outputs 0-3
      const int8x16_t w1 = vld1q_s8(w + q * 32 + 16);  // outputs 4-7
      a0 = vpadalq_s16(a0, vmull_s8(vget_low_s8(w0), vget_low_s8(xq)));
      a1 = vpadalq_s16(a1, vmull_high_s8(w0, xq));
      a2 = vpadalq_s16(a2, vmull_s8(vget_low_s8(w1), vget_low_s8(xq)));
      a3 = vpadalq_s16(a3, vmull_high_s8(w1, xq));
    }
    int32_t sums[8];
    vst1q_s32(sums, vpaddq_s32(a0, a1));
    vst1q_s32(sums + 4, vpaddq_s32(a2, a3));
    const size_t valid = std::min(kLstmQs8GemvGroup, n - g * kLstmQs8GemvGroup);
    std::memcpy(acc + g * kLstmQs8GemvGroup, sums, valid * sizeof(int32_t));
  }
}

}  // namespace

extern const LstmF32Kernels kLstmF32Neon = {Unary<Sigmoid4>, Unary<Tanh4>, Cell, Qs8Gemv,
                                            "lstm_f32__neon"};

}  // namespace litequant
