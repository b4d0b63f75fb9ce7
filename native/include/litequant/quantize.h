// Kernel family: affine quantization of float32 to int8 and back.
//
//   quantize:    q = clamp(round_half_away_from_zero(x * inv_scale) + zero_point, qmin, qmax)
//   quantize_tensor_half_even: the same with halves to even (XNNPACK's f32->qs8 convert, what
//                the official runtime's QUANTIZE op computes)
//   dequantize:  x = scale * (q - zero_point)          (one float rounding, as TFLite)
//
// `inv_scale` is float(1.0 / double(scale)), computed by the caller exactly as
// TFLite's quantization tools do. NaN inputs quantize to zero_point (real 0);
// +-inf saturate. Kernels read exactly `n` elements and write exactly `n`; no
// alignment is required, buffers may not overlap.
//
// Two shapes of parameters:
//   *_tensor:      one scale and zero point for all n elements;
//   *_channelwise: element i uses inv_scale[i] / scale[i] and zero_point[i]
//                  (a row of a tensor whose quantized axis is the innermost one).
#pragma once

#include <cstddef>
#include <cstdint>

#include "litequant/isa.h"

namespace litequant {

using QuantizeTensorFn = void (*)(size_t n, const float* x, int8_t* q, float inv_scale,
                                  int32_t zero_point, int32_t qmin, int32_t qmax);
using QuantizeChannelwiseFn = void (*)(size_t n, const float* x, int8_t* q,
                                       const float* inv_scale, const int32_t* zero_point,
                                       int32_t qmin, int32_t qmax);
using DequantizeTensorFn = void (*)(size_t n, const int8_t* q, float* x, float scale,
                                    int32_t zero_point);
using DequantizeChannelwiseFn = void (*)(size_t n, const int8_t* q, float* x,
                                         const float* scale, const int32_t* zero_point);

struct QuantizeKernels {
  QuantizeTensorFn quantize_tensor;
  QuantizeTensorFn quantize_tensor_half_even;
  QuantizeChannelwiseFn quantize_channelwise;
  DequantizeTensorFn dequantize_tensor;
  DequantizeChannelwiseFn dequantize_channelwise;
};

// One definition per built path (kernels/<isa>/quantize__<isa>.cc).
extern const QuantizeKernels kQs8QuantizeReference;
extern const QuantizeKernels kQs8QuantizeAvx2;
extern const QuantizeKernels kQs8QuantizeAvx512;
extern const QuantizeKernels kQs8QuantizeNeon;

// The kernels for `path`, following the fallback chain to a built one.
const QuantizeKernels& Qs8QuantizeKernelsFor(Path path);

}  // namespace litequant
