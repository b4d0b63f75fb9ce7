// Kernel family: int8 depthwise convolution micro-kernels (qs8_dwconv), used by core's
// Qs8Depthwise (qs8_conv.h). Kernels see one output row segment at a time through an
// indirection buffer and know nothing about padding, strides, dilation or depth multipliers:
//
//   for each output pixel p < pixels and channel c < channels:
//     acc = packed_bias[c] + sum_{t < taps} int32(input[p * input_advance + t][c]) * w[t][c]
//     output[p * output_stride + c] = requantize(acc)        (requantization.h, both modes)
//
// input_advance == taps gives every pixel its own pointers; core passes less (stride_w * KH,
// taps ordered column by column) so that neighbouring pixels share the pointers of the input
// columns they have in common.
//
// Core points padded taps at a row filled with the input zero point and folds
// -input_zero_point * sum_t w[t][c] into the packed bias, so the sum above equals TFLite's
// sum of (x - zero_point) * w over the taps inside the image. With a depth multiplier M > 1,
// core hands the kernels an input whose channels are already repeated M times.
//
// Tile contract: `channel_tile` channels are processed together; each kernel reads exactly
// `channels` bytes at every input pointer (tails are loaded partially, never past the end)
// and writes exactly `channels` bytes per output pixel. Packed data is `packed_size` bytes,
// written by `pack` in that path's layout, and must be 64-byte aligned.
#pragma once

#include <cstddef>
#include <cstdint>

#include "litequant/isa.h"
#include "litequant/requantization.h"

namespace litequant {

// What `pack` reads: natural channel order, per-channel requantization already expanded
// (per-tensor parameters repeated), the zero-point term already folded into bias.
struct Qs8DwconvPackInput {
  size_t channels = 0;
  size_t taps = 0;
  const int8_t* weights = nullptr;  // [taps][channels]
  const int32_t* bias = nullptr;    // [channels]
  RequantMode mode = RequantMode::kFp32;
  const float* scale = nullptr;         // [channels], kFp32
  const int32_t* multiplier = nullptr;  // [channels], kFixedPoint: 0 or in [2^30, 2^31)
  const int32_t* shift = nullptr;       // [channels], kFixedPoint: in [-31, 30]
};

// Per-call values the epilogue needs besides the packed per-channel data.
struct Qs8DwconvOutputParams {
  RequantMode mode = RequantMode::kFp32;
  int32_t output_zero_point = 0;
  int32_t qmin = -128;
  int32_t qmax = 127;
};

using Qs8DwconvFn = void (*)(size_t pixels, size_t channels, size_t taps,
                             const int8_t* const* input, size_t input_advance,
                             const void* packed, int8_t* output, size_t output_stride,
                             const Qs8DwconvOutputParams& params);

struct Qs8DwconvKernels {
  size_t channel_tile;
  size_t (*packed_size)(size_t channels, size_t taps);
  void (*pack)(const Qs8DwconvPackInput& in, void* packed);
  Qs8DwconvFn dwconv;      // any number of taps
  // 3x3 kernels only (taps == 9 in column-major order, t = kx * 3 + ky), the common case.
  // input_advance == 3 then means stride 1 with overlapping columns, which it may exploit.
  Qs8DwconvFn dwconv_3x3;
  const char* name;        // "qs8_dwconv_16c__avx2"
  const char* name_3x3;    // "qs8_dwconv_9p16c__avx2"
};

// One definition per built path (kernels/<isa>/qs8_dwconv__<isa>.cc).
extern const Qs8DwconvKernels kQs8DwconvReference;
extern const Qs8DwconvKernels kQs8DwconvAvx2;
extern const Qs8DwconvKernels kQs8DwconvAvx512;
extern const Qs8DwconvKernels kQs8DwconvNeon;

// The kernels for `path`, following the fallback chain to a built one.
const Qs8DwconvKernels& Qs8DwconvKernelsFor(Path path);

}  // namespace litequant
