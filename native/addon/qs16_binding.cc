// int16x8 FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D (TFLite's 16x8 quantization). The
// weights, bias, requantization and geometry are packed once into a handle (a type-tagged
// External owning the packed layer); the hot call runs it on Int16Arrays without parsing options
// or allocating JS memory.
//
//   qs16Pack(kind: 'fully-connected' | 'conv2d' | 'depthwise', weights: Int8Array,
//            bias: BigInt64Array | null, weightScales: Float32Array [1 | channels], params)
//     -> handle
//     'fully-connected': weights [units, inputSize]; params {inputSize, units, inputScale,
//                        outputScale, requantization: 'fixed-point' | 'double', qmin, qmax}.
//                        'fixed-point' is TFLite's int64 MultiplyByQuantizedMultiplier
//                        (per-tensor multipliers from float(s_in * s_w), as
//                        GetQuantizedConvolutionMultipler computes them): TFLite before
//                        2025-04; 'double' is LiteRT's FULLY_CONNECTED since 2025-04.
//     'conv2d':          weights OHWI; params {batch, inputHeight, inputWidth, inputChannels,
//                        outputChannels, filterHeight, filterWidth, strideHeight, strideWidth,
//                        dilationHeight, dilationWidth, padding: 'same' | 'valid', inputScale,
//                        outputScale, qmin, qmax}; TFLite's CONV_2D rules (fixed-point).
//     'depthwise':       weights [filterHeight, filterWidth, inputChannels * depthMultiplier]
//                        (TFLite's [1, KH, KW, C*M]); params as 'conv2d' with depthMultiplier
//                        instead of outputChannels.
//   qs16Run(handle, input: Int16Array, output: Int16Array, threads: 1..256)
//     fully-connected: input holds m rows of inputSize (m = length / inputSize), output m rows
//     of units. conv2d / depthwise: NHWC input and output of the packed geometry.
//   qs16Info(handle) -> {kind, units, inputSize, outputHeight, outputWidth, inputLength,
//                        outputLength, path, kernel}
//     units: output channels; inputSize: the GEMM's K (fully-connected, conv2d) or the taps
//     per channel (depthwise); inputLength/outputLength/outputHeight/outputWidth: 0 for
//     fully-connected (its row count is the caller's).
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "bindings.h"
#include "litequant/qs16_conv.h"
#include "litequant/qs16_gemm.h"
#include "litequant/thread_pool.h"
#include "params.h"

