// int16x8 CONV_2D: im2col into per-thread blocks of rows, then the qs16 GEMM on each block
// (or the GEMM on the input directly for 1x1 filters with stride 1 and no padding).
#include "litequant/qs16_conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "litequant/thread_pool.h"

namespace litequant {
namespace {

constexpr size_t kIm2colRows = 64;  // output pixels per im2col block

// The K = k_h * k_w * in_c values of output pixel (b, oy, ox), 0 for padding taps.
void Im2colRow(const Conv2dGeometry& g, const int16_t* input, size_t b, size_t oy, size_t ox,
               int16_t* row) {
  const ptrdiff_t y0 = static_cast<ptrdiff_t>(oy * g.stride_h) - static_cast<ptrdiff_t>(g.pad_top);
  const ptrdiff_t x0 = static_cast<ptrdiff_t>(ox * g.stride_w) - static_cast<ptrdiff_t>(g.pad_left);
  const size_t c = g.in_c;
  // With dilation_w 1 and the window inside the image horizontally, a filter row's taps are
  // contiguous in NHWC: one copy per filter row instead of one per tap (small in_c).
  const bool x_inside = g.dilation_w == 1 && x0 >= 0 &&
                        x0 + static_cast<ptrdiff_t>(g.k_w) <= static_cast<ptrdiff_t>(g.in_w);
  for (size_t ky = 0; ky < g.k_h; ++ky) {
    const ptrdiff_t y = y0 + static_cast<ptrdiff_t>(ky * g.dilation_h);
    if (x_inside && y >= 0 && y < static_cast<ptrdiff_t>(g.in_h)) {
      const int16_t* src =
          input + ((b * g.in_h + static_cast<size_t>(y)) * g.in_w + static_cast<size_t>(x0)) * c;
      std::memcpy(row, src, g.k_w * c * sizeof(int16_t));
      row += g.k_w * c;
      continue;
    }
    for (size_t kx = 0; kx < g.k_w; ++kx, row += c) {
      const ptrdiff_t x = x0 + static_cast<ptrdiff_t>(kx * g.dilation_w);
      if (y < 0 || y >= static_cast<ptrdiff_t>(g.in_h) || x < 0 ||
          x >= static_cast<ptrdiff_t>(g.in_w)) {
        std::memset(row, 0, c * sizeof(int16_t));
        continue;
      }
      const int16_t* src =
          input + ((b * g.in_h + static_cast<size_t>(y)) * g.in_w + static_cast<size_t>(x)) * c;
      std::memcpy(row, src, c * sizeof(int16_t));
    }
  }
}

// The per-element view of `requant` that Qs16RequantizeOne takes (points into it).
Qs16RequantParams RequantParamsOf(const Qs16Requant& requant) {
  Qs16RequantParams rq;
  rq.mode = requant.mode;
  rq.multiplier = requant.multiplier.data();
  rq.shift = requant.shift.data();
  rq.scale = requant.scale.data();
  rq.qmin = requant.qmin;
  rq.qmax = requant.qmax;
  return rq;
}

}  // namespace

void Qs16Conv2d(const Qs16PackedWeights& w, const Conv2dGeometry& g, const int16_t* input,
                int16_t* output, const Qs16Requant& requant, ThreadPool* pool) {
  const size_t n = Qs16PackedN(w);
  const size_t k = g.k_h * g.k_w * g.in_c;
  const size_t m = g.batch * g.out_h * g.out_w;
  if (m == 0 || n == 0) return;
  const bool direct = g.k_h == 1 && g.k_w == 1 && g.stride_h == 1 && g.stride_w == 1 &&
                      g.pad_top == 0 && g.pad_left == 0 && g.out_h == g.in_h &&
                      g.out_w == g.in_w;
  if (direct) {
    Qs16Gemm(w, m, input, g.in_c, output, n, requant, pool);
    return;
  }
  const size_t pixels = g.out_h * g.out_w;
  const size_t blocks = (m + kIm2colRows - 1) / kIm2colRows;
  const auto run = [&](size_t begin, size_t end) {
    std::vector<int16_t> a(kIm2colRows * k);
    for (size_t blk = begin; blk < end; ++blk) {
      const size_t r0 = blk * kIm2colRows;
      const size_t count = std::min(kIm2colRows, m - r0);
      for (size_t r = 0; r < count; ++r) {
        const size_t pix = r0 + r;
        const size_t b = pix / pixels;
        Im2colRow(g, input, b, (pix % pixels) / g.out_w, pix % g.out_w, a.data() + r * k);
      }
      // One thread per block: the GEMM inside runs on the calling thread.
      Qs16Gemm(w, count, a.data(), k, output + r0 * n, n, requant, nullptr);
    }
  };
  if (pool == nullptr || pool->size() <= 1 || blocks == 1) {
    run(0, blocks);
  } else {
    pool->ParallelFor(blocks, 1, run);
  }
}

void Qs16Conv2dReference(const Conv2dGeometry& g, size_t out_c, const int16_t* input,
                         const int8_t* filter, const int64_t* bias, int16_t* output,
                         const Qs16Requant& requant) {
  const bool per_tensor = requant.channels() == 1;
  const Qs16RequantParams rq = RequantParamsOf(requant);
  for (size_t b = 0; b < g.batch; ++b) {
    for (size_t oy = 0; oy < g.out_h; ++oy) {
      const ptrdiff_t in_y_origin =
          static_cast<ptrdiff_t>(oy * g.stride_h) - static_cast<ptrdiff_t>(g.pad_top);
      for (size_t ox = 0; ox < g.out_w; ++ox) {
        const ptrdiff_t in_x_origin =
            static_cast<ptrdiff_t>(ox * g.stride_w) - static_cast<ptrdiff_t>(g.pad_left);
        for (size_t oc = 0; oc < out_c; ++oc) {
          int64_t acc = 0;
          for (size_t fy = 0; fy < g.k_h; ++fy) {
            const ptrdiff_t in_y = in_y_origin + static_cast<ptrdiff_t>(g.dilation_h * fy);
            for (size_t fx = 0; fx < g.k_w; ++fx) {
              const ptrdiff_t in_x = in_x_origin + static_cast<ptrdiff_t>(g.dilation_w * fx);
              // Zero padding by omitting the taps outside the image.
              if (in_x < 0 || in_x >= static_cast<ptrdiff_t>(g.in_w) || in_y < 0 ||
                  in_y >= static_cast<ptrdiff_t>(g.in_h)) {
                continue;
              }
              const int16_t* in = input + ((b * g.in_h + static_cast<size_t>(in_y)) * g.in_w +
                                           static_cast<size_t>(in_x)) * g.in_c;
              const int8_t* f = filter + ((oc * g.k_h + fy) * g.k_w + fx) * g.in_c;
              for (size_t ic = 0; ic < g.in_c; ++ic) {
                acc += static_cast<int32_t>(f[ic]) * static_cast<int32_t>(in[ic]);
              }
            }
          }
          if (bias != nullptr) acc += bias[oc];
          output[((b * g.out_h + oy) * g.out_w + ox) * out_c + oc] =
              static_cast<int16_t>(Qs16RequantizeOne(acc, rq, per_tensor ? 0 : oc));
        }
      }
    }
  }
}

void Qs16DepthwiseConv2d(const Conv2dGeometry& g, size_t depth_multiplier, const int16_t* input,
                         const int8_t* filter, const int64_t* bias, int16_t* output,
                         const Qs16Requant& requant, ThreadPool* pool) {
  const size_t channels = g.in_c * depth_multiplier;
  const size_t rows = g.batch * g.out_h;
  if (rows == 0 || g.out_w == 0 || channels == 0) return;
  const bool per_tensor = requant.channels() == 1;
  const Qs16RequantParams rq = RequantParamsOf(requant);
  const auto run = [&](size_t begin, size_t end) {
    std::vector<int64_t> acc(channels);
    for (size_t row = begin; row < end; ++row) {
      const size_t b = row / g.out_h;
      const size_t oy = row % g.out_h;
      const ptrdiff_t in_y_origin =
          static_cast<ptrdiff_t>(oy * g.stride_h) - static_cast<ptrdiff_t>(g.pad_top);
      for (size_t ox = 0; ox < g.out_w; ++ox) {
        const ptrdiff_t in_x_origin =
            static_cast<ptrdiff_t>(ox * g.stride_w) - static_cast<ptrdiff_t>(g.pad_left);
        std::fill(acc.begin(), acc.end(), 0);
        // Taps outer, channels inner: the same int64 sums as TFLite's loop order (integer
        // addition is exact), with contiguous reads.
        for (size_t fy = 0; fy < g.k_h; ++fy) {
          const ptrdiff_t in_y = in_y_origin + static_cast<ptrdiff_t>(g.dilation_h * fy);
          if (in_y < 0 || in_y >= static_cast<ptrdiff_t>(g.in_h)) continue;
          for (size_t fx = 0; fx < g.k_w; ++fx) {
            const ptrdiff_t in_x = in_x_origin + static_cast<ptrdiff_t>(g.dilation_w * fx);
            if (in_x < 0 || in_x >= static_cast<ptrdiff_t>(g.in_w)) continue;
            const int16_t* in = input + ((b * g.in_h + static_cast<size_t>(in_y)) * g.in_w +
                                         static_cast<size_t>(in_x)) * g.in_c;
            const int8_t* f = filter + (fy * g.k_w + fx) * channels;
            for (size_t ic = 0; ic < g.in_c; ++ic) {
              for (size_t mm = 0; mm < depth_multiplier; ++mm) {
                const size_t oc = ic * depth_multiplier + mm;
                acc[oc] += static_cast<int32_t>(f[oc]) * static_cast<int32_t>(in[ic]);
              }
            }
          }
        }
        int16_t* out = output + ((b * g.out_h + oy) * g.out_w + ox) * channels;
        for (size_t oc = 0; oc < channels; ++oc) {
          const int64_t sum = acc[oc] + (bias != nullptr ? bias[oc] : 0);
          out[oc] = static_cast<int16_t>(Qs16RequantizeOne(sum, rq, per_tensor ? 0 : oc));
        }
      }
    }
  };
  if (pool == nullptr || pool->size() <= 1 || rows == 1) {
    run(0, rows);
  } else {
    pool->ParallelFor(rows, 1, run);
  }
}

}  // namespace litequant
