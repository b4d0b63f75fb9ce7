// Hybrid (dynamic-range) FULLY_CONNECTED, BATCH_MATMUL and CONV_2D as TFLite's builtin kernels
// compute them: each float input row is quantized to int8 on the fly, multiplied with int8
// weights (symmetric, per-tensor or per-output-channel scales) in int32, and the sums are scaled
// back to float.
//
// Row quantization, bit for bit TFLite's portable tensor_utils (min/max over the row first):
//   asymmetric (AsymmetricQuantizeFloats): rmin = double(min(0, min x)), rmax = double(max(0,
//     max x)); rmin == rmax gives q = 0, scale 1, offset 0. Otherwise scale = (rmax - rmin) /
//     255 in double, the zero point is taken from the end with the smaller error and nudged
//     (rounded half away, clamped to [-128, 127]); the float scale is float(scale) and
//     q = clamp(round_half_away(float(offset) + x * (1.0f / scale_f)), -128, 127).
//   symmetric (SymmetricQuantizeFloats): range = max(|min x|, |max x|) in float; 0 gives q = 0,
//     scale 1; otherwise scale = range / 127, q = clamp(round_half_away(x * (127 / range)),
//     -127, 127).
// NaN: ignored by min/max (a row without other values is a zero row); x * inv that is NaN
// counts as 0 (TFLite leaves NaN undefined). Infinities give an infinite scale, q = offset and
// non-finite outputs, as in TFLite. A non-finite nudged zero point becomes 0 (TFLite's cast is
// undefined there; x86 gives 0).
//
// Output epilogues (acc = sum_k q[k] * W[n][k] in int32 with wrap-around, colsum[n] =
// sum_k W[n][k], offset = the row's zero point, 0 when symmetric; s_row is the row's scale,
// times the per-tensor weight scale when there is one):
//   FULLY_CONNECTED and CONV_2D (SseMatrixBatchVectorMultiplyAccumulate, HybridConv,
//   HybridConvPerChannel):
//     y = bias[n] + float(acc - offset * colsum[n]) * s,  s = channel_scale[n] * s_row or s_row,
//     then the activation clamp (NaN passes through it); no bias adds 0.0f.
//   BATCH_MATMUL (reference_ops::BatchMatMul, hybrid):
//     t = int32(float(acc) - float(colsum[n]) * float(offset))   (TFLite's `total -= ...`:
//         float arithmetic, truncated; clamped to int32 first, where TFLite is undefined)
//     y = 0.0f + s * float(t),  s = s_row * channel_scale[n] or s_row.
// Every float operation is one IEEE operation in this order, so every path equals the
// reference bit for bit; the tolerance against TFLite itself is only in the choice of kernel
// (TFLite's NEON tensor_utils and XNNPACK's dynamically-quantized kernels round differently).
//
// Kernel contract: the row quantizers read exactly n inputs and write exactly n outputs; the
// epilogues read exactly n entries of each array (channel_scale and bias may be null) and
// write n outputs. No alignment is required.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "litequant/isa.h"

