// AVX2 quantize kernels: 8 elements per step, scalar tail with the shared rounding rule.
#include <immintrin.h>

#include "litequant/quantize.h"
#include "litequant/rounding.h"

namespace litequant {
namespace {

// Round-half-away-from-zero of values already clamped to a small integer range
// (|y| < 2^22), where a - floor(a) is exact.
inline __m256 RoundHalfAway(__m256 y) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  const __m256 a = _mm256_andnot_ps(sign_mask, y);
  const __m256 f = _mm256_floor_ps(a);
  const __m256 up = _mm256_cmp_ps(_mm256_sub_ps(a, f), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 r = _mm256_add_ps(f, _mm256_and_ps(up, _mm256_set1_ps(1.0f)));
  return _mm256_or_ps(r, _mm256_and_ps(sign_mask, y));
}

// y = x * inv with NaN -> 0, clamped to [lo, hi], rounded, plus zero point; as int32.
// kHalfEven: cvtps rounds to nearest even in the default MXCSR mode.
template <bool kHalfEven = false>
inline __m256i QuantizeStep(__m256 x, __m256 inv, __m256 lo, __m256 hi, __m256i zp) {
  __m256 y = _mm256_mul_ps(x, inv);
  y = _mm256_and_ps(y, _mm256_cmp_ps(y, y, _CMP_ORD_Q));
  y = _mm256_min_ps(_mm256_max_ps(y, lo), hi);
  const __m256i r = kHalfEven ? _mm256_cvtps_epi32(y) : _mm256_cvttps_epi32(RoundHalfAway(y));
  return _mm256_add_epi32(r, zp);
}

// Stores 8 int32 values known to fit in int8.
inline void StoreInt8x8(int8_t* q, __m256i v) {
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(q), _mm_packs_epi16(w, w));
}

inline __m256i LoadInt8x8(const int8_t* q) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q)));
}

void QuantizeTensor(size_t n, const float* x, int8_t* q, float inv_scale, int32_t zero_point,
                    int32_t qmin, int32_t qmax) {
  const __m256 inv = _mm256_set1_ps(inv_scale);
  const __m256 lo = _mm256_set1_ps(static_cast<float>(qmin - zero_point));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(qmax - zero_point));
  const __m256i zp = _mm256_set1_epi32(zero_point);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    StoreInt8x8(q + i, QuantizeStep(_mm256_loadu_ps(x + i), inv, lo, hi, zp));
  }
  for (; i < n; ++i) q[i] = QuantizeOne(x[i], inv_scale, zero_point, qmin, qmax);
}

void QuantizeTensorHalfEven(size_t n, const float* x, int8_t* q, float inv_scale,
                            int32_t zero_point, int32_t qmin, int32_t qmax) {
  const __m256 inv = _mm256_set1_ps(inv_scale);
  const __m256 lo = _mm256_set1_ps(static_cast<float>(qmin - zero_point));
  const __m256 hi = _mm256_set1_ps(static_cast<float>(qmax - zero_point));
  const __m256i zp = _mm256_set1_epi32(zero_point);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    StoreInt8x8(q + i, QuantizeStep<true>(_mm256_loadu_ps(x + i), inv, lo, hi, zp));
  }
  for (; i < n; ++i) q[i] = QuantizeOneHalfEven(x[i], inv_scale, zero_point, qmin, qmax);
}

void QuantizeChannelwise(size_t n, const float* x, int8_t* q, const float* inv_scale,
                         const int32_t* zero_point, int32_t qmin, int32_t qmax) {
  const __m256i vqmin = _mm256_set1_epi32(qmin);
  const __m256i vqmax = _mm256_set1_epi32(qmax);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i zp = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(zero_point + i));
    const __m256 lo = _mm256_cvtepi32_ps(_mm256_sub_epi32(vqmin, zp));
    const __m256 hi = _mm256_cvtepi32_ps(_mm256_sub_epi32(vqmax, zp));
    StoreInt8x8(q + i,
                QuantizeStep(_mm256_loadu_ps(x + i), _mm256_loadu_ps(inv_scale + i), lo, hi, zp));
  }
  for (; i < n; ++i) q[i] = QuantizeOne(x[i], inv_scale[i], zero_point[i], qmin, qmax);
}

void DequantizeTensor(size_t n, const int8_t* q, float* x, float scale, int32_t zero_point) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i zp = _mm256_set1_epi32(zero_point);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i v = _mm256_sub_epi32(LoadInt8x8(q + i), zp);
    _mm256_storeu_ps(x + i, _mm256_mul_ps(s, _mm256_cvtepi32_ps(v)));
  }
  for (; i < n; ++i) x[i] = DequantizeOne(q[i], scale, zero_point);
}

void DequantizeChannelwise(size_t n, const int8_t* q, float* x, const float* scale,
                           const int32_t* zero_point) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i zp = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(zero_point + i));
    const __m256i v = _mm256_sub_epi32(LoadInt8x8(q + i), zp);
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(scale + i), _mm256_cvtepi32_ps(v)));
  }
  for (; i < n; ++i) x[i] = DequantizeOne(q[i], scale[i], zero_point[i]);
}

}  // namespace

extern const QuantizeKernels kQs8QuantizeAvx2 = {QuantizeTensor, QuantizeTensorHalfEven,
                                                 QuantizeChannelwise,
                                                 DequantizeTensor, DequantizeChannelwise};

}  // namespace litequant
