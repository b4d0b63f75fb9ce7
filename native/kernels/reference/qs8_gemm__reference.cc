// The qs8 GEMM written as its definition: every optimized path is checked against these loops.
#include "litequant/qs8_gemm_kernels.h"

namespace litequant {

void Qs8GemmReference(size_t m, size_t n, size_t k, const int8_t* a, size_t lda, const int8_t* w,
                      const int32_t* bias, int32_t a_zero_point, const Qs8Requant& requant,
                      int8_t* c, size_t ldc) {
  const bool per_channel_fp32 = requant.scale.size() > 1;
  const bool per_channel_fixed = requant.multiplier.size() > 1;
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      // Unsigned arithmetic: int32 sums wrap instead of overflowing (what every kernel does).
      uint32_t acc = bias != nullptr ? static_cast<uint32_t>(bias[j]) : 0u;
      for (size_t p = 0; p < k; ++p) {
        const uint32_t x =
            static_cast<uint32_t>(a[i * lda + p]) - static_cast<uint32_t>(a_zero_point);
        acc += x * static_cast<uint32_t>(w[j * k + p]);
      }
      const auto sum = static_cast<int32_t>(acc);
      int32_t y;
      if (requant.mode == RequantMode::kFp32) {
        y = RequantizeFp32(sum, requant.scale[per_channel_fp32 ? j : 0],
                           requant.output_zero_point, requant.qmin, requant.qmax);
      } else {
        y = RequantizeFixedPoint(sum, requant.multiplier[per_channel_fixed ? j : 0],
                                 requant.output_zero_point, requant.qmin, requant.qmax);
      }
      c[i * ldc + j] = static_cast<int8_t>(y);
    }
  }
}

void Qs8GemmAccumulateReference(size_t m, size_t n, size_t k, const int8_t* a, size_t lda,
                                const int8_t* w, int32_t* acc, size_t ldacc) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      uint32_t sum = 0;
      for (size_t p = 0; p < k; ++p) {
        sum += static_cast<uint32_t>(static_cast<int32_t>(a[i * lda + p]) *
                                     static_cast<int32_t>(w[j * k + p]));
      }
      acc[i * ldacc + j] = static_cast<int32_t>(sum);
    }
  }
}

}  // namespace litequant
