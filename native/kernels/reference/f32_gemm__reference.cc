// The reference float32 GEMM micro-kernel: scalar, products and sums rounded separately
// (-ffp-contract=off), bias first then ascending k. The numerics every other path is held to.
#include "litequant/f32_gemm.h"

namespace litequant {
namespace {

constexpr size_t kMr = 4;
constexpr size_t kNr = 8;

void f32_gemm_4x8__reference(size_t mr, size_t nc, size_t k, const float* a, size_t lda,
                             const float* panel, float* c, size_t ldc, float min, float max) {
  for (size_t i = 0; i < mr; ++i) {
    float acc[kNr];
    for (size_t j = 0; j < kNr; ++j) acc[j] = panel[j];
    const float* w = panel + kNr;
    const float* ai = a + i * lda;
    for (size_t kk = 0; kk < k; ++kk) {
      const float x = ai[kk];
      for (size_t j = 0; j < kNr; ++j) acc[j] = acc[j] + x * w[j];
      w += kNr;
    }
    float* ci = c + i * ldc;
    for (size_t j = 0; j < nc; ++j) {
      float y = acc[j];
      y = y < min ? min : (y > max ? max : y);  // NaN stays NaN
      ci[j] = y;
    }
  }
}

}  // namespace

extern const F32GemmKernels kF32GemmReference = {f32_gemm_4x8__reference, nullptr, kMr, kNr,
                                                 "f32_gemm_4x8__reference"};

}  // namespace litequant
