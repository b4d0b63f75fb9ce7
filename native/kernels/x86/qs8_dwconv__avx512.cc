// AVX-512 (F/BW/VL) depthwise kernels: the AVX2 kernels' scheme (qs8_dwconv__avx2.cc) on
// 512-bit registers, 32 channels per step; the channel tail uses masked loads and stores.
//
// Packed layout, per group of 32 channels: bias[32] int32, scale-or-multiplier[32], left
// shift[32], right shift[32], then per tap pair 128 bytes of int16 weights (tap 2p, tap 2p+1)
// interleaved per channel. Per-channel vectors are in unpack order: within each 128-bit lane
// k, the low vector holds channels 8k..8k+3 and the high one 8k+4..8k+7.
#include <immintrin.h>

#include <cstring>

#include "litequant/qs8_dwconv.h"

namespace litequant {
namespace {

constexpr size_t kTile = 32;
constexpr size_t kHeaderBytes = 512;

inline size_t UnpackOrder(size_t j) {
  const size_t half = j / 16, i = j % 16;
  return 8 * (i / 4) + 4 * half + i % 4;
}

inline size_t TapPairs(size_t taps) { return (taps + 1) / 2; }
inline size_t GroupBytes(size_t taps) { return kHeaderBytes + TapPairs(taps) * 128; }

size_t PackedSize(size_t channels, size_t taps) {
  return (channels + kTile - 1) / kTile * GroupBytes(taps);
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
      const size_t c = g * kTile + UnpackOrder(j);
      if (c >= in.channels) continue;
      header[j] = in.bias[c];
      if (in.mode == RequantMode::kFp32) {
        std::memcpy(&header[32 + j], &in.scale[c], 4);
      } else {
        header[32 + j] = in.multiplier[c];
        header[64 + j] = in.shift[c] > 0 ? in.shift[c] : 0;
        header[96 + j] = in.shift[c] > 0 ? 0 : -in.shift[c];
      }
      for (size_t q = 0; q < pairs; ++q) {
        for (size_t k = 0; k < 2; ++k) {
          const size_t t = 2 * q + k;
          if (t < in.taps) w[q * 64 + j * 2 + k] = in.weights[t * in.channels + c];
        }
      }
    }
  }
}

struct Epilogue {
  explicit Epilogue(const Qs8DwconvOutputParams& p)
      : fixed_point(p.mode == RequantMode::kFixedPoint),
        lo(_mm512_set1_ps(static_cast<float>(p.qmin - p.output_zero_point))),
        hi(_mm512_set1_ps(static_cast<float>(p.qmax - p.output_zero_point))),
        zero_point(_mm512_set1_epi32(p.output_zero_point)),
        qmin(_mm512_set1_epi32(p.qmin)),
        qmax(_mm512_set1_epi32(p.qmax)) {}
  bool fixed_point;
  __m512 lo, hi;
  __m512i zero_point, qmin, qmax;
};

inline __m512i RequantizeFp32x16(__m512i acc, __m512 scale, const Epilogue& e) {
  __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
  y = _mm512_min_ps(_mm512_max_ps(y, e.lo), e.hi);
  return _mm512_add_epi32(_mm512_cvtps_epi32(y), e.zero_point);  // nearest even (MXCSR)
}

// See RequantizeFixedPointx8 in qs8_dwconv__avx2.cc for why this equals the scalar rule.
inline __m512i RequantizeFixedPointx16(__m512i acc, __m512i multiplier, __m512i left,
                                       __m512i right, const Epilogue& e) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i x = _mm512_sllv_epi32(acc, left);
  const __mmask16 negative = _mm512_cmplt_epi32_mask(x, zero);
  const __m512i magnitude = _mm512_abs_epi32(x);
  const __m512i half = _mm512_set1_epi32(1 << 30);
  const __m512i nudge = _mm512_mask_sub_epi32(half, negative, half, one);
  const __m512i low32 = _mm512_set1_epi64(0xFFFFFFFF);
  const __m512i even = _mm512_srli_epi64(
      _mm512_add_epi64(_mm512_mul_epu32(magnitude, multiplier), _mm512_and_si512(nudge, low32)),
      31);
  const __m512i odd = _mm512_srli_epi64(
      _mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(magnitude, 32),
                                        _mm512_srli_epi64(multiplier, 32)),
                       _mm512_srli_epi64(nudge, 32)),
      31);
  __m512i y = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  y = _mm512_mask_sub_epi32(y, negative, zero, y);
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
  const __m512i remainder = _mm512_and_si512(y, mask);
  const __m512i half_mask = _mm512_srli_epi32(mask, 1);
  const __m512i threshold =
      _mm512_mask_add_epi32(half_mask, _mm512_cmplt_epi32_mask(y, zero), half_mask, one);
  const __m512i shifted = _mm512_srav_epi32(y, right);
  y = _mm512_mask_add_epi32(shifted, _mm512_cmpgt_epi32_mask(remainder, threshold), shifted, one);
  y = _mm512_add_epi32(y, e.zero_point);
  return _mm512_min_epi32(_mm512_max_epi32(y, e.qmin), e.qmax);
}

