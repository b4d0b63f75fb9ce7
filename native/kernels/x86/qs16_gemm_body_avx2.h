// The shared body of the qs16_gemm_4x16c2 kernels on 256-bit vectors (packing, the 4x16 tile
// loop with int32 blocks widened to int64, and the requantization epilogue), parameterized by
// the pair dot-product step. Included by qs16_gemm__avx2.cc and qs16_gemm__avxvnni.cc, so the
// code this CPU tests is the code the AVX-VNNI path runs apart from that one instruction.
//
// Panel layout: for each pair p of k, 16 columns x 2 int16 (W[j][2p], W[j][2p+1]) = 64 bytes,
// so one VPMADDWD (or VPDPWSSD) of a broadcast activation pair against half a row of the panel
// yields A[2p]*W[j][2p] + A[2p+1]*W[j][2p+1] for 8 columns. Block sums stay in int32 for at most
// kQs16BlockK values of k, then widen to int64 (see qs16_gemm.h for why that is exact).
//
// Everything is in an anonymous namespace: each ISA's translation unit gets its own copy
// compiled with its own flags (no ODR-merged inline functions across targets).
#pragma once

#include <immintrin.h>

#include <cstring>

#include "litequant/qs16_gemm.h"

namespace litequant {
namespace {

constexpr size_t kMr = 4;
constexpr size_t kNr = 16;

void Pack(size_t nc, size_t k, const int8_t* w, size_t ldw, int16_t* panel) {
  const size_t pairs = (k + 1) / 2;
  for (size_t p = 0; p < pairs; ++p) {
    for (size_t j = 0; j < kNr; ++j) {
      for (size_t t = 0; t < 2; ++t) {
        const size_t kk = 2 * p + t;
        panel[(p * kNr + j) * 2 + t] = (j < nc && kk < k) ? w[j * ldw + kk] : 0;
      }
    }
  }
}

static inline int32_t LoadPair(const int16_t* a) {
  int32_t v;
  std::memcpy(&v, a, sizeof(v));
  return v;
}

// One pair of k for R rows and 16 columns; x[r] holds row r's pair. Dot::Acc(acc, b, w) adds
// the pair products of b and w to acc (VPMADDWD + VPADDD, or VPDPWSSD).
template <class Dot, size_t R>
static inline void Step(const __m256i* w, const int32_t (&x)[R], __m256i (&acc)[R][2]) {
  const __m256i w0 = _mm256_loadu_si256(w);
  const __m256i w1 = _mm256_loadu_si256(w + 1);
  for (size_t r = 0; r < R; ++r) {
    const __m256i b = _mm256_set1_epi32(x[r]);
    acc[r][0] = Dot::Acc(acc[r][0], b, w0);
    acc[r][1] = Dot::Acc(acc[r][1], b, w1);
  }
}

static inline void Widen(__m256i v, __m256i* lo, __m256i* hi) {
  *lo = _mm256_add_epi64(*lo, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v)));
  *hi = _mm256_add_epi64(*hi, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1)));
}

// TFLite's int64 MultiplyByQuantizedMultiplier on 4 lanes: x * reduced + round, arithmetic shift
// right by total_shift, low 32 bits. x * reduced is built from 32-bit halves (AVX2 has no
// 64-bit multiply) and wraps like the scalar int64 product; the arithmetic shift is a logical
// shift of x ^ sign, xored back.
static inline __m128i RequantizeFixedPoint(__m256i x, __m256i reduced, __m256i total_shift,
                                           __m256i round) {
  const __m256i lo = _mm256_mul_epu32(x, reduced);
  const __m256i hi = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), reduced);
  const __m256i y = _mm256_add_epi64(_mm256_add_epi64(lo, _mm256_slli_epi64(hi, 32)), round);
  const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), y);
  const __m256i shifted =
      _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(y, sign), total_shift), sign);
  const __m256i low32 =
      _mm256_permutevar8x32_epi32(shifted, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
  return _mm256_castsi256_si128(low32);
}

// round_half_away(double(x) * scale), clamped to [lo, hi], on 4 lanes. |x| < 2^47, so adding
// the integer to the bits of 1.5 * 2^52 and subtracting that double converts exactly.
static inline __m128i RequantizeDouble(__m256i x, __m256d scale, __m256d lo, __m256d hi) {
  const __m256i magic_bits = _mm256_set1_epi64x(0x4338000000000000);
  const __m256d xd = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_add_epi64(x, magic_bits)),
                                   _mm256_castsi256_pd(magic_bits));
  const __m256d y = _mm256_mul_pd(xd, scale);
  const __m256d sign_mask = _mm256_set1_pd(-0.0);
  const __m256d a = _mm256_andnot_pd(sign_mask, y);
  const __m256d f = _mm256_round_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __m256d up = _mm256_cmp_pd(_mm256_sub_pd(a, f), _mm256_set1_pd(0.5), _CMP_GE_OQ);
  __m256d r = _mm256_add_pd(f, _mm256_and_pd(up, _mm256_set1_pd(1.0)));
  r = _mm256_or_pd(r, _mm256_and_pd(sign_mask, y));
  r = _mm256_min_pd(_mm256_max_pd(r, lo), hi);
  return _mm256_cvtpd_epi32(r);
}

