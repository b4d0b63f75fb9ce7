// The integer LSTM's elementwise kernels on NEON, 4 int32 lanes at a time. MBQM is the qs8
// GEMM's exact fixed-point epilogue (qs8_gemm_epilogue_neon.h); int16 x int16 products fit
// int32 exactly (SMULL); tails go through 4-lane local copies, so every value takes the same
// vector arithmetic. The table lookups stay scalar.
#include <arm_neon.h>

#include <cstdint>
#include <cstring>
#include <limits>

#include "litequant/lstm_qs8.h"
#include "qs8_gemm_epilogue_neon.h"

namespace litequant {
namespace {

constexpr size_t kLanes = 4;
constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

Qs8GemmEpilogue MakeEpilogue(const QuantizedMultiplier* m, int32_t zero_point, int32_t lo,
                             int32_t hi) {
  Qs8GemmEpilogue ep;
  ep.mode = RequantMode::kFixedPoint;
  ep.multiplier = m;
  ep.output_zero_point = zero_point;
  ep.qmin = lo;
  ep.qmax = hi;
  return ep;
}

// MBQM then + zero point, clamped to [lo, hi].
struct Requant {
  FixedPointEpilogueNeon<1> e;
  Requant(QuantizedMultiplier m, int32_t zero_point, int32_t lo, int32_t hi)
      : e(MakeEpilogue(&m, zero_point, lo, hi), kLanes) {}
  int32x4_t operator()(int32x4_t x) const { return e.Apply(x, 0); }
};

inline int32x4_t Load16(const int16_t* p) { return vmovl_s16(vld1_s16(p)); }
// 4 int32 lanes (already in range) to int16 / int8.
inline void Store16(int16_t* p, int32x4_t v) { vst1_s16(p, vqmovn_s32(v)); }
inline void Store8(int8_t* p, int32x4_t v) {
  const int8x8_t b = vqmovn_s16(vcombine_s16(vqmovn_s32(v), vqmovn_s32(v)));
  const int32_t four = vget_lane_s32(vreinterpret_s32_s8(b), 0);
  std::memcpy(p, &four, sizeof(four));
}
inline int32x4_t Clamp(int32x4_t v, int32x4_t lo, int32x4_t hi) {
  return vminq_s32(vmaxq_s32(v, lo), hi);
}

// A zero-padded copy of a tail shorter than 4 values, so it takes the same vector code.
template <typename T>
struct Tail {
  T values[kLanes] = {};
  T* Load(const T* p, size_t count) {
    if (p != nullptr) std::memcpy(values, p, count * sizeof(T));
    return p == nullptr ? nullptr : values;
  }
};

// RoundingDivideByPOT with one exponent for every lane (1..31): a rounding shift (half up)
// after subtracting 1 from negative values gives half away from zero (the saturating add
// never saturates: the operands are int16 x int16 products).
struct DivideByPot {
  int32x4_t neg_shift;
  explicit DivideByPot(int exponent) : neg_shift(vdupq_n_s32(-exponent)) {}
  int32x4_t operator()(int32x4_t x) const {
    const int32x4_t fixup = vshrq_n_s32(x, 31);
    return vrshlq_s32(vqaddq_s32(x, fixup), neg_shift);
  }
};

inline int32x4_t Wrap16(int32x4_t v) { return vshrq_n_s32(vshlq_n_s32(v, 16), 16); }

void Gate(size_t n, const int32_t* in, const int32_t* in_bias, QuantizedMultiplier in_m,
          const int32_t* rec, const int32_t* rec_bias, QuantizedMultiplier rec_m,
          const int16_t* table, int16_t* out) {
  const Requant input(in_m, 0, -32768, 32767);
  const Requant recurrent(rec_m, 0, kInt32Min, kInt32Max);
  const int32x4_t lo = vdupq_n_s32(-32768);
  const int32x4_t hi = vdupq_n_s32(32767);
  const int16_t* center = table == nullptr ? nullptr : table + 32768;
  auto block = [&](const int32_t* a, const int32_t* ab, const int32_t* r, const int32_t* rb,
                   int16_t* o) {
    const int32x4_t x = input(vaddq_s32(vld1q_s32(a), vld1q_s32(ab)));
    const int32x4_t h = recurrent(vaddq_s32(vld1q_s32(r), vld1q_s32(rb)));
    const int32x4_t v = Clamp(vaddq_s32(h, x), lo, hi);
    if (table == nullptr) {
      Store16(o, v);
      return;
    }
    int32_t index[kLanes];
    vst1q_s32(index, v);
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
  const int32x4_t lo = vdupq_n_s32(-32768);
  const int32x4_t hi = vdupq_n_s32(32767);
  auto block = [&](const int16_t* wp, const int16_t* cp, int16_t* o) {
    const int32x4_t p = requant(vmull_s16(vld1_s16(wp), vld1_s16(cp)));
    Store16(o, Clamp(vaddq_s32(p, Load16(o)), lo, hi));
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
  for (size_t j = 0; j < n; ++j) y[j] = center[x[j]];
}

void Cell(size_t n, const int16_t* i, const int16_t* f, const int16_t* g, int mix_shift,
          int32_t clip, int16_t* c) {
  const DivideByPot by15(15);
  const DivideByPot by_mix(mix_shift);
  // Clamping to int16 and then to +-clip is one clamp to the narrower range.
  const int32x4_t lo = vdupq_n_s32(clip > 0 ? -clip : -32768);
  const int32x4_t hi = vdupq_n_s32(clip > 0 ? clip : 32767);
  const int32x4_t one = vdupq_n_s32(32767);
  // CIFG's 32767 - f in int32 (int16 would wrap for negative f), multiplied in int32: exact.
  auto block = [&](const int16_t* ip, const int16_t* fp, const int16_t* gp, int16_t* cp) {
    const int16x4_t fv = vld1_s16(fp);
    const int32x4_t iv = ip == nullptr ? vsubq_s32(one, vmovl_s16(fv)) : Load16(ip);
    const int32x4_t kept = Wrap16(by15(vmull_s16(fv, vld1_s16(cp))));
    const int32x4_t added = Wrap16(by_mix(vmulq_s32(iv, Load16(gp))));
    Store16(cp, Clamp(vaddq_s32(kept, added), lo, hi));
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
    Store8(dst, requant(vmull_s16(vld1_s16(op), vld1_s16(tp))));
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
    Store8(dst, requant(vaddq_s32(vld1q_s32(a), vld1q_s32(b))));
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

}  // namespace

// No matrix-vector kernel: one-row products run on the qs8 GEMM (neon or neondot tiles).
extern const LstmQs8Kernels kLstmQs8Neon = {Gate,    Peephole, Lookup,  Cell,
                                            Hidden,  Output,   nullptr, nullptr,
                                            nullptr, nullptr,  "lstm_qs8__neon"};

}  // namespace litequant
