// Min/max, histogram and float16 conversion: the reference follows the documented rules (checked
// against independent formulations: double arithmetic, exhaustive enumeration), and every built
// and supported path equals the reference bit for bit, for every thread count.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "check.h"
#include "litequant/f16.h"
#include "litequant/tensor_utils.h"
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

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kQNaN = std::numeric_limits<float>::quiet_NaN();
const float kSNaN = F32FromBits(0x7F800001u);
const float kNegNaN = F32FromBits(0xFFC00123u);

// Runs the selected path's whole-buffer functions on `path`, restoring the selection after.
struct PathScope {
  Path before;
  explicit PathScope(Path p) : before(SelectedPath()) {
    const char* why = nullptr;
    SelectPath(p, &why);
  }
  ~PathScope() {
    const char* why = nullptr;
    SelectPath(before, &why);
  }
};

bool SameMinMax(const F32MinMax& a, const F32MinMax& b) {
  return F32Bits(a.min) == F32Bits(b.min) && F32Bits(a.max) == F32Bits(b.max) &&
         a.saw_nan == b.saw_nan && a.saw_inf == b.saw_inf;
}

// Buffers mixing ordinary values with NaNs (quiet, signaling, negative), infinities, signed
// zeros and subnormals at positions that land in vector bodies and scalar tails alike.
std::vector<float> MixedValues(size_t n, std::mt19937& rng, int flavour) {
  std::uniform_real_distribution<float> u(-100.0f, 100.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  if (n == 0) return v;
  const float specials[] = {kQNaN, kSNaN, kNegNaN, kInf, -kInf, 0.0f, -0.0f,
                            std::numeric_limits<float>::denorm_min(), -1e-40f, 3e38f, -3e38f};
  switch (flavour % 6) {
    case 0: break;  // plain
    case 1: v[rng() % n] = specials[rng() % 3]; break;  // one NaN
    case 2: for (float& x : v) x = (rng() % 2) ? 0.0f : -0.0f; break;  // only zeros
    case 3: for (float& x : v) x = specials[rng() % 3]; break;         // only NaN
    case 4: v[rng() % n] = specials[3 + rng() % 2]; v[n - 1] = specials[rng() % 11]; break;
    default:
      for (size_t i = 0; i < n; i += 1 + rng() % 7) v[i] = specials[rng() % 11];
  }
  return v;
}

const size_t kSizes[] = {0, 1, 2, 3, 5, 7, 8, 9, 13, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 1000, 4099};

}  // namespace

// ---------------------------------------------------------------------------------- min/max

TEST_CASE("min/max reference: NaN ignored, infinities counted, zeros reported as +0") {
  const auto& k = kTensorUtilsReference;
  {
    const float x[] = {3.0f, kQNaN, -2.0f, 7.5f, kSNaN};
    F32MinMax r;
    k.minmax(5, x, &r);
    CHECK(r.min == -2.0f && r.max == 7.5f && r.saw_nan && !r.saw_inf);
  }
  {
    const float x[] = {-0.0f, 0.0f, -0.0f};
    F32MinMax r;
    k.minmax(3, x, &r);
    CHECK(F32Bits(r.min) == 0 && F32Bits(r.max) == 0);
  }
  {
    const float x[] = {1.0f, -kInf, 2.0f};
    F32MinMax r;
    k.minmax(3, x, &r);
    CHECK(r.min == -kInf && r.max == 2.0f && r.saw_inf && !r.saw_nan);
  }
  {
    const float x[] = {kQNaN, kQNaN};
    F32MinMax r;
    k.minmax(2, x, &r);
    CHECK(r.min == kInf && r.max == -kInf && r.saw_nan && !r.saw_inf);  // no values
  }
  {
    F32MinMax r;
    k.minmax(0, nullptr, &r);
    CHECK(r.min == kInf && r.max == -kInf && !r.saw_nan && !r.saw_inf);
  }
}

