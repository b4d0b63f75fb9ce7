// int8 CONV_2D and DEPTHWISE_CONV_2D: weights, bias and requantization are packed once into a
// handle (a type-tagged External owning the packed operator); the hot call runs it on Int8Arrays
// without parsing any options.
//
//   qs8ConvPack(kind: 'conv2d' | 'depthwise', weights: Int8Array, bias: Int32Array | null,
//               scales: Float64Array [1 | outputChannels], params) -> handle
//     params: { batch, inputHeight, inputWidth, inputChannels, outputChannels, kernelHeight,
//               kernelWidth, strideHeight, strideWidth, dilationHeight, dilationWidth,
//               depthMultiplier, padding: 'same' | 'valid', inputZeroPoint, outputZeroPoint,
//               qmin, qmax, requant: 'fp32' | 'fixed-point' }
//     weights: OHWI [O, KH, KW, I] (conv2d) or [1, KH, KW, C * M] (depthwise).
//     scales are the real requantization scales s_in * s_w / s_out: 'fp32' rounds each to
//     float, 'fixed-point' turns each into a Q31 multiplier and shift (QuantizeMultiplier).
//   qs8ConvRun(handle, input: Int8Array [N*H*W*C], output: Int8Array [N*OH*OW*OC], threads)
//   qs8ConvInfo(handle) -> { kind, outputHeight, outputWidth, padTop, padLeft, inputSize,
//                            outputSize, path, kernel }
// threads: 0 (one per core) to 256; 1 runs on the calling thread.
#include <cmath>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "args.h"
#include "bindings.h"
#include "litequant/qs8_conv.h"
#include "litequant/thread_pool.h"
#include "params.h"

namespace litequant {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 24;
constexpr int64_t kMaxThreads = 256;
constexpr napi_type_tag kQs8ConvTag = {0x6c6974657175616eULL, 0x7473385f636f6e76ULL};

struct Qs8ConvHandle {
  std::shared_ptr<const Qs8PackedConv> packed;
  ConvKind kind = ConvKind::kConv2D;
  size_t input_size = 0;
  size_t output_size = 0;
  int64_t external_bytes = 0;
};

Qs8ConvHandle& Handle(const Napi::CallbackInfo& info) {
  return TaggedHandle<Qs8ConvHandle>(info, kQs8ConvTag, "qs8ConvPack");
}

TypedView<double> ArgFloat64Array(const Napi::CallbackInfo& info, size_t i, const char* param) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    ThrowExpected(info.Env(), "a Float64Array", param, v);
  }
  Napi::Float64Array a = v.As<Napi::Float64Array>();
  return {a.Data(), a.ElementLength()};
}

// Standard exceptions from core (parameter checks, allocation) become JS errors.
template <typename F>
auto Guarded(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    ThrowWithCode(env, "Out of memory in the qs8 convolution", kErrInvalidArgument, true);
  } catch (const std::exception& e) {
    ThrowWithCode(env, e.what(), kErrInvalidArgument, true);
  }
}

Qs8ConvParams ReadParams(const ParamObject& o, ConvKind kind) {
  Qs8ConvParams p;
  const auto dim = [&](const char* field) {
    return static_cast<size_t>(o.Integer(field, 1, kMaxDim));
  };
  p.batch = dim("batch");
  p.input_height = dim("inputHeight");
  p.input_width = dim("inputWidth");
  p.input_channels = dim("inputChannels");
  p.output_channels = dim("outputChannels");
  p.kernel_height = dim("kernelHeight");
  p.kernel_width = dim("kernelWidth");
  p.stride_height = dim("strideHeight");
  p.stride_width = dim("strideWidth");
  p.dilation_height = dim("dilationHeight");
  p.dilation_width = dim("dilationWidth");
  p.depth_multiplier = kind == ConvKind::kDepthwise ? dim("depthMultiplier") : 1;
  static const char* const kPaddings[] = {"same", "valid", nullptr};
  p.padding = o.Choice("padding", kPaddings) == 0 ? Padding::kSame : Padding::kValid;
  p.input_zero_point = static_cast<int32_t>(o.Integer("inputZeroPoint", -128, 127));
  static const char* const kRules[] = {"fp32", "fixed-point", nullptr};
  p.requant.mode = o.Choice("requant", kRules) == 0 ? RequantMode::kFp32 : RequantMode::kFixedPoint;
  p.requant.output_zero_point = static_cast<int32_t>(o.Integer("outputZeroPoint", -128, 127));
  p.requant.qmin = static_cast<int32_t>(o.Integer("qmin", -128, 127));
  p.requant.qmax = static_cast<int32_t>(o.Integer("qmax", p.requant.qmin, 127));
  return p;
}

}  // namespace

