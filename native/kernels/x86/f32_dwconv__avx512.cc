// AVX-512F float32 depthwise micro-kernel, channel block 16: four blocks (64 channels) per step,
// then single blocks, then a masked partial block. Same structure as f32_dwconv__avx2.cc.
#include <immintrin.h>

#include "litequant/f32_conv.h"

namespace litequant {
namespace {

constexpr size_t kCb = 16;

inline __mmask16 LaneMask(size_t n) {  // lanes [0, n), n in [0, 16]
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

inline __m512 Clamp(__m512 acc, __m512 lo, __m512 hi) {
  // NaN passes (the second operand wins). The all-lanes mask forms avoid GCC 12's
  // -Wuninitialized on _mm512_undefined_ps.
  const __mmask16 all = 0xFFFF;
  return _mm512_mask_min_ps(acc, all, hi, _mm512_mask_max_ps(acc, all, lo, acc));
}

void f32_dwconv_c16__avx512(size_t channels, size_t pixels, size_t taps,
                            const float* const* input, const float* packed, float* output,
                            size_t output_stride, float min, float max) {
  const size_t block = (taps + 1) * kCb;
  const __m512 lo = _mm512_set1_ps(min);
  const __m512 hi = _mm512_set1_ps(max);
  for (size_t p = 0; p < pixels; ++p) {
    const float* const* in = input + p * taps;
    float* out = output + p * output_stride;
    const float* w = packed;
    size_t c = 0;
    for (; c + 4 * kCb <= channels; c += 4 * kCb, w += 4 * block) {
      __m512 acc0 = _mm512_load_ps(w);
      __m512 acc1 = _mm512_load_ps(w + block);
      __m512 acc2 = _mm512_load_ps(w + 2 * block);
      __m512 acc3 = _mm512_load_ps(w + 3 * block);
      const float* wt = w + kCb;
      for (size_t t = 0; t < taps; ++t, wt += kCb) {
        const float* x = in[t] + c;
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x), _mm512_load_ps(wt), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 16), _mm512_load_ps(wt + block), acc1);
        acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 32), _mm512_load_ps(wt + 2 * block), acc2);
        acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 48), _mm512_load_ps(wt + 3 * block), acc3);
      }
      _mm512_storeu_ps(out + c, Clamp(acc0, lo, hi));
      _mm512_storeu_ps(out + c + 16, Clamp(acc1, lo, hi));
      _mm512_storeu_ps(out + c + 32, Clamp(acc2, lo, hi));
      _mm512_storeu_ps(out + c + 48, Clamp(acc3, lo, hi));
    }
    for (; c + kCb <= channels; c += kCb, w += block) {
      __m512 acc = _mm512_load_ps(w);
      const float* wt = w + kCb;
      for (size_t t = 0; t < taps; ++t, wt += kCb) {
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(in[t] + c), _mm512_load_ps(wt), acc);
      }
      _mm512_storeu_ps(out + c, Clamp(acc, lo, hi));
    }
    if (c < channels) {
      const __mmask16 mask = LaneMask(channels - c);
      __m512 acc = _mm512_load_ps(w);
      const float* wt = w + kCb;
      for (size_t t = 0; t < taps; ++t, wt += kCb) {
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, in[t] + c), _mm512_load_ps(wt), acc);
      }
      _mm512_mask_storeu_ps(out + c, mask, Clamp(acc, lo, hi));
    }
  }
}

}  // namespace

extern const F32DwconvKernels kF32DwconvAvx512 = {f32_dwconv_c16__avx512, kCb,
                                                  "f32_dwconv_c16__avx512"};

}  // namespace litequant
