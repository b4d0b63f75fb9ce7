// AVX2 hybrid kernels (f32_qd8_hybrid__avx2): row min/max and quantization 32 floats per step,
// epilogues 8 outputs per step, scalar tails with the shared rules of hybrid.h.
#include <immintrin.h>

#include <cstring>
#include <limits>

#include "litequant/hybrid.h"

namespace litequant {
namespace {

// MINPS/MAXPS return the second operand when either is NaN: with the running value second,
// NaN inputs are skipped, as the reference's comparisons skip them.
void MinMax(size_t n, const float* x, float* min_value, float* max_value) {
  const float inf = std::numeric_limits<float>::infinity();
  __m256 lo[4], hi[4];
  for (int v = 0; v < 4; ++v) {
    lo[v] = _mm256_set1_ps(inf);
    hi[v] = _mm256_set1_ps(-inf);
  }
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int v = 0; v < 4; ++v) {
      const __m256 xv = _mm256_loadu_ps(x + i + 8 * v);
      lo[v] = _mm256_min_ps(xv, lo[v]);
      hi[v] = _mm256_max_ps(xv, hi[v]);
    }
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i);
    lo[0] = _mm256_min_ps(xv, lo[0]);
    hi[0] = _mm256_max_ps(xv, hi[0]);
  }
  __m256 l = _mm256_min_ps(_mm256_min_ps(lo[0], lo[1]), _mm256_min_ps(lo[2], lo[3]));
  __m256 h = _mm256_max_ps(_mm256_max_ps(hi[0], hi[1]), _mm256_max_ps(hi[2], hi[3]));
  alignas(32) float ls[8], hs[8];
  _mm256_store_ps(ls, l);
  _mm256_store_ps(hs, h);
  float rl = ls[0], rh = hs[0];
  for (int v = 1; v < 8; ++v) {
    if (ls[v] < rl) rl = ls[v];
    if (hs[v] > rh) rh = hs[v];
  }
  for (; i < n; ++i) {
    if (x[i] < rl) rl = x[i];
    if (x[i] > rh) rh = x[i];
  }
  *min_value = rl;
  *max_value = rh;
}

// Round half away from zero of values already clamped to [-128, 127] (a - floor(a) is exact).
static inline __m256 RoundHalfAway(__m256 y) {
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  const __m256 a = _mm256_andnot_ps(sign_mask, y);
  const __m256 f = _mm256_floor_ps(a);
  const __m256 up = _mm256_cmp_ps(_mm256_sub_ps(a, f), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 r = _mm256_add_ps(f, _mm256_and_ps(up, _mm256_set1_ps(1.0f)));
  return _mm256_or_ps(r, _mm256_and_ps(sign_mask, y));
}

// clamp(round(offset + x * inv)) as int32, NaN products as 0 (offset 0 for symmetric rows).
static inline __m256i QuantizeStep(__m256 x, __m256 inv, __m256 offset, __m256 lo, __m256 hi) {
  __m256 t = _mm256_mul_ps(x, inv);
  t = _mm256_and_ps(t, _mm256_cmp_ps(t, t, _CMP_ORD_Q));
  __m256 y = _mm256_add_ps(offset, t);
  y = _mm256_min_ps(_mm256_max_ps(y, lo), hi);
  return _mm256_cvttps_epi32(RoundHalfAway(y));
}

template <bool kAsymmetric>
void QuantizeRow(size_t n, const float* x, int8_t* q, float inv_scale, float offset_f) {
  const __m256 inv = _mm256_set1_ps(inv_scale);
  const __m256 off = _mm256_set1_ps(kAsymmetric ? offset_f : 0.0f);
  const __m256 lo = _mm256_set1_ps(kAsymmetric ? -128.0f : -127.0f);
  const __m256 hi = _mm256_set1_ps(127.0f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i v0 = QuantizeStep(_mm256_loadu_ps(x + i), inv, off, lo, hi);
    const __m256i v1 = QuantizeStep(_mm256_loadu_ps(x + i + 8), inv, off, lo, hi);
    const __m256i v2 = QuantizeStep(_mm256_loadu_ps(x + i + 16), inv, off, lo, hi);
    const __m256i v3 = QuantizeStep(_mm256_loadu_ps(x + i + 24), inv, off, lo, hi);
    // The packs work per 128-bit lane; the permute restores element order.
    const __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(v0, v1), _mm256_packs_epi32(v2, v3));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), _mm256_permutevar8x32_epi32(b, order));
  }
  for (; i + 8 <= n; i += 8) {
    const __m256i v = QuantizeStep(_mm256_loadu_ps(x + i), inv, off, lo, hi);
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(q + i), _mm_packs_epi16(w, w));
  }
  for (; i < n; ++i) {
    q[i] = kAsymmetric ? HybridQuantizeAsymmetricOne(x[i], inv_scale, offset_f)
                       : HybridQuantizeSymmetricOne(x[i], inv_scale);
  }
}

