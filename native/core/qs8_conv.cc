// int8 CONV_2D and DEPTHWISE_CONV_2D (qs8_conv.h): parameter checks, the reference loops
// (geometry from conv_geometry.h), and the fast paths:
//   CONV_2D:    on paths with an indirect GEMM (qs8_igemm.h: AVX2), the input is widened once
//               per call into an int16 image bordered with the input zero point and the kernels
//               read every tap from it in place (1x1 kernels: only the pixels read). Elsewhere
//               1x1 convolutions read the input directly as the GEMM's A matrix (row stride =
//               stride_w * C) and the rest goes through im2col tiles (padding filled with the
//               input zero point) into Qs8Gemm, one tile per thread at a time.
//   DEPTHWISE:  the qs8_dwconv kernels of the packed path over one output row at a time, through
//               an indirection buffer (padded taps point at a row of the input zero point).
#include "litequant/qs8_conv.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <vector>

#include "litequant/qs8_dwconv.h"
#include "litequant/qs8_gemm_kernels.h"
#include "litequant/qs8_igemm.h"
#include "litequant/thread_pool.h"

namespace litequant {
namespace {

constexpr uint64_t kMaxElements = (uint64_t{1} << 31) - 1;  // fits a JS typed array and int32
constexpr uint64_t kMaxDim = uint64_t{1} << 24;

// The product of the factors, or kMaxElements + 1 when it exceeds kMaxElements (no overflow).
uint64_t BoundedProduct(std::initializer_list<uint64_t> factors) {
  uint64_t p = 1;
  for (uint64_t f : factors) {
    if (f == 0) return 0;
    if (p > kMaxElements / f) return kMaxElements + 1;
    p *= f;
  }
  return p;
}

std::string Describe(const char* field, uint64_t value, const char* want) {
  return std::string("Expected ") + want + " for " + field + " but received " +
         std::to_string(value);
}

std::string CheckRequant(const Qs8Requant& r, size_t channels) {
  if (r.mode != RequantMode::kFp32 && r.mode != RequantMode::kFixedPoint) {
    return "Expected kFp32 or kFixedPoint for requant.mode";
  }
  const size_t n = r.mode == RequantMode::kFp32 ? r.scale.size() : r.multiplier.size();
  const char* what = r.mode == RequantMode::kFp32 ? "requant.scale" : "requant.multiplier";
  if (n != 1 && n != channels) {
    return "Expected 1 or " + std::to_string(channels) + " entries (output channels) for " +
           what + " but received " + std::to_string(n);
  }
  for (size_t i = 0; i < n; ++i) {
    if (r.mode == RequantMode::kFp32) {
      const float s = r.scale[i];
      if (!(std::isfinite(s) && s > 0.0f)) {
        return "Expected finite positive values for requant.scale but received " +
               std::to_string(s) + " at index " + std::to_string(i);
      }
    } else {
      const QuantizedMultiplier m = r.multiplier[i];
      if (m.multiplier != 0 && m.multiplier < (int32_t{1} << 30)) {
        return "Expected 0 or a value in [2^30, 2^31) for requant.multiplier[" +
               std::to_string(i) + "].multiplier but received " + std::to_string(m.multiplier);
      }
      if (m.shift < -31 || m.shift > 30) {
        return "Expected a value in [-31, 30] for requant.multiplier[" + std::to_string(i) +
               "].shift but received " + std::to_string(m.shift);
      }
    }
  }
  const auto in_int8 = [](int32_t v) { return v >= -128 && v <= 127; };
  if (!in_int8(r.output_zero_point)) {
    return "Expected an integer between -128 and 127 for requant.output_zero_point but received " +
           std::to_string(r.output_zero_point);
  }
  if (!in_int8(r.qmin)) {
    return "Expected an integer between -128 and 127 for requant.qmin but received " +
           std::to_string(r.qmin);
  }
  if (!in_int8(r.qmax) || r.qmax < r.qmin) {
    return "Expected an integer between requant.qmin and 127 for requant.qmax but received " +
           std::to_string(r.qmax);
  }
  return "";
}

// Expands per-tensor parameters to one entry per channel.
template <typename T>
std::vector<T> PerChannel(const std::vector<T>& v, size_t channels) {
  return v.size() == 1 ? std::vector<T>(channels, v[0]) : v;
}

int32_t RequantizeChannel(uint32_t acc, const Qs8Requant& r, size_t channel) {
  const auto a = static_cast<int32_t>(acc);
  if (r.mode == RequantMode::kFp32) {
    const float s = r.scale[r.scale.size() == 1 ? 0 : channel];
    return RequantizeFp32(a, s, r.output_zero_point, r.qmin, r.qmax);
  }
  const QuantizedMultiplier m = r.multiplier[r.multiplier.size() == 1 ? 0 : channel];
  return RequantizeFixedPoint(a, m, r.output_zero_point, r.qmin, r.qmax);
}

// A 64-byte aligned byte buffer (the kernels' packed data must be aligned).
class AlignedBytes {
 public:
  explicit AlignedBytes(size_t n) : storage_(n + 64) {
    const auto address = reinterpret_cast<uintptr_t>(storage_.data());
    offset_ = static_cast<size_t>((64 - address % 64) % 64);
  }
  uint8_t* data() { return storage_.data() + offset_; }
  const uint8_t* data() const { return storage_.data() + offset_; }

