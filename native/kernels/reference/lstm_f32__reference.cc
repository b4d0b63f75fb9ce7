// The reference LSTM elementwise kernels: sigmoid and tanh in double rounded to float (what the
// TypeScript reference computes with Math.exp / Math.tanh), the cell update in float.
#include <cmath>
#include <cstdint>

#include "litequant/lstm.h"

namespace litequant {
namespace {

void Sigmoid(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) {
    y[i] = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x[i]))));
  }
}

void Tanh(size_t n, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<float>(std::tanh(static_cast<double>(x[i])));
}

void Cell(size_t n, const float* i, const float* f, const float* g, float clip, float* c) {
  for (size_t k = 0; k < n; ++k) {
    const float in = i == nullptr ? 1.0f - f[k] : i[k];
    const float fc = f[k] * c[k];
    const float gi = g[k] * in;
    float v = fc + gi;
    if (clip > 0.0f) v = v > clip ? clip : (v < -clip ? -clip : v);
    c[k] = v;
  }
}

void Qs8Gemv(size_t n, size_t k, const int8_t* packed, const int8_t* x, int32_t* acc) {
  const size_t k4 = (k + 3) / 4;
  for (size_t j = 0; j < n; ++j) {
    const int8_t* group = packed + (j / kLstmQs8GemvGroup) * k4 * 32;
    const size_t o = j % kLstmQs8GemvGroup;
    int32_t sum = 0;
    for (size_t q = 0; q < k4; ++q) {
      for (size_t t = 0; t < 4; ++t) sum += group[q * 32 + o * 4 + t] * x[q * 4 + t];
    }
    acc[j] = sum;
  }
}

}  // namespace

extern const LstmF32Kernels kLstmF32Reference = {Sigmoid, Tanh, Cell, Qs8Gemv,
                                                 "lstm_f32__reference"};

}  // namespace litequant