void QuantizeRowAsymmetric(size_t n, const float* x, int8_t* q, float* scale, int32_t* offset) {
  float lo, hi;
  MinMax(n, x, &lo, &hi);
  if (!HybridAsymmetricParams(lo, hi, scale, offset)) {
    std::memset(q, 0, n);
    return;
  }
  QuantizeRow<true>(n, x, q, 1.0f / *scale, static_cast<float>(*offset));
}

void QuantizeRowSymmetric(size_t n, const float* x, int8_t* q, float* scale) {
  float lo, hi, inv;
  MinMax(n, x, &lo, &hi);
  if (!HybridSymmetricParams(lo, hi, scale, &inv)) {
    std::memset(q, 0, n);
    return;
  }
  QuantizeRow<false>(n, x, q, inv, 0.0f);
}

void FcEpilogue(size_t n, const int32_t* acc, const int32_t* column_sums, int32_t offset,
                float row_scale, const float* channel_scale, const float* bias, float min,
                float max, float* y) {
  const __m256i off = _mm256_set1_epi32(offset);
  const __m256 rs = _mm256_set1_ps(row_scale);
  const __m256 lo = _mm256_set1_ps(min);
  const __m256 hi = _mm256_set1_ps(max);
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + j));
    const __m256i cs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(column_sums + j));
    const __m256 f = _mm256_cvtepi32_ps(_mm256_sub_epi32(a, _mm256_mullo_epi32(off, cs)));
    const __m256 s =
        channel_scale != nullptr ? _mm256_mul_ps(_mm256_loadu_ps(channel_scale + j), rs) : rs;
    const __m256 b = bias != nullptr ? _mm256_loadu_ps(bias + j) : _mm256_setzero_ps();
    __m256 v = _mm256_add_ps(b, _mm256_mul_ps(f, s));
    // The bound first: MAXPS/MINPS return the second operand (v) for NaN and for equal values.
    v = _mm256_min_ps(hi, _mm256_max_ps(lo, v));
    _mm256_storeu_ps(y + j, v);
  }
  for (; j < n; ++j) {
    const float s = channel_scale != nullptr ? channel_scale[j] * row_scale : row_scale;
    y[j] = HybridFcOne(acc[j], column_sums[j], offset, s, bias != nullptr ? bias[j] : 0.0f, min,
                       max);
  }
}

void BmmEpilogue(size_t n, const int32_t* acc, const int32_t* column_sums, int32_t offset,
                 float row_scale, const float* channel_scale, float* y) {
  const __m256 off = _mm256_set1_ps(static_cast<float>(offset));
  const __m256 rs = _mm256_set1_ps(row_scale);
  const __m256 tmin = _mm256_set1_ps(-2147483648.0f);
  const __m256 tmax = _mm256_set1_ps(2147483520.0f);
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 a =
        _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + j)));
    const __m256 cs =
        _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(column_sums + j)));
    __m256 t = _mm256_sub_ps(a, _mm256_mul_ps(cs, off));
    t = _mm256_min_ps(_mm256_max_ps(t, tmin), tmax);
    const __m256 total = _mm256_cvtepi32_ps(_mm256_cvttps_epi32(t));
    const __m256 s =
        channel_scale != nullptr ? _mm256_mul_ps(rs, _mm256_loadu_ps(channel_scale + j)) : rs;
    _mm256_storeu_ps(y + j, _mm256_add_ps(_mm256_setzero_ps(), _mm256_mul_ps(s, total)));
  }
  for (; j < n; ++j) {
    const float s = channel_scale != nullptr ? row_scale * channel_scale[j] : row_scale;
    y[j] = HybridBmmOne(acc[j], column_sums[j], offset, s);
  }
}

}  // namespace

extern const HybridKernels kHybridAvx2 = {QuantizeRowAsymmetric, QuantizeRowSymmetric,
                                          FcEpilogue, BmmEpilogue, "f32_qd8_hybrid__avx2"};

}  // namespace litequant
