// qs8_gemm_6x16c4__avxvnni: 6 rows x 16 columns, K in groups of 4, AVX-VNNI (VEX vpdpbusd
// on ymm registers).
//
// vpdpbusd multiplies unsigned by signed bytes and adds the 4 products of each int32 lane
// (without saturation: the "s" form saturates). A is packed flipped to unsigned
// (a ^ 0x80 == a + 128) and the +128 * colsum this adds is folded into the packed init, so
// sums equal the reference modulo 2^32. One vpbroadcastd of 4 A bytes per row, 2 loads of W
// (16 columns x 4 k = 64 bytes) per K group; 12 accumulators + 2 W + 1 A registers.
// Same structure and epilogue as qs8_gemm_5x16c2__avx2 (vpdpbusd
// accumulates in place, so 6 rows use 15 registers and keep one free).
#include <immintrin.h>

#include <cstring>

#include "litequant/qs8_gemm_kernels.h"
#include "qs8_gemm_epilogue_avx2.h"

namespace litequant {
namespace {

constexpr size_t kMr = 6;
constexpr size_t kNr = 16;
static_assert(kNr == kGroupColumns, "one epilogue group per tile");

template <size_t MR>
inline void AccumulateTile(size_t kc, const uint8_t* a, const int8_t* w, const int32_t* init,
                           __m256i (&out)[MR][2]) {
  const __m256i init0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(init));
  const __m256i init1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(init + 8));
  __m256i acc[MR][2];  // local and never escaping: register-resident (see the avx2 kernel)
#pragma GCC unroll 8
  for (size_t i = 0; i < MR; ++i) {
    acc[i][0] = init0;
    acc[i][1] = init1;
  }
  for (size_t k = 0; k < kc; k += 4) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32));
    w += 64;
#pragma GCC unroll 8
    for (size_t i = 0; i < MR; ++i) {
      int32_t quad;
      std::memcpy(&quad, a + 4 * i, sizeof(quad));
      const __m256i ai = _mm256_set1_epi32(quad);
      acc[i][0] = _mm256_dpbusd_avx_epi32(acc[i][0], ai, w0);
      acc[i][1] = _mm256_dpbusd_avx_epi32(acc[i][1], ai, w1);
    }
    a += 4 * MR;
  }
#pragma GCC unroll 8
  for (size_t i = 0; i < MR; ++i) {
    out[i][0] = acc[i][0];
    out[i][1] = acc[i][1];
  }
}

template <size_t MR>
void GemmTile(size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
              int8_t* c, size_t ldc, const Qs8GemmEpilogue& ep) {
  __m256i acc[MR][2];
  AccumulateTile<MR>(kc, static_cast<const uint8_t*>(a), w, init, acc);
  RequantizeGroup<MR>(acc, ep, 0, c, ldc, nc);
}

template <size_t MR>
void AccTile(size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
             int32_t* out, size_t ldout) {
  __m256i acc[MR][2];
  AccumulateTile<MR>(kc, static_cast<const uint8_t*>(a), w, init, acc);
  StoreAccGroup<MR>(acc, out, ldout, nc);
}

void Gemm(size_t mr, size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
          int8_t* c, size_t ldc, const Qs8GemmEpilogue& ep) {
  switch (mr) {
    case 1: return GemmTile<1>(nc, kc, a, w, init, c, ldc, ep);
    case 2: return GemmTile<2>(nc, kc, a, w, init, c, ldc, ep);
    case 3: return GemmTile<3>(nc, kc, a, w, init, c, ldc, ep);
    case 4: return GemmTile<4>(nc, kc, a, w, init, c, ldc, ep);
    case 5: return GemmTile<5>(nc, kc, a, w, init, c, ldc, ep);
    default: return GemmTile<6>(nc, kc, a, w, init, c, ldc, ep);
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
    default: return AccTile<6>(nc, kc, a, w, init, out, ldout);
  }
}

static_assert(kMr == 6, "Gemm/Accumulate dispatch on mr up to 6");

}  // namespace

extern const Qs8GemmConfig kQs8GemmAvxVnni = {
    Path::kAvxVnni, "qs8_gemm_6x16c4__avxvnni", kMr, kNr, /*kr=*/4, /*a_kr=*/4,
    Qs8PackedAKind::kUint8Xor80, /*needs_weights_above_min=*/false, /*exact=*/nullptr,
    Gemm, Accumulate};

}  // namespace litequant