 private:
  std::vector<uint8_t> storage_;
  size_t offset_ = 0;
};

// The path whose depthwise kernels serve `path`, following the fallback chain.
Path DwconvKernelPath(Path path) {
  for (;;) {
    switch (path) {
      case Path::kReference:
#ifdef LITEQUANT_BUILT_AVX2
      case Path::kAvx2:
#endif
#ifdef LITEQUANT_BUILT_AVX512
      case Path::kAvx512:
#endif
#ifdef LITEQUANT_BUILT_NEON
      case Path::kNeon:
#endif
        return path;
      default: path = FallbackPath(path);
    }
  }
}

// Work per ParallelFor item below which splitting costs more than it saves.
constexpr size_t kMinMacsPerChunk = 1 << 16;

size_t GrainFor(size_t macs_per_item) {
  return std::max<size_t>(1, kMinMacsPerChunk / std::max<size_t>(1, macs_per_item));
}

void RunParallel(ThreadPool* pool, size_t n, size_t grain,
                 const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  if (pool == nullptr || pool->size() <= 1 || n <= grain) {
    fn(0, n);
    return;
  }
  pool->ParallelFor(n, grain, fn);
}

}  // namespace

const Qs8DwconvKernels& Qs8DwconvKernelsFor(Path path) {
  switch (DwconvKernelPath(path)) {
#ifdef LITEQUANT_BUILT_AVX2
    case Path::kAvx2: return kQs8DwconvAvx2;
#endif
#ifdef LITEQUANT_BUILT_AVX512
    case Path::kAvx512: return kQs8DwconvAvx512;
#endif
#ifdef LITEQUANT_BUILT_NEON
    case Path::kNeon: return kQs8DwconvNeon;
#endif
    default: return kQs8DwconvReference;
  }
}

class Qs8PackedConv {
 public:
  ConvKind kind = ConvKind::kConv2D;
  Qs8ConvParams params;
  Conv2dGeometry geometry;
  Path path = Path::kReference;
  // CONV_2D through im2col + GEMM
  std::shared_ptr<const Qs8PackedWeights> gemm;
  // CONV_2D through the indirect GEMM (when igemm is set)
  const Qs8IgemmConfig* igemm = nullptr;
  const Qs8IgemmKernel* igemm_kernel = nullptr;
  std::unique_ptr<AlignedBytes> igemm_w;   // int16 tiles [runs][run / 2][NR][2]
  std::vector<int32_t> igemm_init;         // per column, padded to whole tiles
  std::vector<ptrdiff_t> igemm_offsets;    // per run of taps, in int16 elements of the image
  size_t igemm_run = 0;                    // int16 values per run: a kernel row or one tap
  bool igemm_sampled = false;              // 1x1: the image holds only the pixels read
  size_t image_h = 0, image_w = 0;         // image pixels per batch item
  // DEPTHWISE_CONV_2D
  const Qs8DwconvKernels* dwconv = nullptr;
  std::unique_ptr<AlignedBytes> dwconv_packed;
  std::vector<int8_t> zero_point_row;  // what padded taps read: output_channels bytes
};

std::string CheckQs8ConvParams(const Qs8ConvParams& p, ConvKind kind) {
  const std::pair<const char*, size_t> dims[] = {
      {"batch", p.batch},
      {"input_height", p.input_height},
      {"input_width", p.input_width},
      {"input_channels", p.input_channels},
      {"output_channels", p.output_channels},
      {"kernel_height", p.kernel_height},
      {"kernel_width", p.kernel_width},
      {"stride_height", p.stride_height},
      {"stride_width", p.stride_width},
      {"dilation_height", p.dilation_height},
      {"dilation_width", p.dilation_width},
      {"depth_multiplier", p.depth_multiplier}};
  for (const auto& [name, value] : dims) {
    if (value < 1 || value > kMaxDim) return Describe(name, value, "an integer between 1 and 2^24");
  }
  if (p.padding != Padding::kSame && p.padding != Padding::kValid) {
    return "Expected kSame or kValid for padding";
  }
  if (p.input_zero_point < -128 || p.input_zero_point > 127) {
    return "Expected an integer between -128 and 127 for input_zero_point but received " +
           std::to_string(p.input_zero_point);
  }
  if (kind == ConvKind::kDepthwise) {
    if (p.output_channels != p.input_channels * p.depth_multiplier) {
      return Describe("output_channels", p.output_channels,
                      ("input_channels * depth_multiplier (" +
                       std::to_string(p.input_channels * p.depth_multiplier) + ")")
                          .c_str());
    }
  } else if (p.depth_multiplier != 1) {
    return Describe("depth_multiplier", p.depth_multiplier, "1 (CONV_2D has none)");
  }
  const uint64_t kh = DilatedKernelSize(p.kernel_height, p.dilation_height);
  const uint64_t kw = DilatedKernelSize(p.kernel_width, p.dilation_width);
  if (kh > kMaxDim || kw > kMaxDim) return "Expected a dilated kernel of at most 2^24 pixels";
  if (p.padding == Padding::kValid && (p.input_height < kh || p.input_width < kw)) {
    return "Expected an input of at least the dilated kernel size (" + std::to_string(kh) + "x" +
           std::to_string(kw) + ") with VALID padding but received " +
           std::to_string(p.input_height) + "x" + std::to_string(p.input_width);
  }
  const Conv2dGeometry g = ComputeQs8ConvGeometry(p);
  const uint64_t weights = kind == ConvKind::kConv2D
                               ? BoundedProduct({p.output_channels, p.kernel_height,
                                                 p.kernel_width, p.input_channels})
                               : BoundedProduct({p.kernel_height, p.kernel_width,
                                                 p.output_channels});
  if (BoundedProduct({p.batch, p.input_height, p.input_width, p.input_channels}) > kMaxElements ||
      BoundedProduct({p.batch, g.out_h, g.out_w, p.output_channels}) >
          kMaxElements ||
      weights > kMaxElements) {
    return "Expected input, output and weight tensors of fewer than 2^31 elements";
  }
  return CheckRequant(p.requant, p.output_channels);
}

Conv2dGeometry ComputeQs8ConvGeometry(const Qs8ConvParams& p) {
  Conv2dGeometry g;
  g.batch = p.batch;
  g.in_h = p.input_height;
  g.in_w = p.input_width;
  g.in_c = p.input_channels;
  g.k_h = p.kernel_height;
  g.k_w = p.kernel_width;
  g.stride_h = p.stride_height;
  g.stride_w = p.stride_width;
  g.dilation_h = p.dilation_height;
  g.dilation_w = p.dilation_width;
  ComputeConv2dGeometry(p.padding, &g);
  return g;
}

size_t Qs8ConvInputSize(const Qs8ConvParams& p) {
  return p.batch * p.input_height * p.input_width * p.input_channels;
}

size_t Qs8ConvOutputSize(const Qs8ConvParams& p) {
  const Conv2dGeometry g = ComputeQs8ConvGeometry(p);
  return p.batch * g.out_h * g.out_w * p.output_channels;
}

size_t Qs8ConvWeightSize(const Qs8ConvParams& p, ConvKind kind) {
  return kind == ConvKind::kConv2D
             ? p.output_channels * p.kernel_height * p.kernel_width * p.input_channels
             : p.kernel_height * p.kernel_width * p.output_channels;
}

const Qs8ConvParams& Qs8PackedConvParams(const Qs8PackedConv& conv) { return conv.params; }
ConvKind Qs8PackedConvKind(const Qs8PackedConv& conv) { return conv.kind; }
Path Qs8PackedConvPath(const Qs8PackedConv& conv) { return conv.path; }
const char* Qs8PackedConvKernelName(const Qs8PackedConv& conv) {
  if (conv.kind == ConvKind::kConv2D) {
    return conv.igemm != nullptr ? conv.igemm_kernel->name : Qs8PackedKernelName(*conv.gemm);
  }
  const bool is_3x3 = conv.params.kernel_height == 3 && conv.params.kernel_width == 3;
  return is_3x3 ? conv.dwconv->name_3x3 : conv.dwconv->name;
}

// ---------------------------------------------------------------------------------------------
// Reference loops.

void Qs8Conv2DReference(const Qs8ConvParams& p, const int8_t* input, const int8_t* weights,
                        const int32_t* bias, int8_t* output) {
  const Conv2dGeometry g = ComputeQs8ConvGeometry(p);
  const auto zp = p.input_zero_point;
  for (size_t b = 0; b < p.batch; ++b) {
    for (size_t oy = 0; oy < g.out_h; ++oy) {
      for (size_t ox = 0; ox < g.out_w; ++ox) {
        int8_t* out =
            output + ((b * g.out_h + oy) * g.out_w + ox) * p.output_channels;
        for (size_t o = 0; o < p.output_channels; ++o) {
          uint32_t acc = bias != nullptr ? static_cast<uint32_t>(bias[o]) : 0;  // wraps
          for (size_t ky = 0; ky < p.kernel_height; ++ky) {
            const auto iy = static_cast<int64_t>(oy * p.stride_height + ky * p.dilation_height) -
                            static_cast<int64_t>(g.pad_top);
            if (iy < 0 || iy >= static_cast<int64_t>(p.input_height)) continue;
            for (size_t kx = 0; kx < p.kernel_width; ++kx) {
              const auto ix = static_cast<int64_t>(ox * p.stride_width + kx * p.dilation_width) -
                              static_cast<int64_t>(g.pad_left);
              if (ix < 0 || ix >= static_cast<int64_t>(p.input_width)) continue;
              const int8_t* x =
                  input + ((b * p.input_height + static_cast<size_t>(iy)) * p.input_width +
                           static_cast<size_t>(ix)) *
                              p.input_channels;
              const int8_t* w =
                  weights + ((o * p.kernel_height + ky) * p.kernel_width + kx) * p.input_channels;
              for (size_t i = 0; i < p.input_channels; ++i) {
                acc += static_cast<uint32_t>((int32_t{x[i]} - zp) * int32_t{w[i]});
              }
            }
          }
          out[o] = static_cast<int8_t>(RequantizeChannel(acc, p.requant, o));
        }
      }
    }
  }
}

void Qs8DepthwiseReference(const Qs8ConvParams& p, const int8_t* input, const int8_t* weights,
                           const int32_t* bias, int8_t* output) {
  const Conv2dGeometry g = ComputeQs8ConvGeometry(p);
  const auto zp = p.input_zero_point;
  const size_t oc_count = p.output_channels;
  for (size_t b = 0; b < p.batch; ++b) {
    for (size_t oy = 0; oy < g.out_h; ++oy) {
      for (size_t ox = 0; ox < g.out_w; ++ox) {
        int8_t* out = output + ((b * g.out_h + oy) * g.out_w + ox) * oc_count;
        for (size_t ic = 0; ic < p.input_channels; ++ic) {
          for (size_t m = 0; m < p.depth_multiplier; ++m) {
            const size_t oc = ic * p.depth_multiplier + m;
            uint32_t acc = bias != nullptr ? static_cast<uint32_t>(bias[oc]) : 0;
            for (size_t ky = 0; ky < p.kernel_height; ++ky) {
              const auto iy = static_cast<int64_t>(oy * p.stride_height + ky * p.dilation_height) -
                              static_cast<int64_t>(g.pad_top);
              if (iy < 0 || iy >= static_cast<int64_t>(p.input_height)) continue;
              for (size_t kx = 0; kx < p.kernel_width; ++kx) {
                const auto ix = static_cast<int64_t>(ox * p.stride_width + kx * p.dilation_width) -
                                static_cast<int64_t>(g.pad_left);
                if (ix < 0 || ix >= static_cast<int64_t>(p.input_width)) continue;
                const int8_t x =
                    input[((b * p.input_height + static_cast<size_t>(iy)) * p.input_width +
                           static_cast<size_t>(ix)) *
                              p.input_channels +
                          ic];
                const int8_t w = weights[(ky * p.kernel_width + kx) * oc_count + oc];
                acc += static_cast<uint32_t>((int32_t{x} - zp) * int32_t{w});
              }
            }
            out[oc] = static_cast<int8_t>(RequantizeChannel(acc, p.requant, oc));
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// DEPTHWISE_CONV_2D.

std::shared_ptr<const Qs8PackedConv> PackQs8Depthwise(const Qs8ConvParams& params,
                                                      const int8_t* weights, const int32_t* bias) {
  const std::string why = CheckQs8ConvParams(params, ConvKind::kDepthwise);
  if (!why.empty()) throw std::invalid_argument(why);
  auto conv = std::make_shared<Qs8PackedConv>();
  conv->kind = ConvKind::kDepthwise;
  conv->params = params;
  conv->geometry = ComputeQs8ConvGeometry(params);
  conv->path = DwconvKernelPath(SelectedPath());
  conv->dwconv = &Qs8DwconvKernelsFor(conv->path);

  const size_t channels = params.output_channels;
  const size_t taps = params.kernel_height * params.kernel_width;
  // Padded taps read the zero point, so -zp * sum_t w[t][c] over all taps cancels what the
  // kernels add for them and leaves TFLite's sum of (x - zp) * w over the inside taps.
  std::vector<int32_t> folded(channels);
  for (size_t c = 0; c < channels; ++c) {
    uint32_t sum = 0;
    for (size_t t = 0; t < taps; ++t) {
      sum += static_cast<uint32_t>(int32_t{weights[t * channels + c]});
    }
    const uint32_t b = bias != nullptr ? static_cast<uint32_t>(bias[c]) : 0;
    folded[c] = static_cast<int32_t>(b - static_cast<uint32_t>(params.input_zero_point) * sum);
  }
  const Qs8Requant& r = params.requant;
  std::vector<float> scale;
  std::vector<int32_t> multiplier, shift;
  if (r.mode == RequantMode::kFp32) {
    scale = PerChannel(r.scale, channels);
  } else {
    for (const QuantizedMultiplier& m : PerChannel(r.multiplier, channels)) {
      multiplier.push_back(m.multiplier);
      shift.push_back(m.shift);
    }
  }
  // The kernels take taps column by column (t = kx * KH + ky), the order of the
  // indirection buffer in which neighbouring output pixels share input columns.
  std::vector<int8_t> by_column(taps * channels);
  for (size_t ky = 0; ky < params.kernel_height; ++ky) {
    for (size_t kx = 0; kx < params.kernel_width; ++kx) {
      std::memcpy(by_column.data() + (kx * params.kernel_height + ky) * channels,
                  weights + (ky * params.kernel_width + kx) * channels, channels);
    }
  }
  Qs8DwconvPackInput in;
  in.channels = channels;
  in.taps = taps;
  in.weights = by_column.data();
  in.bias = folded.data();
  in.mode = r.mode;
  in.scale = scale.data();
  in.multiplier = multiplier.data();
  in.shift = shift.data();
  conv->dwconv_packed = std::make_unique<AlignedBytes>(conv->dwconv->packed_size(channels, taps));
  conv->dwconv->pack(in, conv->dwconv_packed->data());
  conv->zero_point_row.assign(channels, static_cast<int8_t>(params.input_zero_point));
  return conv;
}

void Qs8Depthwise(const Qs8PackedConv& conv, const int8_t* input, int8_t* output,
                  ThreadPool* pool) {
  if (conv.kind != ConvKind::kDepthwise) {
    throw std::invalid_argument("Qs8Depthwise needs weights packed by PackQs8Depthwise");
  }
  const Qs8ConvParams& p = conv.params;
  const Conv2dGeometry& g = conv.geometry;
  const size_t channels = p.output_channels;
  const size_t taps = p.kernel_height * p.kernel_width;
  const size_t rows = p.batch * g.out_h;
  if (rows == 0 || g.out_w == 0) return;

  // The kernels know no depth multiplier: give them an input with each channel repeated M
  // times, so input channel c of the copy is output channel c's source.
  std::vector<int8_t> repeated;
  const int8_t* source = input;
  if (p.depth_multiplier > 1) {
    const size_t pixels = p.batch * p.input_height * p.input_width;
    repeated.resize(pixels * channels);
    RunParallel(pool, pixels, GrainFor(channels), [&](size_t begin, size_t end) {
      for (size_t px = begin; px < end; ++px) {
        const int8_t* x = input + px * p.input_channels;
        int8_t* y = repeated.data() + px * channels;
        for (size_t ic = 0; ic < p.input_channels; ++ic) {
          std::memset(y + ic * p.depth_multiplier, x[ic], p.depth_multiplier);
        }
      }
    });
    source = repeated.data();
  }

  Qs8DwconvOutputParams out_params;
  out_params.mode = p.requant.mode;
  out_params.output_zero_point = p.requant.output_zero_point;
  out_params.qmin = p.requant.qmin;
  out_params.qmax = p.requant.qmax;
  const bool is_3x3 = p.kernel_height == 3 && p.kernel_width == 3;
  const Qs8DwconvFn kernel = is_3x3 ? conv.dwconv->dwconv_3x3 : conv.dwconv->dwconv;
  const int8_t* zero_row = conv.zero_point_row.data();
  const void* packed = conv.dwconv_packed->data();

  // Indirection: one pointer per (input column, kernel row), column by column, so output pixel
  // ox's taps start at entry ox * advance. With dilation_w == 1 neighbouring pixels share
  // columns (advance = stride_w * KH); otherwise each pixel gets its own KW columns.
  const size_t kh = p.kernel_height, kw = p.kernel_width;
  const bool shared_columns = p.dilation_width == 1;
  const size_t columns = shared_columns ? (g.out_w - 1) * p.stride_width + kw
                                        : g.out_w * kw;
  const size_t advance = shared_columns ? p.stride_width * kh : taps;
  const auto width = static_cast<int64_t>(p.input_width);
  RunParallel(pool, rows, GrainFor(g.out_w * taps * channels), [&](size_t begin,
                                                                          size_t end) {
    std::vector<const int8_t*> indirection(columns * kh);
    std::vector<const int8_t*> input_rows(kh);  // null: the kernel row is in the padding
    for (size_t row = begin; row < end; ++row) {
      const size_t b = row / g.out_h;
      const size_t oy = row % g.out_h;
      const int8_t* image = source + b * p.input_height * p.input_width * channels;
      for (size_t ky = 0; ky < kh; ++ky) {
        const auto iy = static_cast<int64_t>(oy * p.stride_height + ky * p.dilation_height) -
                        static_cast<int64_t>(g.pad_top);
        input_rows[ky] = iy >= 0 && iy < static_cast<int64_t>(p.input_height)
                             ? image + static_cast<size_t>(iy) * p.input_width * channels
                             : nullptr;
      }
      const int8_t** entry = indirection.data();
      for (size_t j = 0; j < columns; ++j, entry += kh) {
        // Column j's input x: consecutive from the first pixel's left edge, or pixel j / KW's
        // tap j % KW.
        const int64_t ix =
            shared_columns
                ? static_cast<int64_t>(j) - static_cast<int64_t>(g.pad_left)
                : static_cast<int64_t>((j / kw) * p.stride_width + (j % kw) * p.dilation_width) -
                      static_cast<int64_t>(g.pad_left);
        const bool inside = ix >= 0 && ix < width;
        for (size_t ky = 0; ky < kh; ++ky) {
          entry[ky] = inside && input_rows[ky] != nullptr
                          ? input_rows[ky] + static_cast<size_t>(ix) * channels
                          : zero_row;
        }
      }
      kernel(g.out_w, channels, taps, indirection.data(), advance, packed,
             output + row * g.out_w * channels, channels, out_params);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// CONV_2D.

namespace {

// Above this many int16 values (32 MiB) the widened image, kept per calling thread, would cost
// more memory than the im2col tiles (~64 KiB) are worth saving.
constexpr size_t kMaxIgemmImage = size_t{1} << 24;

// The image the indirect GEMM reads: rows/columns of the zero-point-bordered input that the
// output pixels reach, or (1x1 kernels) just the pixels read.
void IgemmImageShape(const Qs8ConvParams& p, const Conv2dGeometry& g, bool* sampled, size_t* h,
                     size_t* w) {
  *sampled = p.kernel_height == 1 && p.kernel_width == 1;
  if (*sampled) {
    *h = g.out_h;
    *w = g.out_w;
    return;
  }
  *h = (g.out_h - 1) * p.stride_height + DilatedKernelSize(p.kernel_height, p.dilation_height);
  *w = (g.out_w - 1) * p.stride_width + DilatedKernelSize(p.kernel_width, p.dilation_width);
}

void PackIgemm(const Qs8IgemmConfig* config, const int8_t* weights, const int32_t* bias,
               Qs8PackedConv* conv) {
  const Qs8ConvParams& p = conv->params;
  const size_t n = p.output_channels;
  const size_t c = p.input_channels;
  const size_t taps = p.kernel_height * p.kernel_width;
  conv->igemm = config;
  conv->igemm_kernel = n <= config->narrow.nr ? &config->narrow : &config->wide;
  conv->path = config->path;
  IgemmImageShape(p, conv->geometry, &conv->igemm_sampled, &conv->image_h, &conv->image_w);
  // Without horizontal dilation a kernel row's taps are KW neighbouring pixels of the image:
  // one run of KW * C values (OHWI's (kx, c) order), so the kernels loop over KH runs instead
  // of KH * KW short ones. Runs are rounded up to whole pairs; the extra value read (the next
  // pixel's first channel, or the image's slack) meets a zero weight.
  const bool merge_row = p.dilation_width == 1;
  const size_t length = merge_row ? p.kernel_width * c : c;  // real values per run
  const size_t run = (length + 1) & ~size_t{1};
  const size_t runs = merge_row ? p.kernel_height : taps;
  conv->igemm_run = run;
  for (size_t ky = 0; ky < p.kernel_height; ++ky) {
    for (size_t kx = 0; kx < (merge_row ? 1 : p.kernel_width); ++kx) {
      conv->igemm_offsets.push_back(static_cast<ptrdiff_t>(
          (ky * p.dilation_height * conv->image_w + kx * p.dilation_width) * c));
    }
  }
  const size_t nr = conv->igemm_kernel->nr;
  const size_t tiles = (n + nr - 1) / nr;
  const size_t tile_values = runs * run * nr;
  conv->igemm_w = std::make_unique<AlignedBytes>(tiles * tile_values * sizeof(int16_t));
  auto* w = reinterpret_cast<int16_t*>(conv->igemm_w->data());
  conv->igemm_init.assign(tiles * nr, 0);
  for (size_t tile = 0; tile < tiles; ++tile) {
    for (size_t t = 0; t < runs; ++t) {
      for (size_t k2 = 0; k2 < run; k2 += 2) {
        for (size_t j = 0; j < nr; ++j) {
          const size_t o = tile * nr + j;
          for (size_t r = 0; r < 2; ++r) {
            const size_t k = k2 + r;
            *w++ = o < n && k < length ? weights[o * taps * c + t * length + k] : 0;
          }
        }
      }
    }
  }
  // bias - zp * sum(w), in wrapping unsigned arithmetic like the kernels' sums.
  for (size_t o = 0; o < n; ++o) {
    uint32_t sum = 0;
    for (size_t k = 0; k < taps * c; ++k) {
      sum += static_cast<uint32_t>(int32_t{weights[o * taps * c + k]});
    }
    const uint32_t b = bias != nullptr ? static_cast<uint32_t>(bias[o]) : 0u;
    conv->igemm_init[o] =
        static_cast<int32_t>(b - static_cast<uint32_t>(p.input_zero_point) * sum);
  }
}

std::shared_ptr<Qs8PackedConv> NewConv2D(const Qs8ConvParams& params) {
  const std::string why = CheckQs8ConvParams(params, ConvKind::kConv2D);
  if (!why.empty()) throw std::invalid_argument(why);
  auto conv = std::make_shared<Qs8PackedConv>();
  conv->kind = ConvKind::kConv2D;
  conv->params = params;
  conv->geometry = ComputeQs8ConvGeometry(params);
  return conv;
}

}  // namespace

std::shared_ptr<const Qs8PackedConv> PackQs8Conv2DWithIgemm(const Qs8IgemmConfig* config,
                                                            const Qs8ConvParams& params,
                                                            const int8_t* weights,
                                                            const int32_t* bias) {
  auto conv = NewConv2D(params);
  PackIgemm(config, weights, bias, conv.get());
  return conv;
}

std::shared_ptr<const Qs8PackedConv> PackQs8Conv2D(const Qs8ConvParams& params,
                                                   const int8_t* weights, const int32_t* bias) {
  auto conv = NewConv2D(params);
  const Qs8GemmConfig* gemm_config = Qs8GemmConfigFor(SelectedPath());
  const Qs8IgemmConfig* igemm = gemm_config != nullptr ? Qs8IgemmConfigFor(gemm_config->path)
                                                       : nullptr;
  if (igemm != nullptr) {
    bool sampled;
    size_t h, w;
    IgemmImageShape(params, conv->geometry, &sampled, &h, &w);
    const size_t c = params.input_channels;
    if (static_cast<double>(params.batch) * h * w * c <= static_cast<double>(kMaxIgemmImage)) {
      PackIgemm(igemm, weights, bias, conv.get());
      return conv;
    }
  }
  // OHWI is the GEMM's [N, K] weight layout with K = KH * KW * I, in im2col's order.
  const size_t k = params.kernel_height * params.kernel_width * params.input_channels;
  conv->gemm = PackQs8Gemm(weights, params.output_channels, k, bias, params.input_zero_point);
  conv->path = Qs8PackedPath(*conv->gemm);
  return conv;
}

const Qs8IgemmConfig* Qs8IgemmConfigFor(Path path) {
  switch (path) {
#ifdef LITEQUANT_BUILT_AVX2
    case Path::kAvx2: return &kQs8IgemmAvx2;
#endif
    default: return nullptr;
  }
}

namespace {

// Rows [first, first + count) of the im2col matrix (row = output pixel, columns in OHWI's
// (ky, kx, i) order) into `a`, row stride k.
void Im2ColRows(const Qs8ConvParams& p, const Conv2dGeometry& g, const int8_t* input,
                size_t first, size_t count, int8_t* a, size_t k) {
  const size_t c = p.input_channels;
  const auto zp = static_cast<int8_t>(p.input_zero_point);
  const size_t row_run = p.kernel_width * c;  // one kernel row when dilation_w == 1
  for (size_t r = 0; r < count; ++r) {
    const size_t pixel = first + r;
    const size_t ox = pixel % g.out_w;
    const size_t oy = (pixel / g.out_w) % g.out_h;
    const size_t b = pixel / (g.out_w * g.out_h);
    const int8_t* image = input + b * p.input_height * p.input_width * c;
    int8_t* dst = a + r * k;
    const auto x0 = static_cast<int64_t>(ox * p.stride_width) - static_cast<int64_t>(g.pad_left);
    for (size_t ky = 0; ky < p.kernel_height; ++ky, dst += row_run) {
      const auto iy = static_cast<int64_t>(oy * p.stride_height + ky * p.dilation_height) -
                      static_cast<int64_t>(g.pad_top);
      if (iy < 0 || iy >= static_cast<int64_t>(p.input_height)) {
        std::memset(dst, zp, row_run);
        continue;
      }
      const int8_t* src_row = image + static_cast<size_t>(iy) * p.input_width * c;
      if (p.dilation_width == 1 && x0 >= 0 &&
          x0 + static_cast<int64_t>(p.kernel_width) <= static_cast<int64_t>(p.input_width)) {
        std::memcpy(dst, src_row + static_cast<size_t>(x0) * c, row_run);  // all taps inside
        continue;
      }
      for (size_t kx = 0; kx < p.kernel_width; ++kx) {
        const int64_t ix = x0 + static_cast<int64_t>(kx * p.dilation_width);
        if (ix < 0 || ix >= static_cast<int64_t>(p.input_width)) {
          std::memset(dst + kx * c, zp, c);
        } else {
          std::memcpy(dst + kx * c, src_row + static_cast<size_t>(ix) * c, c);
        }
      }
    }
  }
}

// Output pixels per indirect-GEMM call (a multiple of the kernels' 5 and 8 rows): the kernels
// set their epilogue up once per call, and the pointer array lives on the stack.
constexpr size_t kIgemmBlock = 120;

// Per-thread image for the indirect GEMM; grows, never shrinks. Workers of a pool read the
// calling thread's image (ParallelFor returns only when they are done). A run rounded up to a
// whole pair may read one value past the image: the slack (zero-initialized, or an earlier
// image's values) meets a zero weight.
int16_t* IgemmImage(size_t values) {
  constexpr size_t kSlack = 16;
  thread_local std::unique_ptr<AlignedBytes> buffer;
  thread_local size_t capacity = 0;
  if (capacity < values + kSlack) {
    buffer = std::make_unique<AlignedBytes>((values + kSlack) * sizeof(int16_t));
    capacity = values + kSlack;
  }
  return reinterpret_cast<int16_t*>(buffer->data());
}

// Widens the input into the image: zero-point borders around the rows and columns read, or
// (1x1) the pixels read, one after the other.
void FillIgemmImage(const Qs8PackedConv& conv, const int8_t* input, int16_t* image,
                    ThreadPool* pool) {
  const Qs8ConvParams& p = conv.params;
  const Conv2dGeometry& g = conv.geometry;
  const size_t c = p.input_channels;
  const size_t row_values = conv.image_w * c;
  const Qs8IgemmConvertFn convert = conv.igemm->convert;
  const auto zp = static_cast<int16_t>(p.input_zero_point);
  const size_t rows = p.batch * conv.image_h;
  RunParallel(pool, rows, GrainFor(row_values), [&](size_t begin, size_t end) {
    for (size_t row = begin; row < end; ++row) {
      const size_t b = row / conv.image_h;
      const size_t r = row % conv.image_h;
      int16_t* dst = image + row * row_values;
      const int8_t* src_image = input + b * p.input_height * p.input_width * c;
      if (conv.igemm_sampled) {
        const int8_t* src = src_image + r * p.stride_height * p.input_width * c;
        convert(conv.image_w, c, src, p.stride_width * c, dst);
        continue;
      }
      const auto iy = static_cast<int64_t>(r) - static_cast<int64_t>(g.pad_top);
      if (iy < 0 || iy >= static_cast<int64_t>(p.input_height)) {
        std::fill_n(dst, row_values, zp);
        continue;
      }
      const size_t left = std::min(g.pad_left, conv.image_w);
      const size_t inside = std::min(p.input_width, conv.image_w - left);
      std::fill_n(dst, left * c, zp);
      convert(inside, c, src_image + static_cast<size_t>(iy) * p.input_width * c, c,
              dst + left * c);
      std::fill_n(dst + (left + inside) * c, (conv.image_w - left - inside) * c, zp);
    }
  });
}

void RunIgemm(const Qs8PackedConv& conv, const int8_t* input, int8_t* output, ThreadPool* pool) {
  const Qs8ConvParams& p = conv.params;
  const Conv2dGeometry& g = conv.geometry;
  const size_t n = p.output_channels;
  const size_t c = p.input_channels;
  const size_t runs = conv.igemm_offsets.size();
  const size_t run = conv.igemm_run;
  int16_t* image = IgemmImage(p.batch * conv.image_h * conv.image_w * c);
  FillIgemmImage(conv, input, image, pool);

  const Qs8IgemmKernel& kernel = *conv.igemm_kernel;
  const size_t nr = kernel.nr;
  const size_t pixels = p.batch * g.out_h * g.out_w;
  const size_t blocks = (pixels + kIgemmBlock - 1) / kIgemmBlock;
  const size_t tiles = (n + nr - 1) / nr;
  const size_t tile_values = runs * run * nr;
  const auto* w = reinterpret_cast<const int16_t*>(conv.igemm_w->data());
  const Qs8Requant& rq = p.requant;
  Qs8GemmEpilogue base;
  base.mode = rq.mode;
  base.per_channel = rq.mode == RequantMode::kFp32 ? rq.scale.size() > 1 : rq.multiplier.size() > 1;
  base.scale = rq.scale.empty() ? nullptr : rq.scale.data();
  base.multiplier = rq.multiplier.empty() ? nullptr : rq.multiplier.data();
  base.output_zero_point = rq.output_zero_point;
  base.qmin = rq.qmin;
  base.qmax = rq.qmax;
  const size_t per_image = g.out_h * g.out_w;
  const size_t image_values = conv.image_h * conv.image_w * c;
  const size_t step_h = conv.igemm_sampled ? 1 : p.stride_height;
  const size_t step_w = conv.igemm_sampled ? 1 : p.stride_width;

  RunParallel(pool, blocks, GrainFor(kIgemmBlock * n * runs * run), [&](size_t begin,
                                                                        size_t end) {
    const int16_t* a[kIgemmBlock];
    for (size_t tile = 0; tile < tiles; ++tile) {
      const size_t n0 = tile * nr;
      const size_t nc = std::min(nr, n - n0);
      Qs8GemmEpilogue ep = base;
      if (ep.per_channel) {
        if (ep.scale != nullptr) ep.scale += n0;
        if (ep.multiplier != nullptr) ep.multiplier += n0;
      }
      // The first pixel's coordinates, then stepped one pixel at a time (no divisions).
      const size_t first = begin * kIgemmBlock;
      const size_t b = first / per_image;
      size_t oy = (first % per_image) / g.out_w;
      size_t ox = first % g.out_w;
      const int16_t* row = image + b * image_values + oy * step_h * conv.image_w * c;
      const size_t next_row = step_h * conv.image_w * c;
      const size_t next_image = image_values - g.out_h * next_row;
      for (size_t block = begin; block < end; ++block) {
        const size_t p0 = block * kIgemmBlock;
        const size_t m = std::min(kIgemmBlock, pixels - p0);
        for (size_t i = 0; i < m; ++i) {
          a[i] = row + ox * step_w * c;
          if (++ox == g.out_w) {
            ox = 0;
            row += next_row;
            if (++oy == g.out_h) {
              oy = 0;
              row += next_image;
            }
          }
        }
        kernel.igemm(m, nc, runs, run, a, conv.igemm_offsets.data(), w + tile * tile_values,
                     conv.igemm_init.data() + n0, output + p0 * n + n0, n, ep);
      }
    }
  });
}

// im2col tile height: about 64 KiB of A per tile (stays in L2 next to the packed weights),
// a multiple of 16 rows.
size_t Im2ColTileRows(size_t k) {
  const size_t rows = (size_t{64} << 10) / std::max<size_t>(k, 1) / 16 * 16;
  return std::min<size_t>(std::max<size_t>(rows, 16), 1024);
}

}  // namespace

void Qs8Conv2D(const Qs8PackedConv& conv, const int8_t* input, int8_t* output, ThreadPool* pool) {
  if (conv.kind != ConvKind::kConv2D) {
    throw std::invalid_argument("Qs8Conv2D needs weights packed by PackQs8Conv2D");
  }
  const Qs8ConvParams& p = conv.params;
  const Conv2dGeometry& g = conv.geometry;
  const size_t n = p.output_channels;
  const size_t c = p.input_channels;
  const size_t k = p.kernel_height * p.kernel_width * c;
  const size_t pixels = p.batch * g.out_h * g.out_w;
  if (pixels == 0) return;
  if (conv.igemm != nullptr) {
    RunIgemm(conv, input, output, pool);
    return;
  }

  if (p.kernel_height == 1 && p.kernel_width == 1) {
    // A 1x1 kernel never pads (TFLite's rules give zero total padding), so output pixel
    // (oy, ox) reads input pixel (oy * sh, ox * sw): the input itself is the A matrix.
    if (p.stride_height == 1 && p.stride_width == 1) {
      Qs8Gemm(*conv.gemm, pixels, input, c, output, n, p.requant, pool);
      return;
    }
    const size_t rows = p.batch * g.out_h;
    RunParallel(pool, rows, GrainFor(g.out_w * k * n), [&](size_t begin, size_t end) {
      for (size_t row = begin; row < end; ++row) {
        const size_t b = row / g.out_h;
        const size_t iy = (row % g.out_h) * p.stride_height;
        const int8_t* a = input + ((b * p.input_height + iy) * p.input_width) * c;
        Qs8Gemm(*conv.gemm, g.out_w, a, p.stride_width * c,
                output + row * g.out_w * n, n, p.requant, nullptr);
      }
    });
    return;
  }

  const size_t tile = Im2ColTileRows(k);
  const size_t tiles = (pixels + tile - 1) / tile;
  RunParallel(pool, tiles, 1, [&](size_t begin, size_t end) {
    std::vector<int8_t> a(tile * k);
    for (size_t t = begin; t < end; ++t) {
      const size_t first = t * tile;
      const size_t count = std::min(tile, pixels - first);
      Im2ColRows(p, g, input, first, count, a.data(), k);
      Qs8Gemm(*conv.gemm, count, a.data(), k, output + first * n, n, p.requant, nullptr);
    }
  });
}

}  // namespace litequant
