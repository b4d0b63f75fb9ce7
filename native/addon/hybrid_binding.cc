// Hybrid (dynamic-range) FULLY_CONNECTED, BATCH_MATMUL and CONV_2D: float activations, int8
// weights with per-tensor or per-channel scales, float output. The weights, scales, bias and
// layer options are packed once into a handle (a type-tagged External owning the packed
// layer); the hot call runs it on Float32Arrays without parsing options or allocating JS
// memory.
//
//   hybridPack(kind: 'fully-connected' | 'batch-matmul' | 'conv2d', weights: Int8Array,
//              weightScales: Float32Array [1 | units], bias: Float32Array [units] | null,
//              params) -> handle
//     'fully-connected': weights [units, inputSize]; params {inputSize, units, asymmetric,
//                        activationMin, activationMax}
//     'batch-matmul':    weights the constant right-hand side transposed to [units,
//                        inputSize]; bias null; params {inputSize, units, asymmetric}
//     'conv2d':          weights OHWI; params {batch, inputHeight, inputWidth, inputChannels,
//                        outputChannels, filterHeight, filterWidth, strideHeight, strideWidth,
//                        dilationHeight, dilationWidth, padding: 'same' | 'valid',
//                        activationMin, activationMax}
//   hybridRun(handle, input: Float32Array, output: Float32Array, threads: 1..256)
//     fully-connected / batch-matmul: input holds m rows of inputSize (m = length / inputSize,
//     every batch dimension flattened), output m rows of units. conv2d: NHWC input and output
//     of the packed geometry.
//   hybridInfo(handle) -> {kind, units, inputSize, outputHeight, outputWidth, inputLength,
//                          outputLength, path, kernel}
//     inputLength/outputLength: the conv2d's array lengths (0 for the row kinds, whose row
//     count is the caller's); outputHeight/outputWidth: 0 for the row kinds.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

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
constexpr int64_t kMaxThreads = 256;
constexpr napi_type_tag kHybridTag = {0x6c6974657175616eULL, 0x6879627269645f5fULL};

enum class HybridKind : uint8_t { kFullyConnected, kBatchMatMul, kConv2d };

const char* KindName(HybridKind kind) {
  switch (kind) {
    case HybridKind::kFullyConnected: return "fully-connected";
    case HybridKind::kBatchMatMul: return "batch-matmul";
    default: return "conv2d";
  }
}

struct HybridHandle {
  std::shared_ptr<const HybridPackedWeights> packed;
  HybridKind kind = HybridKind::kFullyConnected;
  size_t n = 0;
  size_t k = 0;
  bool asymmetric = false;
  float min = -INFINITY;
  float max = INFINITY;
  Conv2dGeometry geometry;  // conv2d only
  size_t input_length = 0;   // conv2d only
  size_t output_length = 0;  // conv2d only
  int64_t external_bytes = 0;
};

HybridHandle& Handle(const Napi::CallbackInfo& info) {
  return TaggedHandle<HybridHandle>(info, kHybridTag, "hybridPack");
}

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

void ReadClamp(Napi::Env env, const ParamObject& p, float* min, float* max) {
  *min = static_cast<float>(p.Bound("activationMin"));
  *max = static_cast<float>(p.Bound("activationMax"));
  if (!(*min <= *max)) {
    ThrowWithCode(env, "Expected activationMin <= activationMax", kErrInvalidArgument, true);
  }
}

