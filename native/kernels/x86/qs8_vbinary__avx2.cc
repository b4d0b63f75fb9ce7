// AVX2 qs8 ADD/SUB/MUL: 16 elements per step widened to int32 (two ymm), scalar tails with the
// shared one-element rules (vbinary.h).
//
// ADD: vpmulld wraps like the reference's int32 sums; the shift is arithmetic (vpsrad). The
// shifted sum is at most 2^31 >> 13 in magnitude (shift >= 13), so adding the zero point in
// int32 cannot overflow, and the saturating packs clamp to [-128, 127] before the activation's
// clamp. MUL: the product of two values in [-255, 255] is exact in int32 and in float; vcvtps2dq
// rounds half to even under the default rounding mode, as RequantizeFp32's nearbyint.
#include <immintrin.h>

#include "litequant/vbinary.h"

namespace litequant {
namespace {

inline __m256i Load8(const int8_t* p) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

// 16 int32 (lo: elements 0-7, hi: 8-15) to 16 saturated int8 in order.
inline __m128i Pack16(__m256i lo, __m256i hi) {
  const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xD8);
  return _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
}

inline void Store16(int8_t* p, __m128i v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }

struct AddConstants {
  __m256i a_multiplier, b_multiplier, bias, zero_point;
  __m128i shift, qmin, qmax;
  explicit AddConstants(const Qs8AddParams& p)
      : a_multiplier(_mm256_set1_epi32(p.a_multiplier)),
        b_multiplier(_mm256_set1_epi32(p.b_multiplier)),
        bias(_mm256_set1_epi32(p.bias)),
        zero_point(_mm256_set1_epi32(p.output_zero_point)),
        shift(_mm_cvtsi32_si128(static_cast<int>(p.shift))),
        qmin(_mm_set1_epi8(static_cast<char>(p.qmin))),
        qmax(_mm_set1_epi8(static_cast<char>(p.qmax))) {}

  __m256i Finish(__m256i acc) const {
    return _mm256_add_epi32(_mm256_sra_epi32(acc, shift), zero_point);
  }
  __m128i Clamp(__m128i v) const { return _mm_min_epi8(_mm_max_epi8(v, qmin), qmax); }
};

void VAdd(size_t n, const int8_t* a, const int8_t* b, int8_t* out, const Qs8AddParams& p) {
  const AddConstants k(p);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i acc0 = _mm256_add_epi32(k.bias, _mm256_mullo_epi32(Load8(a + i), k.a_multiplier));
    __m256i acc1 = _mm256_add_epi32(k.bias, _mm256_mullo_epi32(Load8(a + i + 8), k.a_multiplier));
    acc0 = _mm256_add_epi32(acc0, _mm256_mullo_epi32(Load8(b + i), k.b_multiplier));
    acc1 = _mm256_add_epi32(acc1, _mm256_mullo_epi32(Load8(b + i + 8), k.b_multiplier));
    Store16(out + i, k.Clamp(Pack16(k.Finish(acc0), k.Finish(acc1))));
  }
  for (; i < n; ++i) out[i] = Qs8AddOne(a[i], b[i], p);
}

void VAddC(size_t n, const int8_t* a, int8_t* out, const Qs8AddParams& p) {
  const AddConstants k(p);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i acc0 = _mm256_add_epi32(k.bias, _mm256_mullo_epi32(Load8(a + i), k.a_multiplier));
    const __m256i acc1 =
        _mm256_add_epi32(k.bias, _mm256_mullo_epi32(Load8(a + i + 8), k.a_multiplier));
    Store16(out + i, k.Clamp(Pack16(k.Finish(acc0), k.Finish(acc1))));
  }
  for (; i < n; ++i) out[i] = Qs8AddOne(a[i], 0, p);
}

struct MulConstants {
  __m256 scale, lo, hi;
  __m256i zero_point;
  explicit MulConstants(const Qs8MulParams& p)
      : scale(_mm256_set1_ps(p.scale)),
        lo(_mm256_set1_ps(static_cast<float>(p.qmin - p.output_zero_point))),
        hi(_mm256_set1_ps(static_cast<float>(p.qmax - p.output_zero_point))),
        zero_point(_mm256_set1_epi32(p.output_zero_point)) {}

  // The clamp keeps the result in [qmin, qmax]: the packs never saturate.
  __m256i Requantize(__m256i acc) const {
    __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale);
    y = _mm256_min_ps(_mm256_max_ps(y, lo), hi);
    return _mm256_add_epi32(_mm256_cvtps_epi32(y), zero_point);
  }
};

void VMul(size_t n, const int8_t* a, const int8_t* b, int8_t* out, const Qs8MulParams& p) {
  const MulConstants k(p);
  const __m256i za = _mm256_set1_epi32(p.a_zero_point);
  const __m256i zb = _mm256_set1_epi32(p.b_zero_point);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i acc0 = _mm256_mullo_epi32(_mm256_sub_epi32(Load8(a + i), za),
                                            _mm256_sub_epi32(Load8(b + i), zb));
    const __m256i acc1 = _mm256_mullo_epi32(_mm256_sub_epi32(Load8(a + i + 8), za),
                                            _mm256_sub_epi32(Load8(b + i + 8), zb));
    Store16(out + i, Pack16(k.Requantize(acc0), k.Requantize(acc1)));
  }
  for (; i < n; ++i) {
    out[i] = Qs8MulOne((int32_t{a[i]} - p.a_zero_point) * (int32_t{b[i]} - p.b_zero_point), p);
  }
}

void VMulC(size_t n, const int8_t* a, int32_t c, int8_t* out, const Qs8MulParams& p) {
  const MulConstants k(p);
  const __m256i za = _mm256_set1_epi32(p.a_zero_point);
  const __m256i vc = _mm256_set1_epi32(c);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i acc0 = _mm256_mullo_epi32(_mm256_sub_epi32(Load8(a + i), za), vc);
    const __m256i acc1 = _mm256_mullo_epi32(_mm256_sub_epi32(Load8(a + i + 8), za), vc);
    Store16(out + i, Pack16(k.Requantize(acc0), k.Requantize(acc1)));
  }
  for (; i < n; ++i) out[i] = Qs8MulOne((int32_t{a[i]} - p.a_zero_point) * c, p);
}

}  // namespace

extern const Qs8VBinaryKernels kQs8VBinaryAvx2 = {"qs8_vbinary__avx2", VAdd, VAddC, VMul, VMulC};

}  // namespace litequant
