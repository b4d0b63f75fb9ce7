// AVX-512 VNNI int16x8 GEMM, 4x32 tiles over pairs of k (qs16_gemm_4x32c2__avx512vnni).
//
// The structure of the AVX2 kernel (qs16_gemm__avx2.cc) on 512-bit registers: for each pair p
// of k the panel holds 32 columns x 2 int16 (two zmm), and VPDPWSSD adds
// A[2p]*W[j][2p] + A[2p+1]*W[j][2p+1] to 16 int32 lanes. Block sums stay in int32 for at most
// kQs16BlockK values of k (below 2^31; VPDPWSSD wraps, it does not saturate), then widen to
// int64. The epilogue uses AVX-512's 64-bit multiply, arithmetic shift and int64 -> double
// conversion. Not run on the development machine (no AVX-512): its test skips there.
#include <immintrin.h>

#include <cstring>

#include "litequant/qs16_gemm.h"

namespace litequant {
namespace {

constexpr size_t kMr = 4;
constexpr size_t kNr = 32;

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

static inline void Step(const __m512i* w, int32_t x0, int32_t x1, int32_t x2, int32_t x3,
                        __m512i acc[4][2]) {
  const __m512i w0 = _mm512_loadu_si512(w);
  const __m512i w1 = _mm512_loadu_si512(w + 1);
  const int32_t x[4] = {x0, x1, x2, x3};
  for (int r = 0; r < 4; ++r) {
    const __m512i b = _mm512_set1_epi32(x[r]);
    acc[r][0] = _mm512_dpwssd_epi32(acc[r][0], b, w0);
    acc[r][1] = _mm512_dpwssd_epi32(acc[r][1], b, w1);
  }
}

static inline void Widen(__m512i v, __m512i* lo, __m512i* hi) {
  *lo = _mm512_add_epi64(*lo, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v)));
  *hi = _mm512_add_epi64(*hi, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1)));
}

// TFLite's int64 MultiplyByQuantizedMultiplier on 8 lanes, truncated to int32 (VPMOVQD).
static inline __m256i RequantizeFixedPoint(__m512i x, __m512i reduced, __m512i total_shift,
                                           __m512i round) {
  const __m512i y = _mm512_add_epi64(_mm512_mullo_epi64(x, reduced), round);
  return _mm512_cvtepi64_epi32(_mm512_srav_epi64(y, total_shift));
}

// round_half_away(double(x) * scale), clamped to [lo, hi], on 8 lanes (|x| < 2^47: exact).
static inline __m256i RequantizeDouble(__m512i x, __m512d scale, __m512d lo, __m512d hi) {
  const __m512d y = _mm512_mul_pd(_mm512_cvtepi64_pd(x), scale);
  const __m512d a = _mm512_abs_pd(y);
  const __m512d f = _mm512_roundscale_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __mmask8 up = _mm512_cmp_pd_mask(_mm512_sub_pd(a, f), _mm512_set1_pd(0.5), _CMP_GE_OQ);
  const __m512d r = _mm512_mask_add_pd(f, up, f, _mm512_set1_pd(1.0));
  const __m512i sign =
      _mm512_and_si512(_mm512_castpd_si512(y), _mm512_set1_epi64(INT64_MIN));
  const __m512d s = _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(r), sign));
  return _mm512_cvtpd_epi32(_mm512_min_pd(_mm512_max_pd(s, lo), hi));
}

