// AVX2 depthwise kernels: 16 channels per step, taps taken in pairs so one vpmaddwd adds two
// exact int16 products per channel into int32 (int8 x int8 fits int16; no vpmaddubsw, whose
// int16 saturation would break exactness).
//
// Packed layout, per group of 16 channels (all groups the same size, a multiple of 64 bytes):
//   bias[16] int32, scale-or-multiplier[16], left shift[16], right shift[16], then per tap pair
//   64 bytes: int16 weights (tap 2p, tap 2p+1) interleaved per channel.
// Every per-channel vector is in "unpack order": the low vector holds channels 0-3 and 8-11,
// the high one 4-7 and 12-15 (what vpunpck{l,h}wd produce within 128-bit lanes); vpackssdw of
// the two then restores the natural order for free.
//
// 3x3 kernels (taps == 9, column-major: t = kx * 3 + ky) also get, after all groups, 384 bytes
// per group for the column-sliding kernel: for kx = 0..2, the int16 pairs (ky 0, ky 1) and
// (ky 2, 0), low and high vectors. With stride 1 (input_advance == 3) each input column is
// widened once and added into the three outputs that read it, instead of once per output.
#include <immintrin.h>

#include <cstring>

#include "litequant/qs8_dwconv.h"

namespace litequant {
namespace {

constexpr size_t kTile = 16;
constexpr size_t kHeaderBytes = 256;
// Position j of [low vector, high vector] holds channel kUnpackOrder[j] of the group.
constexpr size_t kUnpackOrder[kTile] = {0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15};

inline size_t TapPairs(size_t taps) { return (taps + 1) / 2; }
inline size_t GroupBytes(size_t taps) { return kHeaderBytes + TapPairs(taps) * 64; }

constexpr size_t kColumnBytes = 384;  // per group, 3x3 only

size_t PackedSize(size_t channels, size_t taps) {
  const size_t groups = (channels + kTile - 1) / kTile;
  return groups * GroupBytes(taps) + (taps == 9 ? groups * kColumnBytes : 0);
}

void Pack(const Qs8DwconvPackInput& in, void* packed) {
  const size_t groups = (in.channels + kTile - 1) / kTile;
  const size_t pairs = TapPairs(in.taps);
  auto* base = static_cast<uint8_t*>(packed);
  std::memset(base, 0, PackedSize(in.channels, in.taps));
  for (size_t g = 0; g < groups; ++g) {
    uint8_t* p = base + g * GroupBytes(in.taps);
    auto* header = reinterpret_cast<int32_t*>(p);
    auto* w = reinterpret_cast<int16_t*>(p + kHeaderBytes);
    for (size_t j = 0; j < kTile; ++j) {
      const size_t c = g * kTile + kUnpackOrder[j];
      if (c >= in.channels) continue;  // zero weights and parameters
      header[j] = in.bias[c];
      if (in.mode == RequantMode::kFp32) {
        std::memcpy(&header[16 + j], &in.scale[c], 4);
      } else {
        header[16 + j] = in.multiplier[c];
        header[32 + j] = in.shift[c] > 0 ? in.shift[c] : 0;
        header[48 + j] = in.shift[c] > 0 ? 0 : -in.shift[c];
      }
      for (size_t q = 0; q < pairs; ++q) {
        for (size_t k = 0; k < 2; ++k) {
          const size_t t = 2 * q + k;
          if (t < in.taps) w[q * 32 + j * 2 + k] = in.weights[t * in.channels + c];
        }
      }
      if (in.taps == 9) {
        auto* cw = reinterpret_cast<int16_t*>(base + groups * GroupBytes(9) + g * kColumnBytes);
        for (size_t kx = 0; kx < 3; ++kx) {
          const int8_t* wk = in.weights + kx * 3 * in.channels + c;  // taps kx*3 + ky
          cw[kx * 64 + j * 2] = wk[0];                     // (ky 0, ky 1)
          cw[kx * 64 + j * 2 + 1] = wk[in.channels];
          cw[kx * 64 + 32 + j * 2] = wk[2 * in.channels];  // (ky 2, 0)
        }
      }
    }
  }
}

struct Epilogue {
  explicit Epilogue(const Qs8DwconvOutputParams& p)
      : fixed_point(p.mode == RequantMode::kFixedPoint),
        lo(_mm256_set1_ps(static_cast<float>(p.qmin - p.output_zero_point))),
        hi(_mm256_set1_ps(static_cast<float>(p.qmax - p.output_zero_point))),
        zero_point(_mm256_set1_epi32(p.output_zero_point)),
        qmin(_mm256_set1_epi32(p.qmin)),
        qmax(_mm256_set1_epi32(p.qmax)) {}
  bool fixed_point;
  __m256 lo, hi;
  __m256i zero_point, qmin, qmax;
};

// requantization.h's RequantizeFp32 on 8 lanes: same float ops, same order; vcvtps2dq rounds
// to nearest even under the default MXCSR, as std::nearbyint does.
inline __m256i RequantizeFp32x8(__m256i acc, __m256 scale, const Epilogue& e) {
  __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale);
  y = _mm256_min_ps(_mm256_max_ps(y, e.lo), e.hi);
  return _mm256_add_epi32(_mm256_cvtps_epi32(y), e.zero_point);
}

// requantization.h's RequantizeFixedPoint on 8 lanes. The rounding doubling high multiply is
// done on magnitudes: with m >= 0, (|x| * m + 2^30 - [x < 0]) >> 31, negated back for x < 0,
// equals gemmlowp's (x * m + nudge) / 2^31 truncated toward zero. The multiplier is never
// INT32_MIN, so the saturating case cannot occur.
inline __m256i RequantizeFixedPointx8(__m256i acc, __m256i multiplier, __m256i left,
                                      __m256i right, const Epilogue& e) {
  const __m256i x = _mm256_sllv_epi32(acc, left);
  const __m256i negative = _mm256_cmpgt_epi32(_mm256_setzero_si256(), x);
  const __m256i magnitude = _mm256_abs_epi32(x);  // INT32_MIN stays 2^31 as unsigned
  const __m256i nudge = _mm256_add_epi32(_mm256_set1_epi32(1 << 30), negative);
  const __m256i low32 = _mm256_set1_epi64x(0xFFFFFFFF);
  const __m256i even = _mm256_srli_epi64(
      _mm256_add_epi64(_mm256_mul_epu32(magnitude, multiplier), _mm256_and_si256(nudge, low32)),
      31);
  const __m256i odd = _mm256_srli_epi64(
      _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(magnitude, 32),
                                        _mm256_srli_epi64(multiplier, 32)),
                       _mm256_srli_epi64(nudge, 32)),
      31);
  __m256i y = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  y = _mm256_sign_epi32(y, x);  // x == 0 gives y == 0 either way
  // Rounding divide by 2^right, halves away from zero.
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), right),
                                        _mm256_set1_epi32(1));
  const __m256i remainder = _mm256_and_si256(y, mask);
  const __m256i threshold = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1),
                                             _mm256_cmpgt_epi32(_mm256_setzero_si256(), y));
  y = _mm256_sub_epi32(_mm256_srav_epi32(y, right), _mm256_cmpgt_epi32(remainder, threshold));
  y = _mm256_add_epi32(y, e.zero_point);
  return _mm256_min_epi32(_mm256_max_epi32(y, e.qmin), e.qmax);
}

