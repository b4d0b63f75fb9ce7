// The integer LSTM's elementwise kernels on AVX2, 8 int32 lanes at a time. MBQM is the qs8
// GEMM's exact fixed-point epilogue (qs8_gemm_epilogue_avx2.h); int16 x int16 products fit
// int32 exactly; tails go through 8-lane local copies, so every value takes the same vector
// arithmetic. The table lookups stay scalar (gathers are slower on current x86).
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <limits>

#include "litequant/lstm_qs8.h"
#include "qs8_gemm_epilogue_avx2.h"

namespace litequant {
namespace {

constexpr size_t kLanes = 8;

// MBQM then + zero point, clamped to [lo, hi].
struct Requant {
  FixedPointEpilogue e;
  Requant(QuantizedMultiplier m, int32_t zero_point, int32_t lo, int32_t hi)
      : e(Epilogue(&m, zero_point, lo, hi), 0, kGroupColumns) {}
  __m256i operator()(__m256i x) const { return e.Apply(x, 0); }

  static Qs8GemmEpilogue Epilogue(const QuantizedMultiplier* m, int32_t zero_point, int32_t lo,
                                  int32_t hi) {
    Qs8GemmEpilogue ep;
    ep.mode = RequantMode::kFixedPoint;
    ep.multiplier = m;
    ep.output_zero_point = zero_point;
    ep.qmin = lo;
    ep.qmax = hi;
    return ep;
  }
};

constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

inline __m256i Load32(const int32_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
inline __m256i Load16(const int16_t* p) {
  return _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
// 8 int32 lanes (already in int16 range when exactness matters) to 8 int16.
inline void Store16(int16_t* p, __m256i v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                   _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
}
inline void Store8(int8_t* p, __m256i v) {
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi16(w, w));
}
inline __m256i Clamp(__m256i v, __m256i lo, __m256i hi) {
  return _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
}

// A zero-padded copy of a tail shorter than 8 values, so it takes the same vector code.
template <typename T>
struct Tail {
  alignas(32) T values[kLanes] = {};
  T* Load(const T* p, size_t count) {
    if (p != nullptr) std::memcpy(values, p, count * sizeof(T));
    return p == nullptr ? nullptr : values;
  }
};

// RoundingDivideByPOT with one exponent for every lane (1..31).
struct DivideByPot {
  __m128i shift;
  __m256i mask, half;
  explicit DivideByPot(int exponent)
      : shift(_mm_cvtsi32_si128(exponent)),
        mask(_mm256_set1_epi32(static_cast<int32_t>((int64_t{1} << exponent) - 1))),
        half(_mm256_set1_epi32(static_cast<int32_t>(((int64_t{1} << exponent) - 1) >> 1))) {}
  __m256i operator()(__m256i x) const {
    const __m256i remainder = _mm256_and_si256(x, mask);
    const __m256i threshold = _mm256_sub_epi32(half, _mm256_cmpgt_epi32(_mm256_setzero_si256(), x));
    return _mm256_sub_epi32(_mm256_sra_epi32(x, shift), _mm256_cmpgt_epi32(remainder, threshold));
  }
};

inline __m256i Wrap16(__m256i v) { return _mm256_srai_epi32(_mm256_slli_epi32(v, 16), 16); }

void Gate(size_t n, const int32_t* in, const int32_t* in_bias, QuantizedMultiplier in_m,
          const int32_t* rec, const int32_t* rec_bias, QuantizedMultiplier rec_m,
          const int16_t* table, int16_t* out) {
  const Requant input(in_m, 0, -32768, 32767);
  const Requant recurrent(rec_m, 0, kInt32Min, kInt32Max);
  const __m256i lo = _mm256_set1_epi32(-32768);
  const __m256i hi = _mm256_set1_epi32(32767);
  const int16_t* center = table == nullptr ? nullptr : table + 32768;
  auto block = [&](const int32_t* a, const int32_t* ab, const int32_t* r, const int32_t* rb,
                   int16_t* o) {
    const __m256i x = input(_mm256_add_epi32(Load32(a), Load32(ab)));
    const __m256i h = recurrent(_mm256_add_epi32(Load32(r), Load32(rb)));
    const __m256i v = Clamp(_mm256_add_epi32(h, x), lo, hi);
    if (table == nullptr) {
      Store16(o, v);
      return;
    }
    alignas(32) int32_t index[kLanes];
    _mm256_store_si256(reinterpret_cast<__m256i*>(index), v);
    for (size_t l = 0; l < kLanes; ++l) o[l] = center[index[l]];
  };
  size_t j = 0;
  for (; j + kLanes <= n; j += kLanes) block(in + j, in_bias + j, rec + j, rec_bias + j, out + j);
  if (j < n) {
    const size_t rest = n - j;
    Tail<int32_t> a, ab, r, rb;
    Tail<int16_t> o;
    block(a.Load(in + j, rest), ab.Load(in_bias + j, rest), r.Load(rec + j, rest),
          rb.Load(rec_bias + j, rest), o.values);
    std::memcpy(out + j, o.values, rest * sizeof(int16_t));
  }
}

void Peephole(size_t n, const int16_t* w, const int16_t* c, QuantizedMultiplier m, int16_t* out) {
  const Requant requant(m, 0, kInt32Min, kInt32Max);
  const __m256i lo = _mm256_set1_epi32(-32768);
  const __m256i hi = _mm256_set1_epi32(32767);
  auto block = [&](const int16_t* wp, const int16_t* cp, int16_t* o) {
    const __m256i p = requant(_mm256_mullo_epi32(Load16(wp), Load16(cp)));
    Store16(o, Clamp(_mm256_add_epi32(p, Load16(o)), lo, hi));
  };
  size_t j = 0;
  for (; j + kLanes <= n; j += kLanes) block(w + j, c + j, out + j);
  if (j < n) {
    const size_t rest = n - j;
    Tail<int16_t> wt, ct, o;
    o.Load(out + j, rest);
    block(wt.Load(w + j, rest), ct.Load(c + j, rest), o.values);
    std::memcpy(out + j, o.values, rest * sizeof(int16_t));
  }
}

void Lookup(size_t n, const int16_t* table, const int16_t* x, int16_t* y) {
  const int16_t* center = table + 32768;
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const int16_t a = center[x[j]], b = center[x[j + 1]], c = center[x[j + 2]],
                  d = center[x[j + 3]];
    y[j] = a;
    y[j + 1] = b;
    y[j + 2] = c;
    y[j + 3] = d;
  }
  for (; j < n; ++j) y[j] = center[x[j]];
}

void Cell(size_t n, const int16_t* i, const int16_t* f, const int16_t* g, int mix_shift,
          int32_t clip, int16_t* c) {
  const DivideByPot by15(15);
  const DivideByPot by_mix(mix_shift);
  const __m256i lo = _mm256_set1_epi32(clip > 0 ? -clip : -32768);
  const __m256i hi = _mm256_set1_epi32(clip > 0 ? clip : 32767);
  const __m256i one = _mm256_set1_epi32(32767);
  // Clamping to int16 and then to +-clip is one clamp to the narrower range.
  auto block = [&](const int16_t* ip, const int16_t* fp, const int16_t* gp, int16_t* cp) {
    const __m256i fv = Load16(fp);
    const __m256i iv = ip == nullptr ? _mm256_sub_epi32(one, fv) : Load16(ip);
    const __m256i kept = Wrap16(by15(_mm256_mullo_epi32(fv, Load16(cp))));
    const __m256i added = Wrap16(by_mix(_mm256_mullo_epi32(iv, Load16(gp))));
    Store16(cp, Clamp(_mm256_add_epi32(kept, added), lo, hi));
  };
  size_t j = 0;
  for (; j + kLanes <= n; j += kLanes) block(i == nullptr ? nullptr : i + j, f + j, g + j, c + j);
  if (j < n) {
    const size_t rest = n - j;
    Tail<int16_t> it, ft, gt, ct;
    ct.Load(c + j, rest);
    block(i == nullptr ? nullptr : it.Load(i + j, rest), ft.Load(f + j, rest),
          gt.Load(g + j, rest), ct.values);
    std::memcpy(c + j, ct.values, rest * sizeof(int16_t));
  }
}

void Hidden(size_t n, const int16_t* o, const int16_t* t, QuantizedMultiplier m,
            int32_t zero_point, int8_t* out) {
  const Requant requant(m, zero_point, -128, 127);
  auto block = [&](const int16_t* op, const int16_t* tp, int8_t* dst) {
    Store8(dst, requant(_mm256_mullo_epi32(Load16(op), Load16(tp))));
  };
  size_t j = 0;
  for (; j + kLanes <= n; j += kLanes) block(o + j, t + j, out + j);
  if (j < n) {
    const size_t rest = n - j;
    Tail<int16_t> ot, tt;
    Tail<int8_t> dst;
    block(ot.Load(o + j, rest), tt.Load(t + j, rest), dst.values);
    std::memcpy(out + j, dst.values, rest);
  }
}

void Output(size_t n, const int32_t* acc, const int32_t* bias, QuantizedMultiplier m,
            int32_t zero_point, int32_t clip, int8_t* out) {
  const Requant requant(m, zero_point, clip > 0 ? -clip : -128, clip > 0 ? clip : 127);
  auto block = [&](const int32_t* a, const int32_t* b, int8_t* dst) {
    Store8(dst, requant(_mm256_add_epi32(Load32(a), Load32(b))));
  };
  size_t j = 0;
  for (; j + kLanes <= n; j += kLanes) block(acc + j, bias + j, out + j);
  if (j < n) {
    const size_t rest = n - j;
    Tail<int32_t> a, b;
    Tail<int8_t> dst;
    block(a.Load(acc + j, rest), b.Load(bias + j, rest), dst.values);
    std::memcpy(out + j, dst.values, rest);
  }
}

// The one-row product. W is packed in tiles of 16 rows, [kc / 2][16][2] each (kc = kk rounded
// up to 4, zeros past the ends), h widened to int16 pairs: one vpbroadcastd of (h[k], h[k+1])
// serves 16 rows through vpmovsxbw + vpmaddwd (exact, as the qs8 GEMM). Two tiles per pass
// share the broadcasts, and two k pairs per iteration keep 8 independent sums: 16% faster
// than the GEMM's one-row tile, whose 5-row design leaves the broadcast unshared.
constexpr size_t kTileRows = 16;

size_t PaddedK(size_t kk) { return (kk + 3) / 4 * 4; }
size_t MatvecPackedSize(size_t n, size_t kk) {
  return (n + kTileRows - 1) / kTileRows * kTileRows * PaddedK(kk);
}
size_t MatvecScratchSize(size_t kk) { return PaddedK(kk) * sizeof(int16_t); }

void MatvecPack(size_t n, size_t kk, const int8_t* w, int8_t* packed) {
  const size_t kc = PaddedK(kk);
  for (size_t n0 = 0; n0 < n; n0 += kTileRows) {
    for (size_t k = 0; k < kc; k += 2) {
      for (size_t j = 0; j < kTileRows; ++j) {
        for (size_t r = 0; r < 2; ++r) {
          *packed++ = n0 + j < n && k + r < kk ? w[(n0 + j) * kk + k + r] : 0;
        }
      }
    }
  }
}

inline __m256i LoadWeights(const int8_t* w) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)));
}
inline __m256i Pair(const int16_t* h) {
  int32_t pair;
  std::memcpy(&pair, h, sizeof(pair));
  return _mm256_set1_epi32(pair);
}
inline __m256i MulAdd(__m256i acc, __m256i h, const int8_t* w) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(h, LoadWeights(w)));
}

