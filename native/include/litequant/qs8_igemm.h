// Kernel family: int8 CONV_2D as an indirect GEMM over an int16 image (qs8_igemm), used by
// core's Qs8Conv2D (qs8_conv.h) on the paths that have it. Not for callers: use qs8_conv.h.
//
// Why: the im2col + GEMM route copies every input pixel KH * KW times into im2col rows and then
// again into int16 GEMM panels; for the small channel counts of edge models (C = 3..64) those
// copies cost more than the multiply-adds. Here core widens the input once per call into an
// int16 image padded around with the input zero point, and the kernels read it in place.
//
// The image (written by `convert` and core): pixels of C int16 values. Output pixel i of a
// call starts at a[i], the image position of its top-left tap. The taps are read as `runs`
// runs of `run` contiguous int16 values, run t at a[i] + offsets[t] (int16 elements): one run
// per kernel row (KW neighbouring pixels: KW * C values) when there is no horizontal dilation,
// else one per tap (C values), rounded up to an even count (the value past the end, the next
// pixel's or the image's zeroed slack, meets a zero weight). Core points padded taps at the
// zero-point border, so the sum below equals TFLite's sum of (x - zp) * w over the taps inside
// the image once init folds -zp * sum(w) into the bias.
//
//   packed W, per NR-column tile: int16 [runs][run / 2][NR][2]   (columns past N and the
//                                 values past a run's real ones are 0; (kx, channel) order,
//                                 as OHWI)
//   init, per tile: int32 [NR]   bias[j] - zp * sum of column j's weights (wraps)
//
// A call computes, for i < m (any count: the kernel takes MR rows at a time) and j < nc <= NR,
// in int32 with wrap-around (exact modulo 2^32: every path equals the reference bit for bit):
//
//   acc[i][j] = init[j] + sum_{t < runs} sum_{k < run} a[i][offsets[t] + k] * W(j, t, k)
//
// and requantizes it to c[i * ldc + j] with the GEMM epilogue (qs8_gemm_kernels.h). `run` is
// even. Kernels read exactly `run` int16 at each run and the whole W tile; they write exactly
// m x nc outputs. W tiles are 32-byte aligned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "litequant/isa.h"
#include "litequant/qs8_gemm_kernels.h"

namespace litequant {

using Qs8IgemmFn = void (*)(size_t m, size_t nc, size_t runs, size_t run, const int16_t* const* a,
                            const ptrdiff_t* offsets, const int16_t* w, const int32_t* init,
                            int8_t* c, size_t ldc, const Qs8GemmEpilogue& ep);

// Widens `pixels` pixels of `channels` int8 values, pixel p at in + p * in_stride, to int16,
// stored contiguously (pixels * channels values). Reads exactly the pixels' bytes.
using Qs8IgemmConvertFn = void (*)(size_t pixels, size_t channels, const int8_t* in,
                                   size_t in_stride, int16_t* out);

struct Qs8IgemmKernel {
  const char* name;  // "qs8_igemm_5x16c2__avx2"
  uint32_t mr;       // rows per tile (a call takes any number)
  uint32_t nr;       // columns per W tile
  Qs8IgemmFn igemm;
};

struct Qs8IgemmConfig {
  Path path;
  Qs8IgemmKernel wide;    // the general tile
  Qs8IgemmKernel narrow;  // for N <= narrow.nr (a wide tile would be mostly empty)
  Qs8IgemmConvertFn convert;
};

class Qs8PackedConv;
struct Qs8ConvParams;

// PackQs8Conv2D with an explicit indirect-GEMM config (tests: the reference kernels run the
// driver on any machine). Throws std::invalid_argument like PackQs8Conv2D.
std::shared_ptr<const Qs8PackedConv> PackQs8Conv2DWithIgemm(const Qs8IgemmConfig* config,
                                                            const Qs8ConvParams& params,
                                                            const int8_t* weights,
                                                            const int32_t* bias);

// One per built path that has the family.
extern const Qs8IgemmConfig kQs8IgemmReference;
extern const Qs8IgemmConfig kQs8IgemmAvx2;

// The config of exactly `path` (no fallback chain: core asks with the path its GEMM resolved to),
// or nullptr when that path runs CONV_2D through im2col + GEMM. The reference config exists for
// tests: core never returns it here.
const Qs8IgemmConfig* Qs8IgemmConfigFor(Path path);

}  // namespace litequant