// The conv2d geometry from params; *out_c receives outputChannels.
Conv2dGeometry ReadConvGeometry(Napi::Env env, const ParamObject& p, size_t* out_c) {
  Conv2dGeometry g;
  g.batch = static_cast<size_t>(p.Integer("batch", 0, kMaxDim));
  g.in_h = static_cast<size_t>(p.Integer("inputHeight", 1, kMaxDim));
  g.in_w = static_cast<size_t>(p.Integer("inputWidth", 1, kMaxDim));
  g.in_c = static_cast<size_t>(p.Integer("inputChannels", 1, kMaxDim));
  *out_c = static_cast<size_t>(p.Integer("outputChannels", 1, kMaxDim));
  g.k_h = static_cast<size_t>(p.Integer("filterHeight", 1, kMaxDim));
  g.k_w = static_cast<size_t>(p.Integer("filterWidth", 1, kMaxDim));
  g.stride_h = static_cast<size_t>(p.Integer("strideHeight", 1, kMaxDim));
  g.stride_w = static_cast<size_t>(p.Integer("strideWidth", 1, kMaxDim));
  g.dilation_h = static_cast<size_t>(p.Integer("dilationHeight", 1, kMaxDim));
  g.dilation_w = static_cast<size_t>(p.Integer("dilationWidth", 1, kMaxDim));
  static const char* const kPaddings[] = {"same", "valid", nullptr};
  const Padding padding = p.Choice("padding", kPaddings) == 0 ? Padding::kSame : Padding::kValid;
  const double image = static_cast<double>(g.in_h) * static_cast<double>(g.in_w) *
                       static_cast<double>(g.in_c);
  const double k_d =
      static_cast<double>(g.k_h) * static_cast<double>(g.k_w) * static_cast<double>(g.in_c);
  CheckProduct(env, image * static_cast<double>(g.batch), "the input");
  CheckProduct(env, k_d * static_cast<double>(*out_c), "the filter");
  if (!ComputeConv2dGeometry(padding, &g)) {
    ThrowWithCode(env, "Expected a filter that fits the input (the output would be empty)",
                  kErrInvalidArgument, true);
  }
  const double pixels = static_cast<double>(g.batch) * static_cast<double>(g.out_h) *
                        static_cast<double>(g.out_w);
  CheckProduct(env, pixels * static_cast<double>(*out_c), "the output");
  return g;
}

// threads in [1, 256].
ThreadPool* Pool(const Napi::CallbackInfo& info, size_t i) {
  const int64_t threads = ArgInteger(info, i, "threads", 1, kMaxThreads);
  return threads > 1 ? SharedThreadPool(static_cast<size_t>(threads)) : nullptr;
}

}  // namespace

Napi::Value HybridPack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 5);
  const std::string kind_name = ArgString(info, 0, "kind");
  HybridKind kind = HybridKind::kFullyConnected;
  if (kind_name == "fully-connected") kind = HybridKind::kFullyConnected;
  else if (kind_name == "batch-matmul") kind = HybridKind::kBatchMatMul;
  else if (kind_name == "conv2d") kind = HybridKind::kConv2d;
  else ThrowExpected(env, "'fully-connected', 'batch-matmul' or 'conv2d'", "kind", info[0]);
  const auto weights = ArgInt8Array(info, 1, "weights");
  const auto scales = ArgFloat32Array(info, 2, "weightScales");
  const auto bias = ArgOptionalFloat32Array(info, 3, "bias");
  const ParamObject p(info, 4, "params");

  auto handle = std::make_unique<HybridHandle>();
  HybridHandle& h = *handle;
  h.kind = kind;
  if (kind == HybridKind::kConv2d) {
    h.geometry = ReadConvGeometry(env, p, &h.n);
    const Conv2dGeometry& g = h.geometry;
    h.k = g.k_h * g.k_w * g.in_c;
    h.input_length = g.batch * g.in_h * g.in_w * g.in_c;
    h.output_length = g.batch * g.out_h * g.out_w * h.n;
    ReadClamp(env, p, &h.min, &h.max);
  } else {
    h.k = static_cast<size_t>(p.Integer("inputSize", 1, kMaxDim));
    h.n = static_cast<size_t>(p.Integer("units", 1, kMaxDim));
    h.asymmetric = p.Boolean("asymmetric");
    CheckProduct(env, static_cast<double>(h.n) * static_cast<double>(h.k),
                 "units * inputSize");
    if (kind == HybridKind::kFullyConnected) ReadClamp(env, p, &h.min, &h.max);
    if (kind == HybridKind::kBatchMatMul && bias.data != nullptr) {
      ThrowExpected(env, "null (BATCH_MATMUL has no bias)", "bias", info[3]);
    }
  }
  CheckLength(env, weights.length, h.n * h.k, kind == HybridKind::kConv2d ? "filter" : "weights");
  CheckScales(env, scales, h.n);
  if (bias.data != nullptr) CheckLength(env, bias.length, h.n, "bias");
  RunGuarded(env, [&] {
    h.packed = PackHybrid(weights.data, h.n, h.k, scales.data, scales.length, bias.data);
  });
  if (!h.packed) {
    ThrowWithCode(env, "Expected weights the hybrid GEMM can pack", kErrInvalidArgument, true);
  }
  // Tell the GC about the packed copy (weights, per-column sums, scales and bias).
  h.external_bytes = static_cast<int64_t>(h.n * h.k + 16 * h.n);
  return WrapTaggedHandle(env, std::move(handle), kHybridTag);
}