namespace litequant {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 31;
constexpr int64_t kMaxElements = int64_t{1} << 40;
constexpr int64_t kMaxThreads = 256;
constexpr napi_type_tag kQs16Tag = {0x6c6974657175616eULL, 0x717331365f5f5f5fULL};

enum class Qs16Kind : uint8_t { kFullyConnected, kConv2d, kDepthwise };

const char* KindName(Qs16Kind kind) {
  switch (kind) {
    case Qs16Kind::kFullyConnected: return "fully-connected";
    case Qs16Kind::kConv2d: return "conv2d";
    default: return "depthwise";
  }
}

struct Qs16Handle {
  Qs16Kind kind = Qs16Kind::kFullyConnected;
  std::shared_ptr<const Qs16PackedWeights> packed;  // fully-connected, conv2d
  std::vector<int8_t> filter;                        // depthwise: its own copy
  std::vector<int64_t> bias;                         // depthwise: empty when none
  size_t depth_multiplier = 1;
  Qs16Requant requant;  // one entry per output channel
  size_t n = 0;
  size_t k = 0;
  Conv2dGeometry geometry;   // conv2d, depthwise
  size_t input_length = 0;   // conv2d, depthwise
  size_t output_length = 0;  // conv2d, depthwise
  int64_t external_bytes = 0;
};

Qs16Handle& Handle(const Napi::CallbackInfo& info) {
  return TaggedHandle<Qs16Handle>(info, kQs16Tag, "qs16Pack");
}

void CheckProduct(Napi::Env env, double product, const char* what) {
  if (product > static_cast<double>(kMaxElements)) {
    ThrowWithCode(env, std::string("Expected ") + what + " to be at most 2^40 elements",
                  kErrInvalidArgument, true);
  }
}

void CheckBias(Napi::Env env, const TypedView<int64_t>& bias) {
  for (size_t i = 0; i < bias.length; ++i) {
    if (bias.data[i] > kQs16MaxAbsBias || bias.data[i] < -kQs16MaxAbsBias) {
      ThrowWithCode(env,
                    "Expected bias values within +-2^46 (TFLite's int64 requantization bound) "
                    "but received " + std::to_string(bias.data[i]) + " at index " +
                        std::to_string(i),
                    kErrInvalidArgument, true);
    }
  }
}

Qs16Requant ReadRequant(Napi::Env env, const ParamObject& p, Qs16RequantMode mode,
                        Qs16ScaleRule rule, const TypedView<float>& weight_scales) {
  const auto input_scale = static_cast<float>(p.Number("inputScale", true));
  const auto output_scale = static_cast<float>(p.Number("outputScale", true));
  const auto qmin = static_cast<int32_t>(p.Integer("qmin", -32768, 32767));
  const auto qmax = static_cast<int32_t>(p.Integer("qmax", qmin, 32767));
  Qs16Requant rq;
  const char* why = nullptr;
  if (!MakeQs16Requant(mode, rule, input_scale, weight_scales.data, weight_scales.length,
                       output_scale, qmin, qmax, &rq, &why)) {
    ThrowWithCode(env, std::string("Invalid int16x8 quantization parameters: ") + why,
                  kErrInvalidArgument, true);
  }
  return rq;
}

// The input, filter, stride, dilation and padding fields common to CONV_2D and
// DEPTHWISE_CONV_2D; the output size is computed by the caller.
Conv2dGeometry ReadGeometry(const ParamObject& p, Padding* padding) {
  Conv2dGeometry g;
  g.batch = static_cast<size_t>(p.Integer("batch", 0, kMaxDim));
  g.in_h = static_cast<size_t>(p.Integer("inputHeight", 1, kMaxDim));
  g.in_w = static_cast<size_t>(p.Integer("inputWidth", 1, kMaxDim));
  g.in_c = static_cast<size_t>(p.Integer("inputChannels", 1, kMaxDim));
  g.k_h = static_cast<size_t>(p.Integer("filterHeight", 1, kMaxDim));
  g.k_w = static_cast<size_t>(p.Integer("filterWidth", 1, kMaxDim));
  g.stride_h = static_cast<size_t>(p.Integer("strideHeight", 1, kMaxDim));
  g.stride_w = static_cast<size_t>(p.Integer("strideWidth", 1, kMaxDim));
  g.dilation_h = static_cast<size_t>(p.Integer("dilationHeight", 1, kMaxDim));
  g.dilation_w = static_cast<size_t>(p.Integer("dilationWidth", 1, kMaxDim));
  static const char* const kPaddings[] = {"same", "valid", nullptr};
  *padding = p.Choice("padding", kPaddings) == 0 ? Padding::kSame : Padding::kValid;
  return g;
}

void ComputeGeometryOrThrow(Napi::Env env, Padding padding, Conv2dGeometry* g) {
  if (!ComputeConv2dGeometry(padding, g)) {
    ThrowWithCode(env, "Expected a filter that fits the input (the output would be empty)",
                  kErrInvalidArgument, true);
  }
}

// threads in [1, 256].
ThreadPool* Pool(const Napi::CallbackInfo& info, size_t i) {
  const int64_t threads = ArgInteger(info, i, "threads", 1, kMaxThreads);
  return threads > 1 ? SharedThreadPool(static_cast<size_t>(threads)) : nullptr;
}

// Fills the fully-connected fields of h (shape and requantization).
void ReadFullyConnected(Napi::Env env, const ParamObject& p, const TypedView<float>& scales,
                        Qs16Handle* h) {
  h->k = static_cast<size_t>(p.Integer("inputSize", 1, static_cast<int64_t>(kQs16MaxK)));
  h->n = static_cast<size_t>(p.Integer("units", 1, kMaxDim));
  static const char* const kModes[] = {"fixed-point", "double", nullptr};
  const auto mode = static_cast<Qs16RequantMode>(p.Choice("requantization", kModes));
  CheckProduct(env, static_cast<double>(h->n) * static_cast<double>(h->k), "units * inputSize");
  if (scales.length != 1) CheckLength(env, scales.length, h->n, "weightScales");
  const Qs16ScaleRule rule = mode == Qs16RequantMode::kFixedPoint && scales.length == 1
                                 ? Qs16ScaleRule::kFloatProduct
                                 : Qs16ScaleRule::kDoubleProduct;
  h->requant = ReadRequant(env, p, mode, rule, scales);
}

// Fills the conv2d fields of h (geometry and requantization).
void ReadConv2d(Napi::Env env, const ParamObject& p, const TypedView<float>& scales,
                Qs16Handle* h) {
  Padding padding;
  Conv2dGeometry g = ReadGeometry(p, &padding);
  h->n = static_cast<size_t>(p.Integer("outputChannels", 1, kMaxDim));
  const double in_elems = static_cast<double>(g.batch) * static_cast<double>(g.in_h) *
                          static_cast<double>(g.in_w) * static_cast<double>(g.in_c);
  const double k_d =
      static_cast<double>(g.k_h) * static_cast<double>(g.k_w) * static_cast<double>(g.in_c);
  CheckProduct(env, in_elems, "the input");
  CheckProduct(env, k_d * static_cast<double>(h->n), "the filter");
  if (k_d > static_cast<double>(kQs16MaxK)) {
    ThrowWithCode(env, "Expected filterHeight * filterWidth * inputChannels to be at most 2^22",
                  kErrInvalidArgument, true);
  }
  ComputeGeometryOrThrow(env, padding, &g);
  CheckProduct(env, static_cast<double>(g.batch) * static_cast<double>(g.out_h) *
                        static_cast<double>(g.out_w) * static_cast<double>(h->n),
               "the output");
  h->k = g.k_h * g.k_w * g.in_c;
  h->geometry = g;
  h->input_length = g.batch * g.in_h * g.in_w * g.in_c;
  h->output_length = g.batch * g.out_h * g.out_w * h->n;
  if (scales.length != 1) CheckLength(env, scales.length, h->n, "weightScales");
  h->requant = ReadRequant(env, p, Qs16RequantMode::kFixedPoint, Qs16ScaleRule::kDoubleProduct,
                           scales);
}

// Fills the depthwise fields of h (geometry, multiplier and requantization).
void ReadDepthwise(Napi::Env env, const ParamObject& p, const TypedView<float>& scales,
                   Qs16Handle* h) {
  Padding padding;
  Conv2dGeometry g = ReadGeometry(p, &padding);
  h->depth_multiplier = static_cast<size_t>(p.Integer("depthMultiplier", 1, kMaxDim));
  const double channels_d =
      static_cast<double>(g.in_c) * static_cast<double>(h->depth_multiplier);
  CheckProduct(env, static_cast<double>(g.batch) * static_cast<double>(g.in_h) *
                        static_cast<double>(g.in_w) * static_cast<double>(g.in_c),
               "the input");
  CheckProduct(env, static_cast<double>(g.k_h) * static_cast<double>(g.k_w) * channels_d,
               "the filter");
  if (static_cast<double>(g.k_h) * static_cast<double>(g.k_w) > static_cast<double>(kQs16MaxK)) {
    ThrowWithCode(env, "Expected filterHeight * filterWidth to be at most 2^22",
                  kErrInvalidArgument, true);
  }
  ComputeGeometryOrThrow(env, padding, &g);
  CheckProduct(env, static_cast<double>(g.batch) * static_cast<double>(g.out_h) *
                        static_cast<double>(g.out_w) * channels_d,
               "the output");
  h->n = g.in_c * h->depth_multiplier;
  h->k = g.k_h * g.k_w;
  h->geometry = g;
  h->input_length = g.batch * g.in_h * g.in_w * g.in_c;
  h->output_length = g.batch * g.out_h * g.out_w * h->n;
  if (scales.length != 1) CheckLength(env, scales.length, h->n, "weightScales");
  h->requant = ReadRequant(env, p, Qs16RequantMode::kFixedPoint, Qs16ScaleRule::kDoubleProduct,
                           scales);
}

}  // namespace

