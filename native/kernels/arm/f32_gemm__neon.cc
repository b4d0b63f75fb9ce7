// NEON float32 GEMM micro-kernel, 6x8: 12 q-register accumulators (6 rows x 2), one FMA chain per
// output in ascending k. The main loop loads 4 k-values of each row at once and uses lane FMAs.
#include <arm_neon.h>

#include "litequant/f32_gemm.h"

namespace litequant {
namespace {

constexpr size_t kMr = 6;
constexpr size_t kNr = 8;

template <size_t MR>
void Tile(size_t nc, size_t k, const float* a, size_t lda, const float* panel, float* c,
          size_t ldc, float min, float max) {
  float32x4_t acc0[MR], acc1[MR];
  const float32x4_t bias0 = vld1q_f32(panel);
  const float32x4_t bias1 = vld1q_f32(panel + 4);
#pragma GCC unroll 6
  for (size_t i = 0; i < MR; ++i) {
    acc0[i] = bias0;
    acc1[i] = bias1;
  }
  const float* w = panel + kNr;
  const float* ar[MR];
#pragma GCC unroll 6
  for (size_t i = 0; i < MR; ++i) ar[i] = a + i * lda;
  size_t kk = 0;
  for (; kk + 4 <= k; kk += 4) {
    float32x4_t x[MR];
#pragma GCC unroll 6
    for (size_t i = 0; i < MR; ++i) x[i] = vld1q_f32(ar[i] + kk);
#define LQ_STEP(L)                                                \
  {                                                               \
    const float32x4_t w0 = vld1q_f32(w + (L) * kNr);              \
    const float32x4_t w1 = vld1q_f32(w + (L) * kNr + 4);          \
    for (size_t i = 0; i < MR; ++i) {                             \
      acc0[i] = vfmaq_laneq_f32(acc0[i], w0, x[i], L);            \
      acc1[i] = vfmaq_laneq_f32(acc1[i], w1, x[i], L);            \
    }                                                             \
  }
    LQ_STEP(0)
    LQ_STEP(1)
    LQ_STEP(2)
    LQ_STEP(3)
#undef LQ_STEP
    w += 4 * kNr;
  }
  for (; kk < k; ++kk) {
    const float32x4_t w0 = vld1q_f32(w);
    const float32x4_t w1 = vld1q_f32(w + 4);
    w += kNr;
#pragma GCC unroll 6
    for (size_t i = 0; i < MR; ++i) {
      const float32x4_t x = vld1q_dup_f32(ar[i] + kk);
      acc0[i] = vfmaq_f32(acc0[i], w0, x);
      acc1[i] = vfmaq_f32(acc1[i], w1, x);
    }
  }
  // FMAX/FMIN return NaN when an operand is NaN, so NaN passes the clamp.
  const float32x4_t lo = vdupq_n_f32(min);
  const float32x4_t hi = vdupq_n_f32(max);
  for (size_t i = 0; i < MR; ++i) {
    const float32x4_t y0 = vminq_f32(vmaxq_f32(acc0[i], lo), hi);
    const float32x4_t y1 = vminq_f32(vmaxq_f32(acc1[i], lo), hi);
    float* ci = c + i * ldc;
    if (nc == kNr) {
      vst1q_f32(ci, y0);
      vst1q_f32(ci + 4, y1);
    } else {
      float tmp[kNr];
      vst1q_f32(tmp, y0);
      vst1q_f32(tmp + 4, y1);
      for (size_t j = 0; j < nc; ++j) ci[j] = tmp[j];
    }
  }
}

void f32_gemm_6x8__neon(size_t mr, size_t nc, size_t k, const float* a, size_t lda,
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
  float32x4_t acc0[P], acc1[P];
  const float* w[P];
#pragma GCC unroll 4
  for (size_t q = 0; q < P; ++q) {
    w[q] = panels + q * panel_stride;
    acc0[q] = vld1q_f32(w[q]);
    acc1[q] = vld1q_f32(w[q] + 4);
    w[q] += kNr;
  }
  for (size_t kk = 0; kk < k; ++kk) {
    const float32x4_t x = vld1q_dup_f32(a + kk);
#pragma GCC unroll 4
    for (size_t q = 0; q < P; ++q) {
      acc0[q] = vfmaq_f32(acc0[q], vld1q_f32(w[q] + kk * kNr), x);
      acc1[q] = vfmaq_f32(acc1[q], vld1q_f32(w[q] + kk * kNr + 4), x);
    }
  }
  const float32x4_t lo = vdupq_n_f32(min);
  const float32x4_t hi = vdupq_n_f32(max);
  for (size_t q = 0; q < P; ++q) {
    const float32x4_t y0 = vminq_f32(vmaxq_f32(acc0[q], lo), hi);
    const float32x4_t y1 = vminq_f32(vmaxq_f32(acc1[q], lo), hi);
    float* cq = c + q * kNr;
    const size_t rest = nc - q * kNr;
    if (rest >= kNr) {
      vst1q_f32(cq, y0);
      vst1q_f32(cq + 4, y1);
    } else {
      float tmp[kNr];
      vst1q_f32(tmp, y0);
      vst1q_f32(tmp + 4, y1);
      for (size_t j = 0; j < rest; ++j) cq[j] = tmp[j];
    }
  }
}

void f32_gemv_1x32__neon(size_t nc, size_t k, const float* a, const float* panels,
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

extern const F32GemmKernels kF32GemmNeon = {f32_gemm_6x8__neon, f32_gemv_1x32__neon, kMr, kNr,
                                            "f32_gemm_6x8__neon"};

}  // namespace litequant
