// float32 GEMM: weight packing per path, the kernel table, and tiling over threads.
//
// Work is split into units of (block of panels, tile of MR rows), ordered block-major: a thread's
// contiguous run of units reuses one block of packed weights (sized to stay in L2) across row
// tiles, and each row tile stays in L1 across the panels of the block. Every output is computed
// by one kernel call whatever the partition, so results do not depend on the thread count.
#include "litequant/f32_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "litequant/thread_pool.h"

namespace litequant {

namespace {

// Bytes of packed weights a block of panels may use (half of a 512 KiB L2).
constexpr size_t kBlockBytes = 256 * 1024;
// Below this many multiply-adds a call runs on the calling thread.
constexpr size_t kMinParallelMacs = size_t{1} << 16;

// The built path whose table F32GemmKernelsFor(path) returns.
Path ResolveGemmPath(Path path) {
  for (;;) {
    switch (path) {
      case Path::kReference: return path;
#ifdef LITEQUANT_BUILT_AVX2
      case Path::kAvx2: return path;
#endif
#ifdef LITEQUANT_BUILT_AVX512
      case Path::kAvx512: return path;
#endif
#ifdef LITEQUANT_BUILT_NEON
      case Path::kNeon: return path;
#endif
      default: path = FallbackPath(path);
    }
  }
}

const F32GemmKernels& TableOf(Path resolved) {
  switch (resolved) {
#ifdef LITEQUANT_BUILT_AVX2
    case Path::kAvx2: return kF32GemmAvx2;
#endif
#ifdef LITEQUANT_BUILT_AVX512
    case Path::kAvx512: return kF32GemmAvx512;
#endif
#ifdef LITEQUANT_BUILT_NEON
    case Path::kNeon: return kF32GemmNeon;
#endif
    default: return kF32GemmReference;
  }
}

}  // namespace

const F32GemmKernels& F32GemmKernelsFor(Path path) { return TableOf(ResolveGemmPath(path)); }

class F32PackedWeights {
 public:
  F32PackedWeights(const float* w, size_t n, size_t k, const float* bias, Path path)
      : n_(n), k_(k), path_(ResolveGemmPath(path)), kernels_(&TableOf(path_)) {
    const size_t nr = kernels_->nr;
    panels_ = (n + nr - 1) / nr;
    panel_stride_ = (k + 1) * nr;
    storage_.assign(panels_ * panel_stride_ + 16, 0.0f);  // zero padding for the last panel
    const auto addr = reinterpret_cast<uintptr_t>(storage_.data());
    data_ = storage_.data() + ((64 - addr % 64) % 64) / sizeof(float);
    for (size_t p = 0; p < panels_; ++p) {
      float* panel = data_ + p * panel_stride_;
      const size_t n0 = p * nr;
      const size_t nc = std::min(nr, n - n0);
      if (bias != nullptr) std::memcpy(panel, bias + n0, nc * sizeof(float));
      float* dst = panel + nr;
      for (size_t kk = 0; kk < k; ++kk) {
        for (size_t j = 0; j < nc; ++j) dst[kk * nr + j] = w[(n0 + j) * k + kk];
      }
    }
  }

  size_t n() const { return n_; }
  size_t k() const { return k_; }
  Path path() const { return path_; }
  const F32GemmKernels& kernels() const { return *kernels_; }
  size_t panels() const { return panels_; }
  const float* panel(size_t p) const { return data_ + p * panel_stride_; }
  size_t panel_stride() const { return panel_stride_; }
  size_t panel_bytes() const { return panel_stride_ * sizeof(float); }

 private:
  size_t n_, k_;
  Path path_;
  const F32GemmKernels* kernels_;
  size_t panels_ = 0;
  size_t panel_stride_ = 0;
  std::vector<float> storage_;
  float* data_ = nullptr;
};

std::shared_ptr<const F32PackedWeights> PackF32Gemm(const float* w, size_t n, size_t k,
                                                    const float* bias, Path path) {
  return std::make_shared<const F32PackedWeights>(w, n, k, bias, path);
}

std::shared_ptr<const F32PackedWeights> PackF32Gemm(const float* w, size_t n, size_t k,
                                                    const float* bias) {
  return PackF32Gemm(w, n, k, bias, SelectedPath());
}

size_t F32PackedN(const F32PackedWeights& w) { return w.n(); }
size_t F32PackedK(const F32PackedWeights& w) { return w.k(); }
Path F32PackedPath(const F32PackedWeights& w) { return w.path(); }

void F32Gemm(const F32PackedWeights& w, size_t m, const float* a, size_t lda, float* c, size_t ldc,
             float min, float max, ThreadPool* pool) {
  const size_t n = w.n();
  const size_t k = w.k();
  if (m == 0 || n == 0) return;
  const F32GemmKernels& kern = w.kernels();
  const size_t mr = kern.mr;
  const size_t nr = kern.nr;
  const size_t tiles = (m + mr - 1) / mr;
  const size_t per_block = std::max<size_t>(1, kBlockBytes / w.panel_bytes());
  const size_t blocks = (w.panels() + per_block - 1) / per_block;
  const size_t units = blocks * tiles;

  auto run = [&](size_t begin, size_t end) {
    for (size_t u = begin; u < end; ++u) {
      const size_t b = u / tiles;
      const size_t t = u % tiles;
      const size_t m0 = t * mr;
      const size_t rows = std::min(mr, m - m0);
      const size_t p_end = std::min(w.panels(), (b + 1) * per_block);
      if (rows == 1 && kern.gemv != nullptr) {
        const size_t n0 = b * per_block * nr;
        kern.gemv(std::min(n, p_end * nr) - n0, k, a + m0 * lda, w.panel(b * per_block),
                  w.panel_stride(), c + m0 * ldc + n0, min, max);
        continue;
      }
      for (size_t p = b * per_block; p < p_end; ++p) {
        const size_t n0 = p * nr;
        kern.gemm(rows, std::min(nr, n - n0), k, a + m0 * lda, lda, w.panel(p), c + m0 * ldc + n0,
                  ldc, min, max);
      }
    }
  };
  const size_t unit_macs = mr * nr * per_block * (k + 1);
  if (pool == nullptr || pool->size() == 1 || units * unit_macs < kMinParallelMacs) {
    run(0, units);
    return;
  }
  pool->ParallelFor(units, std::max<size_t>(1, kMinParallelMacs / unit_macs), run);
}

}  // namespace litequant
