// The qs8 GEMM epilogue on 256-bit vectors, for a group of 16 columns (two ymm of 8 int32).
// Included by the avx2, avxvnni and avx512vnni kernels (the last runs it on the halves of its
// zmm accumulators), so the epilogue this CPU tests is the one the VNNI paths run.
// Everything is in an anonymous namespace: each ISA's translation unit gets its own copy
// compiled with its own flags (no ODR-merged inline functions across targets).
#pragma once

#include <immintrin.h>

#include <cstring>

#include "litequant/qs8_gemm_kernels.h"

namespace litequant {
namespace {

constexpr size_t kGroupColumns = 16;

// 16 int32 values already in [-128, 127] to 16 int8 in column order.
inline __m128i PackInt8x16(__m256i v0, __m256i v1) {
  // packs works within 128-bit lanes: [v0 0-3, v1 0-3 | v0 4-7, v1 4-7]; permute to order.
  const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(v0, v1), 0xD8);
  return _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
}

// Stores the first nc (<= 16) bytes of v.
inline void StoreInt8Group(int8_t* c, size_t nc, __m128i v) {
  if (nc == kGroupColumns) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(c), v);
  } else {
    alignas(16) int8_t tmp[kGroupColumns];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), v);
    std::memcpy(c, tmp, nc);
  }
}

// Stores the first nc (<= 16) int32 of (v0, v1).
inline void StoreInt32Group(int32_t* out, size_t nc, __m256i v0, __m256i v1) {
  if (nc == kGroupColumns) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), v0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), v1);
  } else {
    alignas(32) int32_t tmp[kGroupColumns];
    _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), v0);
    _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + 8), v1);
    std::memcpy(out, tmp, nc * sizeof(int32_t));
  }
}

// fp32 rule: float(acc) * scale, clamp to [qmin - zp, qmax - zp], round half to even
// (vcvtps2dq under the default rounding mode), + zp. Columns [first, first + nc) of the tile.
struct Fp32Epilogue {
  __m256 scale[2];
  __m256 lo, hi;
  __m256i zp;

  Fp32Epilogue(const Qs8GemmEpilogue& ep, size_t first, size_t nc) {
    if (ep.per_channel) {
      alignas(32) float s[kGroupColumns] = {};
      std::memcpy(s, ep.scale + first, nc * sizeof(float));
      scale[0] = _mm256_load_ps(s);
      scale[1] = _mm256_load_ps(s + 8);
    } else {
      scale[0] = scale[1] = _mm256_set1_ps(ep.scale[0]);
    }
    lo = _mm256_set1_ps(static_cast<float>(ep.qmin - ep.output_zero_point));
    hi = _mm256_set1_ps(static_cast<float>(ep.qmax - ep.output_zero_point));
    zp = _mm256_set1_epi32(ep.output_zero_point);
  }

  __m256i Apply(__m256i acc, size_t half) const {
    __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale[half]);
    y = _mm256_min_ps(_mm256_max_ps(y, lo), hi);
    return _mm256_add_epi32(_mm256_cvtps_epi32(y), zp);
  }
};

// TFLite's MultiplyByQuantizedMultiplier, 8 lanes at once, exact:
//   RoundingDoublingHighMul(x, m) == floor((x * m + 2^30) / 2^31) for m >= 0 (the rounding
//   nudges of both signs reduce to this), read from bits 31..62 of the 64-bit sum (the low 32
//   bits of a logical and an arithmetic shift agree); RoundingDivideByPOT as remainder vs
//   threshold compares. Columns [first, first + nc) of the tile.
struct FixedPointEpilogue {
  __m256i multiplier[2], left[2], right[2], mask[2], half_mask[2];
  __m256i zp, qmin, qmax;

  FixedPointEpilogue(const Qs8GemmEpilogue& ep, size_t first, size_t nc) {
    alignas(32) int32_t m[kGroupColumns], l[kGroupColumns], r[kGroupColumns];
    for (size_t j = 0; j < kGroupColumns; ++j) {
      QuantizedMultiplier q = ep.multiplier[0];
      if (ep.per_channel) q = j < nc ? ep.multiplier[first + j] : QuantizedMultiplier{};
      m[j] = q.multiplier;
      l[j] = q.shift > 0 ? q.shift : 0;
      r[j] = q.shift > 0 ? 0 : -q.shift;
    }
    const __m256i one = _mm256_set1_epi32(1);
    for (size_t h = 0; h < 2; ++h) {
      multiplier[h] = _mm256_load_si256(reinterpret_cast<const __m256i*>(m + 8 * h));
      left[h] = _mm256_load_si256(reinterpret_cast<const __m256i*>(l + 8 * h));
      right[h] = _mm256_load_si256(reinterpret_cast<const __m256i*>(r + 8 * h));
      mask[h] = _mm256_sub_epi32(_mm256_sllv_epi32(one, right[h]), one);
      half_mask[h] = _mm256_srli_epi32(mask[h], 1);
    }
    zp = _mm256_set1_epi32(ep.output_zero_point);
    qmin = _mm256_set1_epi32(ep.qmin);
    qmax = _mm256_set1_epi32(ep.qmax);
  }

  __m256i Apply(__m256i acc, size_t h) const {
    const __m256i x = _mm256_sllv_epi32(acc, left[h]);
    const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
    const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, multiplier[h]), nudge);
    const __m256i odd = _mm256_add_epi64(
        _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(multiplier[h], 32)), nudge);
    const __m256i high = _mm256_blend_epi32(_mm256_srli_epi64(even, 31),
                                            _mm256_slli_epi64(_mm256_srli_epi64(odd, 31), 32),
                                            0xAA);
    const __m256i remainder = _mm256_and_si256(high, mask[h]);
    const __m256i threshold =
        _mm256_sub_epi32(half_mask[h], _mm256_cmpgt_epi32(_mm256_setzero_si256(), high));
    __m256i y = _mm256_sub_epi32(_mm256_srav_epi32(high, right[h]),
                                 _mm256_cmpgt_epi32(remainder, threshold));
    y = _mm256_add_epi32(y, zp);
    return _mm256_min_epi32(_mm256_max_epi32(y, qmin), qmax);
  }
};

// Requantizes and stores rows of one 16-column group: acc[i] holds columns 0-7 and 8-15.
template <size_t MR, typename Epilogue>
inline void RequantizeGroup(const __m256i (&acc)[MR][2], const Epilogue& e, int8_t* c,
                            size_t ldc, size_t nc) {
#pragma GCC unroll 8
  for (size_t i = 0; i < MR; ++i) {
    StoreInt8Group(c + i * ldc, nc, PackInt8x16(e.Apply(acc[i][0], 0), e.Apply(acc[i][1], 1)));
  }
}

template <size_t MR>
inline void RequantizeGroup(const __m256i (&acc)[MR][2], const Qs8GemmEpilogue& ep, size_t first,
                            int8_t* c, size_t ldc, size_t nc) {
  if (ep.mode == RequantMode::kFp32) {
    RequantizeGroup<MR>(acc, Fp32Epilogue(ep, first, nc), c, ldc, nc);
  } else {
    RequantizeGroup<MR>(acc, FixedPointEpilogue(ep, first, nc), c, ldc, nc);
  }
}

template <size_t MR>
inline void StoreAccGroup(const __m256i (&acc)[MR][2], int32_t* out, size_t ldout, size_t nc) {
#pragma GCC unroll 8
  for (size_t i = 0; i < MR; ++i) StoreInt32Group(out + i * ldout, nc, acc[i][0], acc[i][1]);
}

}  // namespace
}  // namespace litequant