Napi::Value Qs8ConvPack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 5);
  const std::string kind_name = ArgString(info, 0, "kind");
  if (kind_name != "conv2d" && kind_name != "depthwise") {
    ThrowExpected(env, "'conv2d' or 'depthwise'", "kind", info[0]);
  }
  const ConvKind kind = kind_name == "conv2d" ? ConvKind::kConv2D : ConvKind::kDepthwise;
  const auto weights = ArgInt8Array(info, 1, "weights");
  const int32_t* bias = nullptr;
  size_t bias_length = 0;
  if (!info[2].IsNull() && !info[2].IsUndefined()) {
    const auto b = ArgInt32Array(info, 2, "bias");
    bias = b.data;
    bias_length = b.length;
  }
  const auto scales = ArgFloat64Array(info, 3, "scales");
  const ParamObject object(info, 4, "params");
  Qs8ConvParams p = ReadParams(object, kind);

  // Combinations (output channels vs multiplier, VALID sizes, tensor sizes) are core's checks.
  std::string why = CheckQs8ConvParams(p, kind);
  if (!why.empty() && why.find("requant.") == std::string::npos) {
    ThrowWithCode(env, why, kErrInvalidArgument, true);
  }
  const size_t oc = p.output_channels;
  CheckLength(env, weights.length, Qs8ConvWeightSize(p, kind), "weights");
  if (bias != nullptr) CheckLength(env, bias_length, oc, "bias");
  if (scales.length != 1 && scales.length != oc) {
    ThrowWithCode(env,
                  "Expected 1 or " + std::to_string(oc) + " scales (one per output channel) " +
                      "but received " + std::to_string(scales.length),
                  kErrInvalidArgument, true);
  }
  for (size_t j = 0; j < scales.length; ++j) {
    const double s = scales.data[j];
    const float f = static_cast<float>(s);
    const QuantizedMultiplier q = QuantizeMultiplier(s);
    // fp32: the float must stay finite and > 0; fixed-point: the shift must fit (< 2^30).
    const bool ok = std::isfinite(s) && s > 0 &&
                    (p.requant.mode == RequantMode::kFp32 ? std::isfinite(f) && f > 0.0f
                                                          : q.shift <= 30);
    if (!ok) {
      ThrowWithCode(env,
                    "Expected finite positive scales below 2^30 for scales but received " +
                        std::to_string(s) + " at index " + std::to_string(j),
                    kErrInvalidArgument, true);
    }
    if (p.requant.mode == RequantMode::kFp32) p.requant.scale.push_back(f);
    else p.requant.multiplier.push_back(q);
  }
  why = CheckQs8ConvParams(p, kind);
  if (!why.empty()) ThrowWithCode(env, why, kErrInvalidArgument, true);

  auto handle = std::make_unique<Qs8ConvHandle>();
  handle->kind = kind;
  handle->input_size = Qs8ConvInputSize(p);
  handle->output_size = Qs8ConvOutputSize(p);
  handle->packed = Guarded(env, [&] {
    return kind == ConvKind::kConv2D ? PackQs8Conv2D(p, weights.data, bias)
                                     : PackQs8Depthwise(p, weights.data, bias);
  });
  // Tell the GC about the packed copy (weights widened to int16 at most, per-channel data).
  handle->external_bytes = static_cast<int64_t>(2 * weights.length + 32 * oc);
  return WrapTaggedHandle(env, std::move(handle), kQs8ConvTag);
}

Napi::Value Qs8ConvRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 4);
  const Qs8ConvHandle& h = Handle(info);
  const auto input = ArgInt8Array(info, 1, "input");
  const auto output = ArgInt8Array(info, 2, "output");
  const int64_t threads = ArgInteger(info, 3, "threads", 0, kMaxThreads);
  CheckLength(env, input.length, h.input_size, "input");
  CheckLength(env, output.length, h.output_size, "output");
  // Overlapping views of one buffer would let outputs overwrite inputs still to be read.
  const auto* in_begin = reinterpret_cast<const uint8_t*>(input.data);
  const auto* out_begin = reinterpret_cast<const uint8_t*>(output.data);
  if (h.input_size > 0 && h.output_size > 0 && in_begin < out_begin + h.output_size &&
      out_begin < in_begin + h.input_size) {
    ThrowWithCode(env, "Expected input and output that do not overlap", kErrInvalidArgument);
  }
  ThreadPool* pool = threads == 1 ? nullptr : SharedThreadPool(static_cast<size_t>(threads));
  Guarded(env, [&] {
    if (h.kind == ConvKind::kConv2D) Qs8Conv2D(*h.packed, input.data, output.data, pool);
    else Qs8Depthwise(*h.packed, input.data, output.data, pool);
  });
  return env.Undefined();
}

Napi::Value Qs8ConvInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 1);
  const Qs8ConvHandle& h = Handle(info);
  const Qs8ConvParams& p = Qs8PackedConvParams(*h.packed);
  const Conv2dGeometry g = ComputeQs8ConvGeometry(p);
  Napi::Object out = Napi::Object::New(env);
  out.Set("kind", Napi::String::New(env, h.kind == ConvKind::kConv2D ? "conv2d" : "depthwise"));
  out.Set("outputHeight", Napi::Number::New(env, static_cast<double>(g.out_h)));
  out.Set("outputWidth", Napi::Number::New(env, static_cast<double>(g.out_w)));
  out.Set("padTop", Napi::Number::New(env, static_cast<double>(g.pad_top)));
  out.Set("padLeft", Napi::Number::New(env, static_cast<double>(g.pad_left)));
  out.Set("inputSize", Napi::Number::New(env, static_cast<double>(h.input_size)));
  out.Set("outputSize", Napi::Number::New(env, static_cast<double>(h.output_size)));
  out.Set("path", Napi::String::New(env, PathName(Qs8PackedConvPath(*h.packed))));
  out.Set("kernel", Napi::String::New(env, Qs8PackedConvKernelName(*h.packed)));
  return out;
}

}  // namespace litequant
