// int16x8 FULLY_CONNECTED and CONV_2D (TFLite's 16x8 quantization). JS passes the tensors,
// the per-channel weight scales and one params object; the output array is allocated by JS and
// its length is checked against the shape C++ derives itself.
#include <string>

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

ThreadPool* ReadPool(const ParamObject& p) {
  const auto threads = p.Has("threads") ? static_cast<size_t>(p.Integer("threads", 1, 256)) : 1;
  return threads > 1 ? SharedThreadPool(threads) : nullptr;
}

// The input, filter, stride and dilation fields common to CONV_2D and DEPTHWISE_CONV_2D.
Conv2dGeometry ReadGeometry(const ParamObject& p) {
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
  return g;
}

Padding ReadPadding(const ParamObject& p) {
  static const char* const kPaddings[] = {"same", "valid", nullptr};
  return p.Choice("padding", kPaddings) == 0 ? Padding::kSame : Padding::kValid;
}

void ComputeGeometryOrThrow(Napi::Env env, Padding padding, Conv2dGeometry* g) {
  if (!ComputeConv2dGeometry(padding, g)) {
    ThrowWithCode(env, "Expected a filter that fits the input (the output would be empty)",
                  kErrInvalidArgument, true);
  }
}

// [outputHeight, outputWidth], what the convolution bindings return.
Napi::Value OutputShape(Napi::Env env, const Conv2dGeometry& g) {
  Napi::Array shape = Napi::Array::New(env, 2);
  shape.Set(uint32_t{0}, Napi::Number::New(env, static_cast<double>(g.out_h)));
  shape.Set(uint32_t{1}, Napi::Number::New(env, static_cast<double>(g.out_w)));
  return shape;
}

}  // namespace

// qs16FullyConnected(input: Int16Array, weights: Int8Array, bias: BigInt64Array | null,
//                    weightScales: Float32Array, output: Int16Array,
//                    params: {batch, inputSize, units, inputScale, outputScale,
//                             requantization: 'fixed-point' | 'double', qmin, qmax, threads?})
// weightScales has 1 (per tensor) or `units` entries. 'fixed-point' is TFLite's int64
// MultiplyByQuantizedMultiplier (per-tensor multipliers from float(s_in * s_w), as
// GetQuantizedConvolutionMultipler computes them): TFLite before 2025-04; 'double' is LiteRT's
// FULLY_CONNECTED since 2025-04.
Napi::Value Qs16FullyConnected(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 6);
  const auto input = ArgInt16Array(info, 0, "input");
  const auto weights = ArgInt8Array(info, 1, "weights");
  const auto bias = ArgOptionalBigInt64Array(info, 2, "bias");
  const auto weight_scales = ArgFloat32Array(info, 3, "weightScales");
  const auto output = ArgInt16Array(info, 4, "output");
  const ParamObject p(info, 5, "params");
  const auto batch = static_cast<size_t>(p.Integer("batch", 0, kMaxDim));
  const auto k = static_cast<size_t>(p.Integer("inputSize", 1, static_cast<int64_t>(kQs16MaxK)));
  const auto n = static_cast<size_t>(p.Integer("units", 1, kMaxDim));
  static const char* const kModes[] = {"fixed-point", "double", nullptr};
  const auto mode = static_cast<Qs16RequantMode>(p.Choice("requantization", kModes));
  CheckProduct(env, static_cast<double>(batch) * static_cast<double>(k), "batch * inputSize");
  CheckProduct(env, static_cast<double>(n) * static_cast<double>(k), "units * inputSize");
  CheckProduct(env, static_cast<double>(batch) * static_cast<double>(n), "batch * units");
  CheckLength(env, input.length, batch * k, "input");
  CheckLength(env, weights.length, n * k, "weights");
  if (bias.data != nullptr) CheckLength(env, bias.length, n, "bias");
  if (weight_scales.length != 1) CheckLength(env, weight_scales.length, n, "weightScales");
  CheckLength(env, output.length, batch * n, "output");
  CheckBias(env, bias);
  const Qs16ScaleRule rule =
      mode == Qs16RequantMode::kFixedPoint && weight_scales.length == 1
          ? Qs16ScaleRule::kFloatProduct
          : Qs16ScaleRule::kDoubleProduct;
  const Qs16Requant rq = ReadRequant(env, p, mode, rule, weight_scales);
  ThreadPool* pool = ReadPool(p);
  RunGuarded(env, [&] {
    const auto packed = PackQs16Gemm(weights.data, n, k, bias.data);
    Qs16Gemm(*packed, batch, input.data, k, output.data, n, rq, pool);
  });
  return env.Undefined();
}

