// float32 CONV_2D and DEPTHWISE_CONV_2D with TFLite semantics: NHWC input, stride, dilation,
// SAME/VALID padding (TFLite's rules: conv_geometry.h), bias, fused activation clamp.
//
// CONV_2D weights are OHWI; the convolution is im2col + F32Gemm (K ordered (kh, kw, ic)), or the
// GEMM directly on the input for 1x1 filters with stride 1. Padding taps contribute 0 * w, which
// leaves every finite sum unchanged (a non-finite weight on a padding tap gives NaN, as in
// TFLite's im2col kernels).
//
// DEPTHWISE_CONV_2D weights are [1, KH, KW, C * depth_multiplier]; output channel oc reads input
// channel oc / depth_multiplier. Summation order: bias, then taps in (kh, kw) order; the reference
// rounds products and sums separately, optimized paths fuse them (bound as in f32_gemm.h with
// K = KH*KW).
//
// Depthwise micro-kernel contract (one per path, channel block CB): packed weights hold, for each
// block of CB channels (the last zero-padded), CB biases followed by `taps` rows of CB weights
// (block[CB + t*CB + j] = filter[t][c0 + j]), 64-byte aligned. The kernel writes `pixels` output
// pixels of `channels` values (output + p * output_stride); for pixel p and tap t,
// input[p * taps + t] points at `channels` values (a zero row for padding taps). It reads exactly
// `channels` values through each input pointer and writes exactly `channels` per pixel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "litequant/conv_geometry.h"
#include "litequant/isa.h"

namespace litequant {

class ThreadPool;
class F32PackedWeights;

// CONV_2D. `w` is the OHWI filter packed with PackF32Gemm(filter, out_c, k_h*k_w*in_c, bias).
// input [batch, in_h, in_w, in_c], output [batch, out_h, out_w, out_c]. Throws
// std::invalid_argument when the packed K is not k_h*k_w*in_c.
void F32Conv2d(const F32PackedWeights& w, const Conv2dGeometry& g, const float* input,
               float* output, float min, float max, ThreadPool* pool);

using F32DwconvUkernelFn = void (*)(size_t channels, size_t pixels, size_t taps,
                                    const float* const* input, const float* packed,
                                    float* output, size_t output_stride, float min, float max);

struct F32DwconvKernels {
  F32DwconvUkernelFn dwconv;
  uint32_t channel_block;
  const char* name;  // e.g. "f32_dwconv_c8__avx2"
};

extern const F32DwconvKernels kF32DwconvReference;
extern const F32DwconvKernels kF32DwconvAvx2;
extern const F32DwconvKernels kF32DwconvAvx512;
extern const F32DwconvKernels kF32DwconvNeon;

const F32DwconvKernels& F32DwconvKernelsFor(Path path);

class F32PackedDwconv;  // defined in core; immutable, shareable between threads

// filter [k_h, k_w, channels] (TFLite's [1, KH, KW, C*M] without the 1), bias [channels] or null;
// `channels` counts output channels. Packs for the path selected now (or `path`).
std::shared_ptr<const F32PackedDwconv> PackF32Dwconv(const float* filter, const float* bias,
                                                     size_t k_h, size_t k_w, size_t channels);
std::shared_ptr<const F32PackedDwconv> PackF32Dwconv(const float* filter, const float* bias,
                                                     size_t k_h, size_t k_w, size_t channels,
                                                     Path path);
Path F32PackedDwconvPath(const F32PackedDwconv& w);

// DEPTHWISE_CONV_2D. g.in_c is the input channel count; output channels are
// g.in_c * depth_multiplier and must equal the packed channel count; g.k_h/g.k_w must match.
// input [batch, in_h, in_w, in_c], output [batch, out_h, out_w, in_c * depth_multiplier].
// Throws std::invalid_argument when the packed filter does not match.
void F32DepthwiseConv2d(const F32PackedDwconv& w, const Conv2dGeometry& g,
                        size_t depth_multiplier, const float* input, float* output, float min,
                        float max, ThreadPool* pool);

}  // namespace litequant
