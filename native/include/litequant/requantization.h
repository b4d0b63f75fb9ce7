// Requantization: int32 (or int64) accumulators back to 8/16-bit outputs. Two rules exist
// in the official runtime and both are defined here, once:
//
// - kFp32 (XNNPACK, which the TFLite runtime delegates int8 CONV_2D, DEPTHWISE_CONV_2D,
//   FULLY_CONNECTED ... to by default): scale = float(float(s_in * s_w) / s_out);
//   out = clamp(round_half_even(float(acc) * scale), qmin - zp, qmax - zp) + zp.
//   Measured: the official WASM runtimes' int8 FULLY_CONNECTED equals this on 2048/2048 outputs.
// - kFixedPoint (TFLite's builtin reference kernels, gemmlowp style): the real multiplier
//   (double) s_in * s_w / s_out becomes a Q31 multiplier and a power-of-two shift
//   (QuantizeMultiplier); MultiplyByQuantizedMultiplier applies it with TFLite's double
//   rounding (rounding doubling high multiply, then rounding divide by a power of two).
//   int16x8 kernels use the int64 form with a 16-bit reduced multiplier.
//
// Header-only and `static inline`: included by translation units built for different ISAs.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace litequant {

enum class RequantMode : uint8_t { kFp32 = 0, kFixedPoint = 1 };

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // Q31, in [2^30, 2^31) unless zero
  int32_t shift = 0;       // > 0: left shift; < 0: right shift
};

// TFLite's QuantizeMultiplier: frexp, round the mantissa to Q31 (half away from zero).
static inline QuantizedMultiplier QuantizeMultiplier(double real_multiplier) {
  QuantizedMultiplier out;
  if (real_multiplier == 0.0) return out;
  int shift = 0;
  const double q = std::frexp(real_multiplier, &shift);
  int64_t q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) {  // too small to represent: the product is 0
    shift = 0;
    q_fixed = 0;
  }
  out.multiplier = static_cast<int32_t>(q_fixed);
  out.shift = shift;
  return out;
}

// gemmlowp's SaturatingRoundingDoublingHighMul.
static inline int32_t RoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));  // division truncates toward 0
}

// gemmlowp's RoundingDivideByPOT: round half away from zero.
static inline int32_t RoundingDivideByPowerOfTwo(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// TFLite's MultiplyByQuantizedMultiplier(int32_t x, ...), double-rounding form (the default build).
static inline int32_t MultiplyByQuantizedMultiplier(int32_t x, QuantizedMultiplier m) {
  const int left = m.shift > 0 ? m.shift : 0;
  const int right = m.shift > 0 ? 0 : -m.shift;
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
  return RoundingDivideByPowerOfTwo(RoundingDoublingHighMul(shifted, m.multiplier), right);
}

// TFLite's MultiplyByQuantizedMultiplier(int64_t x, ...), used by int16x8 kernels: the Q31
// multiplier is reduced to 16 bits (rounded), then one rounding shift.
// Requires |x| < 2^47 and shift in [-31, 7], as TFLite does.
static inline int32_t MultiplyByQuantizedMultiplier(int64_t x, QuantizedMultiplier m) {
  const int32_t reduced =
      m.multiplier < 0x7FFF0000 ? ((m.multiplier + (1 << 15)) >> 16) : 0x7FFF;
  const int total_shift = 15 - m.shift;
  const int64_t rounded = x * static_cast<int64_t>(reduced) + (int64_t{1} << (total_shift - 1));
  return static_cast<int32_t>(rounded >> total_shift);
}

// XNNPACK's requantization scale, computed in float as its operator setup does.
static inline float Fp32RequantScale(float input_scale, float weight_scale, float output_scale) {
  const float product = input_scale * weight_scale;
  return product / output_scale;
}

// One int32 accumulator to an output value with the fp32 rule (round half to even).
static inline int32_t RequantizeFp32(int32_t acc, float scale, int32_t zero_point, int32_t qmin,
                                     int32_t qmax) {
  float y = static_cast<float>(acc) * scale;
  const float lo = static_cast<float>(qmin - zero_point);
  const float hi = static_cast<float>(qmax - zero_point);
  y = y < lo ? lo : (y > hi ? hi : y);
  return static_cast<int32_t>(std::nearbyint(y)) + zero_point;  // default FE_TONEAREST: ties to even
}

// One int32 accumulator to an output value with the fixed-point rule.
static inline int32_t RequantizeFixedPoint(int32_t acc, QuantizedMultiplier m, int32_t zero_point,
                                           int32_t qmin, int32_t qmax) {
  int32_t y = MultiplyByQuantizedMultiplier(acc, m) + zero_point;
  return y < qmin ? qmin : (y > qmax ? qmax : y);
}

}  // namespace litequant