// 16 requantized channels in natural order; `header` is the group's packed header.
inline __m128i Requantize16(__m256i acc_lo, __m256i acc_hi, const uint8_t* header,
                            const Epilogue& e) {
  const auto* h = reinterpret_cast<const __m256i*>(header);
  __m256i y_lo, y_hi;
  if (e.fixed_point) {
    y_lo = RequantizeFixedPointx8(acc_lo, _mm256_load_si256(h + 2), _mm256_load_si256(h + 4),
                                  _mm256_load_si256(h + 6), e);
    y_hi = RequantizeFixedPointx8(acc_hi, _mm256_load_si256(h + 3), _mm256_load_si256(h + 5),
                                  _mm256_load_si256(h + 7), e);
  } else {
    y_lo = RequantizeFp32x8(acc_lo, _mm256_castsi256_ps(_mm256_load_si256(h + 2)), e);
    y_hi = RequantizeFp32x8(acc_hi, _mm256_castsi256_ps(_mm256_load_si256(h + 3)), e);
  }
  const __m256i packed16 = _mm256_packs_epi32(y_lo, y_hi);  // natural order, values fit int8
  return _mm_packs_epi16(_mm256_castsi256_si128(packed16),
                         _mm256_extracti128_si256(packed16, 1));
}

inline __m256i Load16(const int8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// The first n (< 8) bytes at p as the low bytes of an integer. Fixed-size pieces compile to
// plain loads; n is the same for every call of a kernel, so the branches predict perfectly.
inline uint64_t LoadBytes(const int8_t* p, size_t n) {
  uint64_t v = 0;
  unsigned shift = 0;
  if (n & 4) {
    uint32_t x;
    std::memcpy(&x, p, 4);
    v = x;
    p += 4;
    shift = 32;
  }
  if (n & 2) {
    uint16_t x;
    std::memcpy(&x, p, 2);
    v |= uint64_t{x} << shift;
    p += 2;
    shift += 16;
  }
  if (n & 1) v |= uint64_t{static_cast<uint8_t>(*p)} << shift;
  return v;
}

inline void StoreBytes(int8_t* p, uint64_t v, size_t n) {
  if (n & 4) {
    const auto x = static_cast<uint32_t>(v);
    std::memcpy(p, &x, 4);
    p += 4;
    v >>= 32;
  }
  if (n & 2) {
    const auto x = static_cast<uint16_t>(v);
    std::memcpy(p, &x, 2);
    p += 2;
    v >>= 16;
  }
  if (n & 1) *p = static_cast<int8_t>(v);
}

// The first `n` (< 16) bytes at p, zero-extended to 16 lanes, reading nothing past p + n.
// (A copy through a stack buffer would stall on store forwarding at every tap: the channel
// tail, and all of a layer with fewer than 16 channels, ran 20x slower than full groups.)
inline __m256i LoadPartial16(const int8_t* p, size_t n) {
  __m128i v;
  if (n >= 8) {
    v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    if (n > 8) v = _mm_insert_epi64(v, static_cast<int64_t>(LoadBytes(p + 8, n - 8)), 1);
  } else {
    v = _mm_cvtsi64_si128(static_cast<int64_t>(LoadBytes(p, n)));
  }
  return _mm256_cvtepi8_epi16(v);
}

// The first `n` (< 16) bytes of v to p, writing nothing past p + n.
inline void StorePartial16(int8_t* p, __m128i v, size_t n) {
  if (n >= 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), v);
    StoreBytes(p + 8, static_cast<uint64_t>(_mm_extract_epi64(v, 1)), n - 8);
  } else {
    StoreBytes(p, static_cast<uint64_t>(_mm_cvtsi128_si64(v)), n);
  }
}

