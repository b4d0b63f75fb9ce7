// qs8_gemm_5x16c2__avx2: 5 rows x 16 columns, K in pairs.
//
// A is packed as int16 pairs, so one vpbroadcastd from memory gives (a[k], a[k+1]) in every
// lane; 16 bytes of W (8 columns x 2 k) sign-extend to int16 with vpmovsxbw, and vpmaddwd
// adds the two products of each column into an int32 lane: exact (no int16 saturation, unlike
// vpmaddubsw), so the sums equal the reference modulo 2^32. 10 accumulators + 2 W + 1 A + 1
// product register leave 2 of the 16 ymm registers free: with 6 rows (16 of 16) GCC spilled an
// accumulator inside the loop and lost a third of the speed; 5 rows run as fast as 6 unspilled.
#include <immintrin.h>

#include <cstring>

#include "litequant/qs8_gemm_kernels.h"
#include "qs8_gemm_epilogue_avx2.h"

namespace litequant {
namespace {

constexpr size_t kMr = 5;
constexpr size_t kNr = 16;
static_assert(kNr == kGroupColumns, "one epilogue group per tile");

// The K loop shared by both epilogues. It runs on a local array that only fully unrolled loops
// index and whose address never escapes, so GCC keeps it in registers whatever the epilogue
// does with `out`; writing into the caller's array in the loop let one non-unrolled epilogue
// loop pin the accumulators to the stack (vpaddd from (%rsp) in the loop, 1.8x slower).
template <size_t MR>
inline void AccumulateTile(size_t kc, const int16_t* a, const int8_t* w, const int32_t* init,
                           __m256i (&out)[MR][2]) {
  const __m256i init0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(init));
  const __m256i init1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(init + 8));
  __m256i acc[MR][2];
#pragma GCC unroll 8
  for (size_t i = 0; i < MR; ++i) {
    acc[i][0] = init0;
    acc[i][1] = init1;
  }
  for (size_t k = 0; k < kc; k += 2) {
    const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
    const __m256i w1 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 16)));
    w += 32;
#pragma GCC unroll 8
    for (size_t i = 0; i < MR; ++i) {
      int32_t pair;
      std::memcpy(&pair, a + 2 * i, sizeof(pair));
      const __m256i ai = _mm256_set1_epi32(pair);
      acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(ai, w0));
      acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(ai, w1));
    }
    a += 2 * MR;
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
  AccumulateTile<MR>(kc, static_cast<const int16_t*>(a), w, init, acc);
  RequantizeGroup<MR>(acc, ep, 0, c, ldc, nc);
}

template <size_t MR>
void AccTile(size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
             int32_t* out, size_t ldout) {
  __m256i acc[MR][2];
  AccumulateTile<MR>(kc, static_cast<const int16_t*>(a), w, init, acc);
  StoreAccGroup<MR>(acc, out, ldout, nc);
}

void Gemm(size_t mr, size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
          int8_t* c, size_t ldc, const Qs8GemmEpilogue& ep) {
  switch (mr) {
    case 1: return GemmTile<1>(nc, kc, a, w, init, c, ldc, ep);
    case 2: return GemmTile<2>(nc, kc, a, w, init, c, ldc, ep);
    case 3: return GemmTile<3>(nc, kc, a, w, init, c, ldc, ep);
    case 4: return GemmTile<4>(nc, kc, a, w, init, c, ldc, ep);
    default: return GemmTile<5>(nc, kc, a, w, init, c, ldc, ep);
  }
}

void Accumulate(size_t mr, size_t nc, size_t kc, const void* a, const int8_t* w,
                const int32_t* init, int32_t* out, size_t ldout) {
  switch (mr) {
    case 1: return AccTile<1>(nc, kc, a, w, init, out, ldout);
    case 2: return AccTile<2>(nc, kc, a, w, init, out, ldout);
    case 3: return AccTile<3>(nc, kc, a, w, init, out, ldout);
    case 4: return AccTile<4>(nc, kc, a, w, init, out, ldout);
    default: return AccTile<5>(nc, kc, a, w, init, out, ldout);
  }
}

static_assert(kMr == 5, "Gemm/Accumulate dispatch on mr up to 5");

}  // namespace

extern const Qs8GemmConfig kQs8GemmAvx2 = {
    Path::kAvx2, "qs8_gemm_5x16c2__avx2", kMr, kNr, /*kr=*/2, /*a_kr=*/2,
    Qs8PackedAKind::kInt16, /*needs_weights_above_min=*/false, /*exact=*/nullptr,
    Gemm, Accumulate};

}  // namespace litequant
