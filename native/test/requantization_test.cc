// requantization.h on hand-checked cases: TFLite's QuantizeMultiplier, the two rounding steps
// of MultiplyByQuantizedMultiplier (and its int64 form), and the fp32 rule's ties to even.
// Every expected value below is worked out in the comment next to it.
#include <cmath>
#include <cstdint>
#include <limits>

#include "check.h"
#include "litequant/requantization.h"

using namespace litequant;

namespace {

constexpr int32_t kQ30 = int32_t{1} << 30;  // 0.5 in Q31

bool Same(QuantizedMultiplier got, int32_t multiplier, int32_t shift) {
  return got.multiplier == multiplier && got.shift == shift;
}

}  // namespace

TEST_CASE("QuantizeMultiplier: mantissa in Q31 [2^30, 2^31), exponent as shift") {
  // 0.5 = 0.5 * 2^0
  CHECK(Same(QuantizeMultiplier(0.5), kQ30, 0));
  // 0.25 = 0.5 * 2^-1
  CHECK(Same(QuantizeMultiplier(0.25), kQ30, -1));
  // 1.0 = 0.5 * 2^1
  CHECK(Same(QuantizeMultiplier(1.0), kQ30, 1));
  // 1/3 = (2/3) * 2^-1; round(2/3 * 2^31) = round(1431655765.33) = 1431655765
  CHECK(Same(QuantizeMultiplier(1.0 / 3.0), 1431655765, -1));
  // 0.75 = 0.75 * 2^0; 0.75 * 2^31 = 1610612736 exactly
  CHECK(Same(QuantizeMultiplier(0.75), 1610612736, 0));
  // 3.0 = 0.75 * 2^2
  CHECK(Same(QuantizeMultiplier(3.0), 1610612736, 2));
  // 2^-31 = 0.5 * 2^-30
  CHECK(Same(QuantizeMultiplier(std::ldexp(1.0, -31)), kQ30, -30));
  // 2^-32 = 0.5 * 2^-31: the smallest shift kept
  CHECK(Same(QuantizeMultiplier(std::ldexp(1.0, -32)), kQ30, -31));
  // 2^-33 = 0.5 * 2^-32: shift < -31 flushes to zero
  CHECK(Same(QuantizeMultiplier(std::ldexp(1.0, -33)), 0, 0));
  CHECK(Same(QuantizeMultiplier(0.0), 0, 0));
}

TEST_CASE("QuantizeMultiplier: values just below 1 (and below a power of two) round up") {
  // 1 - 2^-40: mantissa * 2^31 = 2^31 - 2^-9 rounds to 2^31, which is halved: 0.5 * 2^1
  CHECK(Same(QuantizeMultiplier(1.0 - std::ldexp(1.0, -40)), kQ30, 1));
  // 1 - 2^-33: 2^31 - 0.25 still rounds to 2^31
  CHECK(Same(QuantizeMultiplier(1.0 - std::ldexp(1.0, -33)), kQ30, 1));
  // 1 - 2^-32: 2^31 - 0.5 rounds half away from zero to 2^31
  CHECK(Same(QuantizeMultiplier(1.0 - std::ldexp(1.0, -32)), kQ30, 1));
  // 1 - 2^-31: 2^31 - 1 is representable
  CHECK(Same(QuantizeMultiplier(1.0 - std::ldexp(1.0, -31)), INT32_MAX, 0));
  // 1 - 2^-30: 2^31 - 2
  CHECK(Same(QuantizeMultiplier(1.0 - std::ldexp(1.0, -30)), INT32_MAX - 1, 0));
  // 0.5 - 2^-41 (just below a power of two): 2^31 - 2^-9 -> 2^31 -> 0.5 * 2^0
  CHECK(Same(QuantizeMultiplier(0.5 - std::ldexp(1.0, -41)), kQ30, 0));
}

TEST_CASE("RoundingDoublingHighMul: ties go up (toward +inf), INT32_MIN^2 saturates") {
  // a * 2^30 / 2^31 = a / 2
  CHECK(RoundingDoublingHighMul(1, kQ30) == 1);    // 0.5 -> 1
  CHECK(RoundingDoublingHighMul(3, kQ30) == 2);    // 1.5 -> 2
  CHECK(RoundingDoublingHighMul(-1, kQ30) == 0);   // -0.5 -> 0
  CHECK(RoundingDoublingHighMul(-3, kQ30) == -1);  // -1.5 -> -1
  CHECK(RoundingDoublingHighMul(-5, kQ30) == -2);  // -2.5 -> -2
  CHECK(RoundingDoublingHighMul(4, kQ30) == 2);
  // Not a tie: -3 * (2^30 + 1) / 2^31 = -1.5000000014 -> -2
  CHECK(RoundingDoublingHighMul(-3, kQ30 + 1) == -2);
  CHECK(RoundingDoublingHighMul(INT32_MAX, INT32_MAX) == INT32_MAX - 1);  // (2^31-1)^2/2^31
  CHECK(RoundingDoublingHighMul(INT32_MIN, INT32_MIN) == INT32_MAX);
  CHECK(RoundingDoublingHighMul(INT32_MIN, kQ30) == -kQ30);
}