// qs16Conv2d(input: Int16Array, filter: Int8Array, bias: BigInt64Array | null,
//            weightScales: Float32Array, output: Int16Array,
//            params: {batch, inputHeight, inputWidth, inputChannels, outputChannels,
//                     filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight,
//                     dilationWidth, padding: 'same' | 'valid', inputScale, outputScale, qmin,
//                     qmax, threads?})
// NHWC input, OHWI filter; TFLite's CONV_2D rules (fixed-point requantization, SAME/VALID
// padding as ComputePaddingHeightWidth). Returns [outputHeight, outputWidth].
Napi::Value Qs16Conv2dBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 6);
  const auto input = ArgInt16Array(info, 0, "input");
  const auto filter = ArgInt8Array(info, 1, "filter");
  const auto bias = ArgOptionalBigInt64Array(info, 2, "bias");
  const auto weight_scales = ArgFloat32Array(info, 3, "weightScales");
  const auto output = ArgInt16Array(info, 4, "output");
  const ParamObject p(info, 5, "params");
  Conv2dGeometry g = ReadGeometry(p);
  const auto out_c = static_cast<size_t>(p.Integer("outputChannels", 1, kMaxDim));
  const Padding padding = ReadPadding(p);
  const double in_elems = static_cast<double>(g.batch) * static_cast<double>(g.in_h) *
                          static_cast<double>(g.in_w) * static_cast<double>(g.in_c);
  const double k_d =
      static_cast<double>(g.k_h) * static_cast<double>(g.k_w) * static_cast<double>(g.in_c);
  CheckProduct(env, in_elems, "the input");
  CheckProduct(env, k_d * static_cast<double>(out_c), "the filter");
  if (k_d > static_cast<double>(kQs16MaxK)) {
    ThrowWithCode(env, "Expected filterHeight * filterWidth * inputChannels to be at most 2^22",
                  kErrInvalidArgument, true);
  }
  ComputeGeometryOrThrow(env, padding, &g);
  const size_t k = g.k_h * g.k_w * g.in_c;
  CheckProduct(env, static_cast<double>(g.batch) * static_cast<double>(g.out_h) *
                        static_cast<double>(g.out_w) * static_cast<double>(out_c),
               "the output");
  CheckLength(env, input.length, g.batch * g.in_h * g.in_w * g.in_c, "input");
  CheckLength(env, filter.length, out_c * k, "filter");
  if (bias.data != nullptr) CheckLength(env, bias.length, out_c, "bias");
  if (weight_scales.length != 1) CheckLength(env, weight_scales.length, out_c, "weightScales");
  CheckLength(env, output.length, g.batch * g.out_h * g.out_w * out_c, "output");
  CheckBias(env, bias);
  const Qs16Requant rq = ReadRequant(env, p, Qs16RequantMode::kFixedPoint,
                                     Qs16ScaleRule::kDoubleProduct, weight_scales);
  ThreadPool* pool = ReadPool(p);
  RunGuarded(env, [&] {
    const auto packed = PackQs16Gemm(filter.data, out_c, k, bias.data);
    Qs16Conv2d(*packed, g, input.data, output.data, rq, pool);
  });
  return OutputShape(env, g);
}

// qs16DepthwiseConv2d(input: Int16Array, filter: Int8Array, bias: BigInt64Array | null,
//                     weightScales: Float32Array, output: Int16Array,
//                     params: {batch, inputHeight, inputWidth, inputChannels, depthMultiplier,
//                              filterHeight, filterWidth, strideHeight, strideWidth,
//                              dilationHeight, dilationWidth, padding, inputScale, outputScale,
//                              qmin, qmax, threads?})
// NHWC input, filter [filterHeight, filterWidth, inputChannels * depthMultiplier] (TFLite's
// [1, KH, KW, C*M]). Returns [outputHeight, outputWidth].
Napi::Value Qs16DepthwiseConv2dBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 6);
  const auto input = ArgInt16Array(info, 0, "input");
  const auto filter = ArgInt8Array(info, 1, "filter");
  const auto bias = ArgOptionalBigInt64Array(info, 2, "bias");
  const auto weight_scales = ArgFloat32Array(info, 3, "weightScales");
  const auto output = ArgInt16Array(info, 4, "output");
  const ParamObject p(info, 5, "params");
  Conv2dGeometry g = ReadGeometry(p);
  const auto mult = static_cast<size_t>(p.Integer("depthMultiplier", 1, kMaxDim));
  const Padding padding = ReadPadding(p);
  const double channels_d = static_cast<double>(g.in_c) * static_cast<double>(mult);
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
  const size_t channels = g.in_c * mult;
  CheckLength(env, input.length, g.batch * g.in_h * g.in_w * g.in_c, "input");
  CheckLength(env, filter.length, g.k_h * g.k_w * channels, "filter");
  if (bias.data != nullptr) CheckLength(env, bias.length, channels, "bias");
  if (weight_scales.length != 1) CheckLength(env, weight_scales.length, channels, "weightScales");
  CheckLength(env, output.length, g.batch * g.out_h * g.out_w * channels, "output");
  CheckBias(env, bias);
  const Qs16Requant rq = ReadRequant(env, p, Qs16RequantMode::kFixedPoint,
                                     Qs16ScaleRule::kDoubleProduct, weight_scales);
  ThreadPool* pool = ReadPool(p);
  RunGuarded(env, [&] {
    Qs16DepthwiseConv2d(g, mult, input.data, filter.data, bias.data, output.data, rq, pool);
  });
  return OutputShape(env, g);
}

}  // namespace litequant
