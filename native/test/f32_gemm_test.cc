// float32 GEMM: the reference path equals a plain triple loop with the documented summation order
// bit for bit; every other built and supported path stays within the bound derived below; results
// do not depend on the thread count.
//
// Tolerance. Every path computes out = bias + sum_k a_k*w_k as one chain in ascending k. The
// reference rounds each product and each sum (u = 2^-24 per operation), an FMA path rounds once
// per step. With S = |bias| + sum_k |a_k*w_k| (exact) and gamma(j) = j*u / (1 - j*u), the classic
// recursive-summation bound gives |ref - exact| <= gamma(K+1)*S (K rounded products plus K
// rounded sums, each operand carried through at most K+1 roundings) and |fma - exact| <=
// gamma(K)*S. So |fma - ref| <= 2*gamma(K+1)*S, and the activation clamp (1-Lipschitz) keeps it.
// Underflow adds at most one subnormal spacing (2^-149) per operation: + 2*(2K+1)*2^-149.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "check.h"
#include "litequant/f32_gemm.h"
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

double Gamma(size_t j) {
  const double u = std::ldexp(1.0, -24);
  return static_cast<double>(j) * u / (1.0 - static_cast<double>(j) * u);
}

double Tolerance(size_t k, double abs_sum) {
  return 2.0 * Gamma(k + 1) * abs_sum + 2.0 * static_cast<double>(2 * k + 1) * std::ldexp(1.0, -149);
}

struct Problem {
  size_t m, n, k, lda, ldc;
  std::vector<float> a, w, bias;
  bool has_bias;
  float min, max;
};

// A in [-1, 1]; W rows scaled by 10^(n % 7 - 3) (per-channel magnitudes spanning six orders of
// magnitude, as real per-channel weights do); bias of the row's magnitude.
Problem MakeProblem(size_t m, size_t n, size_t k, std::mt19937& rng, bool has_bias, float min,
                    float max, size_t pad_a = 0, size_t pad_c = 0) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Problem p{m, n, k, k + pad_a, n + pad_c, {}, {}, {}, has_bias, min, max};
  p.a.resize(m * p.lda);
  for (float& x : p.a) x = u(rng);
  p.w.resize(n * k);
  p.bias.resize(n);
  for (size_t j = 0; j < n; ++j) {
    const float scale = std::pow(10.0f, static_cast<float>(static_cast<int>(j % 7) - 3));
    for (size_t kk = 0; kk < k; ++kk) p.w[j * k + kk] = u(rng) * scale;
    p.bias[j] = u(rng) * scale;
  }
  return p;
}

// The documented numerics written out: bias, then ascending k, separate multiply and add.
float PlainOne(const Problem& p, size_t i, size_t j) {
  float acc = p.has_bias ? p.bias[j] : 0.0f;
  for (size_t kk = 0; kk < p.k; ++kk) acc = acc + p.a[i * p.lda + kk] * p.w[j * p.k + kk];
  return acc < p.min ? p.min : (acc > p.max ? p.max : acc);
}

double AbsSum(const Problem& p, size_t i, size_t j) {
  double s = p.has_bias ? std::fabs(static_cast<double>(p.bias[j])) : 0.0;
  for (size_t kk = 0; kk < p.k; ++kk) {
    s += std::fabs(static_cast<double>(p.a[i * p.lda + kk]) * p.w[j * p.k + kk]);
  }
  return s;
}

constexpr float kGuard = -12345.0f;

std::vector<float> Run(const Problem& p, Path path, ThreadPool* pool) {
  auto packed = PackF32Gemm(p.w.data(), p.n, p.k, p.has_bias ? p.bias.data() : nullptr, path);
  std::vector<float> c(p.m * p.ldc + 1, kGuard);  // +1 and the row padding guard overruns
  F32Gemm(*packed, p.m, p.a.data(), p.lda, c.data(), p.ldc, p.min, p.max, pool);
  return c;
}

bool SameFloat(float x, float y) { return (std::isnan(x) && std::isnan(y)) || x == y; }

