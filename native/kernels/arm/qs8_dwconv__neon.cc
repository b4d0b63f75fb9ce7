// NEON depthwise kernels: 16 channels per step in natural order. Each tap is one widening
// multiply (smull/smull2: int8 x int8 is exact in int16) added into four int32 accumulators
// (saddw/saddw2). Taps are not paired in int16 (smlal) because two products of -128 * -128
// would overflow it.
//
// Packed layout, per group of 16 channels (a multiple of 64 bytes): bias[16] int32,
// scale-or-multiplier[16], left shift[16], -right shift[16], then the weights [taps][16] int8.
#include <arm_neon.h>

#include <cstring>

#include "litequant/qs8_dwconv.h"

namespace litequant {
namespace {

constexpr size_t kTile = 16;
constexpr size_t kHeaderBytes = 256;

inline size_t GroupBytes(size_t taps) { return kHeaderBytes + (taps * kTile + 63) / 64 * 64; }

size_t PackedSize(size_t channels, size_t taps) {
  return (channels + kTile - 1) / kTile * GroupBytes(taps);
}

void Pack(const Qs8DwconvPackInput& in, void* packed) {
  const size_t groups = (in.channels + kTile - 1) / kTile;
  auto* base = static_cast<uint8_t*>(packed);
  std::memset(base, 0, PackedSize(in.channels, in.taps));
  for (size_t g = 0; g < groups; ++g) {
    uint8_t* p = base + g * GroupBytes(in.taps);
    auto* header = reinterpret_cast<int32_t*>(p);
    auto* w = reinterpret_cast<int8_t*>(p + kHeaderBytes);
    for (size_t j = 0; j < kTile; ++j) {
      const size_t c = g * kTile + j;
      if (c >= in.channels) continue;
      header[j] = in.bias[c];
      if (in.mode == RequantMode::kFp32) {
        std::memcpy(&header[16 + j], &in.scale[c], 4);
      } else {
        header[16 + j] = in.multiplier[c];
        header[32 + j] = in.shift[c] > 0 ? in.shift[c] : 0;
        header[48 + j] = in.shift[c] > 0 ? 0 : in.shift[c];  // negative: srshl shifts right
      }
      for (size_t t = 0; t < in.taps; ++t) w[t * kTile + j] = in.weights[t * in.channels + c];
    }
  }
}

struct Epilogue {
  explicit Epilogue(const Qs8DwconvOutputParams& p)
      : fixed_point(p.mode == RequantMode::kFixedPoint),
        lo(vdupq_n_f32(static_cast<float>(p.qmin - p.output_zero_point))),
        hi(vdupq_n_f32(static_cast<float>(p.qmax - p.output_zero_point))),
        zero_point(vdupq_n_s32(p.output_zero_point)),
        qmin(vdupq_n_s32(p.qmin)),
        qmax(vdupq_n_s32(p.qmax)) {}
  bool fixed_point;
  float32x4_t lo, hi;
  int32x4_t zero_point, qmin, qmax;
};

// RequantizeFp32: fcvtns rounds to nearest even, as std::nearbyint under the default mode.
inline int32x4_t RequantizeFp32x4(int32x4_t acc, float32x4_t scale, const Epilogue& e) {
  float32x4_t y = vmulq_f32(vcvtq_f32_s32(acc), scale);
  y = vminq_f32(vmaxq_f32(y, e.lo), e.hi);
  return vaddq_s32(vcvtnq_s32_f32(y), e.zero_point);
}

// RequantizeFixedPoint. sqrdmulh computes floor((x * m + 2^30) / 2^31), which equals gemmlowp's
// rounding doubling high multiply (nudge, then truncate toward zero) for every product that
// does not saturate, and only INT32_MIN * INT32_MIN saturates (never: m >= 0). srshl rounds
// halves up; subtracting 1 from negative values first (when there is a shift) turns that into
// halves away from zero, as RoundingDivideByPowerOfTwo.
inline int32x4_t RequantizeFixedPointx4(int32x4_t acc, int32x4_t multiplier, int32x4_t left,
                                        int32x4_t neg_right, const Epilogue& e) {
  const int32x4_t x = vqrdmulhq_s32(vshlq_s32(acc, left), multiplier);
  const int32x4_t fixup =
      vandq_s32(vshrq_n_s32(x, 31), vreinterpretq_s32_u32(vtstq_s32(neg_right, neg_right)));
  int32x4_t y = vrshlq_s32(vqaddq_s32(x, fixup), neg_right);
  y = vaddq_s32(y, e.zero_point);
  return vminq_s32(vmaxq_s32(y, e.qmin), e.qmax);
}

inline int8x16_t Requantize16(const int32x4_t acc[4], const uint8_t* header, const Epilogue& e) {
  const auto* h = reinterpret_cast<const int32_t*>(header);
  int32x4_t y[4];
  for (int i = 0; i < 4; ++i) {
    y[i] = e.fixed_point
               ? RequantizeFixedPointx4(acc[i], vld1q_s32(h + 16 + 4 * i),
                                        vld1q_s32(h + 32 + 4 * i), vld1q_s32(h + 48 + 4 * i), e)
               : RequantizeFp32x4(acc[i], vreinterpretq_f32_s32(vld1q_s32(h + 16 + 4 * i)), e);
  }
  const int16x8_t lo = vcombine_s16(vqmovn_s32(y[0]), vqmovn_s32(y[1]));
  const int16x8_t hi = vcombine_s16(vqmovn_s32(y[2]), vqmovn_s32(y[3]));
  return vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi));
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

// kPartial: the first n (< 16) bytes, zero-filled, reading nothing past p + n (no copy through
// a stack buffer, which stalls on store forwarding at every tap).
template <bool kPartial>
inline int8x16_t Load16(const int8_t* p, size_t n) {
  if (!kPartial) return vld1q_s8(p);
  if (n >= 8) return vcombine_s8(vld1_s8(p), vcreate_s8(LoadBytes(p + 8, n - 8)));
  return vcombine_s8(vcreate_s8(LoadBytes(p, n)), vdup_n_s8(0));
}

// The first n (< 16) bytes of v to p, writing nothing past p + n.
inline void StorePartial16(int8_t* p, int8x16_t v, size_t n) {
  const uint64x2_t bits = vreinterpretq_u64_s8(v);
  if (n >= 8) {
    vst1_s8(p, vget_low_s8(v));
    StoreBytes(p + 8, vgetq_lane_u64(bits, 1), n - 8);
  } else {
    StoreBytes(p, vgetq_lane_u64(bits, 0), n);
  }
}

template <size_t kTaps, bool kPartial>
inline void AccumulateGroup(size_t taps, const int8_t* const* in, size_t c, size_t n,
                            const int8_t* w, int32x4_t acc[4]) {
  for (size_t t = 0; t < (kTaps ? kTaps : taps); ++t, w += kTile) {
    const int8x16_t x = Load16<kPartial>(in[t] + c, n);
    const int8x16_t k = vld1q_s8(w);
    const int16x8_t p0 = vmull_s8(vget_low_s8(x), vget_low_s8(k));
    const int16x8_t p1 = vmull_high_s8(x, k);
    acc[0] = vaddw_s16(acc[0], vget_low_s16(p0));
    acc[1] = vaddw_high_s16(acc[1], p0);
    acc[2] = vaddw_s16(acc[2], vget_low_s16(p1));
    acc[3] = vaddw_high_s16(acc[3], p1);
  }
}

template <size_t kTaps>
void DwconvNeon(size_t pixels, size_t channels, size_t taps_arg, const int8_t* const* input,
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
      const auto* bias = reinterpret_cast<const int32_t*>(g);
      int32x4_t acc[4] = {vld1q_s32(bias), vld1q_s32(bias + 4), vld1q_s32(bias + 8),
                          vld1q_s32(bias + 12)};
      AccumulateGroup<kTaps, false>(taps, in, c, kTile,
                                    reinterpret_cast<const int8_t*>(g + kHeaderBytes), acc);
      vst1q_s8(out + c, Requantize16(acc, g, e));
    }
    if (c < channels) {
      const size_t n = channels - c;
      const auto* bias = reinterpret_cast<const int32_t*>(g);
      int32x4_t acc[4] = {vld1q_s32(bias), vld1q_s32(bias + 4), vld1q_s32(bias + 8),
                          vld1q_s32(bias + 12)};
      AccumulateGroup<kTaps, true>(taps, in, c, n,
                                   reinterpret_cast<const int8_t*>(g + kHeaderBytes), acc);
      StorePartial16(out + c, Requantize16(acc, g, e), n);
    }
  }
}

void qs8_dwconv_16c__neon(size_t pixels, size_t channels, size_t taps,
                          const int8_t* const* input, size_t input_advance, const void* packed,
                          int8_t* output, size_t output_stride,
                          const Qs8DwconvOutputParams& params) {
  DwconvNeon<0>(pixels, channels, taps, input, input_advance, packed, output, output_stride,
                params);
}

void qs8_dwconv_9p16c__neon(size_t pixels, size_t channels, size_t taps,
                            const int8_t* const* input, size_t input_advance, const void* packed,
                            int8_t* output, size_t output_stride,
                            const Qs8DwconvOutputParams& params) {
  DwconvNeon<9>(pixels, channels, taps, input, input_advance, packed, output, output_stride,
                params);
}

}  // namespace

extern const Qs8DwconvKernels kQs8DwconvNeon = {kTile, PackedSize, Pack, qs8_dwconv_16c__neon,
                                                qs8_dwconv_9p16c__neon, "qs8_dwconv_16c__neon",
                                                "qs8_dwconv_9p16c__neon"};

}  // namespace litequant