Napi::Value Qs16Pack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 5);
  const std::string kind_name = ArgString(info, 0, "kind");
  Qs16Kind kind = Qs16Kind::kFullyConnected;
  if (kind_name == "fully-connected") kind = Qs16Kind::kFullyConnected;
  else if (kind_name == "conv2d") kind = Qs16Kind::kConv2d;
  else if (kind_name == "depthwise") kind = Qs16Kind::kDepthwise;
  else ThrowExpected(env, "'fully-connected', 'conv2d' or 'depthwise'", "kind", info[0]);
  const auto weights = ArgInt8Array(info, 1, "weights");
  const auto bias = ArgOptionalBigInt64Array(info, 2, "bias");
  const auto scales = ArgFloat32Array(info, 3, "weightScales");
  const ParamObject p(info, 4, "params");

  auto handle = std::make_unique<Qs16Handle>();
  Qs16Handle& h = *handle;
  h.kind = kind;
  if (kind == Qs16Kind::kFullyConnected) ReadFullyConnected(env, p, scales, &h);
  else if (kind == Qs16Kind::kConv2d) ReadConv2d(env, p, scales, &h);
  else ReadDepthwise(env, p, scales, &h);
  const char* weights_name = kind == Qs16Kind::kFullyConnected ? "weights" : "filter";
  CheckLength(env, weights.length, h.n * h.k, weights_name);
  if (bias.data != nullptr) CheckLength(env, bias.length, h.n, "bias");
  CheckBias(env, bias);
  RunGuarded(env, [&] {
    Qs16ExpandPerTensor(&h.requant, h.n);  // no per-call expansion in Qs16Gemm
    if (kind == Qs16Kind::kDepthwise) {
      h.filter.assign(weights.data, weights.data + weights.length);
      if (bias.data != nullptr) h.bias.assign(bias.data, bias.data + bias.length);
    } else {
      h.packed = PackQs16Gemm(weights.data, h.n, h.k, bias.data);
    }
  });
  if (kind != Qs16Kind::kDepthwise && !h.packed) {
    ThrowWithCode(env, "Expected weights the int16x8 GEMM can pack", kErrInvalidArgument, true);
  }
  // Tell the GC about the packed copy (int16 panels or the int8 filter, bias, requantization).
  h.external_bytes = static_cast<int64_t>(
      (kind == Qs16Kind::kDepthwise ? 1 : 2) * h.n * h.k + 24 * h.n);
  return WrapTaggedHandle(env, std::move(handle), kQs16Tag);
}

