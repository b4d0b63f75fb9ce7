// Utilities for calibration and weight conversion, on the selected path. Every path equals the
// reference bit for bit.
//
//   min/max:    min and max over the non-NaN values (infinities included), plus whether any NaN
//               or infinity was seen. A zero min or max is reported as +0 (so the result does not
//               depend on the order -0 and +0 were met). No non-NaN value: min = +inf, max = -inf.
//   histogram:  counts[bin] += 1 for each non-NaN x, bin = clamp(floor((x - lo) * scale), 0,
//               bins - 1) with scale = F32HistogramScale(lo, hi, bins), all in float (subtract,
//               then multiply). Values below lo or above hi (infinities too) land in the edge bins;
//               NaN is skipped. Counts accumulate, for streaming calibration.
//   f32 -> f16: IEEE binary16, round to nearest even; overflow to +-inf; subnormal halves
//               produced correctly rounded; NaN keeps its sign and top 10 payload bits and is
//               quieted (sign | 0x7E00 | payload >> 13), as F16C and AArch64 FCVTN do.
//   f16 -> f32: exact; NaN quieted (sign | 0x7FC00000 | payload << 13).
//
// Kernels read exactly n inputs and write exactly n outputs (or `bins` counts); no alignment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "litequant/isa.h"

namespace litequant {

class ThreadPool;

struct F32MinMax {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  bool saw_nan = false;
  bool saw_inf = false;
};

// Each kernel folds its n values into *acc (streaming).
using F32MinMaxUkernelFn = void (*)(size_t n, const float* x, F32MinMax* acc);
using F32HistogramUkernelFn = void (*)(size_t n, const float* x, float lo, float scale,
                                       uint32_t bins, uint64_t* counts);
using F32ToF16UkernelFn = void (*)(size_t n, const float* x, uint16_t* y);
using F16ToF32UkernelFn = void (*)(size_t n, const uint16_t* x, float* y);

struct TensorUtilsKernels {
  F32MinMaxUkernelFn minmax;
  F32HistogramUkernelFn histogram;
  F32ToF16UkernelFn f32_to_f16;
  F16ToF32UkernelFn f16_to_f32;
};

extern const TensorUtilsKernels kTensorUtilsReference;
extern const TensorUtilsKernels kTensorUtilsAvx2;
extern const TensorUtilsKernels kTensorUtilsAvx512;
extern const TensorUtilsKernels kTensorUtilsNeon;

const TensorUtilsKernels& TensorUtilsKernelsFor(Path path);

// Largest bin count: bins - 1 must be exact in float.
constexpr uint32_t kMaxHistogramBins = uint32_t{1} << 24;

// float(bins / (hi - lo)) computed in double; finite and > 0 when lo < hi are finite floats whose
// difference is not too small (callers check with std::isfinite).
float F32HistogramScale(float lo, float hi, uint32_t bins);

// Whole-buffer operations on the selected path; pool may be null. Results do not depend on the
// thread count.
F32MinMax F32MinMaxOf(const float* x, size_t n, ThreadPool* pool);
void F32MinMaxUpdate(const float* x, size_t n, F32MinMax* acc, ThreadPool* pool);
// Requires lo < hi, 1 <= bins <= kMaxHistogramBins and a finite positive F32HistogramScale.
void F32Histogram(const float* x, size_t n, float lo, float hi, uint32_t bins, uint64_t* counts,
                  ThreadPool* pool);
void F32ToF16(const float* x, size_t n, uint16_t* y, ThreadPool* pool);
void F16ToF32(const uint16_t* x, size_t n, float* y, ThreadPool* pool);

}  // namespace litequant
