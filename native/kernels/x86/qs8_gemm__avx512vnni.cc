// qs8_gemm_8x32c4__avx512vnni: 8 rows x 32 columns, K in groups of 4, AVX512_VNNI.
//
// vpdpbusd multiplies unsigned by signed bytes and adds the 4 products of each int32 lane
// (without saturation: the "s" form saturates). A is packed flipped to unsigned
// (a ^ 0x80 == a + 128) and the +128 * colsum this adds is folded into the packed init, so
// sums equal the reference modulo 2^32. Per K group: one vpbroadcastd of 4 A bytes per row and
// 2 zmm of W (32 columns x 4 k); 16 accumulators + 2 W + 1 A of the 32 zmm registers.
// Same structure as qs8_gemm_5x16c2__avx2; the epilogue is the avx2 one (tested on every
// x86 CPU), run on the 256-bit halves of the accumulators.
#include <immintrin.h>

#include <cstring>

#include "litequant/qs8_gemm_kernels.h"
#include "qs8_gemm_epilogue_avx2.h"

namespace litequant {
namespace {

constexpr size_t kMr = 8;
constexpr size_t kNr = 32;
constexpr size_t kGroups = kNr / kGroupColumns;

template <size_t MR>
inline void AccumulateTile(size_t kc, const uint8_t* a, const int8_t* w, const int32_t* init,
                           __m512i (&out)[MR][2]) {
  const __m512i init0 = _mm512_loadu_si512(init);
  const __m512i init1 = _mm512_loadu_si512(init + 16);
  __m512i acc[MR][2];  // local and never escaping: register-resident (see the avx2 kernel)
#pragma GCC unroll 8
  for (size_t i = 0; i < MR; ++i) {
    acc[i][0] = init0;
    acc[i][1] = init1;
  }
  for (size_t k = 0; k < kc; k += 4) {
    const __m512i w0 = _mm512_loadu_si512(w);
    const __m512i w1 = _mm512_loadu_si512(w + 64);
    w += 128;
#pragma GCC unroll 8
    for (size_t i = 0; i < MR; ++i) {
      int32_t quad;
      std::memcpy(&quad, a + 4 * i, sizeof(quad));
      const __m512i ai = _mm512_set1_epi32(quad);
      acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], ai, w0);
      acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], ai, w1);
    }
    a += 4 * MR;
  }
#pragma GCC unroll 8
  for (size_t i = 0; i < MR; ++i) {
    out[i][0] = acc[i][0];
    out[i][1] = acc[i][1];
  }
}

// Columns [16 g, 16 g + 16) of every row as two ymm halves, for the shared epilogue.
template <size_t MR>
inline void SplitGroup(const __m512i (&acc)[MR][2], size_t g, __m256i (&out)[MR][2]) {
  for (size_t i = 0; i < MR; ++i) {
    out[i][0] = _mm512_castsi512_si256(acc[i][g]);
    out[i][1] = _mm512_extracti64x4_epi64(acc[i][g], 1);
  }
}

inline size_t GroupColumns(size_t nc, size_t g) {
  const size_t first = g * kGroupColumns;
  return nc <= first ? 0 : (nc - first < kGroupColumns ? nc - first : kGroupColumns);
}

template <size_t MR>
void GemmTile(size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
              int8_t* c, size_t ldc, const Qs8GemmEpilogue& ep) {
  __m512i acc[MR][2];
  AccumulateTile<MR>(kc, static_cast<const uint8_t*>(a), w, init, acc);
  for (size_t g = 0; g < kGroups; ++g) {
    const size_t cols = GroupColumns(nc, g);
    if (cols == 0) break;
    __m256i group[MR][2];
    SplitGroup<MR>(acc, g, group);
    RequantizeGroup<MR>(group, ep, g * kGroupColumns, c + g * kGroupColumns, ldc, cols);
  }
}

template <size_t MR>
void AccTile(size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
             int32_t* out, size_t ldout) {
  __m512i acc[MR][2];
  AccumulateTile<MR>(kc, static_cast<const uint8_t*>(a), w, init, acc);
  for (size_t g = 0; g < kGroups; ++g) {
    const size_t cols = GroupColumns(nc, g);
    if (cols == 0) break;
    __m256i group[MR][2];
    SplitGroup<MR>(acc, g, group);
    StoreAccGroup<MR>(group, out + g * kGroupColumns, ldout, cols);
  }
}

void Gemm(size_t mr, size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
          int8_t* c, size_t ldc, const Qs8GemmEpilogue& ep) {
  switch (mr) {
    case 1: return GemmTile<1>(nc, kc, a, w, init, c, ldc, ep);
    case 2: return GemmTile<2>(nc, kc, a, w, init, c, ldc, ep);
    case 3: return GemmTile<3>(nc, kc, a, w, init, c, ldc, ep);
    case 4: return GemmTile<4>(nc, kc, a, w, init, c, ldc, ep);
    case 5: return GemmTile<5>(nc, kc, a, w, init, c, ldc, ep);
    case 6: return GemmTile<6>(nc, kc, a, w, init, c, ldc, ep);
    case 7: return GemmTile<7>(nc, kc, a, w, init, c, ldc, ep);
    default: return GemmTile<8>(nc, kc, a, w, init, c, ldc, ep);
  }
}

void Accumulate(size_t mr, size_t nc, size_t kc, const void* a, const int8_t* w,
                const int32_t* init, int32_t* out, size_t ldout) {
  switch (mr) {
    case 1: return AccTile<1>(nc, kc, a, w, init, out, ldout);
    case 2: return AccTile<2>(nc, kc, a, w, init, out, ldout);
    case 3: return AccTile<3>(nc, kc, a, w, init, out, ldout);
    case 4: return AccTile<4>(nc, kc, a, w, init, out, ldout);
    case 5: return AccTile<5>(nc, kc, a, w, init, out, ldout);
    case 6: return AccTile<6>(nc, kc, a, w, init, out, ldout);
    case 7: return AccTile<7>(nc, kc, a, w, init, out, ldout);
    default: return AccTile<8>(nc, kc, a, w, init, out, ldout);
  }
}

static_assert(kMr == 8, "Gemm/Accumulate dispatch on mr up to 8");

}  // namespace

extern const Qs8GemmConfig kQs8GemmAvx512Vnni = {
    Path::kAvx512Vnni, "qs8_gemm_8x32c4__avx512vnni", kMr, kNr, /*kr=*/4, /*a_kr=*/4,
    Qs8PackedAKind::kUint8Xor80, /*needs_weights_above_min=*/false, /*exact=*/nullptr,
    Gemm, Accumulate};

}  // namespace litequant
