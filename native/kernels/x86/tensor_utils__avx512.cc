// AVX-512F min/max, histogram and float16 conversion kernels: 16 lanes per vector, scalar tails
// by the rules of f16.h. Same structure as tensor_utils__avx2.cc.
#include <immintrin.h>

#include "litequant/f16.h"
#include "litequant/tensor_utils.h"

namespace litequant {
namespace {

// The all-lanes mask forms below avoid GCC 12's -Wuninitialized on _mm512_undefined_ps.
constexpr __mmask16 kAll = 0xFFFF;

inline __m512 Min(__m512 a, __m512 b) { return _mm512_mask_min_ps(b, kAll, a, b); }
inline __m512 Max(__m512 a, __m512 b) { return _mm512_mask_max_ps(b, kAll, a, b); }

// Horizontal min/max through memory: once per call, and any lane order gives the same value
// after zeros are normalized.
inline float ReduceMin(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float m = lanes[0];
  for (int j = 1; j < 16; ++j) m = lanes[j] < m ? lanes[j] : m;
  return m;
}

inline float ReduceMax(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float m = lanes[0];
  for (int j = 1; j < 16; ++j) m = lanes[j] > m ? lanes[j] : m;
  return m;
}

// min(x, acc) / max(x, acc) return acc when x is NaN, so NaN is skipped for free. An infinity
// was seen exactly when the running min is -inf or the running max is +inf.
void f32_minmax_u64__avx512(size_t n, const float* x, F32MinMax* acc) {
  const float inf = __builtin_inff();
  __m512 mn0 = _mm512_set1_ps(inf), mn1 = mn0, mn2 = mn0, mn3 = mn0;
  __m512 mx0 = _mm512_set1_ps(-inf), mx1 = mx0, mx2 = mx0, mx3 = mx0;
  __mmask16 nan = 0;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512 x0 = _mm512_loadu_ps(x + i);
    const __m512 x1 = _mm512_loadu_ps(x + i + 16);
    const __m512 x2 = _mm512_loadu_ps(x + i + 32);
    const __m512 x3 = _mm512_loadu_ps(x + i + 48);
    mn0 = Min(x0, mn0);
    mn1 = Min(x1, mn1);
    mn2 = Min(x2, mn2);
    mn3 = Min(x3, mn3);
    mx0 = Max(x0, mx0);
    mx1 = Max(x1, mx1);
    mx2 = Max(x2, mx2);
    mx3 = Max(x3, mx3);
    nan |= _mm512_cmp_ps_mask(x0, x1, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(x2, x3, _CMP_UNORD_Q);
  }
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    mn0 = Min(v, mn0);
    mx0 = Max(v, mx0);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  }
  F32MinMax local;
  local.min = ReduceMin(Min(Min(mn0, mn1), Min(mn2, mn3)));
  local.max = ReduceMax(Max(Max(mx0, mx1), Max(mx2, mx3)));
  local.saw_nan = nan != 0;
  for (; i < n; ++i) MinMaxStep(x[i], &local);
  local.saw_inf = local.min == -inf || local.max == inf;
  if (local.min < acc->min) acc->min = local.min;
  if (local.max > acc->max) acc->max = local.max;
  acc->saw_nan = acc->saw_nan || local.saw_nan;
  acc->saw_inf = acc->saw_inf || local.saw_inf;
  MinMaxNormalizeZeros(acc);
}

void f32_histogram__avx512(size_t n, const float* x, float lo, float scale, uint32_t bins,
                           uint64_t* counts) {
  const __m512 vlo = _mm512_set1_ps(lo);
  const __m512 vscale = _mm512_set1_ps(scale);
  const __m512 vlast = _mm512_set1_ps(static_cast<float>(bins - 1));
  const __m512 zero = _mm512_setzero_ps();
  alignas(64) int32_t idx[16];
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    __m512 t = _mm512_mul_ps(_mm512_sub_ps(v, vlo), vscale);
    t = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    t = Min(Max(t, zero), vlast);
    _mm512_store_si512(idx, _mm512_cvttps_epi32(t));
    const unsigned ordered = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
    if (ordered == 0xFFFFu) {
      for (int j = 0; j < 16; ++j) ++counts[idx[j]];
    } else {
      for (int j = 0; j < 16; ++j) {
        if ((ordered >> j) & 1u) ++counts[idx[j]];
      }
    }
  }
  for (; i < n; ++i) {
    const int64_t b = HistogramBin(x[i], lo, scale, bins);
    if (b >= 0) ++counts[b];
  }
}

void f32_f16_cvt_u16__avx512(size_t n, const float* x, uint16_t* y) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i),
                        _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) y[i] = F32ToF16One(x[i]);
}

void f16_f32_cvt_u16__avx512(size_t n, const uint16_t* x, float* y) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i,
                     _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i))));
  }
  for (; i < n; ++i) y[i] = F16ToF32One(x[i]);
}

}  // namespace

extern const TensorUtilsKernels kTensorUtilsAvx512 = {
    f32_minmax_u64__avx512, f32_histogram__avx512, f32_f16_cvt_u16__avx512,
    f16_f32_cvt_u16__avx512};

}  // namespace litequant
