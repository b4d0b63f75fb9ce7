// The integer LSTM's elementwise kernels as plain loops over the definitions in lstm_qs8.h
// (TFLite's lstm_eval.cc integer path, as the TypeScript reference computes it), and the
// integer layer norm every path shares.
#include <cstdint>

#include "litequant/lstm_qs8.h"
#include "litequant/requantization.h"

namespace litequant {
namespace {

int32_t Clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }
int32_t Clamp16(int32_t v) { return Clamp(v, -32768, 32767); }
int32_t Clamp8(int32_t v) { return Clamp(v, -128, 127); }
int32_t Wrap16(int32_t v) { return static_cast<int16_t>(static_cast<uint16_t>(v)); }
int32_t WrapAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
int32_t Clip(int32_t v, int32_t clip) { return clip > 0 ? Clamp(v, -clip, clip) : v; }

void Gate(size_t n, const int32_t* in, const int32_t* in_bias, QuantizedMultiplier in_m,
          const int32_t* rec, const int32_t* rec_bias, QuantizedMultiplier rec_m,
          const int16_t* table, int16_t* out) {
  for (size_t j = 0; j < n; ++j) {
    const int32_t x = Clamp16(MultiplyByQuantizedMultiplier(WrapAdd(in[j], in_bias[j]), in_m));
    const int32_t h = MultiplyByQuantizedMultiplier(WrapAdd(rec[j], rec_bias[j]), rec_m);
    const int32_t v = Clamp16(h + x);
    out[j] = table == nullptr ? static_cast<int16_t>(v) : table[v + 32768];
  }
}

void Peephole(size_t n, const int16_t* w, const int16_t* c, QuantizedMultiplier m, int16_t* out) {
  for (size_t j = 0; j < n; ++j) {
    const int32_t p = MultiplyByQuantizedMultiplier(int32_t{w[j]} * int32_t{c[j]}, m);
    out[j] = static_cast<int16_t>(Clamp16(p + out[j]));
  }
}

void Lookup(size_t n, const int16_t* table, const int16_t* x, int16_t* y) {
  for (size_t j = 0; j < n; ++j) y[j] = table[int32_t{x[j]} + 32768];
}

void Cell(size_t n, const int16_t* i, const int16_t* f, const int16_t* g, int mix_shift,
          int32_t clip, int16_t* c) {
  for (size_t k = 0; k < n; ++k) {
    const int32_t kept = Wrap16(RoundingDivideByPowerOfTwo(int32_t{f[k]} * int32_t{c[k]}, 15));
    const int32_t in = i == nullptr ? 32767 - f[k] : i[k];
    const int32_t added = Wrap16(RoundingDivideByPowerOfTwo(in * int32_t{g[k]}, mix_shift));
    c[k] = static_cast<int16_t>(Clip(Clamp16(kept + added), clip));
  }
}

void Hidden(size_t n, const int16_t* o, const int16_t* t, QuantizedMultiplier m,
            int32_t zero_point, int8_t* out) {
  for (size_t k = 0; k < n; ++k) {
    const int32_t v = MultiplyByQuantizedMultiplier(int32_t{o[k]} * int32_t{t[k]}, m);
    out[k] = static_cast<int8_t>(Clamp8(v + zero_point));
  }
}

void Output(size_t n, const int32_t* acc, const int32_t* bias, QuantizedMultiplier m,
            int32_t zero_point, int32_t clip, int8_t* out) {
  for (size_t j = 0; j < n; ++j) {
    const int32_t v = MultiplyByQuantizedMultiplier(WrapAdd(acc[j], bias[j]), m);
    out[j] = static_cast<int8_t>(Clip(Clamp8(v + zero_point), clip));
  }
}

// gemmlowp's SaturatingRoundingMultiplyByPOT on int32.
int32_t MultiplyByPowerOfTwo(int32_t x, int exponent) {
  if (exponent <= 0) return exponent == 0 ? x : RoundingDivideByPowerOfTwo(x, -exponent);
  const int32_t max = static_cast<int32_t>((int64_t{1} << (31 - exponent)) - 1);
  if (x > max) return INT32_MAX;
  if (x < -max - 1) return INT32_MIN;
  return static_cast<int32_t>(static_cast<uint32_t>(x) << exponent);
}

// TFLite's GetInvSqrtQuantizedMultiplierExp (reverse_shift -1): 1/sqrt(input) in Q31 and a
// shift, by Newton's iteration in fixed point.
QuantizedMultiplier InvSqrtMultiplier(int32_t input) {
  if (input <= 1) return {INT32_MAX, 0};
  int shift = 11;
  while (input >= (1 << 29)) {
    input /= 4;
    ++shift;
  }
  const int max_left_shift_bits = __builtin_clz(static_cast<uint32_t>(input)) - 1;
  const int pairs = max_left_shift_bits / 2 - 1;
  shift -= pairs;
  input = static_cast<int32_t>(static_cast<uint32_t>(input) << (2 * pairs));
  const int32_t half_input = RoundingDivideByPowerOfTwo(input >> 1, 1);  // F3
  const int32_t half_three = (1 << 28) + (1 << 27);
  int32_t x = 1 << 28;  // F3 one
  for (int i = 0; i < 5; ++i) {
    const int32_t x3 =
        MultiplyByPowerOfTwo(RoundingDoublingHighMul(RoundingDoublingHighMul(x, x), x), 6);
    const int32_t diff = static_cast<int32_t>(
        static_cast<uint32_t>(RoundingDoublingHighMul(half_three, x)) -
        static_cast<uint32_t>(RoundingDoublingHighMul(half_input, x3)));
    x = MultiplyByPowerOfTwo(diff, 3);
  }
  constexpr int32_t kHalfSqrt2 = 1518500250;
  int32_t multiplier = RoundingDoublingHighMul(x, kHalfSqrt2);
  if (shift < 0) {
    multiplier = static_cast<int32_t>(static_cast<uint32_t>(multiplier) << -shift);
    shift = 0;
  }
  return {multiplier, -shift};
}

}  // namespace