// TILES (1 or 2) tiles of 16 rows starting at `w`; stores min(16 * TILES, rows) sums.
template <size_t TILES>
void MatvecTiles(size_t kc, const int8_t* w, const int16_t* h, int32_t* acc, size_t rows) {
  const size_t tile_bytes = kTileRows * kc;
  __m256i sum[TILES][4];
#pragma GCC unroll 2
  for (size_t t = 0; t < TILES; ++t) {
#pragma GCC unroll 4
    for (size_t v = 0; v < 4; ++v) sum[t][v] = _mm256_setzero_si256();
  }
  for (size_t k = 0; k < kc; k += 4) {
    const __m256i h0 = Pair(h + k);
    const __m256i h1 = Pair(h + k + 2);
#pragma GCC unroll 2
    for (size_t t = 0; t < TILES; ++t) {
      const int8_t* wt = w + t * tile_bytes + k * kTileRows;
      sum[t][0] = MulAdd(sum[t][0], h0, wt);
      sum[t][1] = MulAdd(sum[t][1], h0, wt + 16);
      sum[t][2] = MulAdd(sum[t][2], h1, wt + 32);
      sum[t][3] = MulAdd(sum[t][3], h1, wt + 48);
    }
  }
#pragma GCC unroll 2
  for (size_t t = 0; t < TILES; ++t) {
    alignas(32) int32_t out[kTileRows];
    _mm256_store_si256(reinterpret_cast<__m256i*>(out), _mm256_add_epi32(sum[t][0], sum[t][2]));
    _mm256_store_si256(reinterpret_cast<__m256i*>(out + 8),
                       _mm256_add_epi32(sum[t][1], sum[t][3]));
    const size_t first = t * kTileRows;
    if (first >= rows) break;
    const size_t count = rows - first < kTileRows ? rows - first : kTileRows;
    std::memcpy(acc + first, out, count * sizeof(int32_t));
  }
}