TEST_CASE("min/max: every path equals the reference, streaming and threaded too") {
  std::mt19937 rng(1);
  std::unique_ptr<ThreadPool> pools[] = {std::make_unique<ThreadPool>(2),
                                         std::make_unique<ThreadPool>(3)};
  for (Path path : TestablePaths()) {
    const TensorUtilsKernels& k = TensorUtilsKernelsFor(path);
    for (size_t n : kSizes) {
      for (int flavour = 0; flavour < 12; ++flavour) {
        const std::vector<float> x = MixedValues(n, rng, flavour);
        F32MinMax want, got;
        kTensorUtilsReference.minmax(n, x.data(), &want);
        k.minmax(n, x.data(), &got);
        CHECK_MSG(SameMinMax(want, got), "%s n=%zu flavour=%d: [%g,%g] nan=%d inf=%d vs [%g,%g]",
                  PathName(path), n, flavour, got.min, got.max, got.saw_nan, got.saw_inf,
                  want.min, want.max);
        // Independent check: std::min/max over the non-NaN values.
        float lo = kInf, hi = -kInf;
        bool nan = false, inf = false;
        for (float v : x) {
          if (std::isnan(v)) { nan = true; continue; }
          inf = inf || std::isinf(v);
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
        CHECK(want.min == lo && want.max == hi && want.saw_nan == nan && want.saw_inf == inf);
        // Streaming: two halves fold to the same result.
        F32MinMax halves;
        k.minmax(n / 2, x.data(), &halves);
        k.minmax(n - n / 2, x.data() + n / 2, &halves);
        CHECK_MSG(SameMinMax(want, halves), "%s n=%zu streaming", PathName(path), n);
      }
    }
    PathScope scope(path);
    for (size_t n : {size_t{100000}, size_t{1} << 20}) {
      for (int flavour : {0, 1, 4, 5}) {
        const std::vector<float> x = MixedValues(n, rng, flavour);
        F32MinMax want;
        kTensorUtilsReference.minmax(n, x.data(), &want);
        CHECK(SameMinMax(want, F32MinMaxOf(x.data(), n, nullptr)));
        for (auto& pool : pools) {
          CHECK_MSG(SameMinMax(want, F32MinMaxOf(x.data(), n, pool.get())),
                    "%s n=%zu threads=%zu", PathName(path), n, pool->size());
        }
      }
    }
  }
}

// -------------------------------------------------------------------------------- histogram

TEST_CASE("histogram reference: edges, outside values, infinities, NaN, accumulation") {
  const float lo = -1.0f, hi = 3.0f;
  const uint32_t bins = 4;  // bins of width 1: [-1,0) [0,1) [1,2) [2,3]
  const float scale = F32HistogramScale(lo, hi, bins);
  CHECK(scale == 1.0f);
  const float x[] = {-1.0f, -0.5f, 0.0f, 0.999f, 1.0f, 2.5f, 3.0f,  // in range, hi in last bin
                     -5.0f, 7.0f, -kInf, kInf, kQNaN, kSNaN};        // outside, NaN skipped
  std::vector<uint64_t> counts = {10, 0, 0, 0};
  kTensorUtilsReference.histogram(13, x, lo, scale, bins, counts.data());
  const std::vector<uint64_t> want = {10 + 2 + 2, 2, 1, 2 + 2};
  CHECK_MSG(counts == want, "%llu %llu %llu %llu", (unsigned long long)counts[0],
            (unsigned long long)counts[1], (unsigned long long)counts[2],
            (unsigned long long)counts[3]);
  std::vector<uint64_t> one(1, 0);
  kTensorUtilsReference.histogram(13, x, lo, F32HistogramScale(lo, hi, 1), 1, one.data());
  CHECK(one[0] == 11);
}

TEST_CASE("histogram: every path equals the reference, threaded too") {
  std::mt19937 rng(2);
  const uint32_t bin_counts[] = {1, 2, 7, 100, 256, 2048};
  const float ranges[][2] = {{-50.0f, 50.0f}, {0.0f, 1e-3f}, {-1e6f, 3.0f}, {99.0f, 100.0f}};
  std::unique_ptr<ThreadPool> pools[] = {std::make_unique<ThreadPool>(2),
                                         std::make_unique<ThreadPool>(3)};
  for (Path path : TestablePaths()) {
    const TensorUtilsKernels& k = TensorUtilsKernelsFor(path);
    for (size_t n : kSizes) {
      for (uint32_t bins : bin_counts) {
        for (const auto& r : ranges) {
          std::vector<float> x = MixedValues(n, rng, static_cast<int>(n + bins));
          // Exact bin edges: lo + i * width lands on a boundary (or next to it after rounding).
          for (size_t i = 0; i < n; i += 3) {
            x[i] = r[0] + static_cast<float>(rng() % (bins + 1)) * ((r[1] - r[0]) / bins);
          }
          const float scale = F32HistogramScale(r[0], r[1], bins);
          std::vector<uint64_t> want(bins, 3), got(bins, 3);
          kTensorUtilsReference.histogram(n, x.data(), r[0], scale, bins, want.data());
          k.histogram(n, x.data(), r[0], scale, bins, got.data());
          CHECK_MSG(want == got, "%s n=%zu bins=%u range [%g,%g]", PathName(path), n, bins, r[0],
                    r[1]);
          uint64_t total = 0;
          for (uint64_t c : want) total += c - 3;
          const size_t non_nan = static_cast<size_t>(
              std::count_if(x.begin(), x.end(), [](float v) { return !std::isnan(v); }));
          CHECK(total == non_nan);
        }
      }
    }
    PathScope scope(path);
    const size_t n = size_t{1} << 20;
    const std::vector<float> x = MixedValues(n, rng, 5);
    for (uint32_t bins : {uint32_t{2048}, uint32_t{100}}) {
      std::vector<uint64_t> want(bins, 1);
      kTensorUtilsReference.histogram(n, x.data(), -60.0f, F32HistogramScale(-60.0f, 60.0f, bins),
                                      bins, want.data());
      for (auto& pool : pools) {
        std::vector<uint64_t> got(bins, 1);
        F32Histogram(x.data(), n, -60.0f, 60.0f, bins, got.data(), pool.get());
        CHECK_MSG(want == got, "%s bins=%u threads=%zu", PathName(path), bins, pool->size());
      }
    }
  }
}

// ---------------------------------------------------------------------------------- float16

TEST_CASE("f16 -> f32 reference: known values and exact for every half") {
  CHECK(F32Bits(F16ToF32One(0x3C00)) == F32Bits(1.0f));
  CHECK(F16ToF32One(0x7BFF) == 65504.0f);
  CHECK(F16ToF32One(0x0001) == std::ldexp(1.0f, -24));   // smallest subnormal
  CHECK(F16ToF32One(0x03FF) == std::ldexp(1023.0f, -24));  // largest subnormal
  CHECK(F16ToF32One(0x0400) == std::ldexp(1.0f, -14));   // smallest normal
  CHECK(F32Bits(F16ToF32One(0x8000)) == 0x80000000u);
  CHECK(F16ToF32One(0x7C00) == kInf && F16ToF32One(0xFC00) == -kInf);
  CHECK(F32Bits(F16ToF32One(0x7E00)) == 0x7FC00000u);
  CHECK(F32Bits(F16ToF32One(0x7C01)) == 0x7FC02000u);  // signaling NaN comes back quiet
  CHECK(F32Bits(F16ToF32One(0xFD55)) == 0xFFEAA000u);
  // Independent formula for every finite half: (-1)^s * 2^(e-15) * (1 + m/1024), or subnormal.
  for (uint32_t h = 0; h < 0x10000u; ++h) {
    const uint32_t e = (h >> 10) & 0x1F, m = h & 0x3FF;
    if (e == 0x1F) continue;
    const double mag = e == 0 ? std::ldexp(static_cast<double>(m), -24)
                              : std::ldexp(1.0 + m / 1024.0, static_cast<int>(e) - 15);
    const double want = (h & 0x8000) ? -mag : mag;
    const float got = F16ToF32One(static_cast<uint16_t>(h));
    CHECK_MSG(static_cast<double>(got) == want && std::signbit(got) == ((h & 0x8000) != 0),
              "h=%04x", h);
  }
}

TEST_CASE("f16 -> f32: every path equals the reference on all 65536 halves") {
  std::vector<uint16_t> all(0x10000 + 5);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i * 40503u);  // permuted
  for (uint32_t h = 0; h < 0x10000u; ++h) all[h] = static_cast<uint16_t>(h);
  std::vector<float> want(all.size());
  kTensorUtilsReference.f16_to_f32(all.size(), all.data(), want.data());
  std::unique_ptr<ThreadPool> pool = std::make_unique<ThreadPool>(3);
  for (Path path : TestablePaths()) {
    const TensorUtilsKernels& k = TensorUtilsKernelsFor(path);
    // Every offset, so each half is seen in vector bodies and in scalar tails.
    for (size_t offset : {0, 1, 3, 7}) {
      std::vector<float> got(all.size() - offset + 1, -3.0f);
      k.f16_to_f32(all.size() - offset, all.data() + offset, got.data());
      CHECK_MSG(got.back() == -3.0f, "%s wrote past the end", PathName(path));
      CHECK_MSG(std::memcmp(got.data(), want.data() + offset, (all.size() - offset) * 4) == 0,
                "%s offset %zu", PathName(path), offset);
    }
    PathScope scope(path);
    std::vector<float> got(all.size());
    F16ToF32(all.data(), all.size(), got.data(), pool.get());
    CHECK_MSG(std::memcmp(got.data(), want.data(), all.size() * 4) == 0, "%s threaded",
              PathName(path));
  }
}