// Accumulates all taps of one group of 16 channels starting at channel c. `kPartial` loads
// only `n` channels per tap (the last group).
template <size_t kTaps, bool kPartial>
inline void AccumulateGroup(size_t taps, const int8_t* const* in, size_t c, size_t n,
                            const __m256i* w, __m256i& acc_lo, __m256i& acc_hi) {
  const auto load = [&](size_t t) {
    return kPartial ? LoadPartial16(in[t] + c, n) : Load16(in[t] + c);
  };
  size_t t = 0;
  for (; t + 2 <= (kTaps ? kTaps : taps); t += 2, w += 2) {
    const __m256i a0 = load(t);
    const __m256i a1 = load(t + 1);
    acc_lo = _mm256_add_epi32(acc_lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a0, a1),
                                                        _mm256_load_si256(w)));
    acc_hi = _mm256_add_epi32(acc_hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a0, a1),
                                                        _mm256_load_si256(w + 1)));
  }
  if (t < (kTaps ? kTaps : taps)) {  // odd tap count: the pair's second weight is zero
    const __m256i a0 = load(t);
    const __m256i zero = _mm256_setzero_si256();
    acc_lo = _mm256_add_epi32(acc_lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a0, zero),
                                                        _mm256_load_si256(w)));
    acc_hi = _mm256_add_epi32(acc_hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a0, zero),
                                                        _mm256_load_si256(w + 1)));
  }
}

