// AVX2 int16x8 GEMM, 4x16 tiles over pairs of k (qs16_gemm_4x16c2__avx2): the shared body in
// qs16_gemm_body_avx2.h with VPMADDWD + VPADDD as the pair dot-product step.
#include <immintrin.h>

#include "qs16_gemm_body_avx2.h"

namespace litequant {
namespace {

struct DotAvx2 {
  static inline __m256i Acc(__m256i acc, __m256i b, __m256i w) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(b, w));
  }
};

}  // namespace

extern const Qs16GemmKernels kQs16GemmAvx2 = {Pack, Gemm<DotAvx2>, kMr, kNr, 2,
                                              "qs16_gemm_4x16c2__avx2"};

}  // namespace litequant
