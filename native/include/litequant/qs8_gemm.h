// int8 GEMM for FULLY_CONNECTED, BATCH_MATMUL and CONV_2D (through im2col or directly for 1x1):
//
//   C[m][n] = requantize( sum_k (A[m][k] - a_zero_point) * W[n][k] + bias[n] )
//
// A: int8 activations [M, K], row stride lda. W: int8 weights [N, K] row-major (TFLite's
// FULLY_CONNECTED layout; CONV_2D OHWI is [O, KH*KW*I]), symmetric (zero point 0), per-tensor or
// per-channel. bias: int32 [N] or null. C: int8 [M, N], row stride ldc. Requantization per
// requantization.h, per-tensor (1 entry) or per-channel (N entries), then clamped to
// [qmin, qmax] (fused activations).
//
// Weights are packed once (PackQs8Gemm) for the path selected at that moment: tiles in the
// layout that path's micro-kernel reads, with bias and the activation zero-point term
// (-a_zero_point * sum_k W[n][k]) folded in. The packed form is immutable and may be shared by
// threads and sessions; calls on it may run concurrently.
//
// Buffers: a GEMM reads exactly rows [0, m) x columns [0, k) of A (it copies them into
// per-thread panels, so nothing past row m - 1's k-th element is touched) and writes exactly
// rows [0, m) x columns [0, n) of C; no alignment is required. Sums are int32 with wrap-around
// on every path (kernels never saturate), so every path equals the reference bit for bit.
// Micro-kernels and their tiles: qs8_gemm_kernels.h (avx2 5x16c2, avxvnni 6x16c4,
// avx512vnni 8x32c4, neon 4x4c16, neondot 4x16c4; avx512 and amx use their fallbacks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "litequant/isa.h"
#include "litequant/requantization.h"

namespace litequant {

class ThreadPool;

struct Qs8Requant {
  RequantMode mode = RequantMode::kFp32;
  std::vector<float> scale;                     // kFp32: 1 or N entries
  std::vector<QuantizedMultiplier> multiplier;  // kFixedPoint: 1 or N entries
  int32_t output_zero_point = 0;
  int32_t qmin = -128;
  int32_t qmax = 127;
};

class Qs8PackedWeights;  // defined in core; opaque to callers

// w: [n][k] row-major (row stride k); bias: n entries or null (zero). Sums are int32 with
// wrap-around (exact for any realistic K: |sum| < 2^31 needs K < ~66000 at full scale).
std::shared_ptr<const Qs8PackedWeights> PackQs8Gemm(const int8_t* w, size_t n, size_t k,
                                                    const int32_t* bias, int32_t a_zero_point);
// The same for an explicit path (tests, benchmarks). A path without its own qs8 GEMM kernels
// (or not built) uses its fallback chain (isa.h); Qs8PackedPath says which one was used.
// The path must be supported by this CPU: that is not checked here.
std::shared_ptr<const Qs8PackedWeights> PackQs8GemmForPath(Path path, const int8_t* w, size_t n,
                                                           size_t k, const int32_t* bias,
                                                           int32_t a_zero_point);

size_t Qs8PackedN(const Qs8PackedWeights& w);
size_t Qs8PackedK(const Qs8PackedWeights& w);
int32_t Qs8PackedAZeroPoint(const Qs8PackedWeights& w);
// The path whose kernels run (after the fallback chain).
Path Qs8PackedPath(const Qs8PackedWeights& w);
// The micro-kernel's name ("qs8_gemm_5x16c2__avx2"; "qs8_gemm__reference" for the loops).
const char* Qs8PackedKernelName(const Qs8PackedWeights& w);

// Requantized int8 output. pool may be null (one thread). Results do not depend on the pool.
// requant: scale (kFp32) or multiplier (kFixedPoint) with 1 or N entries, qmin <= qmax in
// [-128, 127], output zero point in [-128, 127], finite scales, multipliers >= 0 with shifts in
// [-31, 31]; throws std::invalid_argument otherwise. a: m rows of k, row stride lda >= k;
// c: m rows of n, row stride ldc >= n. m == 0 does nothing; k == 0 gives requantize(bias).
void Qs8Gemm(const Qs8PackedWeights& w, size_t m, const int8_t* a, size_t lda, int8_t* c,
             size_t ldc, const Qs8Requant& requant, ThreadPool* pool);

// Raw accumulators without bias or zero-point terms: acc[m][n] = sum_k A[m][k] * W[n][k]
// (for hybrid kernels, whose activation zero point differs per row; see Qs8ColumnSums).
void Qs8GemmAccumulate(const Qs8PackedWeights& w, size_t m, const int8_t* a, size_t lda,
                       int32_t* acc, size_t ldacc, ThreadPool* pool);

// sum_k W[n][k] for each n (N entries, valid as long as w lives).
const int32_t* Qs8ColumnSums(const Qs8PackedWeights& w);

}  // namespace litequant
