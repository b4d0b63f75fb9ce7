// float32 CONV_2D (im2col + F32Gemm, or F32Gemm directly for 1x1 stride 1) and
// DEPTHWISE_CONV_2D (indirection rows + the per-path channel-vectorized kernel).
#include "litequant/f32_conv.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "litequant/f32_gemm.h"
#include "litequant/thread_pool.h"

namespace litequant {

namespace {

// Output pixels per im2col block, in multiples of the GEMM's MR (the block's A rows stay in L2
// next to the weights).
constexpr size_t kIm2colTiles = 8;
constexpr size_t kMinParallelMacs = size_t{1} << 16;

Path ResolveDwconvPath(Path path) {
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

const F32DwconvKernels& DwconvTableOf(Path resolved) {
  switch (resolved) {
#ifdef LITEQUANT_BUILT_AVX2
    case Path::kAvx2: return kF32DwconvAvx2;
#endif
#ifdef LITEQUANT_BUILT_AVX512
    case Path::kAvx512: return kF32DwconvAvx512;
#endif
#ifdef LITEQUANT_BUILT_NEON
    case Path::kNeon: return kF32DwconvNeon;
#endif
    default: return kF32DwconvReference;
  }
}

// The input pixel a tap reads, or null for padding.
inline const float* TapInput(const Conv2dGeometry& g, const float* image, size_t channels,
                             size_t oy, size_t ox, size_t ky, size_t kx) {
  const size_t y = oy * g.stride_h + ky * g.dilation_h;  // padded coordinates
  const size_t x = ox * g.stride_w + kx * g.dilation_w;
  if (y < g.pad_top || x < g.pad_left) return nullptr;
  const size_t iy = y - g.pad_top;
  const size_t ix = x - g.pad_left;
  if (iy >= g.in_h || ix >= g.in_w) return nullptr;
  return image + (iy * g.in_w + ix) * channels;
}

}  // namespace

// conv_geometry.h, shared by every convolution (defined here, in core, for the reason the
// header gives).
size_t DilatedKernelSize(size_t kernel, size_t dilation) { return (kernel - 1) * dilation + 1; }

size_t ConvOutputSize(Padding padding, size_t in, size_t kernel, size_t stride, size_t dilation) {
  if (padding == Padding::kSame) return (in + stride - 1) / stride;
  const size_t k = DilatedKernelSize(kernel, dilation);
  return in < k ? 0 : (in - k) / stride + 1;
}

size_t ConvPaddingBefore(size_t in, size_t out, size_t kernel, size_t stride, size_t dilation) {
  const size_t needed = (out - 1) * stride + DilatedKernelSize(kernel, dilation);
  return needed > in ? (needed - in) / 2 : 0;
}

bool ComputeConv2dGeometry(Padding padding, Conv2dGeometry* g) {
  if (g->in_h == 0 || g->in_w == 0 || g->in_c == 0 || g->k_h == 0 || g->k_w == 0 ||
      g->stride_h == 0 || g->stride_w == 0 || g->dilation_h == 0 || g->dilation_w == 0) {
    return false;
  }
  const size_t out_h = ConvOutputSize(padding, g->in_h, g->k_h, g->stride_h, g->dilation_h);
  const size_t out_w = ConvOutputSize(padding, g->in_w, g->k_w, g->stride_w, g->dilation_w);
  if (out_h == 0 || out_w == 0) return false;
  g->out_h = out_h;
  g->out_w = out_w;
  g->pad_top = ConvPaddingBefore(g->in_h, out_h, g->k_h, g->stride_h, g->dilation_h);
  g->pad_left = ConvPaddingBefore(g->in_w, out_w, g->k_w, g->stride_w, g->dilation_w);
  return true;
}

void F32Conv2d(const F32PackedWeights& w, const Conv2dGeometry& g, const float* input,
               float* output, float min, float max, ThreadPool* pool) {
  const size_t n = F32PackedN(w);
  const size_t k = g.k_h * g.k_w * g.in_c;
  const size_t m = g.batch * g.out_h * g.out_w;
  if (F32PackedK(w) != k) {
    throw std::invalid_argument("F32Conv2d: the packed filter's K is not k_h * k_w * in_c");
  }
  if (m == 0 || n == 0) return;
  const bool direct = g.k_h == 1 && g.k_w == 1 && g.stride_h == 1 && g.stride_w == 1 &&
                      g.pad_top == 0 && g.pad_left == 0 && g.out_h == g.in_h && g.out_w == g.in_w;
  if (direct) {
    F32Gemm(w, m, input, g.in_c, output, n, min, max, pool);
    return;
  }
  const size_t rows = kIm2colTiles * F32GemmKernelsFor(F32PackedPath(w)).mr;
  const size_t blocks = (m + rows - 1) / rows;
  const size_t pixels = g.out_h * g.out_w;
  const size_t row_bytes = g.in_c * sizeof(float);
  auto run = [&](size_t begin, size_t end) {
    std::vector<float> a(rows * k);
    for (size_t blk = begin; blk < end; ++blk) {
      const size_t r0 = blk * rows;
      const size_t count = std::min(rows, m - r0);
      for (size_t r = 0; r < count; ++r) {
        const size_t pix = r0 + r;
        const size_t b = pix / pixels;
        const size_t oy = (pix % pixels) / g.out_w;
        const size_t ox = pix % g.out_w;
        const float* image = input + b * g.in_h * g.in_w * g.in_c;
        float* dst = a.data() + r * k;
        for (size_t ky = 0; ky < g.k_h; ++ky) {
          for (size_t kx = 0; kx < g.k_w; ++kx) {
            const float* src = TapInput(g, image, g.in_c, oy, ox, ky, kx);
            if (src != nullptr) std::memcpy(dst, src, row_bytes);
            else std::memset(dst, 0, row_bytes);
            dst += g.in_c;
          }
        }
      }
      F32Gemm(w, count, a.data(), k, output + r0 * n, n, min, max, nullptr);
    }
  };
  const size_t block_macs = rows * n * k;
  if (pool == nullptr || pool->size() == 1 || blocks * block_macs < kMinParallelMacs) {
    run(0, blocks);
    return;
  }
  pool->ParallelFor(blocks, 1, run);
}

class F32PackedDwconv {
 public:
  F32PackedDwconv(const float* filter, const float* bias, size_t k_h, size_t k_w, size_t channels,
                  Path path)
      : k_h_(k_h), k_w_(k_w), channels_(channels), path_(ResolveDwconvPath(path)),
        kernels_(&DwconvTableOf(path_)) {
    const size_t cb = kernels_->channel_block;
    const size_t taps = k_h * k_w;
    const size_t blocks = (channels + cb - 1) / cb;
    const size_t block_stride = (taps + 1) * cb;
    storage_.assign(blocks * block_stride + 16, 0.0f);
    const auto addr = reinterpret_cast<uintptr_t>(storage_.data());
    data_ = storage_.data() + ((64 - addr % 64) % 64) / sizeof(float);
    for (size_t blk = 0; blk < blocks; ++blk) {
      float* dst = data_ + blk * block_stride;
      const size_t c0 = blk * cb;
      const size_t cc = std::min(cb, channels - c0);
      if (bias != nullptr) std::memcpy(dst, bias + c0, cc * sizeof(float));
      for (size_t t = 0; t < taps; ++t) {
        std::memcpy(dst + cb + t * cb, filter + t * channels + c0, cc * sizeof(float));
      }
    }
  }