// kTaps == 0: the tap count comes from the argument; otherwise it is a constant and the tap
// loop unrolls (the 3x3 kernel).
template <size_t kTaps>
void DwconvAvx2(size_t pixels, size_t channels, size_t taps_arg, const int8_t* const* input,
                size_t input_advance, const void* packed, int8_t* output, size_t output_stride,
                const Qs8DwconvOutputParams& params) {
  const size_t taps = kTaps ? kTaps : taps_arg;
  const size_t group_bytes = GroupBytes(taps);
  const Epilogue e(params);
  for (size_t px = 0; px < pixels; ++px) {
    const int8_t* const* in = input + px * input_advance;
    int8_t* out = output + px * output_stride;
    const auto* g = static_cast<const uint8_t*>(packed);
    size_t c = 0;
    for (; c + kTile <= channels; c += kTile, g += group_bytes) {
      const auto* h = reinterpret_cast<const __m256i*>(g);
      __m256i acc_lo = _mm256_load_si256(h);
      __m256i acc_hi = _mm256_load_si256(h + 1);
      AccumulateGroup<kTaps, false>(taps, in, c, kTile,
                                    reinterpret_cast<const __m256i*>(g + kHeaderBytes), acc_lo,
                                    acc_hi);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c), Requantize16(acc_lo, acc_hi, g, e));
    }
    if (c < channels) {
      const size_t n = channels - c;
      const auto* h = reinterpret_cast<const __m256i*>(g);
      __m256i acc_lo = _mm256_load_si256(h);
      __m256i acc_hi = _mm256_load_si256(h + 1);
      AccumulateGroup<kTaps, true>(taps, in, c, n,
                                   reinterpret_cast<const __m256i*>(g + kHeaderBytes), acc_lo,
                                   acc_hi);
      StorePartial16(out + c, Requantize16(acc_lo, acc_hi, g, e), n);
    }
  }
}

void qs8_dwconv_16c__avx2(size_t pixels, size_t channels, size_t taps,
                          const int8_t* const* input, size_t input_advance, const void* packed,
                          int8_t* output, size_t output_stride,
                          const Qs8DwconvOutputParams& params) {
  DwconvAvx2<0>(pixels, channels, taps, input, input_advance, packed, output, output_stride,
                params);
}

