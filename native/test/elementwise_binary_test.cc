// Element-wise binary ops: XNNPACK's parameter setup on hand-checked cases, broadcasting
// collapsed into the expected loops, and every built and supported path's kernels and driver
// equal to the reference bit for bit (int8 and float32) over an edge-case matrix.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "litequant/elementwise_binary.h"
#include "litequant/vbinary.h"

using namespace litequant;

namespace {

std::vector<Path> TestablePaths() {
  std::vector<Path> paths;
  for (uint32_t i = 0; i < kPathCount; ++i) {
    const Path p = static_cast<Path>(i);
    if (PathBuilt(p) && PathSupported(DetectCpu(), p)) paths.push_back(p);
    else if (PathBuilt(p)) std::printf("  skip %s: not supported by this CPU\n", PathName(p));
  }
  return paths;
}

const size_t kSizes[] = {0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 127, 1000};
const BinaryActivation kActivations[] = {BinaryActivation::kNone, BinaryActivation::kRelu,
                                         BinaryActivation::kReluN1To1, BinaryActivation::kRelu6};

std::vector<int8_t> RandomInt8(size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<int8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<int8_t>(i % 11 == 3 ? -128 : i % 11 == 7 ? 127 : d(rng));
  return v;
}

// Values with NaN, infinities, signed zeros and denormals among ordinary ones.
std::vector<float> RandomFloat(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-8.0f, 8.0f);
  const float specials[] = {0.0f,
                            -0.0f,
                            std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::denorm_min(),
                            6.0f,
                            -1.0f,
                            1.0f,
                            std::numeric_limits<float>::max()};
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i % 7 == 2 ? specials[(i / 7) % 10] : d(rng);
  return v;
}

int ZeroPoint(std::mt19937& rng, int which) {
  if (which == 0) return -128;
  if (which == 1) return 127;
  return std::uniform_int_distribution<int>(-128, 127)(rng);
}

// Quantization whose ratios span XNNPACK's whole range for `op` (both edges included).
Qs8BinaryQuantization RandomQuantization(BinaryOp op, std::mt19937& rng, int trial) {
  Qs8BinaryQuantization q;
  std::uniform_real_distribution<float> exponent(op == BinaryOp::kMul ? -15.9f : -9.9f, 7.9f);
  q.output_scale = std::ldexp(1.0f, -7) * (1.0f + 0.37f * (trial % 5));
  std::uniform_real_distribution<float> spread(-3.0f, 3.0f);
  if (op == BinaryOp::kMul) {
    q.a_scale = q.output_scale * std::exp2(spread(rng));
    q.b_scale = std::exp2(exponent(rng)) * q.output_scale / q.a_scale;
    if (trial % 7 == 0) {  // the smallest ratio, exactly
      q.a_scale = q.output_scale;
      q.b_scale = std::ldexp(1.0f, -16);
    }
  } else {
    q.a_scale = q.output_scale * std::exp2(exponent(rng));
    q.b_scale = q.output_scale * std::exp2(exponent(rng));
    if (trial % 7 == 0) q.a_scale = q.output_scale * std::ldexp(1.0f, -10);  // smallest ratio
    if (trial % 7 == 1) q.b_scale = q.output_scale * 255.9f;
  }
  q.a_zero_point = ZeroPoint(rng, trial % 3);
  q.b_zero_point = ZeroPoint(rng, (trial + 1) % 3);
  q.output_zero_point = ZeroPoint(rng, (trial / 3) % 3);
  q.activation = kActivations[trial % 4];
  return q;
}

bool SameFloat(float x, float y) {
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
  uint32_t bx, by;
  std::memcpy(&bx, &x, 4);
  std::memcpy(&by, &y, 4);
  return bx == by;
}

}  // namespace