  size_t k_h() const { return k_h_; }
  size_t k_w() const { return k_w_; }
  size_t channels() const { return channels_; }
  Path path() const { return path_; }
  const F32DwconvKernels& kernels() const { return *kernels_; }
  const float* data() const { return data_; }

 private:
  size_t k_h_, k_w_, channels_;
  Path path_;
  const F32DwconvKernels* kernels_;
  std::vector<float> storage_;
  float* data_ = nullptr;
};

const F32DwconvKernels& F32DwconvKernelsFor(Path path) {
  return DwconvTableOf(ResolveDwconvPath(path));
}

std::shared_ptr<const F32PackedDwconv> PackF32Dwconv(const float* filter, const float* bias,
                                                     size_t k_h, size_t k_w, size_t channels,
                                                     Path path) {
  return std::make_shared<const F32PackedDwconv>(filter, bias, k_h, k_w, channels, path);
}

std::shared_ptr<const F32PackedDwconv> PackF32Dwconv(const float* filter, const float* bias,
                                                     size_t k_h, size_t k_w, size_t channels) {
  return PackF32Dwconv(filter, bias, k_h, k_w, channels, SelectedPath());
}

Path F32PackedDwconvPath(const F32PackedDwconv& w) { return w.path(); }

void F32DepthwiseConv2d(const F32PackedDwconv& w, const Conv2dGeometry& g,
                        size_t depth_multiplier, const float* input, float* output, float min,
                        float max, ThreadPool* pool) {
  const size_t channels = g.in_c * depth_multiplier;
  const size_t taps = g.k_h * g.k_w;
  const size_t rows = g.batch * g.out_h;
  if (w.channels() != channels || w.k_h() != g.k_h || w.k_w() != g.k_w) {
    throw std::invalid_argument("F32DepthwiseConv2d: the packed filter does not match the geometry");
  }
  if (rows == 0 || g.out_w == 0 || channels == 0) return;

  // A depth multiplier > 1 repeats each input channel M times, so the kernel sees M = 1.
  std::vector<float> expanded;
  const float* src = input;
  if (depth_multiplier > 1) {
    const size_t in_pixels = g.batch * g.in_h * g.in_w;
    expanded.resize(in_pixels * channels);
    for (size_t p = 0; p < in_pixels; ++p) {
      const float* from = input + p * g.in_c;
      float* to = expanded.data() + p * channels;
      for (size_t c = 0; c < g.in_c; ++c) {
        for (size_t j = 0; j < depth_multiplier; ++j) to[c * depth_multiplier + j] = from[c];
      }
    }
    src = expanded.data();
  }
  const std::vector<float> zeros(channels, 0.0f);
  const F32DwconvKernels& kern = w.kernels();
  const size_t image = g.in_h * g.in_w * channels;

  const size_t row_stride = g.in_w * channels;
  auto run = [&](size_t begin, size_t end) {
    std::vector<const float*> ptrs(g.out_w * taps);
    std::vector<const float*> rows_in(g.k_h);
    for (size_t r = begin; r < end; ++r) {
      const size_t b = r / g.out_h;
      const size_t oy = r % g.out_h;
      const float* img = src + b * image;
      // The input row of each filter row (null in the padding), then the columns per pixel.
      for (size_t ky = 0; ky < g.k_h; ++ky) {
        const size_t y = oy * g.stride_h + ky * g.dilation_h;  // padded coordinates
        rows_in[ky] = y >= g.pad_top && y - g.pad_top < g.in_h ? img + (y - g.pad_top) * row_stride
                                                              : nullptr;
      }
      for (size_t ox = 0; ox < g.out_w; ++ox) {
        const float** p = ptrs.data() + ox * taps;
        const size_t x0 = ox * g.stride_w;
        for (size_t ky = 0; ky < g.k_h; ++ky) {
          const float* row = rows_in[ky];
          for (size_t kx = 0; kx < g.k_w; ++kx) {
            const size_t x = x0 + kx * g.dilation_w;
            const bool inside = row != nullptr && x >= g.pad_left && x - g.pad_left < g.in_w;
            *p++ = inside ? row + (x - g.pad_left) * channels : zeros.data();
          }
        }
      }
      kern.dwconv(channels, g.out_w, taps, ptrs.data(), w.data(), output + r * g.out_w * channels,
                  channels, min, max);
    }
  };
  const size_t row_macs = g.out_w * channels * taps;
  if (pool == nullptr || pool->size() == 1 || rows * row_macs < kMinParallelMacs) {
    run(0, rows);
    return;
  }
  pool->ParallelFor(rows, std::max<size_t>(1, kMinParallelMacs / (4 * row_macs)), run);
}

}  // namespace litequant