// Checks the padding of C and the trailing guard were not written.
bool GuardsIntact(const Problem& p, const std::vector<float>& c) {
  for (size_t i = 0; i < p.m; ++i) {
    for (size_t j = p.n; j < p.ldc; ++j) {
      if (c[i * p.ldc + j] != kGuard) return false;
    }
  }
  return c.back() == kGuard;
}

const size_t kMs[] = {1, 2, 3, 4, 5, 6, 7, 8, 11, 13, 17, 31};
const size_t kNs[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 64, 67, 130, 161};
const size_t kKs[] = {0, 1, 2, 3, 4, 5, 7, 11, 13, 16, 17, 37, 64, 129};
const float kClamps[][2] = {{-kInf, kInf}, {0.0f, 6.0f}, {-1.0f, 1.0f}, {0.0f, kInf}};

}  // namespace

TEST_CASE("reference path equals the plain loop bit for bit over the edge-case matrix") {
  std::mt19937 rng(1);
  size_t cases = 0;
  for (size_t m : kMs) {
    for (size_t n : kNs) {
      for (size_t k : kKs) {
        const auto& clamp = kClamps[cases % 4];
        const Problem p = MakeProblem(m, n, k, rng, cases % 5 != 0, clamp[0], clamp[1],
                                      cases % 3, cases % 2);
        ++cases;
        const std::vector<float> c = Run(p, Path::kReference, nullptr);
        CHECK_MSG(GuardsIntact(p, c), "m=%zu n=%zu k=%zu wrote outside C", m, n, k);
        for (size_t i = 0; i < m; ++i) {
          for (size_t j = 0; j < n; ++j) {
            const float want = PlainOne(p, i, j);
            const float got = c[i * p.ldc + j];
            CHECK_MSG(std::memcmp(&want, &got, sizeof(float)) == 0,
                      "m=%zu n=%zu k=%zu at (%zu,%zu): got %.9g want %.9g", m, n, k, i, j, got,
                      want);
          }
        }
      }
    }
  }
}

TEST_CASE("every path stays within 2*gamma(K+1)*sum|terms| of the reference") {
  for (Path path : TestablePaths()) {
    std::mt19937 rng(2);
    size_t cases = 0;
    double worst = 0.0;  // largest |diff| / tolerance seen
    for (size_t m : kMs) {
      for (size_t n : kNs) {
        for (size_t k : kKs) {
          const auto& clamp = kClamps[cases % 4];
          const Problem p = MakeProblem(m, n, k, rng, cases % 5 != 0, clamp[0], clamp[1],
                                        cases % 3, cases % 2);
          ++cases;
          const std::vector<float> want = Run(p, Path::kReference, nullptr);
          const std::vector<float> got = Run(p, path, nullptr);
          CHECK_MSG(GuardsIntact(p, got), "%s m=%zu n=%zu k=%zu wrote outside C", PathName(path),
                    m, n, k);
          for (size_t i = 0; i < m; ++i) {
            for (size_t j = 0; j < n; ++j) {
              const double diff = std::fabs(static_cast<double>(got[i * p.ldc + j]) -
                                            want[i * p.ldc + j]);
              const double tol = Tolerance(k, AbsSum(p, i, j));
              if (tol > 0) worst = std::max(worst, diff / tol);
              CHECK_MSG(diff <= tol, "%s m=%zu n=%zu k=%zu (%zu,%zu): got %.9g want %.9g tol %g",
                        PathName(path), m, n, k, i, j, got[i * p.ldc + j], want[i * p.ldc + j],
                        tol);
            }
          }
        }
      }
    }
    std::printf("  %s: %s, worst |diff|/tolerance %.3f over %zu shapes\n", PathName(path),
                F32GemmKernelsFor(path).name, worst, cases);
  }
}

TEST_CASE("a row's result does not depend on M (batch) or on the path's tiling") {
  std::mt19937 rng(3);
  for (Path path : TestablePaths()) {
    const Problem big = MakeProblem(29, 150, 53, rng, true, -kInf, kInf);
    const std::vector<float> all = Run(big, path, nullptr);
    for (size_t i = 0; i < big.m; i += 4) {
      Problem one = big;
      one.m = 1;
      one.a.assign(big.a.begin() + i * big.lda, big.a.begin() + (i + 1) * big.lda);
      const std::vector<float> row = Run(one, path, nullptr);
      CHECK_MSG(std::memcmp(row.data(), all.data() + i * big.ldc, big.n * sizeof(float)) == 0,
                "%s row %zu", PathName(path), i);
    }
  }
}