void LstmQs8LayerNorm(int16_t* v, size_t rows, size_t n, const int16_t* coeff,
                      const int32_t* bias, QuantizedMultiplier m, int32_t variance_guard) {
  constexpr int64_t kTwoPow20 = int64_t{1} << 20;
  const auto count = static_cast<int64_t>(n);
  const int64_t temp = kTwoPow20 / count;
  const QuantizedMultiplier out_m{m.multiplier, m.shift + 12};
  for (size_t r = 0; r < rows; ++r) {
    int16_t* row = v + r * n;
    int64_t sum = 0;
    int64_t sum_sq = 0;
    for (size_t j = 0; j < n; ++j) {
      sum += row[j];
      sum_sq += int64_t{row[j]} * row[j];
    }
    const auto mean = static_cast<int32_t>(sum * 1024 / count);
    const int64_t variance = sum_sq * temp - int64_t{mean} * mean;
    int32_t variance2 = static_cast<int32_t>(variance / kTwoPow20);
    if (variance2 < 1) variance2 = variance_guard;
    const QuantizedMultiplier inv = InvSqrtMultiplier(variance2);
    for (size_t j = 0; j < n; ++j) {
      const int32_t shifted = WrapAdd(1024 * int32_t{row[j]}, -mean);
      const int32_t rescaled = MultiplyByQuantizedMultiplier(shifted, inv);
      const int32_t product = static_cast<int32_t>(static_cast<uint32_t>(rescaled) *
                                                   static_cast<uint32_t>(int32_t{coeff[j]}));
      const int64_t val3 = WrapAdd(product, bias == nullptr ? 0 : bias[j]);
      const auto val4 = static_cast<int32_t>((val3 > 0 ? val3 + 512 : val3 - 512) / 1024);
      row[j] = static_cast<int16_t>(Clamp16(MultiplyByQuantizedMultiplier(val4, out_m)));
    }
  }
}

// No matrix-vector kernel: the reference path runs every product on the qs8 GEMM's loops.
extern const LstmQs8Kernels kLstmQs8Reference = {Gate,    Peephole, Lookup,  Cell,
                                                 Hidden,  Output,   nullptr, nullptr,
                                                 nullptr, nullptr,  "lstm_qs8__reference"};

}  // namespace litequant
