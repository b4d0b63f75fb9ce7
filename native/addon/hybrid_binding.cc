// Hybrid (dynamic-range) FULLY_CONNECTED, BATCH_MATMUL and CONV_2D: float activations, int8
// weights with per-tensor or per-channel scales, float output. JS passes the tensors and one
// params object; the output array is allocated by JS and its length checked here.
#include <cmath>
#include <string>

#include "args.h"
#include "bindings.h"
#include "litequant/f32_conv.h"
#include "litequant/hybrid.h"
#include "litequant/thread_pool.h"
#include "params.h"

namespace litequant {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 31;
constexpr double kMaxElements = 1099511627776.0;  // 2^40

void CheckProduct(Napi::Env env, double product, const char* what) {
  if (product > kMaxElements) {
    ThrowWithCode(env, std::string("Expected ") + what + " to be at most 2^40 elements",
                  kErrInvalidArgument, true);
  }
}

void CheckScales(Napi::Env env, const TypedView<float>& scales, size_t channels) {
  if (scales.length != 1) CheckLength(env, scales.length, channels, "weightScales");
  for (size_t i = 0; i < scales.length; ++i) {
    if (!(std::isfinite(scales.data[i]) && scales.data[i] > 0.0f)) {
      ThrowWithCode(env,
                    "Expected finite positive values for weightScales but received " +
                        std::to_string(scales.data[i]) + " at index " + std::to_string(i),
                    kErrInvalidArgument, true);
    }
  }
}

ThreadPool* ReadPool(const ParamObject& p) {
  const auto threads = p.Has("threads") ? static_cast<size_t>(p.Integer("threads", 1, 256)) : 1;
  return threads > 1 ? SharedThreadPool(threads) : nullptr;
}

void ReadClamp(Napi::Env env, const ParamObject& p, float* min, float* max) {
  *min = static_cast<float>(p.Bound("activationMin"));
  *max = static_cast<float>(p.Bound("activationMax"));
  if (!(*min <= *max)) {
    ThrowWithCode(env, "Expected activationMin <= activationMax", kErrInvalidArgument, true);
  }
}

}  // namespace

// hybridFullyConnected(input: Float32Array, weights: Int8Array, weightScales: Float32Array,
//                      bias: Float32Array | null, output: Float32Array,
//                      params: {batch, inputSize, units, asymmetric, activationMin,
//                               activationMax, threads?})
// weights [units, inputSize]; weightScales 1 (per tensor) or `units` entries.
Napi::Value HybridFullyConnectedBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 6);
  const auto input = ArgFloat32Array(info, 0, "input");
  const auto weights = ArgInt8Array(info, 1, "weights");
  const auto scales = ArgFloat32Array(info, 2, "weightScales");
  const auto bias = ArgOptionalFloat32Array(info, 3, "bias");
  const auto output = ArgFloat32Array(info, 4, "output");
  const ParamObject p(info, 5, "params");
  const auto batch = static_cast<size_t>(p.Integer("batch", 0, kMaxDim));
  const auto k = static_cast<size_t>(p.Integer("inputSize", 1, kMaxDim));
  const auto n = static_cast<size_t>(p.Integer("units", 1, kMaxDim));
  const bool asymmetric = p.Boolean("asymmetric");
  float min, max;
  ReadClamp(env, p, &min, &max);
  CheckProduct(env, static_cast<double>(batch) * static_cast<double>(k), "batch * inputSize");
  CheckProduct(env, static_cast<double>(n) * static_cast<double>(k), "units * inputSize");
  CheckProduct(env, static_cast<double>(batch) * static_cast<double>(n), "batch * units");
  CheckLength(env, input.length, batch * k, "input");
  CheckLength(env, weights.length, n * k, "weights");
  CheckScales(env, scales, n);
  if (bias.data != nullptr) CheckLength(env, bias.length, n, "bias");
  CheckLength(env, output.length, batch * n, "output");
  ThreadPool* pool = ReadPool(p);
  RunGuarded(env, [&] {
    const auto packed = PackHybrid(weights.data, n, k, scales.data, scales.length, bias.data);
    HybridFullyConnected(*packed, batch, input.data, output.data, asymmetric, min, max, pool);
  });
  return env.Undefined();
}

