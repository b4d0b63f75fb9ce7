// Min/max, histogram and float16 conversion over whole buffers: the kernel table per path and
// the split over threads. Min/max and counts merge exactly, so results do not depend on the
// partition.
#include "litequant/tensor_utils.h"

#include <algorithm>
#include <vector>

#include "litequant/thread_pool.h"

namespace litequant {

namespace {

// Elements per chunk below which splitting does not pay.
constexpr size_t kMinChunk = size_t{1} << 15;

const TensorUtilsKernels& Table(Path path) {
  for (;;) {
    switch (path) {
      case Path::kReference: return kTensorUtilsReference;
#ifdef LITEQUANT_BUILT_AVX2
      case Path::kAvx2: return kTensorUtilsAvx2;
#endif
#ifdef LITEQUANT_BUILT_AVX512
      case Path::kAvx512: return kTensorUtilsAvx512;
#endif
#ifdef LITEQUANT_BUILT_NEON
      case Path::kNeon: return kTensorUtilsNeon;
#endif
      default: path = FallbackPath(path);
    }
  }
}

bool Serial(ThreadPool* pool, size_t n) {
  return pool == nullptr || pool->size() == 1 || n < 2 * kMinChunk;
}

// [0, n) cut into `parts` nearly equal slices; slice i is [Slice(i), Slice(i + 1)).
size_t Slice(size_t n, size_t parts, size_t i) { return n / parts * i + std::min(i, n % parts); }

}  // namespace

const TensorUtilsKernels& TensorUtilsKernelsFor(Path path) { return Table(path); }

float F32HistogramScale(float lo, float hi, uint32_t bins) {
  return static_cast<float>(static_cast<double>(bins) /
                            (static_cast<double>(hi) - static_cast<double>(lo)));
}

void F32MinMaxUpdate(const float* x, size_t n, F32MinMax* acc, ThreadPool* pool) {
  const TensorUtilsKernels& k = Table(SelectedPath());
  if (Serial(pool, n)) {
    k.minmax(n, x, acc);
    return;
  }
  const size_t parts = std::min(pool->size(), n / kMinChunk);
  std::vector<F32MinMax> partial(parts);
  pool->ParallelFor(parts, 1, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const size_t lo = Slice(n, parts, i);
      k.minmax(Slice(n, parts, i + 1) - lo, x + lo, &partial[i]);
    }
  });
  // Folding the partial results is exact; zeros are already +0 in each.
  for (const F32MinMax& p : partial) {
    if (p.min < acc->min) acc->min = p.min;
    if (p.max > acc->max) acc->max = p.max;
    acc->saw_nan = acc->saw_nan || p.saw_nan;
    acc->saw_inf = acc->saw_inf || p.saw_inf;
  }
  acc->min = acc->min + 0.0f;
  acc->max = acc->max + 0.0f;
}

F32MinMax F32MinMaxOf(const float* x, size_t n, ThreadPool* pool) {
  F32MinMax acc;
  F32MinMaxUpdate(x, n, &acc, pool);
  return acc;
}

void F32Histogram(const float* x, size_t n, float lo, float hi, uint32_t bins, uint64_t* counts,
                  ThreadPool* pool) {
  const TensorUtilsKernels& k = Table(SelectedPath());
  const float scale = F32HistogramScale(lo, hi, bins);
  // Private counts per slice cost `bins` each; only split when the data dwarfs them.
  if (Serial(pool, n) || n < 8 * static_cast<size_t>(bins)) {
    k.histogram(n, x, lo, scale, bins, counts);
    return;
  }
  const size_t parts = std::min(pool->size(), n / kMinChunk);
  std::vector<uint64_t> partial(parts * bins, 0);
  pool->ParallelFor(parts, 1, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const size_t first = Slice(n, parts, i);
      k.histogram(Slice(n, parts, i + 1) - first, x + first, lo, scale, bins,
                  partial.data() + i * bins);
    }
  });
  for (size_t i = 0; i < parts; ++i) {
    const uint64_t* p = partial.data() + i * bins;
    for (uint32_t b = 0; b < bins; ++b) counts[b] += p[b];
  }
}

void F32ToF16(const float* x, size_t n, uint16_t* y, ThreadPool* pool) {
  const TensorUtilsKernels& k = Table(SelectedPath());
  if (Serial(pool, n)) {
    k.f32_to_f16(n, x, y);
    return;
  }
  pool->ParallelFor(n, kMinChunk, [&](size_t begin, size_t end) {
    k.f32_to_f16(end - begin, x + begin, y + begin);
  });
}

void F16ToF32(const uint16_t* x, size_t n, float* y, ThreadPool* pool) {
  const TensorUtilsKernels& k = Table(SelectedPath());
  if (Serial(pool, n)) {
    k.f16_to_f32(n, x, y);
    return;
  }
  pool->ParallelFor(n, kMinChunk, [&](size_t begin, size_t end) {
    k.f16_to_f32(end - begin, x + begin, y + begin);
  });
}

}  // namespace litequant