TEST_CASE("RoundingDivideByPowerOfTwo: ties go away from zero") {
  CHECK(RoundingDivideByPowerOfTwo(1, 1) == 1);     // 0.5 -> 1
  CHECK(RoundingDivideByPowerOfTwo(-1, 1) == -1);   // -0.5 -> -1
  CHECK(RoundingDivideByPowerOfTwo(3, 1) == 2);     // 1.5 -> 2
  CHECK(RoundingDivideByPowerOfTwo(-3, 1) == -2);   // -1.5 -> -2
  CHECK(RoundingDivideByPowerOfTwo(2, 2) == 1);     // 0.5 -> 1
  CHECK(RoundingDivideByPowerOfTwo(-2, 2) == -1);   // -0.5 -> -1
  CHECK(RoundingDivideByPowerOfTwo(5, 2) == 1);     // 1.25 -> 1
  CHECK(RoundingDivideByPowerOfTwo(-5, 2) == -1);   // -1.25 -> -1
  CHECK(RoundingDivideByPowerOfTwo(-6, 2) == -2);   // -1.5 -> -2
  CHECK(RoundingDivideByPowerOfTwo(7, 0) == 7);
  CHECK(RoundingDivideByPowerOfTwo(INT32_MIN, 31) == -1);
  CHECK(RoundingDivideByPowerOfTwo(INT32_MAX, 31) == 1);  // 0.99999 -> 1
}

TEST_CASE("MultiplyByQuantizedMultiplier: .5 cases of both signs through both steps") {
  const QuantizedMultiplier half = QuantizeMultiplier(0.5);     // {2^30, 0}
  const QuantizedMultiplier quarter = QuantizeMultiplier(0.25); // {2^30, -1}
  // x * 0.5: only the high multiply rounds (ties up)
  CHECK(MultiplyByQuantizedMultiplier(int32_t{1}, half) == 1);    // 0.5 -> 1
  CHECK(MultiplyByQuantizedMultiplier(int32_t{-1}, half) == 0);   // -0.5 -> 0
  CHECK(MultiplyByQuantizedMultiplier(int32_t{5}, half) == 3);    // 2.5 -> 3
  CHECK(MultiplyByQuantizedMultiplier(int32_t{-5}, half) == -2);  // -2.5 -> -2
  // x * 0.25 = (x * 0.5 rounded) / 2 rounded away from zero: the double rounding shows
  CHECK(MultiplyByQuantizedMultiplier(int32_t{2}, quarter) == 1);    // 0.5: 1 / 2 -> 1
  CHECK(MultiplyByQuantizedMultiplier(int32_t{-2}, quarter) == -1);  // -0.5: -1 / 2 -> -1
  CHECK(MultiplyByQuantizedMultiplier(int32_t{1}, quarter) == 1);    // 0.25: 1 / 2 -> 1 (!)
  CHECK(MultiplyByQuantizedMultiplier(int32_t{-1}, quarter) == 0);   // -0.25: 0 / 2 -> 0
  CHECK(MultiplyByQuantizedMultiplier(int32_t{6}, quarter) == 2);    // 1.5: 3 / 2 -> 2
  CHECK(MultiplyByQuantizedMultiplier(int32_t{-6}, quarter) == -2);  // -1.5: -3 / 2 -> -2
  // Left shifts: 1.0 = {2^30, 1}: x << 1 then * 0.5
  const QuantizedMultiplier one = QuantizeMultiplier(1.0);
  CHECK(MultiplyByQuantizedMultiplier(int32_t{-7}, one) == -7);
  CHECK(MultiplyByQuantizedMultiplier(int32_t{12345}, QuantizeMultiplier(3.0)) == 37035);
  // 1/3 of 3 and of -3: 3 * 1431655765 / 2^31 = 1.99999999907 -> 2, then / 2 = 1
  CHECK(MultiplyByQuantizedMultiplier(int32_t{3}, QuantizeMultiplier(1.0 / 3.0)) == 1);
  CHECK(MultiplyByQuantizedMultiplier(int32_t{-3}, QuantizeMultiplier(1.0 / 3.0)) == -1);
  // The smallest multiplier: 2^30 * 2^-31 with the maximum right shift
  const QuantizedMultiplier tiny = QuantizeMultiplier(std::ldexp(1.0, -32));
  // (2^31 - 1) * 2^-32 = 0.4999999998, but the high multiply already rounds it to 2^30 * 2^-31
  // = 0.5, which the divide rounds away from zero: 1
  CHECK(MultiplyByQuantizedMultiplier(INT32_MAX, tiny) == 1);
  CHECK(MultiplyByQuantizedMultiplier(INT32_MIN, tiny) == -1);  // -0.5 -> -1 (away)
}

