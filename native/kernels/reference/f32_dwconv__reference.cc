// The reference float32 depthwise micro-kernel: one channel at a time, bias first, then taps in
// order, products and sums rounded separately.
#include "litequant/f32_conv.h"

namespace litequant {
namespace {

void f32_dwconv_c1__reference(size_t channels, size_t pixels, size_t taps,
                              const float* const* input, const float* packed, float* output,
                              size_t output_stride, float min, float max) {
  for (size_t p = 0; p < pixels; ++p) {
    const float* const* in = input + p * taps;
    float* out = output + p * output_stride;
    const float* w = packed;
    for (size_t c = 0; c < channels; ++c) {
      float acc = w[0];
      for (size_t t = 0; t < taps; ++t) acc = acc + in[t][c] * w[1 + t];
      acc = acc < min ? min : (acc > max ? max : acc);
      out[c] = acc;
      w += 1 + taps;
    }
  }
}

}  // namespace

extern const F32DwconvKernels kF32DwconvReference = {f32_dwconv_c1__reference, 1,
                                                     "f32_dwconv_c1__reference"};

}  // namespace litequant
