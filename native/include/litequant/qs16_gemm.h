// int16x8 GEMM (TFLite's 16x8 quantization) for FULLY_CONNECTED and CONV_2D (through im2col):
//
//   C[m][n] = clamp( requantize_n( sum_k A[m][k] * W[n][k] + bias[n] ), qmin, qmax )
//
// A: int16 activations [M, K] (zero point 0), row stride lda. W: int8 weights [N, K] row-major
// (FULLY_CONNECTED's layout; CONV_2D OHWI is [O, KH*KW*I]), zero point 0; every int8 value is
// accepted (-128 too). bias: int64 [N] or null. The sum is exact (int64), as TFLite's
// reference kernels compute it. C: int16 [M, N], row stride ldc.
//
// Requantization per output channel n (per-tensor parameters are repeated N times by core):
//   kFixedPoint: y = MultiplyByQuantizedMultiplier(int64 acc, {multiplier[n], shift[n]})
//                (requantization.h: 16-bit reduced multiplier, one rounding shift), the int64
//                result truncated to int32 exactly as TFLite's `int32_t scaled_acc = ...` does.
//                TFLite's CONV_2D and DEPTHWISE_CONV_2D int16x8 kernels, and FULLY_CONNECTED
//                before LiteRT 2025-04 (measured: tfjs-tflite's runtime equals it bit for bit).
//   kDouble:     y = round_half_away(double(acc) * scale[n]), clamped to [qmin, qmax] before
//                the int conversion (TFLite converts first, which is undefined out of range).
//                LiteRT's FULLY_CONNECTED int16x8 kernel since 2025-04 (measured: LiteRT.js
//                2.5.3 equals it bit for bit; test/native/int16.test.ts).
//   then C = clamp(y, qmin, qmax).
//
// Preconditions (checked by core and the addon, so kernels need not): k <= 2^22 and
// |bias[n]| <= 2^46, hence |acc| < 2^47 (TFLite's own bound for the int64 multiply);
// shift[n] in [-31, 7]; scale[n] finite and >= 0; -32768 <= qmin <= qmax <= 32767.
//
// Optimized paths accumulate products in int32 over blocks of at most kQs16BlockK values of
// k (each product is at most 2^22 in magnitude, so a block sum stays below 2^31) and widen the
// block sums to int64: bit-exact with the int64 reference.
//
// Micro-kernel contract (one per path, MR x NR tile): the weights are packed once per path by
// that path's `pack` function into panels of NR output columns (the last zero-padded), each
// `PanelElements(k)` int16 values in a path-specific order. The kernel computes m rows (any
// count, in tiles of MR; the per-column setup is done once per call) and nc <= NR columns of
// one panel; it reads exactly m rows of k values of A (no over-read, even for odd k), the whole
// panel, nc entries of bias and of the requantization arrays, and writes exactly m x nc
// outputs.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "litequant/isa.h"
#include "litequant/requantization.h"

namespace litequant {

class ThreadPool;

enum class Qs16RequantMode : uint8_t { kFixedPoint = 0, kDouble = 1 };

// Largest k per int32 block in the optimized kernels: 256 * 2^22 = 2^30 < 2^31.
constexpr size_t kQs16BlockK = 256;
constexpr size_t kQs16MaxK = size_t{1} << 22;
constexpr int64_t kQs16MaxAbsBias = int64_t{1} << 46;

// Requantization arrays for one tile, already offset to the tile's first column.
struct Qs16RequantParams {
  Qs16RequantMode mode = Qs16RequantMode::kFixedPoint;
  const int32_t* multiplier = nullptr;  // kFixedPoint: Q31 multipliers
  const int32_t* shift = nullptr;       // kFixedPoint: in [-31, 7]
  const double* scale = nullptr;        // kDouble
  int32_t qmin = -32768;
  int32_t qmax = 32767;
};

// One output with the rule above (the reference's scalar definition). Header-only and `static
// inline`: included by translation units built for different ISAs.
static inline int32_t Qs16RequantizeOne(int64_t acc, const Qs16RequantParams& rq, size_t j) {
  int32_t y;
  if (rq.mode == Qs16RequantMode::kFixedPoint) {
    QuantizedMultiplier m;
    m.multiplier = rq.multiplier[j];
    m.shift = rq.shift[j];
    y = MultiplyByQuantizedMultiplier(acc, m);
  } else {
    double r = std::round(static_cast<double>(acc) * rq.scale[j]);  // half away from zero
    r = r < rq.qmin ? rq.qmin : (r > rq.qmax ? rq.qmax : r);
    y = static_cast<int32_t>(r);
  }
  return y < rq.qmin ? rq.qmin : (y > rq.qmax ? rq.qmax : y);
}

using Qs16PackUkernelFn = void (*)(size_t nc, size_t k, const int8_t* w, size_t ldw,
                                   int16_t* panel);
using Qs16GemmUkernelFn = void (*)(size_t m, size_t nc, size_t k, const int16_t* a, size_t lda,
                                   const int16_t* panel, const int64_t* bias, int16_t* c,
                                   size_t ldc, const Qs16RequantParams& rq);

struct Qs16GemmKernels {
  Qs16PackUkernelFn pack;  // nc <= NR rows of W (stride ldw) into one panel, zero-padded
  Qs16GemmUkernelFn gemm;
  uint32_t mr;
  uint32_t nr;
  uint32_t k_pad;  // panels hold round_up(k, k_pad) rows of NR values
  const char* name;  // e.g. "qs16_gemm_4x16c2__avx2"