TEST_CASE("MultiplyByQuantizedMultiplier(int64): 16-bit multiplier, one rounding (ties up)") {
  const QuantizedMultiplier half = QuantizeMultiplier(0.5);  // reduced: 2^14, total shift 15
  CHECK(MultiplyByQuantizedMultiplier(int64_t{1}, half) == 1);    // 0.5 -> 1
  CHECK(MultiplyByQuantizedMultiplier(int64_t{-1}, half) == 0);   // -0.5 -> 0
  CHECK(MultiplyByQuantizedMultiplier(int64_t{3}, half) == 2);    // 1.5 -> 2
  CHECK(MultiplyByQuantizedMultiplier(int64_t{-3}, half) == -1);  // -1.5 -> -1
  CHECK(MultiplyByQuantizedMultiplier(int64_t{1} << 31, half) == int32_t{1} << 30);
  // 1 - 2^-31 = {2^31 - 1, 0}: reduced saturates to 0x7FFF, so x * 32767 / 32768
  const QuantizedMultiplier almost_one = QuantizeMultiplier(1.0 - std::ldexp(1.0, -31));
  CHECK(MultiplyByQuantizedMultiplier(int64_t{32768}, almost_one) == 32767);
}

TEST_CASE("Fp32 rule: float product, clamp, then round half to even, then zero point") {
  CHECK(RequantizeFp32(1, 0.5f, 0, -128, 127) == 0);    // 0.5 -> 0
  CHECK(RequantizeFp32(3, 0.5f, 0, -128, 127) == 2);    // 1.5 -> 2
  CHECK(RequantizeFp32(5, 0.5f, 0, -128, 127) == 2);    // 2.5 -> 2
  CHECK(RequantizeFp32(7, 0.5f, 0, -128, 127) == 4);    // 3.5 -> 4
  CHECK(RequantizeFp32(-1, 0.5f, 0, -128, 127) == 0);   // -0.5 -> 0
  CHECK(RequantizeFp32(-3, 0.5f, 0, -128, 127) == -2);  // -1.5 -> -2
  CHECK(RequantizeFp32(-5, 0.5f, 0, -128, 127) == -2);  // -2.5 -> -2
  CHECK(RequantizeFp32(5, 0.5f, 10, -128, 127) == 12);  // zero point after rounding
  // Clamp to [qmin - zp, qmax - zp] before rounding: 255 * 0.5 = 127.5 -> 127 - 0
  CHECK(RequantizeFp32(255, 0.5f, 0, -128, 127) == 127);
  CHECK(RequantizeFp32(-257, 0.5f, 0, -128, 127) == -128);
  CHECK(RequantizeFp32(1000, 1.0f, -100, -128, 127) == 127);
  CHECK(RequantizeFp32(INT32_MAX, 10.0f, 0, -128, 127) == 127);
  CHECK(RequantizeFp32(INT32_MIN, 10.0f, 0, -128, 127) == -128);
  CHECK(RequantizeFp32(3, 0.5f, 0, 0, 6) == 2);        // fused clamp
  CHECK(RequantizeFp32(-3, 0.5f, -128, -128, -122) == -128);
  // float(acc) rounds first: 16777217 is not a float (-> 16777216); * 5 * 2^-25 = 2.5 exactly,
  // a tie -> 2 (the exact product 2.50000015 would give 3)
  CHECK(RequantizeFp32(16777217, 5.0f * std::ldexp(1.0f, -25), 0, -128, 127) == 2);
  // The scale is float(float(s_in * s_w) / s_out)
  CHECK(Fp32RequantScale(0.5f, 0.25f, 2.0f) == 0.0625f);
  const float s = Fp32RequantScale(0.1f, 0.2f, 0.3f);
  CHECK(s == (0.1f * 0.2f) / 0.3f);
}

TEST_CASE("Fixed-point rule: multiplier, zero point, then clamp") {
  const QuantizedMultiplier half = QuantizeMultiplier(0.5);
  CHECK(RequantizeFixedPoint(5, half, 10, -128, 127) == 13);    // 2.5 -> 3, + 10
  CHECK(RequantizeFixedPoint(-5, half, 10, -128, 127) == 8);    // -2.5 -> -2, + 10
  CHECK(RequantizeFixedPoint(300, half, 0, -128, 127) == 127);  // 150 clamps
  CHECK(RequantizeFixedPoint(-300, half, 0, -128, 127) == -128);
  CHECK(RequantizeFixedPoint(20, half, 0, 0, 6) == 6);
}

TEST_MAIN()
