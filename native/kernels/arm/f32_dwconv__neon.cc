// NEON float32 depthwise micro-kernel, channel block 4: four blocks (16 channels) per step, then
// single blocks, then a partial block through a zero-filled copy (nothing read past `channels`).
#include <arm_neon.h>

#include "litequant/f32_conv.h"

namespace litequant {
namespace {

constexpr size_t kCb = 4;

inline float32x4_t Clamp(float32x4_t acc, float32x4_t lo, float32x4_t hi) {
  return vminq_f32(vmaxq_f32(acc, lo), hi);  // NaN passes
}

void f32_dwconv_c4__neon(size_t channels, size_t pixels, size_t taps, const float* const* input,
                         const float* packed, float* output, size_t output_stride, float min,
                         float max) {
  const size_t block = (taps + 1) * kCb;
  const float32x4_t lo = vdupq_n_f32(min);
  const float32x4_t hi = vdupq_n_f32(max);
  for (size_t p = 0; p < pixels; ++p) {
    const float* const* in = input + p * taps;
    float* out = output + p * output_stride;
    const float* w = packed;
    size_t c = 0;
    for (; c + 4 * kCb <= channels; c += 4 * kCb, w += 4 * block) {
      float32x4_t acc0 = vld1q_f32(w);
      float32x4_t acc1 = vld1q_f32(w + block);
      float32x4_t acc2 = vld1q_f32(w + 2 * block);
      float32x4_t acc3 = vld1q_f32(w + 3 * block);
      const float* wt = w + kCb;
      for (size_t t = 0; t < taps; ++t, wt += kCb) {
        const float* x = in[t] + c;
        acc0 = vfmaq_f32(acc0, vld1q_f32(x), vld1q_f32(wt));
        acc1 = vfmaq_f32(acc1, vld1q_f32(x + 4), vld1q_f32(wt + block));
        acc2 = vfmaq_f32(acc2, vld1q_f32(x + 8), vld1q_f32(wt + 2 * block));
        acc3 = vfmaq_f32(acc3, vld1q_f32(x + 12), vld1q_f32(wt + 3 * block));
      }
      vst1q_f32(out + c, Clamp(acc0, lo, hi));
      vst1q_f32(out + c + 4, Clamp(acc1, lo, hi));
      vst1q_f32(out + c + 8, Clamp(acc2, lo, hi));
      vst1q_f32(out + c + 12, Clamp(acc3, lo, hi));
    }
    for (; c + kCb <= channels; c += kCb, w += block) {
      float32x4_t acc = vld1q_f32(w);
      const float* wt = w + kCb;
      for (size_t t = 0; t < taps; ++t, wt += kCb) {
        acc = vfmaq_f32(acc, vld1q_f32(in[t] + c), vld1q_f32(wt));
      }
      vst1q_f32(out + c, Clamp(acc, lo, hi));
    }
    if (c < channels) {
      const size_t rest = channels - c;
      float32x4_t acc = vld1q_f32(w);
      const float* wt = w + kCb;
      for (size_t t = 0; t < taps; ++t, wt += kCb) {
        float x[kCb] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (size_t j = 0; j < rest; ++j) x[j] = in[t][c + j];
        acc = vfmaq_f32(acc, vld1q_f32(x), vld1q_f32(wt));
      }
      float y[kCb];
      vst1q_f32(y, Clamp(acc, lo, hi));
      for (size_t j = 0; j < rest; ++j) out[c + j] = y[j];
    }
  }
}

}  // namespace

extern const F32DwconvKernels kF32DwconvNeon = {f32_dwconv_c4__neon, kCb, "f32_dwconv_c4__neon"};

}  // namespace litequant
