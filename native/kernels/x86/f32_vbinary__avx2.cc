// AVX2 f32 ADD/SUB/MUL with the activation clamp: 16 floats per step (two ymm), 8 then scalar
// tails. The clamp is vmaxps(min, v) then vminps(max, v): each returns its second operand v
// unless the comparison holds, exactly the reference's v < min ? min : (v > max ? max : v)
// (NaN passes, -0.0 stays).
#include <immintrin.h>

#include "litequant/vbinary.h"

namespace litequant {
namespace {

struct Add {
  static __m256 Apply(__m256 x, __m256 y) { return _mm256_add_ps(x, y); }
  static float Apply(float x, float y) { return x + y; }
};
struct Sub {
  static __m256 Apply(__m256 x, __m256 y) { return _mm256_sub_ps(x, y); }
  static float Apply(float x, float y) { return x - y; }
};
struct RSub {  // the constant on the left
  static __m256 Apply(__m256 x, __m256 y) { return _mm256_sub_ps(y, x); }
  static float Apply(float x, float y) { return y - x; }
};
struct Mul {
  static __m256 Apply(__m256 x, __m256 y) { return _mm256_mul_ps(x, y); }
  static float Apply(float x, float y) { return x * y; }
};

inline __m256 Clamp(__m256 v, __m256 lo, __m256 hi) {
  return _mm256_min_ps(hi, _mm256_max_ps(lo, v));
}

template <typename Op>
void VV(size_t n, const float* a, const float* b, float* out, const F32MinMaxParams& p) {
  const __m256 lo = _mm256_set1_ps(p.min);
  const __m256 hi = _mm256_set1_ps(p.max);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 v0 = Op::Apply(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    const __m256 v1 = Op::Apply(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    _mm256_storeu_ps(out + i, Clamp(v0, lo, hi));
    _mm256_storeu_ps(out + i + 8, Clamp(v1, lo, hi));
  }
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i,
                     Clamp(Op::Apply(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)), lo, hi));
  }
  for (; i < n; ++i) out[i] = F32ClampOne(Op::Apply(a[i], b[i]), p);
}

template <typename Op>
void VC(size_t n, const float* a, float c, float* out, const F32MinMaxParams& p) {
  const __m256 lo = _mm256_set1_ps(p.min);
  const __m256 hi = _mm256_set1_ps(p.max);
  const __m256 vc = _mm256_set1_ps(c);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 v0 = Op::Apply(_mm256_loadu_ps(a + i), vc);
    const __m256 v1 = Op::Apply(_mm256_loadu_ps(a + i + 8), vc);
    _mm256_storeu_ps(out + i, Clamp(v0, lo, hi));
    _mm256_storeu_ps(out + i + 8, Clamp(v1, lo, hi));
  }
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, Clamp(Op::Apply(_mm256_loadu_ps(a + i), vc), lo, hi));
  }
  for (; i < n; ++i) out[i] = F32ClampOne(Op::Apply(a[i], c), p);
}

}  // namespace

extern const F32VBinaryKernels kF32VBinaryAvx2 = {
    "f32_vbinary__avx2", VV<Add>, VV<Sub>, VV<Mul>, VC<Add>, VC<Sub>, VC<RSub>, VC<Mul>};

}  // namespace litequant
