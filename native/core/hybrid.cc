// Hybrid layers: dispatch, packing (the int8 GEMM's packed weights plus scales and bias), and
// the three steps per call: quantize rows, Qs8GemmAccumulate, epilogue.
#include "litequant/hybrid.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "litequant/f32_conv.h"
#include "litequant/qs8_gemm.h"
#include "litequant/thread_pool.h"

namespace litequant {
namespace {

constexpr size_t kConvBlockRows = 256;  // output pixels per im2col block

const HybridKernels& Resolve(Path path, Path* resolved) {
  for (;;) {
    *resolved = path;
    switch (path) {
      case Path::kReference: return kHybridReference;
#ifdef LITEQUANT_BUILT_AVX2
      case Path::kAvx2: return kHybridAvx2;
#endif
#ifdef LITEQUANT_BUILT_NEON
      case Path::kNeon: return kHybridNeon;
#endif
      default: path = FallbackPath(path);
    }
  }
}

// Runs fn(begin, end) over [0, n) on the pool, or inline when there is nothing to split.
template <typename Fn>
void Parallel(ThreadPool* pool, size_t n, size_t grain, const Fn& fn) {
  if (pool == nullptr || pool->size() <= 1 || n <= grain) {
    fn(size_t{0}, n);
    return;
  }
  pool->ParallelFor(n, grain, fn);
}

}  // namespace

const HybridKernels& HybridKernelsFor(Path path) {
  Path resolved;
  return Resolve(path, &resolved);
}

class HybridPackedWeights {
 public:
  Path path = Path::kReference;  // of the hybrid kernels
  const HybridKernels* kernels = nullptr;
  std::shared_ptr<const Qs8PackedWeights> gemm;
  size_t n = 0;
  size_t k = 0;
  std::vector<float> scales;  // 1 or n
  bool scales_differ = false;
  std::vector<float> bias;  // empty: none
};

std::shared_ptr<const HybridPackedWeights> PackHybrid(const int8_t* w, size_t n, size_t k,
                                                      const float* scales, size_t scale_count,
                                                      const float* bias, Path path) {
  if (k == 0 || n == 0 || (scale_count != 1 && scale_count != n)) return nullptr;
  for (size_t i = 0; i < scale_count; ++i) {
    if (!(std::isfinite(scales[i]) && scales[i] > 0.0f)) return nullptr;
  }
  auto p = std::make_shared<HybridPackedWeights>();
  p->kernels = &Resolve(path, &p->path);
  p->gemm = PackQs8GemmForPath(path, w, n, k, nullptr, 0);
  if (!p->gemm) return nullptr;
  p->n = n;
  p->k = k;
  p->scales.assign(scales, scales + scale_count);
  for (size_t i = 1; i < scale_count; ++i) p->scales_differ |= scales[i] != scales[0];
  if (bias != nullptr) p->bias.assign(bias, bias + n);
  return p;
}

std::shared_ptr<const HybridPackedWeights> PackHybrid(const int8_t* w, size_t n, size_t k,
                                                      const float* scales, size_t scale_count,
                                                      const float* bias) {
  return PackHybrid(w, n, k, scales, scale_count, bias, SelectedPath());
}

size_t HybridPackedN(const HybridPackedWeights& w) { return w.n; }
size_t HybridPackedK(const HybridPackedWeights& w) { return w.k; }
Path HybridPackedPath(const HybridPackedWeights& w) { return w.path; }
const char* HybridPackedKernelName(const HybridPackedWeights& w) {
  return Qs8PackedKernelName(*w.gemm);
}
bool HybridPackedPerChannel(const HybridPackedWeights& w) { return w.scales_differ; }

namespace {

// An uninitialized buffer: scratch that is fully written before it is read, so zero-filling
// it (std::vector) would only cost time.
template <typename T>
class Scratch {
 public:
  explicit Scratch(size_t n) : data_(new T[n]) {}
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  std::unique_ptr<T[]> data_;
};

// Scratch for one call: quantized rows, their scales and zero points.
struct Quantized {
  Quantized(size_t rows, size_t k) : q(rows * k), row_scale(rows), offset(rows) {}
  Scratch<int8_t> q;
  Scratch<float> row_scale;
  Scratch<int32_t> offset;
};

// Quantizes m rows of k floats; row_scale is multiplied by the per-tensor weight scale, as
// TFLite folds it into its scaling factors (`scaling_factors_ptr[b] *= filter->params.scale`).
void QuantizeRows(const HybridPackedWeights& w, size_t m, size_t k, const float* x,
                  bool asymmetric, bool fold_weight_scale, Quantized* out, ThreadPool* pool) {
  const HybridKernels& kernels = *w.kernels;
  const size_t grain = std::max<size_t>(1, 4096 / k);
  Parallel(pool, m, grain, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      if (asymmetric) {
        kernels.quantize_row_asymmetric(k, x + i * k, out->q.data() + i * k, &out->row_scale[i],
                                        &out->offset[i]);
      } else {
        kernels.quantize_row_symmetric(k, x + i * k, out->q.data() + i * k, &out->row_scale[i]);
        out->offset[i] = 0;
      }
      if (fold_weight_scale) out->row_scale[i] *= w.scales[0];
    }
  });
}