TEST_CASE("NaN and infinities propagate as in the reference; the clamp keeps NaN") {
  for (Path path : TestablePaths()) {
    std::mt19937 rng(4);
    Problem p = MakeProblem(7, 19, 9, rng, true, -kInf, kInf);
    p.a[0 * p.lda + 3] = std::numeric_limits<float>::quiet_NaN();  // row 0 all NaN
    p.a[2 * p.lda + 1] = kInf;                                     // row 2: +-inf or NaN
    p.w[5 * p.k + 1] = 0.0f;                                       // inf * 0 = NaN in column 5
    p.bias[7] = -kInf;                                             // column 7: -inf (or NaN)
    for (const auto& clamp : kClamps) {
      p.min = clamp[0];
      p.max = clamp[1];
      const std::vector<float> want = Run(p, Path::kReference, nullptr);
      const std::vector<float> got = Run(p, path, nullptr);
      for (size_t i = 0; i < p.m; ++i) {
        for (size_t j = 0; j < p.n; ++j) {
          const float w = want[i * p.ldc + j];
          const float g = got[i * p.ldc + j];
          if (std::isfinite(w)) continue;  // finite ones are covered by the tolerance test
          CHECK_MSG(SameFloat(w, g), "%s (%zu,%zu) clamp [%g,%g]: got %g want %g", PathName(path),
                    i, j, p.min, p.max, g, w);
        }
      }
      CHECK(std::isnan(want[0]));
    }
  }
}

TEST_CASE("results are identical for every thread count") {
  std::mt19937 rng(5);
  const size_t shapes[][3] = {{1, 1024, 256}, {16, 256, 300}, {128, 96, 1024}, {67, 45, 77}};
  std::unique_ptr<ThreadPool> pools[] = {std::make_unique<ThreadPool>(1),
                                         std::make_unique<ThreadPool>(2),
                                         std::make_unique<ThreadPool>(3),
                                         std::make_unique<ThreadPool>(5)};
  for (Path path : TestablePaths()) {
    for (const auto& s : shapes) {
      const Problem p = MakeProblem(s[0], s[1], s[2], rng, true, 0.0f, 6.0f);
      const std::vector<float> serial = Run(p, path, nullptr);
      for (auto& pool : pools) {
        const std::vector<float> threaded = Run(p, path, pool.get());
        CHECK_MSG(std::memcmp(serial.data(), threaded.data(), serial.size() * sizeof(float)) == 0,
                  "%s m=%zu n=%zu k=%zu threads=%zu", PathName(path), p.m, p.n, p.k, pool->size());
      }
    }
  }
}

TEST_CASE("packing follows the fallback chain and keeps the packed path") {
  const float w[6] = {1, 2, 3, 4, 5, 6};
  for (uint32_t i = 0; i < kPathCount; ++i) {
    const Path p = static_cast<Path>(i);
    auto packed = PackF32Gemm(w, 2, 3, nullptr, p);
    CHECK(PathBuilt(F32PackedPath(*packed)));
    CHECK(F32PackedN(*packed) == 2 && F32PackedK(*packed) == 3);
    CHECK(std::strcmp(F32GemmKernelsFor(p).name, F32GemmKernelsFor(F32PackedPath(*packed)).name) ==
          0);
  }
  // A hand-checked product: [1 2 3; 4 5 6] x [1 1 1]^T + [10, 20].
  const float a[3] = {1, 1, 1};
  const float bias[2] = {10, 20};
  for (Path path : TestablePaths()) {
    auto packed = PackF32Gemm(w, 2, 3, bias, path);
    float c[2] = {0, 0};
    F32Gemm(*packed, 1, a, 3, c, 2, -kInf, kInf, nullptr);
    CHECK_MSG(c[0] == 16.0f && c[1] == 35.0f, "%s: %g %g", PathName(path), c[0], c[1]);
  }
}

TEST_MAIN()