  size_t PanelElements(size_t k) const { return (k + k_pad - 1) / k_pad * k_pad * nr; }
};

// One definition per built path (kernels/<dir>/qs16_gemm__<path>.cc).
extern const Qs16GemmKernels kQs16GemmReference;
extern const Qs16GemmKernels kQs16GemmAvx2;
extern const Qs16GemmKernels kQs16GemmAvxVnni;
extern const Qs16GemmKernels kQs16GemmAvx512Vnni;
extern const Qs16GemmKernels kQs16GemmNeon;

// The kernels for `path`, following the fallback chain to a built one.
const Qs16GemmKernels& Qs16GemmKernelsFor(Path path);

// Per-channel (or per-tensor: 1 entry) requantization, the form core and the addon hold.
struct Qs16Requant {
  Qs16RequantMode mode = Qs16RequantMode::kFixedPoint;
  std::vector<int32_t> multiplier;  // kFixedPoint
  std::vector<int32_t> shift;       // kFixedPoint
  std::vector<double> scale;        // kDouble
  int32_t qmin = -32768;
  int32_t qmax = 32767;
  size_t channels() const {
    return mode == Qs16RequantMode::kDouble ? scale.size() : multiplier.size();
  }
};

// How TFLite turns the scales into the real multiplier s_in * s_w / s_out:
//   kDoubleProduct: double(s_in) * double(s_w) / double(s_out)   CONV_2D, DEPTHWISE_CONV_2D,
//                   per-channel FULLY_CONNECTED, and FULLY_CONNECTED in kDouble mode;
//   kFloatProduct:  double(float(s_in * s_w)) / double(s_out)    per-tensor FULLY_CONNECTED in
//                   kFixedPoint mode (GetQuantizedConvolutionMultipler).
enum class Qs16ScaleRule : uint8_t { kDoubleProduct = 0, kFloatProduct = 1 };

// Builds the requantization for `count` weight scales (1: per tensor). Returns false and sets
// *why when a scale is not finite and > 0, a fixed-point multiplier needs a shift above 7
// (real multiplier >= 128, outside TFLite's range), or the clamp range is not within int16.
bool MakeQs16Requant(Qs16RequantMode mode, Qs16ScaleRule rule, float input_scale,
                     const float* weight_scales, size_t count, float output_scale, int32_t qmin,
                     int32_t qmax, Qs16Requant* out, const char** why);

// The per-tensor entry of `rq` repeated for `channels` channels (per-channel input unchanged):
// the same outputs, but Qs16Gemm then skips its per-call expansion. Layers packed once call it
// once.
void Qs16ExpandPerTensor(Qs16Requant* rq, size_t channels);

class Qs16PackedWeights;  // defined in core; immutable, shareable between threads

// Packs W [n, k] and bias [n] (or null) for the path selected now (or `path`). Requires
// k <= kQs16MaxK and |bias| <= kQs16MaxAbsBias (core checks and returns null otherwise).
std::shared_ptr<const Qs16PackedWeights> PackQs16Gemm(const int8_t* w, size_t n, size_t k,
                                                      const int64_t* bias);
std::shared_ptr<const Qs16PackedWeights> PackQs16Gemm(const int8_t* w, size_t n, size_t k,
                                                      const int64_t* bias, Path path);

size_t Qs16PackedN(const Qs16PackedWeights& w);
size_t Qs16PackedK(const Qs16PackedWeights& w);
Path Qs16PackedPath(const Qs16PackedWeights& w);
// The micro-kernel the panels were packed for, e.g. "qs16_gemm_4x16c2__avx2".
const char* Qs16PackedKernelName(const Qs16PackedWeights& w);

// C = requantize(A x W^T + bias). lda >= k, ldc >= n; requant has 1 or n channels. pool may be
// null (one thread); the result is the same for every thread count.
void Qs16Gemm(const Qs16PackedWeights& w, size_t m, const int16_t* a, size_t lda, int16_t* c,
              size_t ldc, const Qs16Requant& requant, ThreadPool* pool);

}  // namespace litequant