namespace litequant {

class ThreadPool;
struct Conv2dGeometry;

// TFLite's asymmetric parameters from the row's min and max (non-NaN values; +inf/-inf when
// there were none). Returns false for a zero row (q = 0, scale 1, offset 0).
static inline bool HybridAsymmetricParams(float min_value, float max_value, float* scale,
                                          int32_t* offset) {
  const double qmin = -128.0;
  const double qmax = 127.0;
  const double rmin = static_cast<double>(std::min(0.0f, min_value));
  const double rmax = static_cast<double>(std::max(0.0f, max_value));
  if (rmin == rmax) {
    *scale = 1.0f;
    *offset = 0;
    return false;
  }
  const double s = (rmax - rmin) / (qmax - qmin);
  const double zero_point_from_min = qmin - rmin / s;
  const double zero_point_from_max = qmax - rmax / s;
  const double zero_point_from_min_error = std::abs(qmin) + std::abs(rmin / s);
  const double zero_point_from_max_error = std::abs(qmax) + std::abs(rmax / s);
  const double zero_point = zero_point_from_min_error < zero_point_from_max_error
                                ? zero_point_from_min
                                : zero_point_from_max;
  int32_t nudged = 0;
  if (zero_point <= qmin) {
    nudged = -128;
  } else if (zero_point >= qmax) {
    nudged = 127;
  } else if (zero_point == zero_point) {  // NaN (infinite inputs): 0
    nudged = static_cast<int32_t>(std::round(zero_point));
  }
  *scale = static_cast<float>(s);
  *offset = nudged;
  return true;
}

// TFLite's symmetric parameters. Returns false for a zero row (q = 0, scale 1).
static inline bool HybridSymmetricParams(float min_value, float max_value, float* scale,
                                         float* inv_scale) {
  if (!(min_value <= max_value)) min_value = max_value = 0.0f;  // no non-NaN value
  const float range = std::max(std::abs(min_value), std::abs(max_value));
  if (range == 0.0f) {
    *scale = 1.0f;
    *inv_scale = 1.0f;
    return false;
  }
  *scale = range / 127.0f;
  *inv_scale = 127.0f / range;
  return true;
}

// One element, both rules; y is clamped before rounding (the bounds are integers, so this
// equals TFLite's round-then-clamp, and the int conversion cannot overflow).
static inline int8_t HybridQuantizeAsymmetricOne(float x, float inv_scale, float offset) {
  float t = x * inv_scale;
  if (t != t) t = 0.0f;
  float y = offset + t;
  y = y < -128.0f ? -128.0f : (y > 127.0f ? 127.0f : y);
  return static_cast<int8_t>(std::round(y));
}

static inline int8_t HybridQuantizeSymmetricOne(float x, float inv_scale) {
  float y = x * inv_scale;
  if (y != y) y = 0.0f;
  y = y < -127.0f ? -127.0f : (y > 127.0f ? 127.0f : y);
  return static_cast<int8_t>(std::round(y));
}

// The epilogues for one output (wrap-around int32 arithmetic, defined in C++).
static inline float HybridFcOne(int32_t acc, int32_t column_sum, int32_t offset, float s,
                                float bias, float min, float max) {
  const uint32_t product = static_cast<uint32_t>(offset) * static_cast<uint32_t>(column_sum);
  const auto corrected = static_cast<int32_t>(static_cast<uint32_t>(acc) - product);
  const float y = bias + static_cast<float>(corrected) * s;
  return y < min ? min : (y > max ? max : y);
}

static inline float HybridBmmOne(int32_t acc, int32_t column_sum, int32_t offset, float s) {
  float t = static_cast<float>(acc) -
            static_cast<float>(column_sum) * static_cast<float>(offset);
  t = t < -2147483648.0f ? -2147483648.0f : (t > 2147483520.0f ? 2147483520.0f : t);
  return 0.0f + s * static_cast<float>(static_cast<int32_t>(t));
}

using HybridQuantizeRowAsymmetricFn = void (*)(size_t n, const float* x, int8_t* q, float* scale,
                                               int32_t* offset);
using HybridQuantizeRowSymmetricFn = void (*)(size_t n, const float* x, int8_t* q, float* scale);
// y[j] = clamp(bias[j] + float(acc[j] - offset * column_sums[j]) * s_j), s_j =
// channel_scale[j] * row_scale or row_scale; bias null adds 0.0f.
using HybridFcEpilogueFn = void (*)(size_t n, const int32_t* acc, const int32_t* column_sums,
                                    int32_t offset, float row_scale, const float* channel_scale,
                                    const float* bias, float min, float max, float* y);
// y[j] = HybridBmmOne(acc[j], column_sums[j], offset, s_j), s_j = row_scale * channel_scale[j]
// or row_scale.
using HybridBmmEpilogueFn = void (*)(size_t n, const int32_t* acc, const int32_t* column_sums,
                                     int32_t offset, float row_scale, const float* channel_scale,
                                     float* y);

struct HybridKernels {
  HybridQuantizeRowAsymmetricFn quantize_row_asymmetric;
  HybridQuantizeRowSymmetricFn quantize_row_symmetric;
  HybridFcEpilogueFn fc_epilogue;
  HybridBmmEpilogueFn bmm_epilogue;
  const char* name;  // e.g. "f32_qd8_hybrid__avx2"
};

// One definition per built path (kernels/<dir>/hybrid__<path>.cc).
extern const HybridKernels kHybridReference;
extern const HybridKernels kHybridAvx2;
extern const HybridKernels kHybridNeon;

// The kernels for `path`, following the fallback chain to a built one.
const HybridKernels& HybridKernelsFor(Path path);

class HybridPackedWeights;  // defined in core; immutable, shareable between threads

// W [n, k] int8 (zero point 0) with `scale_count` scales (1: per tensor, n: per channel, all
// finite and > 0) and bias [n] float or null, packed for the int8 GEMM of the path selected
// now (or `path`). Returns null when k == 0 or the scales are invalid.
std::shared_ptr<const HybridPackedWeights> PackHybrid(const int8_t* w, size_t n, size_t k,
                                                      const float* scales, size_t scale_count,
                                                      const float* bias);
std::shared_ptr<const HybridPackedWeights> PackHybrid(const int8_t* w, size_t n, size_t k,
                                                      const float* scales, size_t scale_count,
                                                      const float* bias, Path path);
size_t HybridPackedN(const HybridPackedWeights& w);
size_t HybridPackedK(const HybridPackedWeights& w);
Path HybridPackedPath(const HybridPackedWeights& w);
// The int8 GEMM micro-kernel the packed weights run on, e.g. "qs8_gemm_5x16c2__avx2".
const char* HybridPackedKernelName(const HybridPackedWeights& w);
// Whether the weight scales differ between channels (CONV_2D then quantizes asymmetrically).
bool HybridPackedPerChannel(const HybridPackedWeights& w);

// FULLY_CONNECTED: x [m, k] rows (stride k), y [m, n] (stride n). `asymmetric` is the op's
// asymmetric_quantize_inputs. min/max: the activation clamp (+-inf for none).
void HybridFullyConnected(const HybridPackedWeights& w, size_t m, const float* x, float* y,
                          bool asymmetric, float min, float max, ThreadPool* pool);

// BATCH_MATMUL with a constant int8 right-hand side: x [m, k] rows (all batch dimensions
// flattened into m), W the RHS transposed to [n, k]; y [m, n]. No bias, no activation.
void HybridBatchMatMul(const HybridPackedWeights& w, size_t m, const float* x, float* y,
                       bool asymmetric, ThreadPool* pool);

// CONV_2D: input NHWC float, W the OHWI filter as [O, KH*KW*I], output NHWC float. Each batch
// image is one quantized "row": asymmetric when the channel scales differ
// (HybridConvPerChannel, padding filled with the image's zero point), symmetric otherwise
// (HybridConv, padding 0), as TFLite chooses.
void HybridConv2d(const HybridPackedWeights& w, const Conv2dGeometry& g, const float* input,
                  float* output, float min, float max, ThreadPool* pool);

// The whole computation in scalar loops, without the int8 GEMM and its packing: what the tests
// hold every path to. op: 0 FULLY_CONNECTED, 1 BATCH_MATMUL.
void HybridGemmReference(int op, const int8_t* w, size_t n, size_t k, const float* scales,
                         size_t scale_count, const float* bias, size_t m, const float* x,
                         float* y, bool asymmetric, float min, float max);

}  // namespace litequant
