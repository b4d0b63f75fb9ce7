// NEON int16x8 GEMM, 4x8 tiles (qs16_gemm_4x8__neon): SMLAL of sign-extended weights by one
// activation lane, four values of k per activation load. Block sums stay in int32 for at most
// kQs16BlockK values of k, then widen to int64 (see qs16_gemm.h); the requantization is the
// scalar rule of Qs16RequantizeOne (NEON has no 64-bit lane multiply).
#include <arm_neon.h>

#include "litequant/qs16_gemm.h"

namespace litequant {
namespace {

constexpr size_t kMr = 4;
constexpr size_t kNr = 8;

void Pack(size_t nc, size_t k, const int8_t* w, size_t ldw, int16_t* panel) {
  for (size_t kk = 0; kk < k; ++kk) {
    for (size_t j = 0; j < kNr; ++j) panel[kk * kNr + j] = j < nc ? w[j * ldw + kk] : 0;
  }
}

template <int L, size_t R>
static inline void Lane(const int16_t* panel, const int16x4_t (&x)[R], int32x4_t (&acc)[R][2]) {
  const int16x8_t w = vld1q_s16(panel + L * kNr);
  for (size_t r = 0; r < R; ++r) {
    acc[r][0] = vmlal_lane_s16(acc[r][0], vget_low_s16(w), x[r], L);
    acc[r][1] = vmlal_high_lane_s16(acc[r][1], w, x[r], L);
  }
}

// The int64 sums of R rows (R <= kMr; a template so a lone row does not pay for four) and 8
// columns: int32 blocks of at most kQs16BlockK values of k, widened to int64.
template <size_t R>
static inline void Tile(size_t k, const int16_t* a, size_t lda, const int16_t* panel,
                        int64x2_t (&acc64)[kMr][4]) {
  const int16_t* rows[R];
  for (size_t r = 0; r < R; ++r) rows[r] = a + r * lda;
  for (size_t r = 0; r < R; ++r) {
    for (auto& v : acc64[r]) v = vdupq_n_s64(0);
  }
  for (size_t kb = 0; kb < k; kb += kQs16BlockK) {
    const size_t kend = kb + kQs16BlockK < k ? kb + kQs16BlockK : k;
    int32x4_t acc[R][2];
    for (auto& row : acc) row[0] = row[1] = vdupq_n_s32(0);
    size_t kk = kb;
    for (; kk + 4 <= kend; kk += 4) {
      int16x4_t x[R];
      for (size_t r = 0; r < R; ++r) x[r] = vld1_s16(rows[r] + kk);
      const int16_t* p = panel + kk * kNr;
      Lane<0, R>(p, x, acc);
      Lane<1, R>(p, x, acc);
      Lane<2, R>(p, x, acc);
      Lane<3, R>(p, x, acc);
    }
    for (; kk < kend; ++kk) {
      const int16x8_t w = vld1q_s16(panel + kk * kNr);
      for (size_t r = 0; r < R; ++r) {
        acc[r][0] = vmlal_n_s16(acc[r][0], vget_low_s16(w), rows[r][kk]);
        acc[r][1] = vmlal_high_n_s16(acc[r][1], w, rows[r][kk]);
      }
    }
    for (size_t r = 0; r < R; ++r) {
      acc64[r][0] = vaddw_s32(acc64[r][0], vget_low_s32(acc[r][0]));
      acc64[r][1] = vaddw_high_s32(acc64[r][1], acc[r][0]);
      acc64[r][2] = vaddw_s32(acc64[r][2], vget_low_s32(acc[r][1]));
      acc64[r][3] = vaddw_high_s32(acc64[r][3], acc[r][1]);
    }
  }
}

void Gemm(size_t m, size_t nc, size_t k, const int16_t* a, size_t lda, const int16_t* panel,
          const int64_t* bias, int16_t* c, size_t ldc, const Qs16RequantParams& rq) {
  for (size_t i = 0; i < m; i += kMr) {
    const size_t mr = m - i < kMr ? m - i : kMr;
    int64x2_t acc64[kMr][4];
    switch (mr) {
      case 1: Tile<1>(k, a + i * lda, lda, panel, acc64); break;
      case 2: Tile<2>(k, a + i * lda, lda, panel, acc64); break;
      case 3: Tile<3>(k, a + i * lda, lda, panel, acc64); break;
      default: Tile<4>(k, a + i * lda, lda, panel, acc64); break;
    }
    for (size_t r = 0; r < mr; ++r) {
      int64_t sums[kNr];
      for (size_t q = 0; q < 4; ++q) vst1q_s64(sums + 2 * q, acc64[r][q]);
      int16_t* out = c + (i + r) * ldc;
      for (size_t j = 0; j < nc; ++j) {
        const int64_t acc = sums[j] + (bias != nullptr ? bias[j] : 0);
        out[j] = static_cast<int16_t>(Qs16RequantizeOne(acc, rq, j));
      }
    }
  }
}

}  // namespace

extern const Qs16GemmKernels kQs16GemmNeon = {Pack, Gemm, kMr, kNr, 1, "qs16_gemm_4x8__neon"};

}  // namespace litequant