TEST_CASE("qs8 ADD parameters follow XNNPACK's setup (hand-checked)") {
  Qs8BinaryQuantization q;
  q.a_scale = 0.5f;
  q.b_scale = 0.25f;
  q.output_scale = 1.0f;
  q.a_zero_point = 3;
  q.b_zero_point = -2;
  q.output_zero_point = 1;
  CHECK(CheckQs8Binary(BinaryOp::kAdd, q).empty());
  // max ratio 0.5 = 2^-1: shift 21, multipliers 0.5 * 2^21 and 0.25 * 2^21.
  const Qs8AddParams p = ComputeQs8AddParams(q, false);
  CHECK(p.shift == 21);
  CHECK(p.a_multiplier == (1 << 20));
  CHECK(p.b_multiplier == (1 << 19));
  CHECK(p.bias == (1 << 20) - 3 * (1 << 20) + 2 * (1 << 19));
  CHECK(p.qmin == -128 && p.qmax == 127);
  // 0.5 * (9 - 3) + 0.25 * (-6 + 2) = 2 -> 2 + 1.
  CHECK(Qs8AddOne(9, -6, p) == 3);
  // 0.5 * (4 - 3) + 0.25 * (0 + 2) = 1 -> 2; and a tie: 0.5 * 1 = 0.5 rounds up to 1 -> 2.
  CHECK(Qs8AddOne(4, 0, p) == 2);
  CHECK(Qs8AddOne(4, -2, p) == 2);
  // SUB negates b's multiplier: 0.5 * 6 - 0.25 * (-4) = 4 -> 5.
  const Qs8AddParams s = ComputeQs8AddParams(q, true);
  CHECK(s.b_multiplier == -(1 << 19));
  CHECK(Qs8AddOne(9, -6, s) == 5);
  // Multipliers keep 20 significant bits, rounded half to even: ratio 1/3.
  q.a_scale = 1.0f / 3.0f;
  q.b_scale = 1.0f / 3.0f;
  const Qs8AddParams t = ComputeQs8AddParams(q, false);
  CHECK(t.shift == 22);
  CHECK(t.a_multiplier == static_cast<int32_t>(std::nearbyint(std::ldexp(1.0f / 3.0f, 22))));
}

TEST_CASE("qs8 activation ranges and MUL scale follow XNNPACK (hand-checked)") {
  int32_t lo, hi;
  Qs8ActivationRange(BinaryActivation::kRelu6, 0.05f, -10, &lo, &hi);
  CHECK(lo == -10 && hi == 110);  // 6 / 0.05 = 120 -> -10 + 120
  Qs8ActivationRange(BinaryActivation::kRelu, 0.5f, 127, &lo, &hi);
  CHECK(lo == 127 && hi == 127);
  Qs8ActivationRange(BinaryActivation::kReluN1To1, 0.004f, 0, &lo, &hi);
  CHECK(lo == -128 && hi == 127);  // +-250 clamped
  Qs8ActivationRange(BinaryActivation::kReluN1To1, 0.4f, 0, &lo, &hi);
  CHECK(lo == -2 && hi == 2);  // 2.5 rounds half to even
  Qs8BinaryQuantization q;
  q.a_scale = 0.5f;
  q.b_scale = 0.25f;
  q.output_scale = 0.5f;
  const Qs8MulParams m = ComputeQs8MulParams(q);
  CHECK(m.scale == 0.25f);
  CHECK(Qs8MulOne(2, m) == 0);   // 0.5: ties to even
  CHECK(Qs8MulOne(6, m) == 2);   // 1.5 -> 2
  CHECK(Qs8MulOne(-10, m) == -2);  // -2.5 -> -2
}

