// float32 GEMM for FULLY_CONNECTED, BATCH_MATMUL and CONV_2D (through im2col, or directly for
// 1x1 stride 1):
//
//   C[m][n] = clamp( bias[n] + sum_k A[m][k] * W[n][k], min, max )
//
// A: [M, K] row stride lda. W: [N, K] row-major (TFLite's FULLY_CONNECTED layout; CONV_2D OHWI is
// [O, KH*KW*I]). bias: [N] or null (zeros). C: [M, N] row stride ldc. The fused activation is the
// clamp ([-inf, inf] for none, [0, 6] for RELU6, ...); NaN passes through the clamp, as TFLite's
// std::min(std::max(x, lo), hi) does.
//
// Summation order (the numerics every path shares): the accumulator starts at bias[n] and adds
// the K products in ascending k, one chain per output. The reference rounds each product and each
// sum (separate multiply and add); optimized paths fuse them (FMA), so they differ from the
// reference by at most 2 * gamma(K+1) * (|bias| + sum_k |A[m][k] * W[n][k]|), gamma(j) = j*u/(1-j*u),
// u = 2^-24 (see native/test/f32_gemm_test.cc). A row's result never depends on M, on the tiling
// or on the thread count.
//
// Micro-kernel contract (one per path, MR x NR tile): packed weights hold, for each panel of NR
// output columns (the last zero-padded), NR biases followed by K rows of NR weights
// (panel[NR + k*NR + j] = W[n0 + j][k]), 64-byte aligned. The kernel computes mr <= MR rows and
// nc <= NR columns of one panel: it reads exactly mr rows of K values of A, the whole panel, and
// writes exactly mr x nc outputs; nothing past any buffer's end is touched.
//
// The optional one-row kernel (gemv) computes one row of A against `panels` consecutive panels
// (panel_stride floats apart; all full except possibly the last) and writes nc <= panels*NR
// outputs. It runs the same per-output FMA chain as the tile kernel, so its results are
// bit-identical; it exists because a single row leaves the tile kernel latency-bound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "litequant/isa.h"

namespace litequant {

class ThreadPool;

using F32GemmUkernelFn = void (*)(size_t mr, size_t nc, size_t k, const float* a, size_t lda,
                                  const float* panel, float* c, size_t ldc, float min, float max);

using F32GemvUkernelFn = void (*)(size_t nc, size_t k, const float* a, const float* panels,
                                  size_t panel_stride, float* c, float min, float max);

struct F32GemmKernels {
  F32GemmUkernelFn gemm;
  F32GemvUkernelFn gemv;  // may be null
  uint32_t mr;
  uint32_t nr;
  const char* name;  // e.g. "f32_gemm_6x16__avx2"
};

// One definition per built path (kernels/<dir>/f32_gemm__<path>.cc).
extern const F32GemmKernels kF32GemmReference;
extern const F32GemmKernels kF32GemmAvx2;
extern const F32GemmKernels kF32GemmAvx512;
extern const F32GemmKernels kF32GemmNeon;

// The kernels for `path`, following the fallback chain to a built one.
const F32GemmKernels& F32GemmKernelsFor(Path path);

class F32PackedWeights;  // defined in core; immutable, shareable between threads

// Packs W [n, k] (and bias [n] or null) for the path selected now (or `path`).
std::shared_ptr<const F32PackedWeights> PackF32Gemm(const float* w, size_t n, size_t k,
                                                    const float* bias);
std::shared_ptr<const F32PackedWeights> PackF32Gemm(const float* w, size_t n, size_t k,
                                                    const float* bias, Path path);

size_t F32PackedN(const F32PackedWeights& w);
size_t F32PackedK(const F32PackedWeights& w);
// The path whose kernels the packing was made for (after the fallback chain).
Path F32PackedPath(const F32PackedWeights& w);

// C = clamp(A x W^T + bias). lda >= k, ldc >= n. pool may be null (one thread); the result is the
// same for every thread count.
void F32Gemm(const F32PackedWeights& w, size_t m, const float* a, size_t lda, float* c, size_t ldc,
             float min, float max, ThreadPool* pool);

}  // namespace litequant
