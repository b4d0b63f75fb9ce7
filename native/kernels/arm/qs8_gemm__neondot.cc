// qs8_gemm_4x16c4__neondot: 4 rows x 16 columns, K in groups of 4, ARMv8.2 dot product.
//
// SDOT (by element) adds the 4 int8 x int8 products of each int32 lane exactly. A is packed
// in 16-byte rows (4 K groups per q register, selected by lane); W in 64-byte K groups
// (16 columns x 4 k = 4 q registers). 16 accumulators + 4 A + 4 W registers.
#include <arm_neon.h>

#include "litequant/qs8_gemm_kernels.h"
#include "qs8_gemm_epilogue_neon.h"

namespace litequant {
namespace {

constexpr size_t kMr = 4;
constexpr size_t kNr = 16;
constexpr size_t kNv = kNr / 4;
constexpr size_t kAKr = 16;

// One K group (lane Q of every A register) against 16 columns.
template <size_t MR, int Q>
inline void DotGroup(const int8x16_t (&av)[MR], const int8_t* w, int32x4_t (&acc)[MR][kNv]) {
  int8x16_t wv[kNv];
  for (size_t v = 0; v < kNv; ++v) wv[v] = vld1q_s8(w + 64 * Q + 16 * v);
  for (size_t i = 0; i < MR; ++i) {
    for (size_t v = 0; v < kNv; ++v) acc[i][v] = vdotq_laneq_s32(acc[i][v], wv[v], av[i], Q);
  }
}

// The K loop shared by both epilogues, on a local array that never escapes (so it stays in
// registers whatever the epilogue does with `out`; see qs8_gemm__avx2.cc).
template <size_t MR>
inline void AccumulateTile(size_t kc, const int8_t* a, const int8_t* w, const int32_t* init,
                           int32x4_t (&out)[MR][kNv]) {
  int32x4_t acc[MR][kNv];
  for (size_t v = 0; v < kNv; ++v) {
    const int32x4_t init_v = vld1q_s32(init + 4 * v);
    for (size_t i = 0; i < MR; ++i) acc[i][v] = init_v;
  }
  for (size_t k = 0; k < kc; k += kAKr) {
    int8x16_t av[MR];
    for (size_t i = 0; i < MR; ++i) av[i] = vld1q_s8(a + kAKr * i);
    DotGroup<MR, 0>(av, w, acc);
    DotGroup<MR, 1>(av, w, acc);
    DotGroup<MR, 2>(av, w, acc);
    DotGroup<MR, 3>(av, w, acc);
    a += kAKr * MR;
    w += 4 * 64;
  }
  for (size_t i = 0; i < MR; ++i) {
    for (size_t v = 0; v < kNv; ++v) out[i][v] = acc[i][v];
  }
}

template <size_t MR>
void GemmTile(size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
              int8_t* c, size_t ldc, const Qs8GemmEpilogue& ep) {
  int32x4_t acc[MR][kNv];
  AccumulateTile<MR>(kc, static_cast<const int8_t*>(a), w, init, acc);
  RequantizeRows<MR, kNv>(acc, ep, c, ldc, nc);
}

template <size_t MR>
void AccTile(size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
             int32_t* out, size_t ldout) {
  int32x4_t acc[MR][kNv];
  AccumulateTile<MR>(kc, static_cast<const int8_t*>(a), w, init, acc);
  StoreAccRows<MR, kNv>(acc, out, ldout, nc);
}

void Gemm(size_t mr, size_t nc, size_t kc, const void* a, const int8_t* w, const int32_t* init,
          int8_t* c, size_t ldc, const Qs8GemmEpilogue& ep) {
  switch (mr) {
    case 1: return GemmTile<1>(nc, kc, a, w, init, c, ldc, ep);
    case 2: return GemmTile<2>(nc, kc, a, w, init, c, ldc, ep);
    case 3: return GemmTile<3>(nc, kc, a, w, init, c, ldc, ep);
    default: return GemmTile<4>(nc, kc, a, w, init, c, ldc, ep);
  }
}

void Accumulate(size_t mr, size_t nc, size_t kc, const void* a, const int8_t* w,
                const int32_t* init, int32_t* out, size_t ldout) {
  switch (mr) {
    case 1: return AccTile<1>(nc, kc, a, w, init, out, ldout);
    case 2: return AccTile<2>(nc, kc, a, w, init, out, ldout);
    case 3: return AccTile<3>(nc, kc, a, w, init, out, ldout);
    default: return AccTile<4>(nc, kc, a, w, init, out, ldout);
  }
}

static_assert(kMr == 4, "Gemm/Accumulate dispatch on mr up to 4");

}  // namespace

extern const Qs8GemmConfig kQs8GemmNeonDot = {
    Path::kNeonDot, "qs8_gemm_4x16c4__neondot", kMr, kNr, /*kr=*/4, kAKr,
    Qs8PackedAKind::kInt8, /*needs_weights_above_min=*/false, /*exact=*/nullptr,
    Gemm, Accumulate};

}  // namespace litequant
