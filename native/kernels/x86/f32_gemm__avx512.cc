// AVX-512F float32 GEMM micro-kernel, 6x32: 12 zmm accumulators (6 rows x 2), one FMA chain per
// output in ascending k; the column tail is a masked store. Same structure as
// f32_gemm__avx2.cc.
#include <immintrin.h>

#include "litequant/f32_gemm.h"

namespace litequant {
namespace {

constexpr size_t kMr = 6;
constexpr size_t kNr = 32;

inline __mmask16 LaneMask(size_t n) {  // lanes [0, n), n in [0, 16]
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

inline __m512 Clamp(__m512 acc, __m512 lo, __m512 hi) {
  const __mmask16 all = 0xFFFF;
  return _mm512_mask_min_ps(acc, all, hi, _mm512_mask_max_ps(acc, all, lo, acc));
}

template <size_t MR>
void Tile(size_t nc, size_t k, const float* a, size_t lda, const float* panel, float* c,
          size_t ldc, float min, float max) {
  __m512 acc0[MR], acc1[MR];
  const __m512 bias0 = _mm512_load_ps(panel);
  const __m512 bias1 = _mm512_load_ps(panel + 16);
#pragma GCC unroll 6
  for (size_t i = 0; i < MR; ++i) {
    acc0[i] = bias0;
    acc1[i] = bias1;
  }
  const float* w = panel + kNr;
  const float* ar[MR];
#pragma GCC unroll 6
  for (size_t i = 0; i < MR; ++i) ar[i] = a + i * lda;
  for (size_t kk = 0; kk < k; ++kk) {
    const __m512 w0 = _mm512_load_ps(w);
    const __m512 w1 = _mm512_load_ps(w + 16);
    w += kNr;
#pragma GCC unroll 6
    for (size_t i = 0; i < MR; ++i) {
      const __m512 x = _mm512_set1_ps(ar[i][kk]);
      acc0[i] = _mm512_fmadd_ps(x, w0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(x, w1, acc1[i]);
    }
  }
  // max(lo, acc) / min(hi, acc) return acc when it is NaN (the second operand wins). The
  // all-lanes mask forms avoid GCC 12's -Wuninitialized on _mm512_undefined_ps.
  const __m512 lo = _mm512_set1_ps(min);
  const __m512 hi = _mm512_set1_ps(max);
  const __mmask16 m0 = LaneMask(nc < 16 ? nc : 16);
  const __mmask16 m1 = LaneMask(nc > 16 ? nc - 16 : 0);
#pragma GCC unroll 6
  for (size_t i = 0; i < MR; ++i) {
    _mm512_mask_storeu_ps(c + i * ldc, m0, Clamp(acc0[i], lo, hi));
    _mm512_mask_storeu_ps(c + i * ldc + 16, m1, Clamp(acc1[i], lo, hi));
  }
}

void f32_gemm_6x32__avx512(size_t mr, size_t nc, size_t k, const float* a, size_t lda,
                           const float* panel, float* c, size_t ldc, float min, float max) {
  switch (mr) {
    case 1: Tile<1>(nc, k, a, lda, panel, c, ldc, min, max); break;
    case 2: Tile<2>(nc, k, a, lda, panel, c, ldc, min, max); break;
    case 3: Tile<3>(nc, k, a, lda, panel, c, ldc, min, max); break;
    case 4: Tile<4>(nc, k, a, lda, panel, c, ldc, min, max); break;
    case 5: Tile<5>(nc, k, a, lda, panel, c, ldc, min, max); break;
    default: Tile<6>(nc, k, a, lda, panel, c, ldc, min, max); break;
  }
}

// One row against P panels at once: 2*P independent chains instead of the tile kernel's 2.
template <size_t P>
void RowPanels(size_t nc, size_t k, const float* a, const float* panels, size_t panel_stride,
               float* c, float min, float max) {
  __m512 acc0[P], acc1[P];
  const float* w[P];
#pragma GCC unroll 4
  for (size_t q = 0; q < P; ++q) {
    w[q] = panels + q * panel_stride;
    acc0[q] = _mm512_load_ps(w[q]);
    acc1[q] = _mm512_load_ps(w[q] + 16);
    w[q] += kNr;
  }
  for (size_t kk = 0; kk < k; ++kk) {
    const __m512 x = _mm512_set1_ps(a[kk]);
#pragma GCC unroll 4
    for (size_t q = 0; q < P; ++q) {
      acc0[q] = _mm512_fmadd_ps(x, _mm512_load_ps(w[q] + kk * kNr), acc0[q]);
      acc1[q] = _mm512_fmadd_ps(x, _mm512_load_ps(w[q] + kk * kNr + 16), acc1[q]);
    }
  }
  const __m512 lo = _mm512_set1_ps(min);
  const __m512 hi = _mm512_set1_ps(max);
  for (size_t q = 0; q < P; ++q) {
    const size_t n0 = q * kNr;
    const size_t rest = nc - n0 < kNr ? nc - n0 : kNr;
    _mm512_mask_storeu_ps(c + n0, LaneMask(rest < 16 ? rest : 16), Clamp(acc0[q], lo, hi));
    _mm512_mask_storeu_ps(c + n0 + 16, LaneMask(rest > 16 ? rest - 16 : 0), Clamp(acc1[q], lo, hi));
  }
}

void f32_gemv_1x128__avx512(size_t nc, size_t k, const float* a, const float* panels,
                            size_t panel_stride, float* c, float min, float max) {
  for (; nc > 3 * kNr; nc -= nc < 4 * kNr ? nc : 4 * kNr) {
    RowPanels<4>(nc, k, a, panels, panel_stride, c, min, max);
    panels += 4 * panel_stride;
    c += 4 * kNr;
  }
  if (nc > 2 * kNr) RowPanels<3>(nc, k, a, panels, panel_stride, c, min, max);
  else if (nc > kNr) RowPanels<2>(nc, k, a, panels, panel_stride, c, min, max);
  else if (nc > 0) RowPanels<1>(nc, k, a, panels, panel_stride, c, min, max);
}

}  // namespace

extern const F32GemmKernels kF32GemmAvx512 = {f32_gemm_6x32__avx512, f32_gemv_1x128__avx512, kMr,
                                              kNr, "f32_gemm_6x32__avx512"};

}  // namespace litequant