// The FULLY_CONNECTED / CONV_2D epilogue for rows [0, m); row i uses quantized row
// row_of(i)'s scale and zero point.
// channel_scale: the per-channel weight scales, or null when the per-tensor scale is folded
// into the row scales.
template <typename RowOf>
void FcEpilogues(const HybridPackedWeights& w, size_t m, const int32_t* acc,
                 const Quantized& qz, const RowOf& row_of, const float* channel_scale, float min,
                 float max, float* y, ThreadPool* pool) {
  const int32_t* column_sums = Qs8ColumnSums(*w.gemm);
  const float* bias = w.bias.empty() ? nullptr : w.bias.data();
  const size_t n = w.n;
  Parallel(pool, m, std::max<size_t>(1, 4096 / n), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const size_t r = row_of(i);
      w.kernels->fc_epilogue(n, acc + i * n, column_sums, qz.offset[r], qz.row_scale[r],
                             channel_scale, bias, min, max, y + i * n);
    }
  });
}

}  // namespace

void HybridFullyConnected(const HybridPackedWeights& w, size_t m, const float* x, float* y,
                          bool asymmetric, float min, float max, ThreadPool* pool) {
  if (m == 0) return;
  Quantized qz(m, w.k);
  const bool per_channel = w.scales.size() > 1;
  QuantizeRows(w, m, w.k, x, asymmetric, !per_channel, &qz, pool);
  Scratch<int32_t> acc(m * w.n);
  Qs8GemmAccumulate(*w.gemm, m, qz.q.data(), w.k, acc.data(), w.n, pool);
  FcEpilogues(w, m, acc.data(), qz, [](size_t i) { return i; },
              per_channel ? w.scales.data() : nullptr, min, max, y, pool);
}

void HybridBatchMatMul(const HybridPackedWeights& w, size_t m, const float* x, float* y,
                       bool asymmetric, ThreadPool* pool) {
  if (m == 0) return;
  Quantized qz(m, w.k);
  const bool per_channel = w.scales.size() > 1;
  QuantizeRows(w, m, w.k, x, asymmetric, !per_channel, &qz, pool);
  Scratch<int32_t> acc(m * w.n);
  Qs8GemmAccumulate(*w.gemm, m, qz.q.data(), w.k, acc.data(), w.n, pool);
  const int32_t* column_sums = Qs8ColumnSums(*w.gemm);
  const float* channel_scale = per_channel ? w.scales.data() : nullptr;
  const size_t n = w.n;
  Parallel(pool, m, std::max<size_t>(1, 4096 / n), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      w.kernels->bmm_epilogue(n, acc.data() + i * n, column_sums, qz.offset[i], qz.row_scale[i],
                              channel_scale, y + i * n);
    }
  });
}