Napi::Value Qs16Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 4);
  const Qs16Handle& h = Handle(info);
  const auto input = ArgInt16Array(info, 1, "input");
  const auto output = ArgInt16Array(info, 2, "output");
  ThreadPool* pool = Pool(info, 3);
  size_t rows = 0;
  if (h.kind == Qs16Kind::kFullyConnected) {
    rows = input.length / h.k;
    CheckLength(env, input.length, rows * h.k, "input");
    CheckProduct(env, static_cast<double>(rows) * static_cast<double>(h.n), "rows * units");
    CheckLength(env, output.length, rows * h.n, "output");
  } else {
    CheckLength(env, input.length, h.input_length, "input");
    CheckLength(env, output.length, h.output_length, "output");
  }
  // Overlapping views of one buffer would let outputs overwrite inputs still to be read.
  const auto* in_begin = reinterpret_cast<const uint8_t*>(input.data);
  const auto* out_begin = reinterpret_cast<const uint8_t*>(output.data);
  if (input.length > 0 && output.length > 0 &&
      in_begin < out_begin + output.length * sizeof(int16_t) &&
      out_begin < in_begin + input.length * sizeof(int16_t)) {
    ThrowWithCode(env, "Expected input and output that do not overlap", kErrInvalidArgument);
  }
  RunGuarded(env, [&] {
    switch (h.kind) {
      case Qs16Kind::kFullyConnected:
        Qs16Gemm(*h.packed, rows, input.data, h.k, output.data, h.n, h.requant, pool);
        break;
      case Qs16Kind::kConv2d:
        Qs16Conv2d(*h.packed, h.geometry, input.data, output.data, h.requant, pool);
        break;
      case Qs16Kind::kDepthwise:
        Qs16DepthwiseConv2d(h.geometry, h.depth_multiplier, input.data, h.filter.data(),
                            h.bias.empty() ? nullptr : h.bias.data(), output.data, h.requant,
                            pool);
        break;
    }
  });
  return env.Undefined();
}

Napi::Value Qs16Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 1);
  const Qs16Handle& h = Handle(info);
  const bool conv = h.kind != Qs16Kind::kFullyConnected;
  Napi::Object out = Napi::Object::New(env);
  out.Set("kind", Napi::String::New(env, KindName(h.kind)));
  out.Set("units", Napi::Number::New(env, static_cast<double>(h.n)));
  out.Set("inputSize", Napi::Number::New(env, static_cast<double>(h.k)));
  out.Set("outputHeight", Napi::Number::New(env, conv ? static_cast<double>(h.geometry.out_h) : 0));
  out.Set("outputWidth", Napi::Number::New(env, conv ? static_cast<double>(h.geometry.out_w) : 0));
  out.Set("inputLength", Napi::Number::New(env, static_cast<double>(h.input_length)));
  out.Set("outputLength", Napi::Number::New(env, static_cast<double>(h.output_length)));
  // The depthwise layer has no SIMD kernel: scalar int64 loops on every path.
  const bool dw = h.kind == Qs16Kind::kDepthwise;
  out.Set("path", Napi::String::New(env, dw ? "reference" : PathName(Qs16PackedPath(*h.packed))));
  out.Set("kernel",
          Napi::String::New(env, dw ? "qs16_dwconv__scalar" : Qs16PackedKernelName(*h.packed)));
  return out;
}

}  // namespace litequant
