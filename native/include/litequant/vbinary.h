// Kernel families: element-wise binary ops on contiguous runs (qs8_vbinary, f32_vbinary), used
// by core's broadcasting driver (elementwise_binary.h). Rules, as the official TFLite runtime
// computes them through its default XNNPACK delegate:
//
//   qs8 ADD/SUB (XNNPACK qs8-vadd):  acc = bias + a * a_multiplier + b * b_multiplier   (int32,
//       wrap-around; SUB has b's multiplier negated), out = clamp((acc >> shift) + zp, qmin,
//       qmax) with an arithmetic shift (round half up).
//   qs8 MUL (XNNPACK qs8-vmul fp32): acc = (a - a_zp) * (b - b_zp) (int32),
//       out = clamp(round_half_even(float(acc) * scale), qmin - zp, qmax - zp) + zp
//       (RequantizeFp32 of requantization.h).
//   f32 ADD/SUB/MUL: one float32 operation, then v < min ? min : (v > max ? max : v)
//       (NaN passes through, -0.0 stays -0.0).
//
// Shapes of a call: `vv` kernels read a[i] and b[i]; `vc` kernels read a[i] and one scalar
// (qs8 ADD/SUB: folded into params.bias by core; qs8 MUL: passed as c = b - b_zp; f32: `c`).
// f32 `rsubc` computes c - a[i]. Kernels read exactly n elements of each input and write exactly
// n outputs; no alignment is required. `out` may be the same pointer as an input (in place:
// each element is read before it is written) but must not overlap it otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "litequant/isa.h"
#include "litequant/requantization.h"

namespace litequant {

// XNNPACK's qs8-vadd parameters (ComputeQs8AddParams in elementwise_binary.h).
struct Qs8AddParams {
  int32_t a_multiplier = 0;
  int32_t b_multiplier = 0;
  int32_t bias = 0;
  uint32_t shift = 0;  // in [13, 30]
  int32_t output_zero_point = 0;
  int32_t qmin = -128;
  int32_t qmax = 127;
};

// XNNPACK's qs8-vmul fp32 parameters.
struct Qs8MulParams {
  int32_t a_zero_point = 0;
  int32_t b_zero_point = 0;
  float scale = 1.0f;  // float(float(s_a * s_b) / s_out), in [2^-16, 2^8)
  int32_t output_zero_point = 0;
  int32_t qmin = -128;
  int32_t qmax = 127;
};

struct F32MinMaxParams {
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
};

using Qs8VAddFn = void (*)(size_t n, const int8_t* a, const int8_t* b, int8_t* out,
                           const Qs8AddParams& params);
// The scalar operand is already in params.bias (bias + scalar * its multiplier).
using Qs8VAddCFn = void (*)(size_t n, const int8_t* a, int8_t* out, const Qs8AddParams& params);
using Qs8VMulFn = void (*)(size_t n, const int8_t* a, const int8_t* b, int8_t* out,
                           const Qs8MulParams& params);
// c = scalar - its zero point, in [-255, 255]; params.b_zero_point is not read.
using Qs8VMulCFn = void (*)(size_t n, const int8_t* a, int32_t c, int8_t* out,
                            const Qs8MulParams& params);

struct Qs8VBinaryKernels {
  const char* name;  // "qs8_vbinary__avx2"
  Qs8VAddFn vadd;    // ADD and SUB (SUB: negated b_multiplier)
  Qs8VAddCFn vaddc;
  Qs8VMulFn vmul;
  Qs8VMulCFn vmulc;
};

using F32VBinaryFn = void (*)(size_t n, const float* a, const float* b, float* out,
                              const F32MinMaxParams& params);
using F32VBinaryCFn = void (*)(size_t n, const float* a, float c, float* out,
                               const F32MinMaxParams& params);

struct F32VBinaryKernels {
  const char* name;  // "f32_vbinary__avx2"
  F32VBinaryFn vadd, vsub, vmul;
  F32VBinaryCFn vaddc, vsubc, vrsubc, vmulc;  // a + c, a - c, c - a, a * c
};

// One definition per built path (kernels/<isa>/{qs8,f32}_vbinary__<isa>.cc).
extern const Qs8VBinaryKernels kQs8VBinaryReference;
extern const Qs8VBinaryKernels kQs8VBinaryAvx2;
extern const Qs8VBinaryKernels kQs8VBinaryNeon;
extern const F32VBinaryKernels kF32VBinaryReference;
extern const F32VBinaryKernels kF32VBinaryAvx2;
extern const F32VBinaryKernels kF32VBinaryNeon;

// The kernels for `path`, following the fallback chain to a built one.
const Qs8VBinaryKernels& Qs8VBinaryKernelsFor(Path path);
const F32VBinaryKernels& F32VBinaryKernelsFor(Path path);

// Scalar rules for one element: the reference kernels and the optimized kernels' tails.
static inline int8_t Qs8AddOne(int32_t a, int32_t b, const Qs8AddParams& p) {
  const uint32_t acc = static_cast<uint32_t>(p.bias) +
                       static_cast<uint32_t>(a) * static_cast<uint32_t>(p.a_multiplier) +
                       static_cast<uint32_t>(b) * static_cast<uint32_t>(p.b_multiplier);
  int32_t y = (static_cast<int32_t>(acc) >> p.shift) + p.output_zero_point;
  y = y < p.qmin ? p.qmin : (y > p.qmax ? p.qmax : y);
  return static_cast<int8_t>(y);
}

// acc = (a - a_zp) * (b - b_zp) already formed.
static inline int8_t Qs8MulOne(int32_t acc, const Qs8MulParams& p) {
  return static_cast<int8_t>(RequantizeFp32(acc, p.scale, p.output_zero_point, p.qmin, p.qmax));
}

static inline float F32ClampOne(float v, const F32MinMaxParams& p) {
  return v < p.min ? p.min : (v > p.max ? p.max : v);
}

}  // namespace litequant
