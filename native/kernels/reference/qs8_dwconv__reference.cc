// The reference (scalar) depthwise kernels: the contract of qs8_dwconv.h in plain loops.
// Packed layout: bias[C] int32, scale[C] float, multiplier[C] int32, shift[C] int32, then the
// weights as given, [taps][C] int8.
#include <cstring>

#include "litequant/qs8_dwconv.h"

namespace litequant {
namespace {

size_t PackedSize(size_t channels, size_t taps) { return channels * 16 + taps * channels; }

void Pack(const Qs8DwconvPackInput& in, void* packed) {
  auto* p = static_cast<uint8_t*>(packed);
  const size_t c = in.channels;
  std::memcpy(p, in.bias, c * 4);
  if (in.mode == RequantMode::kFp32) {
    std::memcpy(p + c * 4, in.scale, c * 4);
    std::memset(p + c * 8, 0, c * 8);
  } else {
    std::memset(p + c * 4, 0, c * 4);
    std::memcpy(p + c * 8, in.multiplier, c * 4);
    std::memcpy(p + c * 12, in.shift, c * 4);
  }
  std::memcpy(p + c * 16, in.weights, in.taps * c);
}

void qs8_dwconv_1c__reference(size_t pixels, size_t channels, size_t taps,
                              const int8_t* const* input, size_t input_advance,
                              const void* packed, int8_t* output, size_t output_stride,
                              const Qs8DwconvOutputParams& params) {
  const auto* p = static_cast<const uint8_t*>(packed);
  const auto* bias = reinterpret_cast<const int32_t*>(p);
  const auto* scale = reinterpret_cast<const float*>(p + channels * 4);
  const auto* multiplier = reinterpret_cast<const int32_t*>(p + channels * 8);
  const auto* shift = reinterpret_cast<const int32_t*>(p + channels * 12);
  const auto* w = reinterpret_cast<const int8_t*>(p + channels * 16);
  for (size_t px = 0; px < pixels; ++px) {
    const int8_t* const* in = input + px * input_advance;
    int8_t* out = output + px * output_stride;
    for (size_t c = 0; c < channels; ++c) {
      // uint32 arithmetic: int32 wrap-around without undefined behaviour.
      uint32_t acc = static_cast<uint32_t>(bias[c]);
      for (size_t t = 0; t < taps; ++t) {
        acc += static_cast<uint32_t>(int32_t{in[t][c]} * int32_t{w[t * channels + c]});
      }
      const auto a = static_cast<int32_t>(acc);
      const int32_t q =
          params.mode == RequantMode::kFp32
              ? RequantizeFp32(a, scale[c], params.output_zero_point, params.qmin, params.qmax)
              : RequantizeFixedPoint(a, QuantizedMultiplier{multiplier[c], shift[c]},
                                     params.output_zero_point, params.qmin, params.qmax);
      out[c] = static_cast<int8_t>(q);
    }
  }
}

}  // namespace

extern const Qs8DwconvKernels kQs8DwconvReference = {1, PackedSize, Pack,
                                                     qs8_dwconv_1c__reference,
                                                     qs8_dwconv_1c__reference,
                                                     "qs8_dwconv_1c__reference",
                                                     "qs8_dwconv_1c__reference"};

}  // namespace litequant