void Gemm(size_t m, size_t nc, size_t k, const int16_t* a, size_t lda, const int16_t* panel,
          const int64_t* bias, int16_t* c, size_t ldc, const Qs16RequantParams& rq) {
  alignas(64) int64_t bias32[kNr] = {0};
  alignas(64) int64_t reduced32[kNr] = {0};
  alignas(64) int64_t shift32[kNr];
  alignas(64) int64_t round32[kNr];
  alignas(64) double scale32[kNr] = {0};
  const bool fixed = rq.mode == Qs16RequantMode::kFixedPoint;
  for (size_t j = 0; j < kNr; ++j) {
    shift32[j] = 15;
    round32[j] = int64_t{1} << 14;
    if (j >= nc) continue;
    if (bias != nullptr) bias32[j] = bias[j];
    if (fixed) {
      const int32_t mult = rq.multiplier[j];
      reduced32[j] = mult < 0x7FFF0000 ? ((mult + (1 << 15)) >> 16) : 0x7FFF;
      shift32[j] = 15 - rq.shift[j];
      round32[j] = int64_t{1} << (shift32[j] - 1);
    } else {
      scale32[j] = rq.scale[j];
    }
  }
  const __m256i qmin = _mm256_set1_epi32(rq.qmin);
  const __m256i qmax = _mm256_set1_epi32(rq.qmax);
  const __m512d qmin_d = _mm512_set1_pd(rq.qmin);
  const __m512d qmax_d = _mm512_set1_pd(rq.qmax);
  const __mmask8 store_mask[4] = {
      static_cast<__mmask8>(nc >= 8 ? 0xFF : (1u << nc) - 1),
      static_cast<__mmask8>(nc >= 16 ? 0xFF : nc <= 8 ? 0 : (1u << (nc - 8)) - 1),
      static_cast<__mmask8>(nc >= 24 ? 0xFF : nc <= 16 ? 0 : (1u << (nc - 16)) - 1),
      static_cast<__mmask8>(nc >= 32 ? 0xFF : nc <= 24 ? 0 : (1u << (nc - 24)) - 1)};

  const size_t full_pairs = k / 2;
  const size_t pairs = (k + 1) / 2;
  const __m512i* w = reinterpret_cast<const __m512i*>(panel);

  for (size_t i = 0; i < m; i += kMr) {
    const size_t mr = m - i < kMr ? m - i : kMr;
    const int16_t* a0 = a + i * lda;
    const int16_t* a1 = mr > 1 ? a0 + lda : a0;
    const int16_t* a2 = mr > 2 ? a1 + lda : a1;
    const int16_t* a3 = mr > 3 ? a2 + lda : a2;

    __m512i acc64[kMr][4];
    for (auto& row : acc64) {
      for (auto& v : row) v = _mm512_setzero_si512();
    }
    for (size_t p = 0; p < pairs;) {
      const size_t block_end = p + kQs16BlockK / 2 < pairs ? p + kQs16BlockK / 2 : pairs;
      const size_t full_end = block_end < full_pairs ? block_end : full_pairs;
      __m512i acc[kMr][2];
      for (auto& row : acc) row[0] = row[1] = _mm512_setzero_si512();
      for (; p < full_end; ++p) {
        Step(w + 2 * p, LoadPair(a0 + 2 * p), LoadPair(a1 + 2 * p), LoadPair(a2 + 2 * p),
             LoadPair(a3 + 2 * p), acc);
      }
      if (p < block_end) {  // odd k: the last pair holds one value (its partner weight is 0)
        Step(w + 2 * p, static_cast<uint16_t>(a0[2 * p]), static_cast<uint16_t>(a1[2 * p]),
             static_cast<uint16_t>(a2[2 * p]), static_cast<uint16_t>(a3[2 * p]), acc);
        ++p;
      }
      for (size_t r = 0; r < kMr; ++r) {
        Widen(acc[r][0], &acc64[r][0], &acc64[r][1]);
        Widen(acc[r][1], &acc64[r][2], &acc64[r][3]);
      }
    }

    for (size_t r = 0; r < mr; ++r) {
      int16_t* out = c + (i + r) * ldc;
      for (size_t q = 0; q < 4; ++q) {
        if (store_mask[q] == 0) break;
        const __m512i x = _mm512_add_epi64(acc64[r][q], _mm512_load_si512(bias32 + 8 * q));
        __m256i v;
        if (fixed) {
          v = RequantizeFixedPoint(x, _mm512_load_si512(reduced32 + 8 * q),
                                   _mm512_load_si512(shift32 + 8 * q),
                                   _mm512_load_si512(round32 + 8 * q));
        } else {
          v = RequantizeDouble(x, _mm512_load_pd(scale32 + 8 * q), qmin_d, qmax_d);
        }
        v = _mm256_min_epi32(_mm256_max_epi32(v, qmin), qmax);
        _mm_mask_storeu_epi16(out + 8 * q, store_mask[q], _mm256_cvtsepi32_epi16(v));
      }
    }
  }
}

}  // namespace

extern const Qs16GemmKernels kQs16GemmAvx512Vnni = {Pack, Gemm, kMr, kNr, 2,
                                                    "qs16_gemm_4x32c2__avx512vnni"};

}  // namespace litequant
