// The reference min/max, histogram and float16 conversion kernels: one element at a time, by the
// scalar rules of f16.h.
#include "litequant/f16.h"
#include "litequant/tensor_utils.h"

namespace litequant {
namespace {

void f32_minmax__reference(size_t n, const float* x, F32MinMax* acc) {
  for (size_t i = 0; i < n; ++i) MinMaxStep(x[i], acc);
  MinMaxNormalizeZeros(acc);
}

void f32_histogram__reference(size_t n, const float* x, float lo, float scale, uint32_t bins,
                              uint64_t* counts) {
  for (size_t i = 0; i < n; ++i) {
    const int64_t b = HistogramBin(x[i], lo, scale, bins);
    if (b >= 0) ++counts[b];
  }
}

void f32_f16_cvt__reference(size_t n, const float* x, uint16_t* y) {
  for (size_t i = 0; i < n; ++i) y[i] = F32ToF16One(x[i]);
}

void f16_f32_cvt__reference(size_t n, const uint16_t* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = F16ToF32One(x[i]);
}

}  // namespace

extern const TensorUtilsKernels kTensorUtilsReference = {
    f32_minmax__reference, f32_histogram__reference, f32_f16_cvt__reference,
    f16_f32_cvt__reference};

}  // namespace litequant