namespace {

// f32 -> f16 written independently, with doubles: the nearest half (ties to even), overflow to
// infinity past the midpoint between 65504 and 65536.
uint16_t NearestHalf(float x) {
  const uint32_t b = F32Bits(x);
  const uint16_t sign = static_cast<uint16_t>((b >> 16) & 0x8000u);
  if (std::isnan(x)) return static_cast<uint16_t>(sign | 0x7E00u | ((b >> 13) & 0x3FFu));
  const double a = std::fabs(static_cast<double>(x));
  if (a >= 65520.0) return static_cast<uint16_t>(sign | 0x7C00u);
  // Candidates: the largest half magnitude <= a and the next one up.
  uint16_t lo = 0;
  {
    uint16_t l = 0, r = 0x7BFF;
    while (l < r) {  // binary search over positive finite halves (monotonic in their bits)
      const uint16_t mid = static_cast<uint16_t>((l + r + 1) / 2);
      if (static_cast<double>(F16ToF32One(mid)) <= a) l = mid;
      else r = static_cast<uint16_t>(mid - 1);
    }
    lo = l;
  }
  const double vlo = F16ToF32One(lo);
  if (vlo == a || lo == 0x7BFF) return static_cast<uint16_t>(sign | lo);
  const double vhi = F16ToF32One(static_cast<uint16_t>(lo + 1));
  const double dlo = a - vlo, dhi = vhi - a;
  uint16_t r = lo;
  if (dhi < dlo || (dhi == dlo && (lo & 1))) r = static_cast<uint16_t>(lo + 1);
  return static_cast<uint16_t>(sign | r);
}

std::vector<float> F16EdgeValues() {
  std::vector<float> v;
  for (uint32_t h = 0; h < 0x7C00u; ++h) {  // every positive finite half and its neighbourhood
    const float x = F16ToF32One(static_cast<uint16_t>(h));
    const float next = F16ToF32One(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((static_cast<double>(x) + next) / 2);  // exact tie
    for (float y : {x, mid, std::nextafter(mid, 0.0f), std::nextafter(mid, kInf),
                    std::nextafter(x, 0.0f), std::nextafter(x, kInf)}) {
      v.push_back(y);
      v.push_back(-y);
    }
  }
  const float extra[] = {0.0f, -0.0f, kInf, -kInf, 65504.0f, 65519.996f, 65520.0f, 65536.0f,
                         1e10f, std::numeric_limits<float>::max(), std::ldexp(1.0f, -25),
                         std::nextafter(std::ldexp(1.0f, -25), kInf), std::ldexp(1.0f, -26),
                         std::ldexp(3.0f, -26), std::numeric_limits<float>::denorm_min(),
                         std::numeric_limits<float>::min(), kQNaN, kSNaN, kNegNaN,
                         F32FromBits(0x7FFFFFFFu), F32FromBits(0xFF800001u),
                         F32FromBits(0x7F801FFFu), F32FromBits(0x7FBFE000u)};
  for (float y : extra) {
    v.push_back(y);
    v.push_back(-y);
  }
  return v;
}

}  // namespace

TEST_CASE("f32 -> f16 reference: round to nearest even, overflow, subnormals, NaN") {
  CHECK(F32ToF16One(1.0f) == 0x3C00);
  CHECK(F32ToF16One(65504.0f) == 0x7BFF);
  CHECK(F32ToF16One(65519.99f) == 0x7BFF);
  CHECK(F32ToF16One(65520.0f) == 0x7C00);  // the tie between 65504 and 65536 goes to even (inf)
  CHECK(F32ToF16One(-1e9f) == 0xFC00);
  CHECK(F32ToF16One(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(F32ToF16One(std::ldexp(1.0f, -25)) == 0x0000);  // tie with 0 -> even
  CHECK(F32ToF16One(std::ldexp(3.0f, -25)) == 0x0002);  // 1.5 ulp -> 2 (even)
  CHECK(F32ToF16One(-std::ldexp(1.0f, -26)) == 0x8000);
  CHECK(F32ToF16One(std::ldexp(1023.5f, -24)) == 0x0400);  // rounds up into the normals
  CHECK(F32ToF16One(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);  // tie -> even
  CHECK(F32ToF16One(1.0f + std::ldexp(3.0f, -11)) == 0x3C02);
  CHECK(F32ToF16One(kQNaN) == 0x7E00);
  CHECK(F32ToF16One(kSNaN) == 0x7E00);              // quieted; low payload bits dropped
  CHECK(F32ToF16One(F32FromBits(0xFFC02000u)) == 0xFE01);
  const std::vector<float> edges = F16EdgeValues();
  for (float x : edges) {
    CHECK_MSG(F32ToF16One(x) == NearestHalf(x), "x=%a (%08x): %04x vs %04x", x, F32Bits(x),
              F32ToF16One(x), NearestHalf(x));
  }
  std::mt19937 rng(3);  // random bit patterns, all exponents
  for (int i = 0; i < 200000; ++i) {
    const float x = F32FromBits(static_cast<uint32_t>(rng()));
    CHECK_MSG(F32ToF16One(x) == NearestHalf(x), "x=%a (%08x)", x, F32Bits(x));
  }
  // Round trip: every non-NaN half converts back to itself.
  for (uint32_t h = 0; h < 0x10000u; ++h) {
    const uint16_t back = F32ToF16One(F16ToF32One(static_cast<uint16_t>(h)));
    const bool nan = (h & 0x7C00u) == 0x7C00u && (h & 0x3FFu) != 0;
    CHECK_MSG(back == (nan ? (h | 0x200u) : h), "h=%04x back %04x", h, back);
  }
}

TEST_CASE("f32 -> f16: every path equals the reference (edge cases and a big sample)") {
  std::vector<float> x = F16EdgeValues();
  std::mt19937 rng(4);
  for (int i = 0; i < 1 << 22; ++i) x.push_back(F32FromBits(static_cast<uint32_t>(rng())));
  // A stride over every float bit pattern.
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 65521) x.push_back(F32FromBits(static_cast<uint32_t>(b)));
  std::vector<uint16_t> want(x.size());
  kTensorUtilsReference.f32_to_f16(x.size(), x.data(), want.data());
  std::unique_ptr<ThreadPool> pool = std::make_unique<ThreadPool>(3);
  for (Path path : TestablePaths()) {
    const TensorUtilsKernels& k = TensorUtilsKernelsFor(path);
    for (size_t offset : {0, 1, 5}) {
      const size_t n = x.size() - offset;
      std::vector<uint16_t> got(n + 1, 0xABCD);
      k.f32_to_f16(n, x.data() + offset, got.data());
      CHECK_MSG(got.back() == 0xABCD, "%s wrote past the end", PathName(path));
      size_t bad = 0;
      for (size_t i = 0; i < n; ++i) {
        if (got[i] != want[i + offset]) {
          if (++bad <= 5) {
            std::printf("  %s x=%a (%08x): %04x, reference %04x\n", PathName(path),
                        x[i + offset], F32Bits(x[i + offset]), got[i], want[i + offset]);
          }
        }
      }
      CHECK_MSG(bad == 0, "%s offset %zu: %zu mismatches of %zu", PathName(path), offset, bad, n);
    }
    PathScope scope(path);
    std::vector<uint16_t> got(x.size());
    F32ToF16(x.data(), x.size(), got.data(), pool.get());
    CHECK_MSG(got == want, "%s threaded", PathName(path));
  }
}

TEST_MAIN()
