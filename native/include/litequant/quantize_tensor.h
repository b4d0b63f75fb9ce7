// Quantize / dequantize whole tensors, per tensor or per channel, on the selected path.
#pragma once

#include <cstddef>
#include <cstdint>

namespace litequant {

// A tensor seen as [outer, channels, inner] around its quantized axis;
// channels == 1 means per-tensor quantization.
struct AxisLayout {
  size_t outer = 1;
  size_t channels = 1;
  size_t inner = 1;
  size_t size() const { return outer * channels * inner; }
};

// `scale` and `zero_point` hold layout.channels entries; scales must be finite and > 0.
void QuantizeToInt8(const float* x, int8_t* q, const AxisLayout& layout, const float* scale,
                    const int32_t* zero_point, int32_t qmin, int32_t qmax);
// Per tensor, halves rounded to even: the runtime's QUANTIZE op (XNNPACK's rule), with
// inv_scale = float(1 / double(scale)) as above.
void QuantizeToInt8HalfEven(const float* x, int8_t* q, size_t n, float scale, int32_t zero_point);
void DequantizeFromInt8(const int8_t* q, float* x, const AxisLayout& layout, const float* scale,
                        const int32_t* zero_point);

}  // namespace litequant
