// AVX2 LSTM elementwise kernels, 8 floats per step, tails through a padded stack copy.
//
// exp(t), t clamped to [-87.33, 88.37] (2^n stays a normal float): n = round(t / ln 2),
// r = t - n ln 2 in two FMA steps (Cody-Waite: ln2_hi has 9 significant bits, so n * ln2_hi is
// exact), exp(r) by its degree-7 Taylor polynomial (|r| <= ln2/2: truncation < 6e-9 relative),
// times 2^n built in the exponent field.
// sigmoid(x) = 1 / (1 + exp(-x)).
// tanh(x): |x| < 0.625 the odd Taylor polynomial to x^17 (remainder < 6e-8 relative), else
// sign(x) (1 - u) / (1 + u) with u = exp(-2|x|) (no cancellation: u <= 0.29).
// NaN inputs are passed through.
// qs8_gemv: per quad of x (4 values broadcast), VPSIGNB moves x's sign onto the 32 weight bytes
// of a group, VPMADDUBSW multiplies by |x| (pairs within int16: |w| <= 127, |x| <= 128), VPMADDWD
// by ones widens to int32; four groups share each broadcast.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "litequant/lstm.h"

namespace litequant {
namespace {

inline __m256 Exp(__m256 t) {
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(t, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), t);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

inline __m256 Clamp(__m256 t) {
  return _mm256_max_ps(_mm256_min_ps(t, _mm256_set1_ps(88.37f)), _mm256_set1_ps(-87.33f));
}

inline __m256 KeepNan(__m256 x, __m256 y) {
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

inline __m256 Sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = Exp(Clamp(_mm256_sub_ps(_mm256_setzero_ps(), x)));
  return KeepNan(x, _mm256_div_ps(one, _mm256_add_ps(one, e)));
}

inline __m256 Tanh8(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 a = _mm256_andnot_ps(sign, x);
  const __m256 x2 = _mm256_mul_ps(x, x);
  __m256 q = _mm256_set1_ps(0.000590027440945586f);
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-0.0014558343870513183f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(0.003592128036572481f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-0.008863235529902197f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(0.021869488536155203f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-0.05396825396825397f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(0.13333333333333333f));
  q = _mm256_fmadd_ps(q, x2, _mm256_set1_ps(-0.3333333333333333f));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(q, x2), x, x);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 u = Exp(Clamp(_mm256_mul_ps(_mm256_set1_ps(-2.0f), a)));
  const __m256 big = _mm256_div_ps(_mm256_sub_ps(one, u), _mm256_add_ps(one, u));
  const __m256 signed_big = _mm256_or_ps(big, _mm256_and_ps(sign, x));
  const __m256 y =
      _mm256_blendv_ps(signed_big, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
  return KeepNan(x, y);
}

template <__m256 (*F)(__m256)>
void Unary(size_t n, const float* x, float* y) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, F(_mm256_loadu_ps(x + i)));
  if (i < n) {
    alignas(32) float buf[8] = {};
    std::memcpy(buf, x + i, (n - i) * sizeof(float));
    _mm256_store_ps(buf, F(_mm256_load_ps(buf)));
    std::memcpy(y + i, buf, (n - i) * sizeof(float));
  }
}

void Cell(size_t n, const float* i, const float* f, const float* g, float clip, float* c) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 hi = _mm256_set1_ps(clip);
  const __m256 lo = _mm256_set1_ps(-clip);
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256 fv = _mm256_loadu_ps(f + k);
    const __m256 in = i == nullptr ? _mm256_sub_ps(one, fv) : _mm256_loadu_ps(i + k);
    __m256 v = _mm256_add_ps(_mm256_mul_ps(fv, _mm256_loadu_ps(c + k)),
                             _mm256_mul_ps(_mm256_loadu_ps(g + k), in));
    // MINPS/MAXPS return the second operand when either is NaN: v second keeps NaN.
    if (clip > 0.0f) v = _mm256_max_ps(lo, _mm256_min_ps(hi, v));
    _mm256_storeu_ps(c + k, v);
  }
  for (; k < n; ++k) {
    const float in = i == nullptr ? 1.0f - f[k] : i[k];
    const float fc = f[k] * c[k];
    const float gi = g[k] * in;
    float v = fc + gi;
    if (clip > 0.0f) v = v > clip ? clip : (v < -clip ? -clip : v);
    c[k] = v;
  }
}

