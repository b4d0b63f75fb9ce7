// AVX-VNNI int16x8 GEMM, 4x16 tiles over pairs of k (qs16_gemm_4x16c2__avxvnni): the shared
// body in qs16_gemm_body_avx2.h (same panel layout as the AVX2 kernel) with VPDPWSSD fusing the
// pair products and the accumulation. VPDPWSSD wraps (it does not saturate) and block sums stay
// below 2^31 anyway. Not run on the development machine (no AVX-VNNI): its test skips there.
#include <immintrin.h>

#include "qs16_gemm_body_avx2.h"

namespace litequant {
namespace {

struct DotAvxVnni {
  static inline __m256i Acc(__m256i acc, __m256i b, __m256i w) {
    return _mm256_dpwssd_avx_epi32(acc, b, w);
  }
};

}  // namespace

extern const Qs16GemmKernels kQs16GemmAvxVnni = {Pack, Gemm<DotAvxVnni>, kMr, kNr, 2,
                                                 "qs16_gemm_4x16c2__avxvnni"};

}  // namespace litequant
