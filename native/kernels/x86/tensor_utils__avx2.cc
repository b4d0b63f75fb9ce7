// AVX2 (+F16C) min/max, histogram and float16 conversion kernels; scalar tails use the rules of
// f16.h, so every element is treated exactly as the reference treats it.
#include <immintrin.h>

#include "litequant/f16.h"
#include "litequant/tensor_utils.h"

namespace litequant {
namespace {

inline float HorizontalMin(__m256 v) {
  __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_min_ps(m, _mm_movehl_ps(m, m));
  m = _mm_min_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline float HorizontalMax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// min(x, acc) / max(x, acc) return acc when x is NaN, so NaN is skipped for free. An infinity
// was seen exactly when the running min is -inf or the running max is +inf.
void f32_minmax_u32__avx2(size_t n, const float* x, F32MinMax* acc) {
  const float inf = __builtin_inff();
  __m256 mn0 = _mm256_set1_ps(inf), mn1 = mn0, mn2 = mn0, mn3 = mn0;
  __m256 mx0 = _mm256_set1_ps(-inf), mx1 = mx0, mx2 = mx0, mx3 = mx0;
  __m256 nan = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256 x0 = _mm256_loadu_ps(x + i);
    const __m256 x1 = _mm256_loadu_ps(x + i + 8);
    const __m256 x2 = _mm256_loadu_ps(x + i + 16);
    const __m256 x3 = _mm256_loadu_ps(x + i + 24);
    mn0 = _mm256_min_ps(x0, mn0);
    mn1 = _mm256_min_ps(x1, mn1);
    mn2 = _mm256_min_ps(x2, mn2);
    mn3 = _mm256_min_ps(x3, mn3);
    mx0 = _mm256_max_ps(x0, mx0);
    mx1 = _mm256_max_ps(x1, mx1);
    mx2 = _mm256_max_ps(x2, mx2);
    mx3 = _mm256_max_ps(x3, mx3);
    nan = _mm256_or_ps(nan, _mm256_or_ps(_mm256_cmp_ps(x0, x1, _CMP_UNORD_Q),
                                         _mm256_cmp_ps(x2, x3, _CMP_UNORD_Q)));
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    mn0 = _mm256_min_ps(v, mn0);
    mx0 = _mm256_max_ps(v, mx0);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  F32MinMax local;
  local.min = HorizontalMin(_mm256_min_ps(_mm256_min_ps(mn0, mn1), _mm256_min_ps(mn2, mn3)));
  local.max = HorizontalMax(_mm256_max_ps(_mm256_max_ps(mx0, mx1), _mm256_max_ps(mx2, mx3)));
  local.saw_nan = _mm256_movemask_ps(nan) != 0;
  for (; i < n; ++i) MinMaxStep(x[i], &local);
  local.saw_inf = local.min == -inf || local.max == inf;
  if (local.min < acc->min) acc->min = local.min;
  if (local.max > acc->max) acc->max = local.max;
  acc->saw_nan = acc->saw_nan || local.saw_nan;
  acc->saw_inf = acc->saw_inf || local.saw_inf;
  MinMaxNormalizeZeros(acc);
}

void f32_histogram__avx2(size_t n, const float* x, float lo, float scale, uint32_t bins,
                         uint64_t* counts) {
  const __m256 vlo = _mm256_set1_ps(lo);
  const __m256 vscale = _mm256_set1_ps(scale);
  const __m256 vlast = _mm256_set1_ps(static_cast<float>(bins - 1));
  const __m256 zero = _mm256_setzero_ps();
  alignas(32) int32_t idx[8];
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    __m256 t = _mm256_mul_ps(_mm256_sub_ps(v, vlo), vscale);
    t = _mm256_round_ps(t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    t = _mm256_min_ps(_mm256_max_ps(t, zero), vlast);
    _mm256_store_si256(reinterpret_cast<__m256i*>(idx), _mm256_cvttps_epi32(t));
    const int ordered = _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_ORD_Q));
    if (ordered == 0xFF) {
      for (int j = 0; j < 8; ++j) ++counts[idx[j]];
    } else {
      for (int j = 0; j < 8; ++j) {
        if ((ordered >> j) & 1) ++counts[idx[j]];
      }
    }
  }
  for (; i < n; ++i) {
    const int64_t b = HistogramBin(x[i], lo, scale, bins);
    if (b >= 0) ++counts[b];
  }
}

void f32_f16_cvt_u16__avx2(size_t n, const float* x, uint16_t* y) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i h0 = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    const __m128i h1 = _mm256_cvtps_ph(_mm256_loadu_ps(x + i + 8), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), h0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i + 8), h1);
  }
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) y[i] = F32ToF16One(x[i]);
}

void f16_f32_cvt_u16__avx2(size_t n, const uint16_t* x, float* y) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i h0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
    const __m128i h1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8));
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(h0));
    _mm256_storeu_ps(y + i + 8, _mm256_cvtph_ps(h1));
  }
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  }
  for (; i < n; ++i) y[i] = F16ToF32One(x[i]);
}

}  // namespace

extern const TensorUtilsKernels kTensorUtilsAvx2 = {f32_minmax_u32__avx2, f32_histogram__avx2,
                                                    f32_f16_cvt_u16__avx2, f16_f32_cvt_u16__avx2};

}  // namespace litequant
