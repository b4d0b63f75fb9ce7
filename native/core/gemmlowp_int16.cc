// gemmlowp's logistic and tanh on FixedPoint<int16_t, integer_bits> (what TFLite's integer LSTM
// evaluates on its int16 gates), tabulated for all 65536 inputs. Every step follows gemmlowp's
// integer operations (rounding doubling high multiply, rounding shifts, exp on [-1/4, 0) with
// barrel shifts, Newton-Raphson reciprocal); the TypeScript reference
// (lib/runtime/reference-ops/fixed-point.ts) computes the same function, and a test compares
// the two tables entry by entry.
#include <cstdint>
#include <stdexcept>

#include "litequant/lstm_qs8.h"

namespace litequant {
namespace {

constexpr int32_t kMax = 32767;
constexpr int32_t kMin = -32768;

int32_t Wrap(int32_t x) { return static_cast<int16_t>(static_cast<uint16_t>(x & 0xffff)); }
int32_t Add(int32_t a, int32_t b) { return Wrap(a + b); }
int32_t Sub(int32_t a, int32_t b) { return Wrap(a - b); }
int32_t AddSaturating(int32_t a, int32_t b) {
  const int32_t s = a + b;
  return s > kMax ? kMax : (s < kMin ? kMin : s);
}

// SaturatingRoundingDoublingHighMul on int16.
int32_t Mul(int32_t a, int32_t b) {
  if (a == kMin && b == kMin) return kMax;
  const int32_t ab = a * b;
  return Wrap((ab + (ab >= 0 ? 16384 : 1 - 16384)) / 32768);
}

// RoundingDivideByPOT: arithmetic shift right, halves away from zero (exponent < 31).
int64_t RoundingDivideByPot(int64_t x, int exponent) {
  if (exponent == 0) return x;
  const int64_t mask = (int64_t{1} << exponent) - 1;
  const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + ((x & mask) > threshold ? 1 : 0);
}

int32_t MultiplyByPot(int32_t x, int exponent) {
  if (exponent == 0) return x;
  if (exponent < 0) return static_cast<int32_t>(RoundingDivideByPot(x, -exponent));
  const int32_t threshold = (1 << (15 - exponent)) - 1;
  return x > threshold ? kMax : (x < -threshold ? kMin : x * (1 << exponent));
}

// A FixedPoint<int32_t> constant as FixedPoint<int16_t>.
int32_t Constant(int64_t int32_value) {
  return static_cast<int32_t>(RoundingDivideByPot(int32_value, 16));
}

int32_t HalfSum(int32_t a, int32_t b) {
  const int32_t sum = a + b;
  return (sum + (sum >= 0 ? 1 : -1)) / 2;
}

int32_t ExpOnQuarterInterval(int32_t a) {
  const int32_t constant_term = Constant(1895147668);  // exp(-1/8)
  const int32_t one_third = Constant(715827883);
  const int32_t x = Add(a, 1 << 12);  // a + 1/8
  const int32_t x2 = Mul(x, x);
  const int32_t x3 = Mul(x2, x);
  const int32_t x4 = Mul(x2, x2);
  const int32_t x4_over_4 = MultiplyByPot(x4, -2);
  const int32_t poly = MultiplyByPot(Add(Mul(Add(x4_over_4, x3), one_third), x2), -1);
  return AddSaturating(constant_term, Mul(constant_term, Add(x, poly)));
}

int32_t ExpOnNegativeValues(int32_t a, int integer_bits) {
  const int fractional_bits = 15 - integer_bits;
  const int32_t one_quarter = 1 << (fractional_bits - 2);
  const int32_t a_mod_quarter_minus_quarter = Sub(a & (one_quarter - 1), one_quarter);
  int32_t result = ExpOnQuarterInterval(MultiplyByPot(a_mod_quarter_minus_quarter, integer_bits));
  const int32_t remainder = Sub(a_mod_quarter_minus_quarter, a);
  struct Barrel {
    int exponent;
    int64_t multiplier;
  };
  static constexpr Barrel kBarrels[] = {{-2, 1672461947}, {-1, 1302514674}, {0, 790015084},
                                        {1, 290630308},   {2, 39332535},    {3, 720401},
                                        {4, 242}};  // exp(-1/4) ... exp(-16)
  for (const Barrel& b : kBarrels) {
    const int bit = fractional_bits + b.exponent;
    if (integer_bits > b.exponent && bit >= 0 && (remainder & (1 << bit)) != 0) {
      result = Mul(result, Constant(b.multiplier));
    }
  }
  if (integer_bits > 5 && a < Constant(-(int64_t{1} << (36 - integer_bits)))) result = 0;
  return a == 0 ? kMax : result;
}

int32_t ReciprocalF2(int32_t half_denominator) {
  const int32_t f2_one = 1 << 13;
  // 48/17 - 32/17 d
  int32_t x = Add(Constant(1515870810), Mul(half_denominator, Constant(-1010580540)));
  for (int i = 0; i < 3; ++i) {
    const int32_t one_minus = Sub(f2_one, Mul(half_denominator, x));
    x = Add(x, MultiplyByPot(Mul(x, one_minus), 2));
  }
  return x;
}

int32_t Logistic(int32_t a, int integer_bits) {
  if (a == 0) return Constant(int64_t{1} << 30);
  const int32_t abs = a > 0 ? a : Wrap(-a);
  const int32_t e = ExpOnNegativeValues(Wrap(-abs), integer_bits);
  const int32_t positive = MultiplyByPot(ReciprocalF2(HalfSum(e, kMax)), 1);
  return a > 0 ? positive : Sub(kMax, positive);
}

int32_t Tanh(int32_t a, int integer_bits) {
  if (a == 0) return 0;
  const int32_t e = ExpOnNegativeValues(a < 0 ? a : Wrap(-a), integer_bits + 1);
  const int32_t t = MultiplyByPot(Sub(ReciprocalF2(HalfSum(e, kMax)), 1 << 13), 2);
  return a < 0 ? Wrap(-t) : t;
}

}  // namespace

void LstmQs8ActivationTable(LstmQs8Activation kind, int integer_bits, int16_t* table) {
  if (integer_bits < 0 || integer_bits > 7) {
    throw std::invalid_argument("LSTM: expected 0 to 7 integer bits for an int16 activation table");
  }
  for (int32_t x = kMin; x <= kMax; ++x) {
    const int32_t y =
        kind == LstmQs8Activation::kLogistic ? Logistic(x, integer_bits) : Tanh(x, integer_bits);
    table[x - kMin] = static_cast<int16_t>(y);
  }
}

}  // namespace litequant
