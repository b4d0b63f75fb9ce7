// The reference (scalar) quantize kernels: the truth every other path is tested against.
#include "litequant/quantize.h"
#include "litequant/rounding.h"

namespace litequant {
namespace {

void QuantizeTensor(size_t n, const float* x, int8_t* q, float inv_scale, int32_t zero_point,
                    int32_t qmin, int32_t qmax) {
  for (size_t i = 0; i < n; ++i) q[i] = QuantizeOne(x[i], inv_scale, zero_point, qmin, qmax);
}

void QuantizeTensorHalfEven(size_t n, const float* x, int8_t* q, float inv_scale,
                            int32_t zero_point, int32_t qmin, int32_t qmax) {
  for (size_t i = 0; i < n; ++i) {
    q[i] = QuantizeOneHalfEven(x[i], inv_scale, zero_point, qmin, qmax);
  }
}

void QuantizeChannelwise(size_t n, const float* x, int8_t* q, const float* inv_scale,
                         const int32_t* zero_point, int32_t qmin, int32_t qmax) {
  for (size_t i = 0; i < n; ++i) {
    q[i] = QuantizeOne(x[i], inv_scale[i], zero_point[i], qmin, qmax);
  }
}

void DequantizeTensor(size_t n, const int8_t* q, float* x, float scale, int32_t zero_point) {
  for (size_t i = 0; i < n; ++i) x[i] = DequantizeOne(q[i], scale, zero_point);
}

void DequantizeChannelwise(size_t n, const int8_t* q, float* x, const float* scale,
                           const int32_t* zero_point) {
  for (size_t i = 0; i < n; ++i) x[i] = DequantizeOne(q[i], scale[i], zero_point[i]);
}

}  // namespace

extern const QuantizeKernels kQs8QuantizeReference = {QuantizeTensor, QuantizeTensorHalfEven,
                                                 QuantizeChannelwise,
                                                 DequantizeTensor, DequantizeChannelwise};

}  // namespace litequant
