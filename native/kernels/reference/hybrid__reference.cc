// The reference (scalar) hybrid kernels: TFLite's portable row quantization and the output
// epilogues, one element at a time. The truth every other path is tested against.
#include <cstring>
#include <limits>

#include "litequant/hybrid.h"

namespace litequant {
namespace {

// Min and max over the non-NaN values (comparisons with NaN are false).
void MinMax(size_t n, const float* x, float* min_value, float* max_value) {
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  *min_value = lo;
  *max_value = hi;
}

void QuantizeRowAsymmetric(size_t n, const float* x, int8_t* q, float* scale, int32_t* offset) {
  float lo, hi;
  MinMax(n, x, &lo, &hi);
  if (!HybridAsymmetricParams(lo, hi, scale, offset)) {
    std::memset(q, 0, n);
    return;
  }
  const float inv = 1.0f / *scale;
  const auto off = static_cast<float>(*offset);
  for (size_t i = 0; i < n; ++i) q[i] = HybridQuantizeAsymmetricOne(x[i], inv, off);
}

void QuantizeRowSymmetric(size_t n, const float* x, int8_t* q, float* scale) {
  float lo, hi, inv;
  MinMax(n, x, &lo, &hi);
  if (!HybridSymmetricParams(lo, hi, scale, &inv)) {
    std::memset(q, 0, n);
    return;
  }
  for (size_t i = 0; i < n; ++i) q[i] = HybridQuantizeSymmetricOne(x[i], inv);
}

void FcEpilogue(size_t n, const int32_t* acc, const int32_t* column_sums, int32_t offset,
                float row_scale, const float* channel_scale, const float* bias, float min,
                float max, float* y) {
  for (size_t j = 0; j < n; ++j) {
    const float s = channel_scale != nullptr ? channel_scale[j] * row_scale : row_scale;
    y[j] = HybridFcOne(acc[j], column_sums[j], offset, s, bias != nullptr ? bias[j] : 0.0f, min,
                       max);
  }
}

void BmmEpilogue(size_t n, const int32_t* acc, const int32_t* column_sums, int32_t offset,
                 float row_scale, const float* channel_scale, float* y) {
  for (size_t j = 0; j < n; ++j) {
    const float s = channel_scale != nullptr ? row_scale * channel_scale[j] : row_scale;
    y[j] = HybridBmmOne(acc[j], column_sums[j], offset, s);
  }
}

}  // namespace

extern const HybridKernels kHybridReference = {QuantizeRowAsymmetric, QuantizeRowSymmetric,
                                               FcEpilogue, BmmEpilogue,
                                               "f32_qd8_hybrid__reference"};

}  // namespace litequant
