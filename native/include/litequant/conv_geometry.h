// Convolution geometry shared by every CONV_2D and DEPTHWISE_CONV_2D (int8, int16x8, float32,
// hybrid): the padding kinds, the geometry struct, and TFLite's output size and padding rules
// (ComputeOutSize and ComputePaddingWithOffset in tensorflow/lite/kernels/padding.h):
//
//   SAME:  out = ceil(in / stride)
//   VALID: out = ceil((in - dilated_kernel + 1) / stride), 0 when in < dilated_kernel
//   total padding = max(0, (out - 1) * stride + dilated_kernel - in), split with the smaller
//   half before (top/left) and the odd pixel after (bottom/right); VALID's total is always 0.
//
// The functions are defined out of line in core (f32_conv.cc): this header is also included
// by kernel files compiled with ISA flags, which must not emit their own copies.
#pragma once

#include <cstddef>
#include <cstdint>

namespace litequant {

enum class Padding : uint8_t { kValid = 0, kSame = 1 };

struct Conv2dGeometry {
  size_t batch = 1;
  size_t in_h = 1, in_w = 1, in_c = 1;
  size_t k_h = 1, k_w = 1;
  size_t stride_h = 1, stride_w = 1;
  size_t dilation_h = 1, dilation_w = 1;
  // Outputs of ComputeConv2dGeometry (or set by hand for explicit padding).
  size_t pad_top = 0, pad_left = 0;
  size_t out_h = 0, out_w = 0;
};

// (kernel - 1) * dilation + 1: the input extent one output pixel reads along an axis.
size_t DilatedKernelSize(size_t kernel, size_t dilation);

// One axis of TFLite's ComputeOutSize (0 for VALID when the dilated kernel does not fit).
size_t ConvOutputSize(Padding padding, size_t in, size_t kernel, size_t stride, size_t dilation);

// One axis of TFLite's ComputePaddingWithOffset: the padding before the first pixel for `out`
// outputs.
size_t ConvPaddingBefore(size_t in, size_t out, size_t kernel, size_t stride, size_t dilation);

// Fills g->out_h, g->out_w, g->pad_top and g->pad_left from the other fields. Returns false
// (geometry unchanged) when the output would be empty or a size, stride or dilation is zero.
bool ComputeConv2dGeometry(Padding padding, Conv2dGeometry* g);

}  // namespace litequant
