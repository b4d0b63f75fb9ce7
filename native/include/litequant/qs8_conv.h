// int8 CONV_2D and DEPTHWISE_CONV_2D on NHWC tensors, with TFLite's semantics:
//
//   out[b][oy][ox][o] = requantize(bias[o] + sum over the taps inside the image of
//                                  (in[b][iy][ix][i] - input_zero_point) * w[...])
//   iy = oy * stride_h - pad_top + ky * dilation_h
//   ix = ox * stride_w - pad_left + kx * dilation_w
//
// Taps that fall in the padding contribute nothing (TFLite's reference kernels skip them; the
// fast paths read the input zero point there, which multiplies to the same 0).
//   CONV_2D:           weights OHWI [O, KH, KW, I], o any output channel, i over all inputs.
//   DEPTHWISE_CONV_2D: weights [1, KH, KW, C * M], output channel o = i * M + m reads input
//                      channel i only (M = depth multiplier).
// Weights are symmetric int8 (zero point 0), bias int32 with zero point 0 (may be null).
// Accumulation is int32 with wrap-around, the same on every path (TFLite leaves overflow
// undefined; real models stay far below it).
//
// Output size and padding follow TFLite's rules (conv_geometry.h); VALID with an input smaller
// than the dilated kernel is rejected.
//
// Pack once (weights, bias, requantization and the activation zero point folded for the path
// selected at that moment), then run any number of times, from any thread: the packed form is
// immutable. Results are identical for every thread count and equal, bit for bit, to the
// reference functions below on every path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "litequant/conv_geometry.h"
#include "litequant/isa.h"
#include "litequant/qs8_gemm.h"

namespace litequant {

class ThreadPool;

struct Qs8ConvParams {
  size_t batch = 1;
  size_t input_height = 1;
  size_t input_width = 1;
  size_t input_channels = 1;
  size_t output_channels = 1;  // depthwise: input_channels * depth_multiplier
  size_t kernel_height = 1;
  size_t kernel_width = 1;
  size_t stride_height = 1;
  size_t stride_width = 1;
  size_t dilation_height = 1;
  size_t dilation_width = 1;
  Padding padding = Padding::kValid;
  size_t depth_multiplier = 1;  // depthwise only
  int32_t input_zero_point = 0;
  // Per-tensor (1 entry) or per-channel (output_channels entries); output zero point and the
  // fused activation's qmin/qmax. kFixedPoint multipliers must be 0 or in [2^30, 2^31) with a
  // shift in [-31, 30] (what QuantizeMultiplier gives for multipliers in [2^-32, 2^30)).
  Qs8Requant requant;
};

enum class ConvKind : uint8_t { kConv2D = 0, kDepthwise = 1 };

// An empty string when `params` describe a valid operator of `kind`, else what is wrong
// (names the field and the value). Sizes are bounded so that every index fits in int32 math
// and no tensor exceeds 2^31 elements.
std::string CheckQs8ConvParams(const Qs8ConvParams& params, ConvKind kind);

// The geometry of `params` with its output size and leading padding computed (params must be
// valid; out_h/out_w stay 0 for a VALID kernel larger than the input).
Conv2dGeometry ComputeQs8ConvGeometry(const Qs8ConvParams& params);

// Element counts of the tensors (params must be valid).
size_t Qs8ConvInputSize(const Qs8ConvParams& params);
size_t Qs8ConvOutputSize(const Qs8ConvParams& params);
size_t Qs8ConvWeightSize(const Qs8ConvParams& params, ConvKind kind);

class Qs8PackedConv;  // defined in core; opaque to callers

// Throw std::invalid_argument with CheckQs8ConvParams' message when params are invalid.
// CONV_2D weights: OHWI. Paths with an indirect GEMM (qs8_igemm.h: AVX2) widen them to int16
// tiles read against an int16 copy of the input (kept per calling thread, up to 32 MiB);
// the others go through PackQs8Gemm (im2col + GEMM at run time).
std::shared_ptr<const Qs8PackedConv> PackQs8Conv2D(const Qs8ConvParams& params,
                                                   const int8_t* weights, const int32_t* bias);
// DEPTHWISE_CONV_2D weights: [1, KH, KW, C * M].
std::shared_ptr<const Qs8PackedConv> PackQs8Depthwise(const Qs8ConvParams& params,
                                                      const int8_t* weights, const int32_t* bias);

const Qs8ConvParams& Qs8PackedConvParams(const Qs8PackedConv& conv);
ConvKind Qs8PackedConvKind(const Qs8PackedConv& conv);
Path Qs8PackedConvPath(const Qs8PackedConv& conv);
// The micro-kernel that runs ("qs8_igemm_5x16c2__avx2", "qs8_gemm_4x16c4__neondot",
// "qs8_dwconv_9p16c__avx2", ...).
const char* Qs8PackedConvKernelName(const Qs8PackedConv& conv);

// NHWC int8 input [batch, H, W, C] -> NHWC int8 output [batch, OH, OW, O]; the buffers must not
// overlap. pool may be null (one thread). Throws std::invalid_argument when `conv` is of the
// other kind.
void Qs8Conv2D(const Qs8PackedConv& conv, const int8_t* input, int8_t* output, ThreadPool* pool);
void Qs8Depthwise(const Qs8PackedConv& conv, const int8_t* input, int8_t* output,
                  ThreadPool* pool);

// The truth: direct nested loops that skip padded taps, as TFLite's reference kernels.
void Qs8Conv2DReference(const Qs8ConvParams& params, const int8_t* input, const int8_t* weights,
                        const int32_t* bias, int8_t* output);
void Qs8DepthwiseReference(const Qs8ConvParams& params, const int8_t* input,
                           const int8_t* weights, const int32_t* bias, int8_t* output);

}  // namespace litequant
