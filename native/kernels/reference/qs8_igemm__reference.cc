// The reference (scalar) qs8 indirect GEMM: the contract of qs8_igemm.h written as loops, with
// the geometry of the AVX2 kernels so the same packed data can be checked against both.
#include "litequant/qs8_igemm.h"

namespace litequant {
namespace {

template <size_t NR>
void Igemm(size_t m, size_t nc, size_t runs, size_t run, const int16_t* const* a,
           const ptrdiff_t* offsets, const int16_t* w, const int32_t* init, int8_t* c, size_t ldc,
           const Qs8GemmEpilogue& ep) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < nc; ++j) {
      uint32_t acc = static_cast<uint32_t>(init[j]);  // wraps like the kernels' int32 sums
      for (size_t t = 0; t < runs; ++t) {
        const int16_t* x = a[i] + offsets[t];
        const int16_t* wt = w + t * run * NR;
        for (size_t k = 0; k < run; ++k) {
          const int16_t wk = wt[(k / 2) * NR * 2 + j * 2 + k % 2];
          acc += static_cast<uint32_t>(int32_t{x[k]} * int32_t{wk});
        }
      }
      c[i * ldc + j] = Qs8RequantizeOne(static_cast<int32_t>(acc), ep, j);
    }
  }
}

void Convert(size_t pixels, size_t channels, const int8_t* in, size_t in_stride, int16_t* out) {
  for (size_t p = 0; p < pixels; ++p, in += in_stride, out += channels) {
    for (size_t k = 0; k < channels; ++k) out[k] = in[k];
  }
}

}  // namespace

extern const Qs8IgemmConfig kQs8IgemmReference = {
    Path::kReference,
    {"qs8_igemm_5x16c2__reference", 5, 16, Igemm<16>},
    {"qs8_igemm_8x8c2__reference", 8, 8, Igemm<8>},
    Convert};

}  // namespace litequant