inline __m256i Requantize32(__m512i acc_lo, __m512i acc_hi, const uint8_t* header,
                            const Epilogue& e) {
  const auto* h = reinterpret_cast<const __m512i*>(header);
  __m512i y_lo, y_hi;
  if (e.fixed_point) {
    y_lo = RequantizeFixedPointx16(acc_lo, _mm512_load_si512(h + 2), _mm512_load_si512(h + 4),
                                   _mm512_load_si512(h + 6), e);
    y_hi = RequantizeFixedPointx16(acc_hi, _mm512_load_si512(h + 3), _mm512_load_si512(h + 5),
                                   _mm512_load_si512(h + 7), e);
  } else {
    y_lo = RequantizeFp32x16(acc_lo, _mm512_castsi512_ps(_mm512_load_si512(h + 2)), e);
    y_hi = RequantizeFp32x16(acc_hi, _mm512_castsi512_ps(_mm512_load_si512(h + 3)), e);
  }
  return _mm512_cvtsepi16_epi8(_mm512_packs_epi32(y_lo, y_hi));  // natural order
}

template <size_t kTaps>
inline void AccumulateGroup(size_t taps, const int8_t* const* in, size_t c, __mmask32 lanes,
                            const __m512i* w, __m512i& acc_lo, __m512i& acc_hi) {
  const auto load = [&](size_t t) {
    return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(lanes, in[t] + c));
  };
  size_t t = 0;
  for (; t + 2 <= (kTaps ? kTaps : taps); t += 2, w += 2) {
    const __m512i a0 = load(t);
    const __m512i a1 = load(t + 1);
    acc_lo = _mm512_add_epi32(acc_lo, _mm512_madd_epi16(_mm512_unpacklo_epi16(a0, a1),
                                                        _mm512_load_si512(w)));
    acc_hi = _mm512_add_epi32(acc_hi, _mm512_madd_epi16(_mm512_unpackhi_epi16(a0, a1),
                                                        _mm512_load_si512(w + 1)));
  }
  if (t < (kTaps ? kTaps : taps)) {
    const __m512i a0 = load(t);
    const __m512i zero = _mm512_setzero_si512();
    acc_lo = _mm512_add_epi32(acc_lo, _mm512_madd_epi16(_mm512_unpacklo_epi16(a0, zero),
                                                        _mm512_load_si512(w)));
    acc_hi = _mm512_add_epi32(acc_hi, _mm512_madd_epi16(_mm512_unpackhi_epi16(a0, zero),
                                                        _mm512_load_si512(w + 1)));
  }
}

template <size_t kTaps>
void DwconvAvx512(size_t pixels, size_t channels, size_t taps_arg, const int8_t* const* input,
                  size_t input_advance, const void* packed, int8_t* output, size_t output_stride,
                  const Qs8DwconvOutputParams& params) {
  const size_t taps = kTaps ? kTaps : taps_arg;
  const size_t group_bytes = GroupBytes(taps);
  const Epilogue e(params);
  for (size_t px = 0; px < pixels; ++px) {
    const int8_t* const* in = input + px * input_advance;
    int8_t* out = output + px * output_stride;
    const auto* g = static_cast<const uint8_t*>(packed);
    for (size_t c = 0; c < channels; c += kTile, g += group_bytes) {
      const size_t n = channels - c < kTile ? channels - c : kTile;
      const __mmask32 lanes = n == kTile ? ~__mmask32{0} : (__mmask32{1} << n) - 1;
      const auto* h = reinterpret_cast<const __m512i*>(g);
      __m512i acc_lo = _mm512_load_si512(h);
      __m512i acc_hi = _mm512_load_si512(h + 1);
      AccumulateGroup<kTaps>(taps, in, c, lanes,
                             reinterpret_cast<const __m512i*>(g + kHeaderBytes), acc_lo, acc_hi);
      _mm256_mask_storeu_epi8(out + c, lanes, Requantize32(acc_lo, acc_hi, g, e));
    }
  }
}

void qs8_dwconv_32c__avx512(size_t pixels, size_t channels, size_t taps,
                            const int8_t* const* input, size_t input_advance, const void* packed,
                            int8_t* output, size_t output_stride,
                            const Qs8DwconvOutputParams& params) {
  DwconvAvx512<0>(pixels, channels, taps, input, input_advance, packed, output, output_stride,
                  params);
}

void qs8_dwconv_9p32c__avx512(size_t pixels, size_t channels, size_t taps,
                              const int8_t* const* input, size_t input_advance, const void* packed,
                              int8_t* output, size_t output_stride,
                              const Qs8DwconvOutputParams& params) {
  DwconvAvx512<9>(pixels, channels, taps, input, input_advance, packed, output, output_stride,
                  params);
}

}  // namespace

extern const Qs8DwconvKernels kQs8DwconvAvx512 = {kTile, PackedSize, Pack, qs8_dwconv_32c__avx512,
                                                  qs8_dwconv_9p32c__avx512,
                                                  "qs8_dwconv_32c__avx512",
                                                  "qs8_dwconv_9p32c__avx512"};

}  // namespace litequant