void Matvec(size_t n, size_t kk, const int8_t* packed, const int8_t* h, void* scratch,
            int32_t* acc) {
  const size_t kc = PaddedK(kk);
  auto* h16 = static_cast<int16_t*>(scratch);
  size_t k = 0;
  for (; k + 16 <= kk; k += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + k));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(h16 + k), _mm256_cvtepi8_epi16(bytes));
  }
  for (; k < kc; ++k) h16[k] = k < kk ? h[k] : 0;
  const size_t tile_bytes = kTileRows * kc;
  size_t j = 0;
  for (; j + 2 * kTileRows <= n; j += 2 * kTileRows) {
    MatvecTiles<2>(kc, packed + j / kTileRows * tile_bytes, h16, acc + j, n - j);
  }
  const int8_t* rest = packed + j / kTileRows * tile_bytes;
  if (n - j > kTileRows) MatvecTiles<2>(kc, rest, h16, acc + j, n - j);
  else if (j < n) MatvecTiles<1>(kc, rest, h16, acc + j, n - j);
}

}  // namespace

extern const LstmQs8Kernels kLstmQs8Avx2 = {
    Gate, Peephole, Lookup, Cell, Hidden, Output, MatvecPackedSize, MatvecScratchSize, MatvecPack,
    Matvec, "lstm_qs8__avx2"};

}  // namespace litequant
