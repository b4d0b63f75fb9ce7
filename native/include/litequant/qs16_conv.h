// int16x8 CONV_2D (TFLite's 16x8 quantization): NHWC int16 input (zero point 0), OHWI int8
// filter (per-channel, zero point 0), int64 bias, int16 output, requantized as qs16_gemm.h
// says (TFLite's CONV_2D uses Qs16RequantMode::kFixedPoint with Qs16ScaleRule::kDoubleProduct).
//
// Geometry, stride, dilation and SAME/VALID padding: conv_geometry.h (ComputeConv2dGeometry).
// Padding taps contribute nothing: TFLite's reference skips them, and since the input zero
// point is 0 the im2col rows hold 0 there, which adds 0 * w.
#pragma once

#include <cstddef>
#include <cstdint>

#include "litequant/conv_geometry.h"
#include "litequant/qs16_gemm.h"

namespace litequant {

class ThreadPool;

// `w` is the OHWI filter packed with PackQs16Gemm(filter, out_c, k_h*k_w*in_c, bias).
// input [batch, in_h, in_w, in_c], output [batch, out_h, out_w, out_c]. The result does not
// depend on the path, the tiling or the thread count.
void Qs16Conv2d(const Qs16PackedWeights& w, const Conv2dGeometry& g, const int16_t* input,
                int16_t* output, const Qs16Requant& requant, ThreadPool* pool);

// TFLite's reference_integer_ops::ConvPerChannel for int16 input and int64 bias, loop for loop:
// what the tests hold Qs16Conv2d to. filter OHWI [out_c, k_h, k_w, in_c]; bias [out_c] or null.
void Qs16Conv2dReference(const Conv2dGeometry& g, size_t out_c, const int16_t* input,
                         const int8_t* filter, const int64_t* bias, int16_t* output,
                         const Qs16Requant& requant);

// DEPTHWISE_CONV_2D int16x8 as TFLite's reference_integer_ops::DepthwiseConvPerChannel (int16
// input, int64 bias): output channel oc = ic * depth_multiplier + m reads input channel ic;
// filter [k_h, k_w, in_c * depth_multiplier] (TFLite's [1, KH, KW, C*M]); bias [channels] or
// null; requant with 1 or in_c * depth_multiplier channels (kFixedPoint in TFLite). Scalar
// int64 loops on every path (no SIMD kernels yet), parallel over output rows; exact.
void Qs16DepthwiseConv2d(const Conv2dGeometry& g, size_t depth_multiplier, const int16_t* input,
                         const int8_t* filter, const int64_t* bias, int16_t* output,
                         const Qs16Requant& requant, ThreadPool* pool);

}  // namespace litequant
