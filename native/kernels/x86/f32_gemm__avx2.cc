// AVX2 + FMA float32 GEMM micro-kernel, 6x16: 12 accumulators (6 rows x 2 ymm), one FMA chain
// per output in ascending k, as f32_gemm.h requires.
#include <immintrin.h>

#include "litequant/f32_gemm.h"

namespace litequant {
namespace {

constexpr size_t kMr = 6;
constexpr size_t kNr = 16;

// Lanes [0, n) of a ymm store mask, n in [0, 8].
inline __m256i StoreMask(size_t n) {
  alignas(32) static const int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                0,  0,  0,  0,  0,  0,  0,  0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - n));
}

template <size_t MR>
void Tile(size_t nc, size_t k, const float* a, size_t lda, const float* panel, float* c,
          size_t ldc, float min, float max) {
  __m256 acc0[MR], acc1[MR];
  const __m256 bias0 = _mm256_load_ps(panel);
  const __m256 bias1 = _mm256_load_ps(panel + 8);
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
    const __m256 w0 = _mm256_load_ps(w);
    const __m256 w1 = _mm256_load_ps(w + 8);
    w += kNr;
#pragma GCC unroll 6
    for (size_t i = 0; i < MR; ++i) {
      const __m256 x = _mm256_broadcast_ss(ar[i] + kk);
      acc0[i] = _mm256_fmadd_ps(x, w0, acc0[i]);
      acc1[i] = _mm256_fmadd_ps(x, w1, acc1[i]);
    }
  }
  // max(lo, acc) / min(hi, acc) return acc when it is NaN (the second operand wins).
  const __m256 lo = _mm256_set1_ps(min);
  const __m256 hi = _mm256_set1_ps(max);
#pragma GCC unroll 6
  for (size_t i = 0; i < MR; ++i) {
    acc0[i] = _mm256_min_ps(hi, _mm256_max_ps(lo, acc0[i]));
    acc1[i] = _mm256_min_ps(hi, _mm256_max_ps(lo, acc1[i]));
  }
  if (nc == kNr) {
#pragma GCC unroll 6
    for (size_t i = 0; i < MR; ++i) {
      _mm256_storeu_ps(c + i * ldc, acc0[i]);
      _mm256_storeu_ps(c + i * ldc + 8, acc1[i]);
    }
    return;
  }
  const __m256i m0 = StoreMask(nc < 8 ? nc : 8);
  const __m256i m1 = StoreMask(nc > 8 ? nc - 8 : 0);
  for (size_t i = 0; i < MR; ++i) {
    _mm256_maskstore_ps(c + i * ldc, m0, acc0[i]);
    _mm256_maskstore_ps(c + i * ldc + 8, m1, acc1[i]);
  }
}

void f32_gemm_6x16__avx2(size_t mr, size_t nc, size_t k, const float* a, size_t lda,
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
  __m256 acc0[P], acc1[P];
  const float* w[P];
#pragma GCC unroll 4
  for (size_t q = 0; q < P; ++q) {
    w[q] = panels + q * panel_stride;
    acc0[q] = _mm256_load_ps(w[q]);
    acc1[q] = _mm256_load_ps(w[q] + 8);
    w[q] += kNr;
  }
  for (size_t kk = 0; kk < k; ++kk) {
    const __m256 x = _mm256_broadcast_ss(a + kk);
#pragma GCC unroll 4
    for (size_t q = 0; q < P; ++q) {
      acc0[q] = _mm256_fmadd_ps(x, _mm256_load_ps(w[q] + kk * kNr), acc0[q]);
      acc1[q] = _mm256_fmadd_ps(x, _mm256_load_ps(w[q] + kk * kNr + 8), acc1[q]);
    }
  }
  const __m256 lo = _mm256_set1_ps(min);
  const __m256 hi = _mm256_set1_ps(max);
  for (size_t q = 0; q < P; ++q) {
    const __m256 y0 = _mm256_min_ps(hi, _mm256_max_ps(lo, acc0[q]));
    const __m256 y1 = _mm256_min_ps(hi, _mm256_max_ps(lo, acc1[q]));
    const size_t n0 = q * kNr;
    if (nc >= n0 + kNr) {
      _mm256_storeu_ps(c + n0, y0);
      _mm256_storeu_ps(c + n0 + 8, y1);
    } else {
      const size_t rest = nc - n0;
      _mm256_maskstore_ps(c + n0, StoreMask(rest < 8 ? rest : 8), y0);
      _mm256_maskstore_ps(c + n0 + 8, StoreMask(rest > 8 ? rest - 8 : 0), y1);
    }
  }
}

void f32_gemv_1x64__avx2(size_t nc, size_t k, const float* a, const float* panels,
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

extern const F32GemmKernels kF32GemmAvx2 = {f32_gemm_6x16__avx2, f32_gemv_1x64__avx2, kMr, kNr,
                                            "f32_gemm_6x16__avx2"};

}  // namespace litequant
