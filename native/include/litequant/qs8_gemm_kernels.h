// The contract between core/qs8_gemm.cc (packing, tiling, threads) and the qs8 GEMM
// micro-kernels in kernels/<isa>/qs8_gemm__<isa>.cc. Not for callers: use qs8_gemm.h.
//
// Geometry of a path (Qs8GemmConfig): the kernel computes tiles of up to MR rows x NR columns.
// K is padded with zeros to kc, a multiple of both KR and A_KR.
//
//   packed W, per NR-column tile:  int8 [kc / KR][NR][KR]   (columns past N and k >= K are 0)
//   packed A, per panel of mr rows: T   [kc / A_KR][mr][A_KR]  (mr = rows of this panel <= MR;
//                                       k >= K is 0; T and the value stored follow a_kind)
//   init, per tile: int32 [NR]       the accumulator's starting value
//
// A kernel call computes, for i < mr and j < nc (nc <= NR), in int32 with wrap-around
// (integer sums are exact modulo 2^32, so every kernel equals the reference bit for bit):
//
//   acc[i][j] = init[j] + sum_{k < kc} A(i, k) * W(j, k)
//
// and either requantizes it to c[i * ldc + j] (Qs8GemmUkernelFn) or stores it raw to
// acc[i * ldacc + j] (Qs8GemmAccUkernelFn). Kernels read the whole padded panel and tile (so
// they never read past them), write exactly mr x nc outputs, and read ep.scale /
// ep.multiplier at [0, nc) when per-channel, [0] otherwise.
//
// Folding: A is stored as A' = A + a_offset (a_offset = 128 when a_kind is kUint8Xor80, the
// unsigned operand of vpdpbusd); so init = bias - (a_zero_point + a_offset) * colsum for the
// requantized GEMM and -a_offset * colsum for raw accumulation.
//
// Header-only and `static inline` where it has code: included by every ISA's translation unit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "litequant/qs8_gemm.h"
#include "litequant/requantization.h"

namespace litequant {

// How activations are stored in a packed A panel.
enum class Qs8PackedAKind : uint8_t {
  kInt8 = 0,        // int8 as is
  kInt16 = 1,       // sign-extended to int16 (vpmaddwd operands)
  kUint8Xor80 = 2,  // uint8 a ^ 0x80 == a + 128 (vpdpbusd's unsigned operand)
};

static inline size_t Qs8PackedAElementSize(Qs8PackedAKind kind) {
  return kind == Qs8PackedAKind::kInt16 ? 2 : 1;
}
static inline int32_t Qs8PackedAOffset(Qs8PackedAKind kind) {
  return kind == Qs8PackedAKind::kUint8Xor80 ? 128 : 0;
}

// Requantization of one tile, with pointers already offset to the tile's first column.
struct Qs8GemmEpilogue {
  RequantMode mode = RequantMode::kFp32;
  bool per_channel = false;
  const float* scale = nullptr;                     // kFp32
  const QuantizedMultiplier* multiplier = nullptr;  // kFixedPoint
  int32_t output_zero_point = 0;
  int32_t qmin = -128;
  int32_t qmax = 127;
};

// The scalar epilogue for column j of a tile: the truth every vectorized epilogue matches.
static inline int8_t Qs8RequantizeOne(int32_t acc, const Qs8GemmEpilogue& ep, size_t j) {
  const size_t c = ep.per_channel ? j : 0;
  const int32_t y =
      ep.mode == RequantMode::kFp32
          ? RequantizeFp32(acc, ep.scale[c], ep.output_zero_point, ep.qmin, ep.qmax)
          : RequantizeFixedPoint(acc, ep.multiplier[c], ep.output_zero_point, ep.qmin, ep.qmax);
  return static_cast<int8_t>(y);
}

using Qs8GemmUkernelFn = void (*)(size_t mr, size_t nc, size_t kc, const void* a,
                                  const int8_t* w, const int32_t* init, int8_t* c, size_t ldc,
                                  const Qs8GemmEpilogue& ep);
using Qs8GemmAccUkernelFn = void (*)(size_t mr, size_t nc, size_t kc, const void* a,
                                     const int8_t* w, const int32_t* init, int32_t* acc,
                                     size_t ldacc);

struct Qs8GemmConfig {
  Path path;
  const char* name;  // the micro-kernel, e.g. "qs8_gemm_5x16c2__avx2"
  uint32_t mr;
  uint32_t nr;
  uint32_t kr;
  uint32_t a_kr;
  Qs8PackedAKind a_kind;
  // The kernel adds two int8 x int8 products in int16 (smull + smlal), which only -128 * -128
  // twice can overflow: it needs weights in [-127, 127]. Weights with -128 use `exact`.
  bool needs_weights_above_min;
  const Qs8GemmConfig* exact;
  Qs8GemmUkernelFn gemm;
  Qs8GemmAccUkernelFn accumulate;
};

// One per built optimized path (the reference path has no tiles: see below).
extern const Qs8GemmConfig kQs8GemmAvx2;
extern const Qs8GemmConfig kQs8GemmAvxVnni;
extern const Qs8GemmConfig kQs8GemmAvx512Vnni;
extern const Qs8GemmConfig kQs8GemmNeon;
extern const Qs8GemmConfig kQs8GemmNeonDot;

// The config for `path` following the fallback chain; nullptr means the reference loops.
const Qs8GemmConfig* Qs8GemmConfigFor(Path path);

// The truth (kernels/reference/qs8_gemm__reference.cc): plain loops over the definition in
// qs8_gemm.h, W row-major [n][k], int32 sums with wrap-around.
void Qs8GemmReference(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* w,
                      const int32_t* bias, int32_t a_zero_point, const Qs8Requant& requant,
                      int8_t* c, size_t ldc);
void Qs8GemmAccumulateReference(size_t m, size_t n, size_t k, const int8_t* a, size_t lda,
                                const int8_t* w, int32_t* acc, size_t ldacc);

// PackQs8GemmForPath with an explicit config (nullptr: the reference loops). Tests use it to
// run the driver with a geometry whose kernels this CPU cannot execute (scalar stand-ins).
std::shared_ptr<const Qs8PackedWeights> PackQs8GemmWithConfig(const Qs8GemmConfig* config,
                                                              const int8_t* w, size_t n, size_t k,
                                                              const int32_t* bias,
                                                              int32_t a_zero_point);

// Packing helpers (core), exposed for tests that check a geometry without its kernel.
size_t Qs8GemmPaddedK(const Qs8GemmConfig& config, size_t k);
// Writes ceil(n / NR) tiles of kc * NR bytes.
void Qs8GemmPackW(const Qs8GemmConfig& config, const int8_t* w, size_t n, size_t k, int8_t* out);
// Packs rows [0, m) of A into consecutive panels of MR rows (the last has m % MR rows).
void Qs8GemmPackA(const Qs8GemmConfig& config, const int8_t* a, size_t lda, size_t m, size_t k,
                  void* out);

}  // namespace litequant
