// The reference (scalar) int16x8 GEMM: TFLite's loop order and int64 accumulation, the truth
// every other path is tested against. Panels are [k][NR] int16 (weights sign-extended).
#include "litequant/qs16_gemm.h"

namespace litequant {
namespace {

constexpr size_t kNr = 4;

void Pack(size_t nc, size_t k, const int8_t* w, size_t ldw, int16_t* panel) {
  for (size_t kk = 0; kk < k; ++kk) {
    for (size_t j = 0; j < kNr; ++j) panel[kk * kNr + j] = j < nc ? w[j * ldw + kk] : 0;
  }
}

void Gemm(size_t mr, size_t nc, size_t k, const int16_t* a, size_t lda, const int16_t* panel,
          const int64_t* bias, int16_t* c, size_t ldc, const Qs16RequantParams& rq) {
  for (size_t i = 0; i < mr; ++i) {
    for (size_t j = 0; j < nc; ++j) {
      int64_t acc = 0;
      for (size_t kk = 0; kk < k; ++kk) {
        acc += static_cast<int32_t>(panel[kk * kNr + j]) * static_cast<int32_t>(a[i * lda + kk]);
      }
      if (bias != nullptr) acc += bias[j];
      c[i * ldc + j] = static_cast<int16_t>(Qs16RequantizeOne(acc, rq, j));
    }
  }
}

}  // namespace

extern const Qs16GemmKernels kQs16GemmReference = {Pack, Gemm, 1, kNr, 1,
                                                   "qs16_gemm_1x4__reference"};

}  // namespace litequant
