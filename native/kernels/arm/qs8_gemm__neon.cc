// qs8_gemm_4x4c16__neon_mlal and qs8_gemm_4x4c16__neon_mull: 4 rows x 4 columns, K in
// groups of 16 (one q register of A and of W per row / column), AArch64 Advanced SIMD.
//
// mlal: SMULL multiplies the low 8 bytes into int16, SMLAL2 adds the high 8 products to them
// (two int8 products per int16 lane), SADALP adds int16 pairs into the int32 accumulator.
// The int16 pair can only overflow for -128 * -128 + -128 * -128 = 32768, so this kernel
// needs weights in [-127, 127] (what TFLite's symmetric weights are); packing picks
// mull for weights that contain -128: SADALP straight after each SMULL / SMULL2, exact for any
// int8. 16 accumulators are reduced across lanes once per tile (ADDP).
#include <arm_neon.h>

#include "litequant/qs8_gemm_kernels.h"
#include "qs8_gemm_epilogue_neon.h"

namespace litequant {
namespace {

constexpr size_t kMr = 4;
constexpr size_t kNr = 4;
constexpr size_t kKr = 16;

template <size_t MR, bool kPairInInt16>
inline void AccumulateTile(size_t kc, const int8_t* a, const int8_t* w, const int32_t* init,
                           int32x4_t (&out)[MR][1]) {
  int32x4_t acc[MR][kNr];
  for (size_t i = 0; i < MR; ++i) {
    for (size_t j = 0; j < kNr; ++j) acc[i][j] = vdupq_n_s32(0);
  }
  for (size_t k = 0; k < kc; k += kKr) {
    int8x16_t av[MR];
    for (size_t i = 0; i < MR; ++i) av[i] = vld1q_s8(a + kKr * i);
    for (size_t j = 0; j < kNr; ++j) {
      const int8x16_t wv = vld1q_s8(w + kKr * j);
      for (size_t i = 0; i < MR; ++i) {
        if (kPairInInt16) {
          int16x8_t p = vmull_s8(vget_low_s8(av[i]), vget_low_s8(wv));
          p = vmlal_high_s8(p, av[i], wv);
          acc[i][j] = vpadalq_s16(acc[i][j], p);
        } else {
          acc[i][j] = vpadalq_s16(acc[i][j], vmull_s8(vget_low_s8(av[i]), vget_low_s8(wv)));
          acc[i][j] = vpadalq_s16(acc[i][j], vmull_high_s8(av[i], wv));
        }
      }
    }
    a += kKr * MR;
    w += kKr * kNr;
  }
  const int32x4_t init_v = vld1q_s32(init);
  for (size_t i = 0; i < MR; ++i) {
    const int32x4_t sums =
        vpaddq_s32(vpaddq_s32(acc[i][0], acc[i][1]), vpaddq_s32(acc[i][2], acc[i][3]));
    out[i][0] = vaddq_s32(init_v, sums);
  }
}

template <size_t MR, bool kPairInInt16>
void GemmTile(size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
              int8_t* c, size_t ldc, const Qs8GemmEpilogue& ep) {
  int32x4_t acc[MR][1];
  AccumulateTile<MR, kPairInInt16>(kc, static_cast<const int8_t*>(a), w, init, acc);
  RequantizeRows<MR, 1>(acc, ep, c, ldc, nc);
}

template <size_t MR, bool kPairInInt16>
void AccTile(size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
             int32_t* out, size_t ldout) {
  int32x4_t acc[MR][1];
  AccumulateTile<MR, kPairInInt16>(kc, static_cast<const int8_t*>(a), w, init, acc);
  StoreAccRows<MR, 1>(acc, out, ldout, nc);
}

template <bool kPairInInt16>
void Gemm(size_t mr, size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
          int8_t* c, size_t ldc, const Qs8GemmEpilogue& ep) {
  switch (mr) {
    case 1: return GemmTile<1, kPairInInt16>(nc, kc, a, w, init, c, ldc, ep);
    case 2: return GemmTile<2, kPairInInt16>(nc, kc, a, w, init, c, ldc, ep);
    case 3: return GemmTile<3, kPairInInt16>(nc, kc, a, w, init, c, ldc, ep);
    default: return GemmTile<4, kPairInInt16>(nc, kc, a, w, init, c, ldc, ep);
  }
}

template <bool kPairInInt16>
void Accumulate(size_t mr, size_t nc, size_t kc, const void* a, const int8_t* w,
                const int32_t* init, int32_t* out, size_t ldout) {
  switch (mr) {
    case 1: return AccTile<1, kPairInInt16>(nc, kc, a, w, init, out, ldout);
    case 2: return AccTile<2, kPairInInt16>(nc, kc, a, w, init, out, ldout);
    case 3: return AccTile<3, kPairInInt16>(nc, kc, a, w, init, out, ldout);
    default: return AccTile<4, kPairInInt16>(nc, kc, a, w, init, out, ldout);
  }
}

static_assert(kMr == 4, "Gemm/Accumulate dispatch on mr up to 4");

const Qs8GemmConfig kQs8GemmNeonMull = {
    Path::kNeon, "qs8_gemm_4x4c16__neon_mull", kMr, kNr, kKr, /*a_kr=*/kKr,
    Qs8PackedAKind::kInt8, /*needs_weights_above_min=*/false, /*exact=*/nullptr,
    Gemm<false>, Accumulate<false>};

}  // namespace

extern const Qs8GemmConfig kQs8GemmNeon = {
    Path::kNeon, "qs8_gemm_4x4c16__neon_mlal", kMr, kNr, kKr, /*a_kr=*/kKr,
    Qs8PackedAKind::kInt8, /*needs_weights_above_min=*/true, /*exact=*/&kQs8GemmNeonMull,
    Gemm<true>, Accumulate<true>};

}  // namespace litequant
