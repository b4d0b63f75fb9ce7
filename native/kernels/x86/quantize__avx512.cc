// AVX-512 (F/BW/VL) quantize kernels: 16 elements per step, the tail handled with masks.
#include <immintrin.h>

#include "litequant/quantize.h"

namespace litequant {
namespace {

inline __mmask16 TailMask(size_t remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xFFFF)
                         : static_cast<__mmask16>((1u << remaining) - 1u);
}

// Round-half-away-from-zero for |y| < 2^22 (see quantize__avx2.cc).
inline __m512 RoundHalfAway(__m512 y) {
  const __m512 a = _mm512_abs_ps(y);
  const __m512 f = _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __mmask16 up = _mm512_cmp_ps_mask(_mm512_sub_ps(a, f), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 r = _mm512_mask_add_ps(f, up, f, _mm512_set1_ps(1.0f));
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(y), _mm512_set1_epi32(INT32_MIN));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(r), sign));
}

// kHalfEven: cvtps rounds to nearest even in the default MXCSR mode.
template <bool kHalfEven = false>
inline __m512i QuantizeStep(__m512 x, __m512 inv, __m512 lo, __m512 hi, __m512i zp) {
  __m512 y = _mm512_mul_ps(x, inv);
  y = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y, y, _CMP_ORD_Q), y);
  y = _mm512_min_ps(_mm512_max_ps(y, lo), hi);
  const __m512i r = kHalfEven ? _mm512_cvtps_epi32(y) : _mm512_cvttps_epi32(RoundHalfAway(y));
  return _mm512_add_epi32(r, zp);
}

void QuantizeTensor(size_t n, const float* x, int8_t* q, float inv_scale, int32_t zero_point,
                    int32_t qmin, int32_t qmax) {
  const __m512 inv = _mm512_set1_ps(inv_scale);
  const __m512 lo = _mm512_set1_ps(static_cast<float>(qmin - zero_point));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(qmax - zero_point));
  const __m512i zp = _mm512_set1_epi32(zero_point);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    const __m512i v = QuantizeStep(_mm512_maskz_loadu_ps(m, x + i), inv, lo, hi, zp);
    _mm_mask_storeu_epi8(q + i, m, _mm512_cvtsepi32_epi8(v));
  }
}

void QuantizeTensorHalfEven(size_t n, const float* x, int8_t* q, float inv_scale,
                            int32_t zero_point, int32_t qmin, int32_t qmax) {
  const __m512 inv = _mm512_set1_ps(inv_scale);
  const __m512 lo = _mm512_set1_ps(static_cast<float>(qmin - zero_point));
  const __m512 hi = _mm512_set1_ps(static_cast<float>(qmax - zero_point));
  const __m512i zp = _mm512_set1_epi32(zero_point);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    const __m512i v = QuantizeStep<true>(_mm512_maskz_loadu_ps(m, x + i), inv, lo, hi, zp);
    _mm_mask_storeu_epi8(q + i, m, _mm512_cvtsepi32_epi8(v));
  }
}

void QuantizeChannelwise(size_t n, const float* x, int8_t* q, const float* inv_scale,
                         const int32_t* zero_point, int32_t qmin, int32_t qmax) {
  const __m512i vqmin = _mm512_set1_epi32(qmin);
  const __m512i vqmax = _mm512_set1_epi32(qmax);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    const __m512i zp = _mm512_maskz_loadu_epi32(m, zero_point + i);
    const __m512 lo = _mm512_cvtepi32_ps(_mm512_sub_epi32(vqmin, zp));
    const __m512 hi = _mm512_cvtepi32_ps(_mm512_sub_epi32(vqmax, zp));
    const __m512i v = QuantizeStep(_mm512_maskz_loadu_ps(m, x + i),
                                   _mm512_maskz_loadu_ps(m, inv_scale + i), lo, hi, zp);
    _mm_mask_storeu_epi8(q + i, m, _mm512_cvtsepi32_epi8(v));
  }
}

void DequantizeTensor(size_t n, const int8_t* q, float* x, float scale, int32_t zero_point) {
  const __m512 s = _mm512_set1_ps(scale);
  const __m512i zp = _mm512_set1_epi32(zero_point);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    const __m512i v = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, q + i)), zp);
    _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(s, _mm512_cvtepi32_ps(v)));
  }
}

void DequantizeChannelwise(size_t n, const int8_t* q, float* x, const float* scale,
                           const int32_t* zero_point) {
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = TailMask(n - i);
    const __m512i zp = _mm512_maskz_loadu_epi32(m, zero_point + i);
    const __m512i v = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, q + i)), zp);
    _mm512_mask_storeu_ps(x + i, m,
                          _mm512_mul_ps(_mm512_maskz_loadu_ps(m, scale + i), _mm512_cvtepi32_ps(v)));
  }
}

}  // namespace

extern const QuantizeKernels kQs8QuantizeAvx512 = {QuantizeTensor, QuantizeTensorHalfEven,
                                                 QuantizeChannelwise,
                                                 DequantizeTensor, DequantizeChannelwise};

}  // namespace litequant