inline __m256i QuadDot(const int8_t* w, __m256i xq, __m256i ax, __m256i ones) {
  const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(wv, xq)), ones);
}

inline void StoreGroup(__m256i sum, int32_t* acc, size_t valid) {
  if (valid >= 8) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc), sum);
  } else if (valid > 0) {
    alignas(32) int32_t buf[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(buf), sum);
    std::memcpy(acc, buf, valid * sizeof(int32_t));
  }
}

// Four groups of 8 outputs (k4 * 32 bytes apart) share each broadcast quad of x; the sums stay
// in registers (named, so the compiler does not spill an array of them).
void Gemv4Groups(size_t k4, const int8_t* w, const int8_t* x, int32_t* acc, size_t n_out) {
  const __m256i ones = _mm256_set1_epi16(1);
  const size_t stride = k4 * 32;
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t q = 0; q < k4; ++q) {
    int32_t quad;
    std::memcpy(&quad, x + 4 * q, sizeof(quad));
    const __m256i xq = _mm256_set1_epi32(quad);
    const __m256i ax = _mm256_abs_epi8(xq);
    const int8_t* wq = w + q * 32;
    s0 = _mm256_add_epi32(s0, QuadDot(wq, xq, ax, ones));
    s1 = _mm256_add_epi32(s1, QuadDot(wq + stride, xq, ax, ones));
    s2 = _mm256_add_epi32(s2, QuadDot(wq + 2 * stride, xq, ax, ones));
    s3 = _mm256_add_epi32(s3, QuadDot(wq + 3 * stride, xq, ax, ones));
  }
  StoreGroup(s0, acc, n_out);
  StoreGroup(s1, acc + 8, n_out > 8 ? n_out - 8 : 0);
  StoreGroup(s2, acc + 16, n_out > 16 ? n_out - 16 : 0);
  StoreGroup(s3, acc + 24, n_out > 24 ? n_out - 24 : 0);
}

void Gemv1Group(size_t k4, const int8_t* w, const int8_t* x, int32_t* acc, size_t n_out) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i s0 = _mm256_setzero_si256(), s1 = s0;
  size_t q = 0;
  for (; q + 2 <= k4; q += 2) {
    int32_t quads[2];
    std::memcpy(quads, x + 4 * q, sizeof(quads));
    const __m256i x0 = _mm256_set1_epi32(quads[0]);
    const __m256i x1 = _mm256_set1_epi32(quads[1]);
    s0 = _mm256_add_epi32(s0, QuadDot(w + q * 32, x0, _mm256_abs_epi8(x0), ones));
    s1 = _mm256_add_epi32(s1, QuadDot(w + q * 32 + 32, x1, _mm256_abs_epi8(x1), ones));
  }
  if (q < k4) {
    int32_t quad;
    std::memcpy(&quad, x + 4 * q, sizeof(quad));
    const __m256i xq = _mm256_set1_epi32(quad);
    s0 = _mm256_add_epi32(s0, QuadDot(w + q * 32, xq, _mm256_abs_epi8(xq), ones));
  }
  StoreGroup(_mm256_add_epi32(s0, s1), acc, n_out);
}

void Qs8Gemv(size_t n, size_t k, const int8_t* packed, const int8_t* x, int32_t* acc) {
  const size_t k4 = (k + 3) / 4;
  const size_t groups = (n + 7) / 8;
  size_t g = 0;
  for (; g + 4 <= groups; g += 4) Gemv4Groups(k4, packed + g * k4 * 32, x, acc + 8 * g, n - 8 * g);
  for (; g < groups; ++g) Gemv1Group(k4, packed + g * k4 * 32, x, acc + 8 * g, n - 8 * g);
}

}  // namespace

extern const LstmF32Kernels kLstmF32Avx2 = {Unary<Sigmoid8>, Unary<Tanh8>, Cell, Qs8Gemv,
                                            "lstm_f32__avx2"};

}  // namespace litequant
