// AVX2 + FMA float32 depthwise micro-kernel, channel block 8: four blocks (32 channels) per
// step give four independent FMA chains; the last partial block uses masked loads and stores.
#include <immintrin.h>

#include "litequant/f32_conv.h"

namespace litequant {
namespace {

constexpr size_t kCb = 8;

inline __m256i LaneMask(size_t n) {  // lanes [0, n), n in [0, 8]
  alignas(32) static const int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0,  0,  0,  0,  0,  0,  0,  0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - n));
}

// max(lo, acc) / min(hi, acc) return acc when it is NaN.
inline __m256 Clamp(__m256 acc, __m256 lo, __m256 hi) {
  return _mm256_min_ps(hi, _mm256_max_ps(lo, acc));
}

void f32_dwconv_c8__avx2(size_t channels, size_t pixels, size_t taps, const float* const* input,
                         const float* packed, float* output, size_t output_stride, float min,
                         float max) {
  const size_t block = (taps + 1) * kCb;
  const __m256 lo = _mm256_set1_ps(min);
  const __m256 hi = _mm256_set1_ps(max);
  for (size_t p = 0; p < pixels; ++p) {
    const float* const* in = input + p * taps;
    float* out = output + p * output_stride;
    const float* w = packed;
    size_t c = 0;
    for (; c + 4 * kCb <= channels; c += 4 * kCb, w += 4 * block) {
      __m256 acc0 = _mm256_load_ps(w);
      __m256 acc1 = _mm256_load_ps(w + block);
      __m256 acc2 = _mm256_load_ps(w + 2 * block);
      __m256 acc3 = _mm256_load_ps(w + 3 * block);
      const float* wt = w + kCb;
      for (size_t t = 0; t < taps; ++t, wt += kCb) {
        const float* x = in[t] + c;
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x), _mm256_load_ps(wt), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 8), _mm256_load_ps(wt + block), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 16), _mm256_load_ps(wt + 2 * block), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 24), _mm256_load_ps(wt + 3 * block), acc3);
      }
      _mm256_storeu_ps(out + c, Clamp(acc0, lo, hi));
      _mm256_storeu_ps(out + c + 8, Clamp(acc1, lo, hi));
      _mm256_storeu_ps(out + c + 16, Clamp(acc2, lo, hi));
      _mm256_storeu_ps(out + c + 24, Clamp(acc3, lo, hi));
    }
    for (; c + kCb <= channels; c += kCb, w += block) {
      __m256 acc = _mm256_load_ps(w);
      const float* wt = w + kCb;
      for (size_t t = 0; t < taps; ++t, wt += kCb) {
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(in[t] + c), _mm256_load_ps(wt), acc);
      }
      _mm256_storeu_ps(out + c, Clamp(acc, lo, hi));
    }
    if (c < channels) {
      const __m256i mask = LaneMask(channels - c);
      __m256 acc = _mm256_load_ps(w);
      const float* wt = w + kCb;
      for (size_t t = 0; t < taps; ++t, wt += kCb) {
        acc = _mm256_fmadd_ps(_mm256_maskload_ps(in[t] + c, mask), _mm256_load_ps(wt), acc);
      }
      _mm256_maskstore_ps(out + c, mask, Clamp(acc, lo, hi));
    }
  }
}

}  // namespace

extern const F32DwconvKernels kF32DwconvAvx2 = {f32_dwconv_c8__avx2, kCb, "f32_dwconv_c8__avx2"};

}  // namespace litequant
