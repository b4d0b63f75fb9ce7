// Walks [outer, channels, inner] and hands contiguous runs to the selected kernels:
// runs of one channel when inner > 1, runs across channels when inner == 1.
#include "litequant/quantize_tensor.h"

#include <vector>

#include "litequant/quantize.h"

namespace litequant {

const QuantizeKernels& Qs8QuantizeKernelsFor(Path path) {
  for (;;) {
    switch (path) {
      case Path::kReference: return kQs8QuantizeReference;
#ifdef LITEQUANT_BUILT_AVX2
      case Path::kAvx2: return kQs8QuantizeAvx2;
#endif
#ifdef LITEQUANT_BUILT_AVX512
      case Path::kAvx512: return kQs8QuantizeAvx512;
#endif
#ifdef LITEQUANT_BUILT_NEON
      case Path::kNeon: return kQs8QuantizeNeon;
#endif
      default: path = FallbackPath(path);
    }
  }
}

void QuantizeToInt8(const float* x, int8_t* q, const AxisLayout& layout, const float* scale,
                    const int32_t* zero_point, int32_t qmin, int32_t qmax) {
  const QuantizeKernels& k = Qs8QuantizeKernelsFor(SelectedPath());
  // TFLite's quantization tools multiply by float(1.0 / double(scale)).
  std::vector<float> inv(layout.channels);
  for (size_t c = 0; c < layout.channels; ++c) {
    inv[c] = static_cast<float>(1.0 / static_cast<double>(scale[c]));
  }
  if (layout.channels == 1) {
    k.quantize_tensor(layout.size(), x, q, inv[0], zero_point[0], qmin, qmax);
    return;
  }
  const size_t row = layout.channels * layout.inner;
  for (size_t o = 0; o < layout.outer; ++o) {
    const float* xo = x + o * row;
    int8_t* qo = q + o * row;
    if (layout.inner == 1) {
      k.quantize_channelwise(layout.channels, xo, qo, inv.data(), zero_point, qmin, qmax);
      continue;
    }
    for (size_t c = 0; c < layout.channels; ++c) {
      k.quantize_tensor(layout.inner, xo + c * layout.inner, qo + c * layout.inner, inv[c],
                        zero_point[c], qmin, qmax);
    }
  }
}

void QuantizeToInt8HalfEven(const float* x, int8_t* q, size_t n, float scale, int32_t zero_point) {
  const QuantizeKernels& k = Qs8QuantizeKernelsFor(SelectedPath());
  k.quantize_tensor_half_even(n, x, q, static_cast<float>(1.0 / static_cast<double>(scale)),
                              zero_point, -128, 127);
}

void DequantizeFromInt8(const int8_t* q, float* x, const AxisLayout& layout, const float* scale,
                        const int32_t* zero_point) {
  const QuantizeKernels& k = Qs8QuantizeKernelsFor(SelectedPath());
  if (layout.channels == 1) {
    k.dequantize_tensor(layout.size(), q, x, scale[0], zero_point[0]);
    return;
  }
  const size_t row = layout.channels * layout.inner;
  for (size_t o = 0; o < layout.outer; ++o) {
    const int8_t* qo = q + o * row;
    float* xo = x + o * row;
    if (layout.inner == 1) {
      k.dequantize_channelwise(layout.channels, qo, xo, scale, zero_point);
      continue;
    }
    for (size_t c = 0; c < layout.channels; ++c) {
      k.dequantize_tensor(layout.inner, qo + c * layout.inner, xo + c * layout.inner, scale[c],
                          zero_point[c]);
    }
  }
}

}  // namespace litequant