// hybridBatchMatMul(input: Float32Array, weights: Int8Array, weightScales: Float32Array,
//                   output: Float32Array, params: {rows, inputSize, units, asymmetric, threads?})
// input [rows, inputSize] (every batch dimension flattened into rows), weights the constant
// right-hand side transposed to [units, inputSize], output [rows, units].
Napi::Value HybridBatchMatMulBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 5);
  const auto input = ArgFloat32Array(info, 0, "input");
  const auto weights = ArgInt8Array(info, 1, "weights");
  const auto scales = ArgFloat32Array(info, 2, "weightScales");
  const auto output = ArgFloat32Array(info, 3, "output");
  const ParamObject p(info, 4, "params");
  const auto rows = static_cast<size_t>(p.Integer("rows", 0, kMaxDim));
  const auto k = static_cast<size_t>(p.Integer("inputSize", 1, kMaxDim));
  const auto n = static_cast<size_t>(p.Integer("units", 1, kMaxDim));
  const bool asymmetric = p.Boolean("asymmetric");
  CheckProduct(env, static_cast<double>(rows) * static_cast<double>(k), "rows * inputSize");
  CheckProduct(env, static_cast<double>(n) * static_cast<double>(k), "units * inputSize");
  CheckProduct(env, static_cast<double>(rows) * static_cast<double>(n), "rows * units");
  CheckLength(env, input.length, rows * k, "input");
  CheckLength(env, weights.length, n * k, "weights");
  CheckScales(env, scales, n);
  CheckLength(env, output.length, rows * n, "output");
  ThreadPool* pool = ReadPool(p);
  RunGuarded(env, [&] {
    const auto packed = PackHybrid(weights.data, n, k, scales.data, scales.length, nullptr);
    HybridBatchMatMul(*packed, rows, input.data, output.data, asymmetric, pool);
  });
  return env.Undefined();
}

// hybridConv2d(input: Float32Array, filter: Int8Array, weightScales: Float32Array,
//              bias: Float32Array | null, output: Float32Array,
//              params: {batch, inputHeight, inputWidth, inputChannels, outputChannels,
//                       filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight,
//                       dilationWidth, padding: 'same' | 'valid', activationMin, activationMax,
//                       threads?})
// NHWC input, OHWI filter. Returns [outputHeight, outputWidth].
Napi::Value HybridConv2dBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 6);
  const auto input = ArgFloat32Array(info, 0, "input");
  const auto filter = ArgInt8Array(info, 1, "filter");
  const auto scales = ArgFloat32Array(info, 2, "weightScales");
  const auto bias = ArgOptionalFloat32Array(info, 3, "bias");
  const auto output = ArgFloat32Array(info, 4, "output");
  const ParamObject p(info, 5, "params");
  Conv2dGeometry g;
  g.batch = static_cast<size_t>(p.Integer("batch", 0, kMaxDim));
  g.in_h = static_cast<size_t>(p.Integer("inputHeight", 1, kMaxDim));
  g.in_w = static_cast<size_t>(p.Integer("inputWidth", 1, kMaxDim));
  g.in_c = static_cast<size_t>(p.Integer("inputChannels", 1, kMaxDim));
  const auto out_c = static_cast<size_t>(p.Integer("outputChannels", 1, kMaxDim));
  g.k_h = static_cast<size_t>(p.Integer("filterHeight", 1, kMaxDim));
  g.k_w = static_cast<size_t>(p.Integer("filterWidth", 1, kMaxDim));
  g.stride_h = static_cast<size_t>(p.Integer("strideHeight", 1, kMaxDim));
  g.stride_w = static_cast<size_t>(p.Integer("strideWidth", 1, kMaxDim));
  g.dilation_h = static_cast<size_t>(p.Integer("dilationHeight", 1, kMaxDim));
  g.dilation_w = static_cast<size_t>(p.Integer("dilationWidth", 1, kMaxDim));
  static const char* const kPaddings[] = {"same", "valid", nullptr};
  const Padding padding = p.Choice("padding", kPaddings) == 0 ? Padding::kSame : Padding::kValid;
  float min, max;
  ReadClamp(env, p, &min, &max);
  const double image = static_cast<double>(g.in_h) * static_cast<double>(g.in_w) *
                       static_cast<double>(g.in_c);
  const double k_d =
      static_cast<double>(g.k_h) * static_cast<double>(g.k_w) * static_cast<double>(g.in_c);
  CheckProduct(env, image * static_cast<double>(g.batch), "the input");
  CheckProduct(env, k_d * static_cast<double>(out_c), "the filter");
  if (!ComputeConv2dGeometry(padding, &g)) {
    ThrowWithCode(env, "Expected a filter that fits the input (the output would be empty)",
                  kErrInvalidArgument, true);
  }
  const double pixels = static_cast<double>(g.batch) * static_cast<double>(g.out_h) *
                        static_cast<double>(g.out_w);
  CheckProduct(env, pixels * static_cast<double>(out_c), "the output");
  const size_t k = g.k_h * g.k_w * g.in_c;
  CheckLength(env, input.length, g.batch * g.in_h * g.in_w * g.in_c, "input");
  CheckLength(env, filter.length, out_c * k, "filter");
  CheckScales(env, scales, out_c);
  if (bias.data != nullptr) CheckLength(env, bias.length, out_c, "bias");
  CheckLength(env, output.length, g.batch * g.out_h * g.out_w * out_c, "output");
  ThreadPool* pool = ReadPool(p);
  RunGuarded(env, [&] {
    const auto packed = PackHybrid(filter.data, out_c, k, scales.data, scales.length, bias.data);
    HybridConv2d(*packed, g, input.data, output.data, min, max, pool);
  });
  Napi::Array shape = Napi::Array::New(env, 2);
  shape.Set(uint32_t{0}, Napi::Number::New(env, static_cast<double>(g.out_h)));
  shape.Set(uint32_t{1}, Napi::Number::New(env, static_cast<double>(g.out_w)));
  return shape;
}

}  // namespace litequant