TEST_CASE("qs8 checks reject scales outside XNNPACK's ranges") {
  Qs8BinaryQuantization q;
  q.output_scale = 1.0f;
  q.a_scale = 256.0f;
  CHECK(!CheckQs8Binary(BinaryOp::kAdd, q).empty());
  q.a_scale = std::nextafter(256.0f, 0.0f);
  CHECK(CheckQs8Binary(BinaryOp::kAdd, q).empty());
  q.a_scale = std::ldexp(1.0f, -10);
  CHECK(CheckQs8Binary(BinaryOp::kSub, q).empty());
  q.a_scale = std::nextafter(std::ldexp(1.0f, -10), 0.0f);
  CHECK(!CheckQs8Binary(BinaryOp::kSub, q).empty());
  q.a_scale = 1.0f;
  q.b_scale = std::ldexp(1.0f, -17);
  CHECK(!CheckQs8Binary(BinaryOp::kMul, q).empty());
  q.b_scale = std::ldexp(1.0f, -16);
  CHECK(CheckQs8Binary(BinaryOp::kMul, q).empty());
  q.output_zero_point = 128;
  CHECK(!CheckQs8Binary(BinaryOp::kMul, q).empty());
  q.output_zero_point = 0;
  q.a_scale = std::numeric_limits<float>::quiet_NaN();
  CHECK(!CheckQs8Binary(BinaryOp::kAdd, q).empty());
  bool threw = false;
  try {
    CreateQs8Binary(BinaryOp::kAdd, {2}, {2}, q);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

TEST_CASE("broadcast shapes collapse into the expected loops") {
  BroadcastLoops l;
  CHECK(ComputeBroadcastLoops({1, 32, 32, 16}, {1, 32, 32, 16}, &l).empty());
  CHECK(l.rank == 1 && l.extent[0] == 16384 && l.a_stride[0] == 1 && l.b_stride[0] == 1);
  CHECK(ComputeBroadcastLoops({1, 8, 8, 16}, {16}, &l).empty());
  CHECK(l.rank == 2 && l.extent[0] == 64 && l.extent[1] == 16);
  CHECK(l.a_stride[0] == 16 && l.b_stride[0] == 0 && l.a_stride[1] == 1 && l.b_stride[1] == 1);
  CHECK(ComputeBroadcastLoops({}, {2, 3}, &l).empty());
  CHECK(l.rank == 1 && l.extent[0] == 6 && l.a_stride[0] == 0 && l.b_stride[0] == 1);
  CHECK(ComputeBroadcastLoops({4, 1}, {1, 5}, &l).empty());
  CHECK(l.rank == 2 && l.output_size == 20 && l.a_stride[0] == 1 && l.a_stride[1] == 0 &&
        l.b_stride[0] == 0 && l.b_stride[1] == 1);
  CHECK(ComputeBroadcastLoops({2, 3, 1, 5}, {2, 3, 4, 5}, &l).empty());
  CHECK(l.rank == 3 && l.extent[0] == 6 && l.extent[1] == 4 && l.extent[2] == 5);
  CHECK(ComputeBroadcastLoops({1}, {}, &l).empty());
  CHECK(l.rank == 1 && l.extent[0] == 1 && l.output_size == 1 && l.output_shape.size() == 1);
  CHECK(ComputeBroadcastLoops({3, 0}, {1, 1}, &l).empty());
  CHECK(l.output_size == 0);
  CHECK(!ComputeBroadcastLoops({3, 4}, {1, 3}, &l).empty());
  CHECK(!ComputeBroadcastLoops({0}, {2}, &l).empty());
  CHECK(!ComputeBroadcastLoops(std::vector<size_t>(9, 1), {1}, &l).empty());
  CHECK(!ComputeBroadcastLoops({65536, 32768}, {1}, &l).empty());
}

TEST_CASE("every path's qs8 kernels equal the reference over the edge-case matrix") {
  std::mt19937 rng(7);
  const Qs8VBinaryKernels& ref = kQs8VBinaryReference;
  for (Path path : TestablePaths()) {
    const Qs8VBinaryKernels& k = Qs8VBinaryKernelsFor(path);
    int trial = 0;
    for (size_t n : kSizes) {
      for (int rep = 0; rep < 6; ++rep, ++trial) {
        const auto a = RandomInt8(n, rng);
        const auto b = RandomInt8(n, rng);
        std::vector<int8_t> want(n + 1, 0x5A), got(n + 1, 0x5A);
        for (BinaryOp op : {BinaryOp::kAdd, BinaryOp::kSub}) {
          const Qs8AddParams p = ComputeQs8AddParams(RandomQuantization(op, rng, trial), op == BinaryOp::kSub);
          ref.vadd(n, a.data(), b.data(), want.data(), p);
          k.vadd(n, a.data(), b.data(), got.data(), p);
          CHECK_MSG(want == got, "%s vadd n=%zu trial %d", PathName(path), n, trial);
          ref.vaddc(n, a.data(), want.data(), p);
          k.vaddc(n, a.data(), got.data(), p);
          CHECK_MSG(want == got, "%s vaddc n=%zu trial %d", PathName(path), n, trial);
        }
        const Qs8MulParams m = ComputeQs8MulParams(RandomQuantization(BinaryOp::kMul, rng, trial));
        ref.vmul(n, a.data(), b.data(), want.data(), m);
        k.vmul(n, a.data(), b.data(), got.data(), m);
        CHECK_MSG(want == got, "%s vmul n=%zu trial %d", PathName(path), n, trial);
        const int32_t c = rep == 0 ? 255 : rep == 1 ? -255 : int32_t{b.empty() ? 0 : b[0]} - 3;
        ref.vmulc(n, a.data(), c, want.data(), m);
        k.vmulc(n, a.data(), c, got.data(), m);
        CHECK_MSG(want == got, "%s vmulc n=%zu trial %d", PathName(path), n, trial);
      }
    }
    // In place: out is a.
    const auto a = RandomInt8(100, rng);
    const auto b = RandomInt8(100, rng);
    const Qs8AddParams p = ComputeQs8AddParams(RandomQuantization(BinaryOp::kAdd, rng, 4), false);
    std::vector<int8_t> want(100), inplace = a;
    ref.vadd(100, a.data(), b.data(), want.data(), p);
    k.vadd(100, inplace.data(), b.data(), inplace.data(), p);
    CHECK_MSG(want == inplace, "%s vadd in place", PathName(path));
  }
}

TEST_CASE("every path's f32 kernels equal the reference bit for bit") {
  std::mt19937 rng(11);
  const F32VBinaryKernels& ref = kF32VBinaryReference;
  const F32MinMaxParams bounds[] = {
      {-std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity()},
      {0.0f, std::numeric_limits<float>::infinity()},
      {-1.0f, 1.0f},
      {0.0f, 6.0f}};
  for (Path path : TestablePaths()) {
    const F32VBinaryKernels& k = F32VBinaryKernelsFor(path);
    for (size_t n : kSizes) {
      for (const F32MinMaxParams& p : bounds) {
        const auto a = RandomFloat(n, rng);
        const auto b = RandomFloat(n, rng);
        const float c = RandomFloat(3, rng)[n % 3];
        std::vector<float> want(n), got(n);
        const F32VBinaryFn vv[][2] = {{ref.vadd, k.vadd}, {ref.vsub, k.vsub}, {ref.vmul, k.vmul}};
        for (const auto& f : vv) {
          f[0](n, a.data(), b.data(), want.data(), p);
          f[1](n, a.data(), b.data(), got.data(), p);
          bool same = true;
          for (size_t i = 0; i < n; ++i) same = same && SameFloat(want[i], got[i]);
          CHECK_MSG(same, "%s f32 vv n=%zu", PathName(path), n);
        }
        const F32VBinaryCFn vc[][2] = {
            {ref.vaddc, k.vaddc}, {ref.vsubc, k.vsubc}, {ref.vrsubc, k.vrsubc}, {ref.vmulc, k.vmulc}};
        for (const auto& f : vc) {
          f[0](n, a.data(), c, want.data(), p);
          f[1](n, a.data(), c, got.data(), p);
          bool same = true;
          for (size_t i = 0; i < n; ++i) same = same && SameFloat(want[i], got[i]);
          CHECK_MSG(same, "%s f32 vc n=%zu c=%g", PathName(path), n, c);
        }
      }
    }
  }
}

TEST_CASE("the reference clamps keep NaN and -0.0 and order the bounds as TFLite") {
  const F32MinMaxParams relu{0.0f, std::numeric_limits<float>::infinity()};
  CHECK(std::signbit(F32ClampOne(-0.0f, relu)));
  CHECK(std::isnan(F32ClampOne(std::numeric_limits<float>::quiet_NaN(), relu)));
  CHECK(F32ClampOne(-3.0f, relu) == 0.0f);
  const F32MinMaxParams relu6{0.0f, 6.0f};
  CHECK(F32ClampOne(7.0f, relu6) == 6.0f);
}

TEST_CASE("every path's driver equals the reference over broadcast shapes") {
  std::mt19937 rng(3);
  const std::vector<std::pair<std::vector<size_t>, std::vector<size_t>>> shapes = {
      {{1, 32, 32, 16}, {1, 32, 32, 16}},
      {{1, 5, 7, 19}, {19}},
      {{19}, {1, 5, 7, 19}},
      {{2, 3, 4}, {}},
      {{}, {2, 3, 33}},
      {{1}, {1}},
      {{}, {}},
      {{4, 1}, {1, 37}},
      {{2, 3, 1, 17}, {2, 3, 4, 17}},
      {{2, 1, 4, 1}, {1, 3, 1, 5}},
      {{3, 5, 1}, {3, 5, 18}},
      {{1, 1, 2, 1, 3, 1, 2, 1}, {2, 1, 1, 2, 1, 2, 1, 3}},
      {{3, 0, 2}, {1, 1, 2}},
  };
  for (Path path : TestablePaths()) {
    int trial = 0;
    for (const auto& [as, bs] : shapes) {
      BroadcastLoops loops;
      CHECK(ComputeBroadcastLoops(as, bs, &loops).empty());
      size_t na = 1, nb = 1;
      for (size_t d : as) na *= d;
      for (size_t d : bs) nb *= d;
      for (BinaryOp op : {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul}) {
        ++trial;
        const Qs8BinaryQuantization q = RandomQuantization(op, rng, trial);
        const auto a = RandomInt8(na, rng);
        const auto b = RandomInt8(nb, rng);
        std::vector<int8_t> want(loops.output_size + 1, 0x5A), got(loops.output_size + 1, 0x5A);
        Qs8BinaryReference(op, as, bs, q, a.data(), b.data(), want.data());
        const auto qop = CreateQs8BinaryForPath(path, op, as, bs, q);
        Qs8Binary(*qop, a.data(), b.data(), got.data());
        CHECK_MSG(want == got, "%s qs8 op %d shapes trial %d", PathName(path), static_cast<int>(op),
                  trial);

        const auto fa = RandomFloat(na, rng);
        const auto fb = RandomFloat(nb, rng);
        std::vector<float> fwant(loops.output_size), fgot(loops.output_size);
        const BinaryActivation act = kActivations[trial % 4];
        F32BinaryReference(op, as, bs, act, fa.data(), fb.data(), fwant.data());
        const auto fop = CreateF32BinaryForPath(path, op, as, bs, act);
        F32Binary(*fop, fa.data(), fb.data(), fgot.data());
        bool same = true;
        for (size_t i = 0; i < fwant.size(); ++i) same = same && SameFloat(fwant[i], fgot[i]);
        CHECK_MSG(same, "%s f32 op %d trial %d", PathName(path), static_cast<int>(op), trial);
      }
    }
  }
}

TEST_MAIN()