// The int64 sums of R rows (R <= kMr; a template so a lone row does not pay for four) and
// 16 columns: int32 blocks of at most kQs16BlockK values of k, widened to int64.
template <class Dot, size_t R>
static inline void Tile(size_t k, const int16_t* a, size_t lda, const __m256i* w,
                        __m256i (&acc64)[kMr][4]) {
  const int16_t* rows[R];
  for (size_t r = 0; r < R; ++r) rows[r] = a + r * lda;
  for (size_t r = 0; r < R; ++r) {
    for (auto& v : acc64[r]) v = _mm256_setzero_si256();
  }
  const size_t full_pairs = k / 2;
  const size_t pairs = (k + 1) / 2;
  for (size_t p = 0; p < pairs;) {
    const size_t block_end = p + kQs16BlockK / 2 < pairs ? p + kQs16BlockK / 2 : pairs;
    const size_t full_end = block_end < full_pairs ? block_end : full_pairs;
    __m256i acc[R][2];
    for (auto& row : acc) row[0] = row[1] = _mm256_setzero_si256();
    for (; p < full_end; ++p) {
      int32_t x[R];
      for (size_t r = 0; r < R; ++r) x[r] = LoadPair(rows[r] + 2 * p);
      Step<Dot, R>(w + 2 * p, x, acc);
    }
    if (p < block_end) {  // odd k: the last pair holds one value (its partner weight is 0)
      int32_t x[R];
      for (size_t r = 0; r < R; ++r) x[r] = static_cast<uint16_t>(rows[r][2 * p]);
      Step<Dot, R>(w + 2 * p, x, acc);
      ++p;
    }
    for (size_t r = 0; r < R; ++r) {
      Widen(acc[r][0], &acc64[r][0], &acc64[r][1]);
      Widen(acc[r][1], &acc64[r][2], &acc64[r][3]);
    }
  }
}

template <class Dot>
void Gemm(size_t m, size_t nc, size_t k, const int16_t* a, size_t lda, const int16_t* panel,
          const int64_t* bias, int16_t* c, size_t ldc, const Qs16RequantParams& rq) {
  // Per-column parameters, padded to 16 columns once per call.
  alignas(32) int64_t bias16[kNr] = {0};
  alignas(32) int64_t reduced16[kNr] = {0};
  alignas(32) int64_t shift16[kNr];
  alignas(32) int64_t round16[kNr];
  alignas(32) double scale16[kNr] = {0};
  const bool fixed = rq.mode == Qs16RequantMode::kFixedPoint;
  for (size_t j = 0; j < kNr; ++j) {
    shift16[j] = 15;
    round16[j] = int64_t{1} << 14;
    if (j >= nc) continue;
    if (bias != nullptr) bias16[j] = bias[j];
    if (fixed) {
      const int32_t mult = rq.multiplier[j];
      reduced16[j] = mult < 0x7FFF0000 ? ((mult + (1 << 15)) >> 16) : 0x7FFF;
      shift16[j] = 15 - rq.shift[j];
      round16[j] = int64_t{1} << (shift16[j] - 1);
    } else {
      scale16[j] = rq.scale[j];
    }
  }
  const __m128i qmin = _mm_set1_epi32(rq.qmin);
  const __m128i qmax = _mm_set1_epi32(rq.qmax);
  const __m256d qmin_d = _mm256_set1_pd(rq.qmin);
  const __m256d qmax_d = _mm256_set1_pd(rq.qmax);

  const __m256i* w = reinterpret_cast<const __m256i*>(panel);

  for (size_t i = 0; i < m; i += kMr) {
    const size_t mr = m - i < kMr ? m - i : kMr;
    __m256i acc64[kMr][4];
    switch (mr) {
      case 1: Tile<Dot, 1>(k, a + i * lda, lda, w, acc64); break;
      case 2: Tile<Dot, 2>(k, a + i * lda, lda, w, acc64); break;
      case 3: Tile<Dot, 3>(k, a + i * lda, lda, w, acc64); break;
      default: Tile<Dot, 4>(k, a + i * lda, lda, w, acc64); break;
    }

    for (size_t r = 0; r < mr; ++r) {
      __m128i y[4];
      for (size_t q = 0; q < 4; ++q) {
        const __m256i x = _mm256_add_epi64(
            acc64[r][q], _mm256_load_si256(reinterpret_cast<const __m256i*>(bias16 + 4 * q)));
        __m128i v;
        if (fixed) {
          v = RequantizeFixedPoint(
              x, _mm256_load_si256(reinterpret_cast<const __m256i*>(reduced16 + 4 * q)),
              _mm256_load_si256(reinterpret_cast<const __m256i*>(shift16 + 4 * q)),
              _mm256_load_si256(reinterpret_cast<const __m256i*>(round16 + 4 * q)));
        } else {
          v = RequantizeDouble(x, _mm256_load_pd(scale16 + 4 * q), qmin_d, qmax_d);
        }
        y[q] = _mm_min_epi32(_mm_max_epi32(v, qmin), qmax);
      }
      int16_t* out = c + (i + r) * ldc;
      const __m128i lo = _mm_packs_epi32(y[0], y[1]);  // in range already: no saturation
      const __m128i hi = _mm_packs_epi32(y[2], y[3]);
      if (nc == kNr) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out), lo);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 8), hi);
      } else {
        alignas(16) int16_t tmp[kNr];
        _mm_store_si128(reinterpret_cast<__m128i*>(tmp), lo);
        _mm_store_si128(reinterpret_cast<__m128i*>(tmp + 8), hi);
        std::memcpy(out, tmp, nc * sizeof(int16_t));
      }
    }
  }
}

}  // namespace
}  // namespace litequant