Napi::Value HybridRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 4);
  const HybridHandle& h = Handle(info);
  const auto input = ArgFloat32Array(info, 1, "input");
  const auto output = ArgFloat32Array(info, 2, "output");
  ThreadPool* pool = Pool(info, 3);
  size_t rows = 0;
  if (h.kind == HybridKind::kConv2d) {
    CheckLength(env, input.length, h.input_length, "input");
    CheckLength(env, output.length, h.output_length, "output");
  } else {
    rows = input.length / h.k;
    CheckLength(env, input.length, rows * h.k, "input");
    CheckProduct(env, static_cast<double>(rows) * static_cast<double>(h.n), "rows * units");
    CheckLength(env, output.length, rows * h.n, "output");
  }
  // Overlapping views of one buffer would let outputs overwrite inputs still to be read.
  const auto* in_begin = reinterpret_cast<const uint8_t*>(input.data);
  const auto* out_begin = reinterpret_cast<const uint8_t*>(output.data);
  if (input.length > 0 && output.length > 0 &&
      in_begin < out_begin + output.length * sizeof(float) &&
      out_begin < in_begin + input.length * sizeof(float)) {
    ThrowWithCode(env, "Expected input and output that do not overlap", kErrInvalidArgument);
  }
  RunGuarded(env, [&] {
    switch (h.kind) {
      case HybridKind::kFullyConnected:
        HybridFullyConnected(*h.packed, rows, input.data, output.data, h.asymmetric, h.min, h.max,
                             pool);
        break;
      case HybridKind::kBatchMatMul:
        HybridBatchMatMul(*h.packed, rows, input.data, output.data, h.asymmetric, pool);
        break;
      case HybridKind::kConv2d:
        HybridConv2d(*h.packed, h.geometry, input.data, output.data, h.min, h.max, pool);
        break;
    }
  });
  return env.Undefined();
}

Napi::Value HybridInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 1);
  const HybridHandle& h = Handle(info);
  const bool conv = h.kind == HybridKind::kConv2d;
  Napi::Object out = Napi::Object::New(env);
  out.Set("kind", Napi::String::New(env, KindName(h.kind)));
  out.Set("units", Napi::Number::New(env, static_cast<double>(h.n)));
  out.Set("inputSize", Napi::Number::New(env, static_cast<double>(h.k)));
  out.Set("outputHeight", Napi::Number::New(env, conv ? static_cast<double>(h.geometry.out_h) : 0));
  out.Set("outputWidth", Napi::Number::New(env, conv ? static_cast<double>(h.geometry.out_w) : 0));
  out.Set("inputLength", Napi::Number::New(env, static_cast<double>(h.input_length)));
  out.Set("outputLength", Napi::Number::New(env, static_cast<double>(h.output_length)));
  out.Set("path", Napi::String::New(env, PathName(HybridPackedPath(*h.packed))));
  out.Set("kernel", Napi::String::New(env, HybridPackedKernelName(*h.packed)));
  return out;
}

}  // namespace litequant
