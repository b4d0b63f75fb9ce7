// qs8 GEMM: the reference on hand-checked cases, then every built and supported path equal to
// the reference bit for bit over the edge-case matrix (shapes around every tile size, zero
// points -128/0/127, per-tensor and per-channel scales from 1e-6 to 10, both requantization
// rules, fused clamps, saturation), for thread counts 1, 2 and 3. Paths this CPU cannot run
// still get their packing geometry checked through the driver with scalar stand-in kernels.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "litequant/qs8_gemm.h"
#include "litequant/qs8_gemm_kernels.h"
#include "litequant/thread_pool.h"

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

const size_t kMs[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 33};
const size_t kNs[] = {1, 2, 3, 5, 7, 8, 13, 16, 17, 31, 33, 47, 64};
const size_t kKs[] = {1, 2, 3, 4, 5, 7, 8, 13, 16, 17, 31, 32, 33, 64, 67, 1024};
const int32_t kZeroPoints[] = {-128, 0, 127};

std::vector<int8_t> RandomInt8(size_t n, std::mt19937& rng, int lo = -128, int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

std::vector<int32_t> RandomBias(size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> d(-100000, 100000);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// A scale that keeps most outputs inside int8 for random data, and channel scales that also
// reach the extremes 1e-6 and 10 (outputs all zero point or all saturated).
float TypicalScale(size_t k) { return 64.0f / (std::sqrt(static_cast<float>(k)) * 10000.0f); }

Qs8Requant MakeRequant(RequantMode mode, bool per_channel, size_t n, size_t k, std::mt19937& rng,
                       int32_t out_zp = 0, int32_t qmin = -128, int32_t qmax = 127) {
  Qs8Requant rq;
  rq.mode = mode;
  rq.output_zero_point = out_zp;
  rq.qmin = qmin;
  rq.qmax = qmax;
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const size_t count = per_channel ? n : 1;
  std::vector<float> scales(count);
  for (size_t j = 0; j < count; ++j) {
    const float pick = u(rng);
    if (pick < 0.7f) {
      scales[j] = TypicalScale(k) * std::exp2(u(rng) * 6.0f - 3.0f);
    } else if (pick < 0.8f) {
      scales[j] = 1e-6f;
    } else if (pick < 0.9f) {
      scales[j] = 10.0f;
    } else {
      scales[j] = std::pow(10.0f, -6.0f + 7.0f * u(rng));  // log-uniform in [1e-6, 10]
    }
  }
  if (mode == RequantMode::kFp32) {
    rq.scale = scales;
  } else {
    for (float s : scales) rq.multiplier.push_back(QuantizeMultiplier(s));
  }
  return rq;
}

struct Problem {
  size_t m, n, k, lda, ldc;
  std::vector<int8_t> a, w;
  std::vector<int32_t> bias;
  int32_t a_zero_point;
};

// Weights alternate between TFLite's symmetric range [-127, 127] and the full int8 range
// (which sends the NEON smlal kernel to its exact variant).
Problem MakeProblem(size_t m, size_t n, size_t k, int32_t a_zp, std::mt19937& rng,
                    size_t lda_extra = 0, size_t ldc_extra = 0) {
  static size_t count = 0;
  Problem p{m, n, k, k + lda_extra, n + ldc_extra, {}, {}, {}, a_zp};
  p.a = RandomInt8(m * p.lda, rng);
  p.w = RandomInt8(n * k, rng, ++count % 2 ? -127 : -128, 127);
  p.bias = RandomBias(n, rng);
  return p;
}

constexpr int8_t kGuard = 0x55;

// The reference output with guard bytes everywhere it must not write.
std::vector<int8_t> Expected(const Problem& p, const Qs8Requant& rq, bool with_bias = true) {
  std::vector<int8_t> c(p.m * p.ldc + 16, kGuard);
  Qs8GemmReference(p.m, p.n, p.k, p.a.data(), p.lda, p.w.data(),
                   with_bias ? p.bias.data() : nullptr, p.a_zero_point, rq, c.data(), p.ldc);
  return c;
}

std::vector<int8_t> Run(const Qs8PackedWeights& packed, const Problem& p, const Qs8Requant& rq,
                        ThreadPool* pool = nullptr) {
  std::vector<int8_t> c(p.m * p.ldc + 16, kGuard);
  Qs8Gemm(packed, p.m, p.a.data(), p.lda, c.data(), p.ldc, rq, pool);
  return c;
}

const char* ModeName(RequantMode mode) {
  return mode == RequantMode::kFp32 ? "fp32" : "fixed-point";
}

}  // namespace

TEST_CASE("reference: a hand-computed GEMM with zero point and bias") {
  // A = [[1, 2], [-3, 4]], a_zp = 1; W = [[1, 0], [2, -1], [-128, 127]]; bias = [10, 0, -5].
  const int8_t a[] = {1, 2, -3, 4};
  const int8_t w[] = {1, 0, 2, -1, -128, 127};
  const int32_t bias[] = {10, 0, -5};
  Qs8Requant rq;
  rq.scale = std::vector<float>{1.0f};
  int8_t c[6];
  Qs8GemmReference(2, 3, 2, a, 2, w, bias, 1, rq, c, 3);
  // (a - 1) = [[0, 1], [-4, 3]]
  // row 0: 0*1+1*0+10 = 10; 0*2+1*-1 = -1; 0*-128+1*127-5 = 122
  // row 1: -4+0+10 = 6; -8-3 = -11; 512+381-5 = 888 -> saturates to 127
  const int8_t want[] = {10, -1, 122, 6, -11, 127};
  for (int i = 0; i < 6; ++i) CHECK_MSG(c[i] == want[i], "i=%d got %d want %d", i, c[i], want[i]);

  int32_t acc[6];
  Qs8GemmAccumulateReference(2, 3, 2, a, 2, w, acc, 3);
  const int32_t want_acc[] = {1, 0, 126, -3, -10, 892};  // no zero point, no bias
  for (int i = 0; i < 6; ++i) CHECK_MSG(acc[i] == want_acc[i], "acc %d: %d", i, acc[i]);
}

TEST_CASE("reference: fp32 rounds ties to even, clamps, adds the zero point") {
  // K = 1, W = 1, a_zp = 0, no bias: the accumulator is the activation.
  const int8_t a[] = {1, 3, 5, -1, -3, 127, -128};
  const int8_t w[] = {1};
  Qs8Requant rq;
  rq.scale = std::vector<float>{0.5f};
  rq.output_zero_point = 10;
  rq.qmin = -20;
  rq.qmax = 60;
  int8_t c[7];
  Qs8GemmReference(7, 1, 1, a, 1, w, nullptr, 0, rq, c, 1);
  // 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2; 63.5 -> clamp 50 -> 60; -64 -> -30 -> -20
  const int8_t want[] = {10, 12, 12, 10, 8, 60, -20};
  for (int i = 0; i < 7; ++i) CHECK_MSG(c[i] == want[i], "i=%d got %d want %d", i, c[i], want[i]);
}

TEST_CASE("reference: fixed-point rounds half away from zero through TFLite's two steps") {
  const int8_t a[] = {1, 3, -1, -3, 5, 100};
  const int8_t w[] = {1};
  Qs8Requant rq;
  rq.mode = RequantMode::kFixedPoint;
  rq.multiplier = std::vector<QuantizedMultiplier>{QuantizeMultiplier(0.5)};  // 2^30, shift 0
  int8_t c[6];
  Qs8GemmReference(6, 1, 1, a, 1, w, nullptr, 0, rq, c, 1);
  // x * 2^30 / 2^31 rounds half up in the high multiply: 0.5 -> 1, 1.5 -> 2, -0.5 -> 0,
  // -1.5 -> -1, 2.5 -> 3, 50 -> 50
  const int8_t want[] = {1, 2, 0, -1, 3, 50};
  for (int i = 0; i < 6; ++i) CHECK_MSG(c[i] == want[i], "i=%d got %d want %d", i, c[i], want[i]);
  rq.multiplier = std::vector<QuantizedMultiplier>{QuantizeMultiplier(0.25)};  // 2^30, shift -1: the rounding divide decides
  Qs8GemmReference(6, 1, 1, a, 1, w, nullptr, 0, rq, c, 1);
  // 0.25 -> high mul 1 (0.5 rounds up) -> 1/2 = 0.5 rounds away -> 1; 0.75 -> 2 -> 1;
  // -0.25 -> 0 -> 0; -0.75 -> -1 -> -0.5 rounds away -> -1; 1.25 -> 3 -> 1.5 -> 2; 25 -> 25
  const int8_t want2[] = {1, 1, 0, -1, 2, 25};
  for (int i = 0; i < 6; ++i) CHECK_MSG(c[i] == want2[i], "i=%d got %d want %d", i, c[i], want2[i]);
}

TEST_CASE("every path equals the reference over the shape matrix") {
  std::mt19937 rng(2024);
  const std::vector<Path> paths = TestablePaths();
  size_t variant = 0;
  size_t runs = 0;
  std::map<std::string, size_t> kernel_runs;
  for (size_t k : kKs) {
    for (size_t n : kNs) {
      for (size_t m : kMs) {
        const int32_t zp = kZeroPoints[variant % 3];
        const Problem p = MakeProblem(m, n, k, zp, rng, variant % 2, (variant / 2) % 3);
        std::vector<std::shared_ptr<const Qs8PackedWeights>> packed;
        for (Path path : paths) {
          packed.push_back(PackQs8GemmForPath(path, p.w.data(), n, k, p.bias.data(), zp));
        }
        for (RequantMode mode : {RequantMode::kFp32, RequantMode::kFixedPoint}) {
          for (bool per_channel : {false, true}) {
            const Qs8Requant rq = MakeRequant(mode, per_channel, n, k, rng);
            const std::vector<int8_t> want = Expected(p, rq);
            for (size_t i = 0; i < paths.size(); ++i) {
              ++runs;
              ++kernel_runs[Qs8PackedKernelName(*packed[i])];
              CHECK_MSG(Run(*packed[i], p, rq) == want, "%s (%s) M=%zu N=%zu K=%zu zp=%d %s %s",
                        PathName(paths[i]), Qs8PackedKernelName(*packed[i]), m, n, k, zp,
                        ModeName(mode), per_channel ? "per-channel" : "per-tensor");
            }
          }
        }
        ++variant;
      }
    }
  }
  std::printf("  %zu GEMMs compared on %zu paths:", runs, paths.size());
  for (const auto& [name, count] : kernel_runs) std::printf(" %s %zu;", name.c_str(), count);
  std::printf("\n");
}

TEST_CASE("extreme inputs: every sign combination of -128/127 with zero points -128 and 127") {
  const size_t m = 7, n = 19, k = 1024;
  for (Path path : TestablePaths()) {
    for (int8_t av : {int8_t{-128}, int8_t{127}}) {
      for (int8_t wv : {int8_t{-128}, int8_t{127}, int8_t{-127}}) {
        for (int32_t zp : {-128, 127}) {
          Problem p{m, n, k, k, n, std::vector<int8_t>(m * k, av), std::vector<int8_t>(n * k, wv),
                    std::vector<int32_t>(n, 0), zp};
          // Mixed rows and columns as well: alternate signs along K for some of them.
          for (size_t i = 0; i < k; i += 2) p.a[3 * k + i] = static_cast<int8_t>(-1 - av);
          for (size_t i = 0; i < k; i += 3) p.w[5 * k + i] = static_cast<int8_t>(-1 - wv);
          const auto packed = PackQs8GemmForPath(path, p.w.data(), n, k, nullptr, zp);
          for (RequantMode mode : {RequantMode::kFp32, RequantMode::kFixedPoint}) {
            for (float scale : {1e-6f, 1.0f / 65536.0f, 1.0f / 4096.0f, 10.0f}) {
              Qs8Requant rq;
              rq.mode = mode;
              rq.scale = std::vector<float>{scale};
              rq.multiplier = std::vector<QuantizedMultiplier>{QuantizeMultiplier(scale)};
              CHECK_MSG(Run(*packed, p, rq) == Expected(p, rq, false),
                        "%s a=%d w=%d zp=%d %s scale=%g", PathName(path), av, wv, zp,
                        ModeName(mode), scale);
            }
          }
          std::vector<int32_t> acc(m * n), want(m * n);
          Qs8GemmAccumulate(*packed, m, p.a.data(), k, acc.data(), n, nullptr);
          Qs8GemmAccumulateReference(m, n, k, p.a.data(), k, p.w.data(), want.data(), n);
          CHECK_MSG(acc == want, "%s accumulate a=%d w=%d", PathName(path), av, wv);
        }
      }
    }
  }
}

TEST_CASE("fused clamps and output zero points") {
  std::mt19937 rng(5);
  const int32_t ranges[][3] = {  // output zp, qmin, qmax
      {-128, -128, 127}, {127, -128, 127}, {0, 0, 127},     {-128, -128, -128 + 6 * 20},
      {5, -3, 9},        {-7, -7, -7},     {20, -128, 127}, {0, -127, 127}};
  for (Path path : TestablePaths()) {
    for (const auto& r : ranges) {
      for (size_t shape = 0; shape < 3; ++shape) {
        const size_t m = 1 + 6 * shape, n = 5 + 14 * shape, k = 3 + 30 * shape;
        const Problem p = MakeProblem(m, n, k, -3, rng);
        const auto packed = PackQs8GemmForPath(path, p.w.data(), n, k, p.bias.data(), -3);
        for (RequantMode mode : {RequantMode::kFp32, RequantMode::kFixedPoint}) {
          for (bool per_channel : {false, true}) {
            const Qs8Requant rq = MakeRequant(mode, per_channel, n, k, rng, r[0], r[1], r[2]);
            const auto got = Run(*packed, p, rq);
            CHECK_MSG(got == Expected(p, rq), "%s zp=%d [%d, %d] %s", PathName(path), r[0], r[1],
                      r[2], ModeName(mode));
            for (size_t i = 0; i < m; ++i) {
              for (size_t j = 0; j < n; ++j) {
                const int v = got[i * p.ldc + j];
                CHECK_MSG(v >= r[1] && v <= r[2], "%s clamp %d", PathName(path), v);
              }
            }
          }
        }
      }
    }
  }
}

TEST_CASE("thread counts 1, 2, 3 give identical results") {
  std::mt19937 rng(77);
  ThreadPool pools[] = {ThreadPool(1), ThreadPool(2), ThreadPool(3)};
  const size_t shapes[][3] = {{33, 67, 1024}, {1, 1000, 300}, {128, 40, 64}, {200, 3, 500},
                              {5, 129, 777},  {64, 64, 64}};
  for (Path path : TestablePaths()) {
    for (const auto& s : shapes) {
      const Problem p = MakeProblem(s[0], s[1], s[2], 127, rng, 1, 2);
      const auto packed = PackQs8GemmForPath(path, p.w.data(), s[1], s[2], p.bias.data(), 127);
      for (RequantMode mode : {RequantMode::kFp32, RequantMode::kFixedPoint}) {
        const Qs8Requant rq = MakeRequant(mode, true, s[1], s[2], rng);
        const auto want = Expected(p, rq);
        for (ThreadPool& pool : pools) {
          CHECK_MSG(Run(*packed, p, rq, &pool) == want, "%s threads=%zu M=%zu N=%zu K=%zu %s",
                    PathName(path), pool.size(), s[0], s[1], s[2], ModeName(mode));
        }
      }
      std::vector<int32_t> want_acc(s[0] * s[1]);
      Qs8GemmAccumulateReference(s[0], s[1], s[2], p.a.data(), p.lda, p.w.data(),
                                 want_acc.data(), s[1]);
      for (ThreadPool& pool : pools) {
        std::vector<int32_t> acc(s[0] * s[1], -1);
        Qs8GemmAccumulate(*packed, s[0], p.a.data(), p.lda, acc.data(), s[1], &pool);
        CHECK_MSG(acc == want_acc, "%s accumulate threads=%zu", PathName(path), pool.size());
      }
    }
  }
}

TEST_CASE("K == 0 gives requantize(bias); a null bias counts as zero") {
  std::mt19937 rng(3);
  for (Path path : TestablePaths()) {
    for (size_t n : {1, 17, 40}) {
      Problem p = MakeProblem(5, n, 0, 7, rng);
      const Qs8Requant rq = MakeRequant(RequantMode::kFp32, true, n, 1, rng);
      const auto with_bias = PackQs8GemmForPath(path, nullptr, n, 0, p.bias.data(), 7);
      CHECK_MSG(Run(*with_bias, p, rq) == Expected(p, rq), "%s n=%zu", PathName(path), n);
      p = MakeProblem(5, n, 11, 7, rng);
      const auto no_bias = PackQs8GemmForPath(path, p.w.data(), n, 11, nullptr, 7);
      CHECK_MSG(Run(*no_bias, p, rq) == Expected(p, rq, false), "%s null bias", PathName(path));
    }
  }
}

TEST_CASE("raw accumulation and column sums, with row strides") {
  std::mt19937 rng(11);
  for (Path path : TestablePaths()) {
    for (size_t m : kMs) {
      for (size_t n : {1, 7, 16, 33}) {
        for (size_t k : {1, 5, 16, 67, 1024}) {
          const Problem p = MakeProblem(m, n, k, -128, rng, 3);
          const auto packed = PackQs8GemmForPath(path, p.w.data(), n, k, p.bias.data(), -128);
          const size_t ldacc = n + 2;
          std::vector<int32_t> acc(m * ldacc + 4, 0x5A5A5A5A), want = acc;
          Qs8GemmAccumulate(*packed, m, p.a.data(), p.lda, acc.data(), ldacc, nullptr);
          Qs8GemmAccumulateReference(m, n, k, p.a.data(), p.lda, p.w.data(), want.data(), ldacc);
          CHECK_MSG(acc == want, "%s M=%zu N=%zu K=%zu", PathName(path), m, n, k);
          const int32_t* sums = Qs8ColumnSums(*packed);
          for (size_t j = 0; j < n; ++j) {
            int32_t s = 0;
            for (size_t r = 0; r < k; ++r) s += p.w[j * k + r];
            CHECK_MSG(sums[j] == s, "%s column %zu", PathName(path), j);
          }
        }
      }
    }
  }
}

TEST_CASE("packed weights report their shape, path and kernel") {
  std::mt19937 rng(1);
  const auto w = RandomInt8(10 * 3, rng);
  for (Path path : TestablePaths()) {
    const auto packed = PackQs8GemmForPath(path, w.data(), 10, 3, nullptr, -5);
    CHECK(Qs8PackedN(*packed) == 10);
    CHECK(Qs8PackedK(*packed) == 3);
    CHECK(Qs8PackedAZeroPoint(*packed) == -5);
    const Qs8GemmConfig* config = Qs8GemmConfigFor(path);
    CHECK(Qs8PackedPath(*packed) == (config ? config->path : Path::kReference));
    std::printf("  %s -> %s\n", PathName(path), Qs8PackedKernelName(*packed));
  }
}

TEST_CASE("weights containing -128 switch to the exact kernel where the fast one pairs products") {
  for (uint32_t i = 0; i < kPathCount; ++i) {
    const Qs8GemmConfig* config = Qs8GemmConfigFor(static_cast<Path>(i));
    if (config == nullptr || !config->needs_weights_above_min) continue;
    std::vector<int8_t> w(4 * 20, -127);
    const auto fast = PackQs8GemmForPath(static_cast<Path>(i), w.data(), 4, 20, nullptr, 0);
    w[37] = -128;
    const auto exact = PackQs8GemmForPath(static_cast<Path>(i), w.data(), 4, 20, nullptr, 0);
    CHECK(std::string(Qs8PackedKernelName(*fast)) == config->name);
    CHECK(std::string(Qs8PackedKernelName(*exact)) == config->exact->name);
  }
}

TEST_CASE("invalid requantization parameters throw std::invalid_argument") {
  std::vector<int8_t> w(6, 1), a(2, 1), c(3);
  const auto packed = PackQs8Gemm(w.data(), 3, 2, nullptr, 0);
  auto throws = [&](Qs8Requant rq) {
    try {
      Qs8Gemm(*packed, 1, a.data(), 2, c.data(), 3, rq, nullptr);
    } catch (const std::invalid_argument&) {
      return true;
    }
    return false;
  };
  Qs8Requant ok;
  ok.scale = std::vector<float>{1.0f};
  CHECK(!throws(ok));
  Qs8Requant r = ok;
  r.scale = std::vector<float>{1.0f, 2.0f};
  CHECK(throws(r));
  r = ok;
  r.scale = std::vector<float>{std::nanf("")};
  CHECK(throws(r));
  r = ok;
  r.qmin = 5;
  r.qmax = 4;
  CHECK(throws(r));
  r = ok;
  r.mode = RequantMode::kFixedPoint;
  CHECK(throws(r));  // no multipliers
  r.multiplier = std::vector<QuantizedMultiplier>{{1 << 30, 32}};
  CHECK(throws(r));
  r.multiplier = std::vector<QuantizedMultiplier>{{-5, 0}};
  CHECK(throws(r));
  r.multiplier = std::vector<QuantizedMultiplier>{{1 << 30, -31}};
  CHECK(!throws(r));
}

// ---- Geometry of every config through the real driver, with scalar stand-in kernels ----

namespace {

const Qs8GemmConfig* g_emulated = nullptr;

// acc(i, j) read from the packed layouts exactly as qs8_gemm_kernels.h defines them.
int32_t EmulatedDot(size_t i, size_t j, size_t mr, size_t kc, const void* a, const int8_t* w) {
  const Qs8GemmConfig& cfg = *g_emulated;
  uint32_t sum = 0;
  for (size_t k = 0; k < kc; ++k) {
    const size_t ai = ((k / cfg.a_kr) * mr + i) * cfg.a_kr + k % cfg.a_kr;
    int32_t av = 0;
    switch (cfg.a_kind) {
      case Qs8PackedAKind::kInt8: av = static_cast<const int8_t*>(a)[ai]; break;
      case Qs8PackedAKind::kInt16: av = static_cast<const int16_t*>(a)[ai]; break;
      case Qs8PackedAKind::kUint8Xor80: av = static_cast<const uint8_t*>(a)[ai]; break;
    }
    const int32_t wv = w[((k / cfg.kr) * cfg.nr + j) * cfg.kr + k % cfg.kr];
    sum += static_cast<uint32_t>(av * wv);
  }
  return static_cast<int32_t>(sum);
}

void EmulatedGemm(size_t mr, size_t nc, size_t kc, const void* a, const int8_t* w,
                  const int32_t* init, int8_t* c, size_t ldc, const Qs8GemmEpilogue& ep) {
  for (size_t i = 0; i < mr; ++i) {
    for (size_t j = 0; j < nc; ++j) {
      const auto acc = static_cast<int32_t>(static_cast<uint32_t>(init[j]) +
                                            static_cast<uint32_t>(EmulatedDot(i, j, mr, kc, a, w)));
      c[i * ldc + j] = Qs8RequantizeOne(acc, ep, j);
    }
  }
}

void EmulatedAccumulate(size_t mr, size_t nc, size_t kc, const void* a, const int8_t* w,
                        const int32_t* init, int32_t* out, size_t ldout) {
  for (size_t i = 0; i < mr; ++i) {
    for (size_t j = 0; j < nc; ++j) {
      out[i * ldout + j] = static_cast<int32_t>(static_cast<uint32_t>(init[j]) +
                                                static_cast<uint32_t>(EmulatedDot(i, j, mr, kc, a, w)));
    }
  }
}

}  // namespace

TEST_CASE("every built config's packing geometry, through the driver with stand-in kernels") {
  std::mt19937 rng(8);
  ThreadPool pool(2);
  for (uint32_t pi = 0; pi < kPathCount; ++pi) {
    const Qs8GemmConfig* real = Qs8GemmConfigFor(static_cast<Path>(pi));
    if (real == nullptr || real->path != static_cast<Path>(pi)) continue;
    for (const Qs8GemmConfig* base : {real, real->exact}) {
      if (base == nullptr) continue;
      static Qs8GemmConfig emulated;  // the packed weights point at it
      emulated = *base;
      emulated.gemm = EmulatedGemm;
      emulated.accumulate = EmulatedAccumulate;
      emulated.needs_weights_above_min = false;
      g_emulated = &emulated;
      size_t checked = 0;
      for (size_t m : {1, 3, 8, 9, 17}) {
        for (size_t n : {1, 5, 16, 17, 33, 40}) {
          for (size_t k : {1, 3, 4, 13, 16, 17, 67}) {
            const int32_t zp = kZeroPoints[(m + n + k) % 3];
            const Problem p = MakeProblem(m, n, k, zp, rng, 1, 1);
            const auto packed =
                PackQs8GemmWithConfig(&emulated, p.w.data(), n, k, p.bias.data(), zp);
            const Qs8Requant rq = MakeRequant(
                (m + k) % 2 ? RequantMode::kFp32 : RequantMode::kFixedPoint, n % 2, n, k, rng);
            CHECK_MSG(Run(*packed, p, rq, &pool) == Expected(p, rq), "%s M=%zu N=%zu K=%zu",
                      base->name, m, n, k);
            std::vector<int32_t> acc(m * n), want(m * n);
            Qs8GemmAccumulate(*packed, m, p.a.data(), p.lda, acc.data(), n, nullptr);
            Qs8GemmAccumulateReference(m, n, k, p.a.data(), p.lda, p.w.data(), want.data(), n);
            CHECK_MSG(acc == want, "%s accumulate M=%zu N=%zu K=%zu", base->name, m, n, k);
            ++checked;
          }
        }
      }
      std::printf("  %s geometry (%ux%uc%u, A in groups of %u): %zu shapes\n", base->name,
                  base->mr, base->nr, base->kr, base->a_kr, checked);
    }
  }
}

TEST_MAIN()