// 3x3, stride 1: pixel p's taps are columns p..p+2 of the indirection (3 pointers each), so
// column j is widened once and feeds output j (kx 0), j - 1 (kx 1) and j - 2 (kx 2, after which
// that output is complete). Accumulators of outputs past the end are computed and dropped.
// One group of 16 channels at c; `kPartial` loads and stores only its first n channels.
template <bool kPartial>
void Dwconv3x3SlidingGroupAvx2(size_t pixels, const int8_t* const* input, size_t c, size_t n,
                               const uint8_t* header, const __m256i* w, int8_t* output,
                               size_t output_stride, const Epilogue& e) {
  const auto load = [&](const int8_t* p) { return kPartial ? LoadPartial16(p, n) : Load16(p); };
  const __m256i zero = _mm256_setzero_si256();
  const __m256i bias_lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(header));
  const __m256i bias_hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(header) + 1);
  // a: the output two columns back (has kx 0 and 1), b: one column back (has kx 0).
  __m256i a_lo = bias_lo, a_hi = bias_hi, b_lo = bias_lo, b_hi = bias_hi;
  const size_t columns = pixels + 2;
  for (size_t j = 0; j < columns; ++j) {
    const int8_t* const* col = input + 3 * j;
    const __m256i r0 = load(col[0] + c);
    const __m256i r1 = load(col[1] + c);
    const __m256i r2 = load(col[2] + c);
    const __m256i p01_lo = _mm256_unpacklo_epi16(r0, r1);
    const __m256i p01_hi = _mm256_unpackhi_epi16(r0, r1);
    const __m256i p2_lo = _mm256_unpacklo_epi16(r2, zero);
    const __m256i p2_hi = _mm256_unpackhi_epi16(r2, zero);
    // acc + this column's three rows times kx's weights (kw: pairs low, high; rows 2 low, high).
    const auto add = [&](__m256i acc, const __m256i* kw, bool high) {
      const __m256i s01 =
          _mm256_madd_epi16(high ? p01_hi : p01_lo, _mm256_load_si256(kw + (high ? 1 : 0)));
      const __m256i s2 =
          _mm256_madd_epi16(high ? p2_hi : p2_lo, _mm256_load_si256(kw + (high ? 3 : 2)));
      return _mm256_add_epi32(acc, _mm256_add_epi32(s01, s2));
    };
    if (j >= 2) {  // output j - 2 gets kx 2 and is complete
      const __m256i done_lo = add(a_lo, w + 8, false);
      const __m256i done_hi = add(a_hi, w + 8, true);
      int8_t* out = output + (j - 2) * output_stride + c;
      const __m128i y = Requantize16(done_lo, done_hi, header, e);
      if (kPartial) StorePartial16(out, y, n);
      else _mm_storeu_si128(reinterpret_cast<__m128i*>(out), y);
    }
    a_lo = add(b_lo, w + 4, false);  // output j - 1 gets kx 1
    a_hi = add(b_hi, w + 4, true);
    b_lo = add(bias_lo, w, false);  // output j starts with kx 0
    b_hi = add(bias_hi, w, true);
  }
}

void qs8_dwconv_9p16c__avx2(size_t pixels, size_t channels, size_t taps,
                            const int8_t* const* input, size_t input_advance, const void* packed,
                            int8_t* output, size_t output_stride,
                            const Qs8DwconvOutputParams& params) {
  if (input_advance != 3) {
    DwconvAvx2<9>(pixels, channels, taps, input, input_advance, packed, output, output_stride,
                  params);
    return;
  }
  const Epilogue e(params);
  const auto* base = static_cast<const uint8_t*>(packed);
  const size_t groups = (channels + kTile - 1) / kTile;
  for (size_t gi = 0; gi < groups; ++gi) {
    const size_t c = gi * kTile;
    const uint8_t* header = base + gi * GroupBytes(9);
    const auto* w =
        reinterpret_cast<const __m256i*>(base + groups * GroupBytes(9) + gi * kColumnBytes);
    if (channels - c >= kTile) {
      Dwconv3x3SlidingGroupAvx2<false>(pixels, input, c, kTile, header, w, output, output_stride,
                                       e);
    } else {
      Dwconv3x3SlidingGroupAvx2<true>(pixels, input, c, channels - c, header, w, output,
                                      output_stride, e);
    }
  }
}

}  // namespace

extern const Qs8DwconvKernels kQs8DwconvAvx2 = {kTile, PackedSize, Pack, qs8_dwconv_16c__avx2,
                                                qs8_dwconv_9p16c__avx2, "qs8_dwconv_16c__avx2",
                                                "qs8_dwconv_9p16c__avx2"};

}  // namespace litequant