void HybridConv2d(const HybridPackedWeights& w, const Conv2dGeometry& g, const float* input,
                  float* output, float min, float max, ThreadPool* pool) {
  const size_t n = w.n;
  const size_t k = g.k_h * g.k_w * g.in_c;
  const size_t pixels = g.out_h * g.out_w;
  const size_t m = g.batch * pixels;
  if (m == 0) return;
  // TFLite: per-channel (differing scales) quantizes each image asymmetrically, otherwise
  // symmetrically with the per-tensor scale (scales[0] when all are equal) folded in.
  const bool asymmetric = w.scales_differ;
  const size_t image = g.in_h * g.in_w * g.in_c;
  Quantized qz(g.batch, image);
  QuantizeRows(w, g.batch, image, input, asymmetric, !asymmetric, &qz, pool);
  const bool direct = g.k_h == 1 && g.k_w == 1 && g.stride_h == 1 && g.stride_w == 1 &&
                      g.pad_top == 0 && g.pad_left == 0 && g.out_h == g.in_h &&
                      g.out_w == g.in_w;
  const float* channel_scale = asymmetric ? w.scales.data() : nullptr;
  const auto row_of = [pixels](size_t i) { return i / pixels; };
  if (direct) {
    Scratch<int32_t> acc(m * n);
    Qs8GemmAccumulate(*w.gemm, m, qz.q.data(), k, acc.data(), n, pool);
    FcEpilogues(w, m, acc.data(), qz, row_of, channel_scale, min, max, output, pool);
    return;
  }
  // im2col of int8 rows in blocks (bounded scratch); padding taps hold the image's zero point
  // (0 when symmetric), so they cancel against offset * colsum. The first block's rows are
  // split over the pool by the GEMM; with several blocks, blocks go to threads whole.
  const size_t block = std::max<size_t>(kConvBlockRows, 1);
  const size_t blocks = (m + block - 1) / block;
  const auto run = [&](size_t begin, size_t end, ThreadPool* inner) {
    Scratch<int8_t> cols(std::min(block, m) * k);
    Scratch<int32_t> acc(std::min(block, m) * n);
    for (size_t blk = begin; blk < end; ++blk) {
      const size_t r0 = blk * block;
      const size_t rows = std::min(block, m - r0);
      for (size_t r = 0; r < rows; ++r) {
        const size_t pix = r0 + r;
        const size_t b = pix / pixels;
        const size_t oy = (pix % pixels) / g.out_w;
        const size_t ox = pix % g.out_w;
        const auto pad = static_cast<int8_t>(qz.offset[b]);
        const int8_t* img = qz.q.data() + b * image;
        int8_t* row = cols.data() + r * k;
        const ptrdiff_t y0 =
            static_cast<ptrdiff_t>(oy * g.stride_h) - static_cast<ptrdiff_t>(g.pad_top);
        const ptrdiff_t x0 =
            static_cast<ptrdiff_t>(ox * g.stride_w) - static_cast<ptrdiff_t>(g.pad_left);
        // A filter row inside the image horizontally (dilation_w 1) is contiguous in NHWC:
        // one copy instead of one per tap.
        const bool x_inside = g.dilation_w == 1 && x0 >= 0 &&
                              x0 + static_cast<ptrdiff_t>(g.k_w) <= static_cast<ptrdiff_t>(g.in_w);
        for (size_t ky = 0; ky < g.k_h; ++ky) {
          const ptrdiff_t iy = y0 + static_cast<ptrdiff_t>(ky * g.dilation_h);
          if (x_inside && iy >= 0 && iy < static_cast<ptrdiff_t>(g.in_h)) {
            std::memcpy(row,
                        img + (static_cast<size_t>(iy) * g.in_w + static_cast<size_t>(x0)) * g.in_c,
                        g.k_w * g.in_c);
            row += g.k_w * g.in_c;
            continue;
          }
          for (size_t kx = 0; kx < g.k_w; ++kx, row += g.in_c) {
            const ptrdiff_t ix = x0 + static_cast<ptrdiff_t>(kx * g.dilation_w);
            if (iy < 0 || iy >= static_cast<ptrdiff_t>(g.in_h) || ix < 0 ||
                ix >= static_cast<ptrdiff_t>(g.in_w)) {
              std::memset(row, pad, g.in_c);
            } else {
              std::memcpy(
                  row, img + (static_cast<size_t>(iy) * g.in_w + static_cast<size_t>(ix)) * g.in_c,
                  g.in_c);
            }
          }
        }
      }
      Qs8GemmAccumulate(*w.gemm, rows, cols.data(), k, acc.data(), n, inner);
      for (size_t r = 0; r < rows; ++r) {
        const size_t b = row_of(r0 + r);
        w.kernels->fc_epilogue(n, acc.data() + r * n, Qs8ColumnSums(*w.gemm), qz.offset[b],
                               qz.row_scale[b], channel_scale,
                               w.bias.empty() ? nullptr : w.bias.data(), min, max,
                               output + (r0 + r) * n);
      }
    }
  };
  if (blocks == 1 || pool == nullptr || pool->size() <= 1) {
    run(0, blocks, pool);
  } else {
    pool->ParallelFor(blocks, 1, [&](size_t begin, size_t end) { run(begin, end, nullptr); });
  }
}

void HybridGemmReference(int op, const int8_t* w, size_t n, size_t k, const float* scales,
                         size_t scale_count, const float* bias, size_t m, const float* x,
                         float* y, bool asymmetric, float min, float max) {
  const HybridKernels& r = kHybridReference;
  const bool per_channel = scale_count > 1;
  std::vector<int8_t> q(k);
  std::vector<int32_t> acc(n), column_sums(n);
  for (size_t j = 0; j < n; ++j) {
    int32_t s = 0;
    for (size_t kk = 0; kk < k; ++kk) s += w[j * k + kk];
    column_sums[j] = s;
  }
  for (size_t i = 0; i < m; ++i) {
    float scale = 1.0f;
    int32_t offset = 0;
    if (asymmetric) r.quantize_row_asymmetric(k, x + i * k, q.data(), &scale, &offset);
    else r.quantize_row_symmetric(k, x + i * k, q.data(), &scale);
    if (!per_channel) scale *= scales[0];
    for (size_t j = 0; j < n; ++j) {
      uint32_t sum = 0;  // int32 with wrap-around
      for (size_t kk = 0; kk < k; ++kk) {
        sum += static_cast<uint32_t>(static_cast<int32_t>(q[kk]) * w[j * k + kk]);
      }
      acc[j] = static_cast<int32_t>(sum);
    }
    if (op == 0) {
      r.fc_epilogue(n, acc.data(), column_sums.data(), offset, scale,
                    per_channel ? scales : nullptr, bias, min, max, y + i * n);
    } else {
      r.bmm_epilogue(n, acc.data(), column_sums.data(), offset, scale,
                     per_channel ? scales : nullptr, y + i * n);
    }
  }
}

}  // namespace litequant
