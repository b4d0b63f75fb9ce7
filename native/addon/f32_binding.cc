// float32 FULLY_CONNECTED / BATCH_MATMUL, CONV_2D and DEPTHWISE_CONV_2D. Weights are packed once
// (f32GemmPack, f32DepthwisePack) into an opaque handle (a type-tagged External that owns the
// packed copy); the run functions take the handle, the input, a JS-allocated output whose length
// C++ checks against the shape it derives itself, and one params object.
#include <cstdint>
#include <memory>
#include <new>
#include <string>

#include "args.h"
#include "bindings.h"
#include "litequant/f32_conv.h"
#include "litequant/f32_gemm.h"
#include "litequant/thread_pool.h"
#include "params.h"

namespace litequant {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 31;
constexpr int64_t kMaxElements = int64_t{1} << 40;
constexpr float kInf = __builtin_inff();

// Tags that tell our handles apart from any other External (napi_type_tag_object).
constexpr napi_type_tag kGemmTag = {0x6c71663332676d6dULL, 0x9f3a51c2e07d4b18ULL};
constexpr napi_type_tag kDwconvTag = {0x6c71663332647763ULL, 0x2be6a0d4c9157f03ULL};

struct GemmHandle {
  std::shared_ptr<const F32PackedWeights> w;
  size_t bytes;
};

struct DwconvHandle {
  std::shared_ptr<const F32PackedDwconv> w;
  size_t k_h, k_w, channels, bytes;
};

void CheckProduct(Napi::Env env, double product, const char* what) {
  if (product > static_cast<double>(kMaxElements)) {
    ThrowWithCode(env, std::string("Expected ") + what + " to be at most 2^40 elements",
                  kErrInvalidArgument, true);
  }
}

// JS may pass two views of one ArrayBuffer; the kernels need disjoint input and output.
void CheckDisjoint(Napi::Env env, const float* a, size_t a_len, const float* b, size_t b_len) {
  const auto a0 = reinterpret_cast<uintptr_t>(a), b0 = reinterpret_cast<uintptr_t>(b);
  if (a_len != 0 && b_len != 0 && a0 < b0 + b_len * sizeof(float) &&
      b0 < a0 + a_len * sizeof(float)) {
    ThrowWithCode(env, "Expected input and output to be separate memory but they overlap",
                  kErrInvalidArgument);
  }
}

[[noreturn]] void ThrowOutOfMemory(Napi::Env env, const char* what) {
  Napi::Error e = Napi::Error::New(env, std::string("Not enough memory for ") + what);
  e.Set("code", Napi::String::New(env, "ERR_LITEQUANT_OUT_OF_MEMORY"));
  throw e;
}

// TFLite's float CalculateActivationRange for the fused activations that are a clamp.
void ReadActivation(const ParamObject& p, float* min, float* max) {
  *min = -kInf;
  *max = kInf;
  if (!p.Has("activation")) return;
  static const char* const kNames[] = {"none", "relu", "relu-n1-to-1", "relu6", nullptr};
  switch (p.Choice("activation", kNames)) {
    case 1: *min = 0.0f; break;
    case 2: *min = -1.0f; *max = 1.0f; break;
    case 3: *min = 0.0f; *max = 6.0f; break;
    default: break;
  }
}

ThreadPool* ReadPool(const ParamObject& p) {
  const auto threads = p.Has("threads") ? static_cast<size_t>(p.Integer("threads", 1, 256)) : 1;
  return threads > 1 ? SharedThreadPool(threads) : nullptr;
}

template <typename Handle>
Handle& ArgHandle(const Napi::CallbackInfo& info, size_t i, const char* param,
                  const napi_type_tag* tag, const char* what) {
  const Napi::Value v = info[i];
  if (!v.IsExternal() || !v.As<Napi::External<Handle>>().CheckTypeTag(tag)) {
    ThrowExpected(info.Env(), what, param, v);
  }
  return *v.As<Napi::External<Handle>>().Data();
}

template <typename Handle>
Napi::Value NewHandle(Napi::Env env, Handle* h, const napi_type_tag* tag, Path path) {
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(h->bytes));
  auto ext = Napi::External<Handle>::New(env, h, [](Napi::Env e, Handle* data) {
    Napi::MemoryManagement::AdjustExternalMemory(e, -static_cast<int64_t>(data->bytes));
    delete data;
  });
  ext.TypeTag(tag);
  Napi::Object out = Napi::Object::New(env);
  out.Set("handle", ext);
  out.Set("path", Napi::String::New(env, PathName(path)));
  return out;
}

Conv2dGeometry ReadGeometry(Napi::Env env, const ParamObject& p, size_t k_h, size_t k_w) {
  Conv2dGeometry g;
  g.batch = static_cast<size_t>(p.Integer("batch", 0, kMaxDim));
  g.in_h = static_cast<size_t>(p.Integer("inputHeight", 1, kMaxDim));
  g.in_w = static_cast<size_t>(p.Integer("inputWidth", 1, kMaxDim));
  g.in_c = static_cast<size_t>(p.Integer("inputChannels", 1, kMaxDim));
  g.k_h = k_h;
  g.k_w = k_w;
  g.stride_h = static_cast<size_t>(p.Integer("strideHeight", 1, kMaxDim));
  g.stride_w = static_cast<size_t>(p.Integer("strideWidth", 1, kMaxDim));
  g.dilation_h = static_cast<size_t>(p.Integer("dilationHeight", 1, kMaxDim));
  g.dilation_w = static_cast<size_t>(p.Integer("dilationWidth", 1, kMaxDim));
  static const char* const kPaddings[] = {"same", "valid", nullptr};
  const Padding padding = p.Choice("padding", kPaddings) == 0 ? Padding::kSame : Padding::kValid;
  CheckProduct(env,
               static_cast<double>(g.batch) * static_cast<double>(g.in_h) *
                   static_cast<double>(g.in_w) * static_cast<double>(g.in_c),
               "the input");
  // Dilated filter extents must not overflow the padding arithmetic.
  if (static_cast<double>(k_h - 1) * static_cast<double>(g.dilation_h) > kMaxDim ||
      static_cast<double>(k_w - 1) * static_cast<double>(g.dilation_w) > kMaxDim) {
    ThrowWithCode(env, "Expected (filter size - 1) * dilation to be at most 2^31",
                  kErrInvalidArgument, true);
  }
  if (!ComputeConv2dGeometry(padding, &g)) {
    ThrowWithCode(env, "Expected a filter that fits the input (the output would be empty)",
                  kErrInvalidArgument, true);
  }
  return g;
}

Napi::Value OutputSize(Napi::Env env, const Conv2dGeometry& g) {
  Napi::Array shape = Napi::Array::New(env, 2);
  shape.Set(uint32_t{0}, Napi::Number::New(env, static_cast<double>(g.out_h)));
  shape.Set(uint32_t{1}, Napi::Number::New(env, static_cast<double>(g.out_w)));
  return shape;
}

}  // namespace

// f32GemmPack(weights: Float32Array, bias: Float32Array | null, params: {units, inputSize})
//   -> {handle, path}
// weights [units, inputSize] row-major (FULLY_CONNECTED; a CONV_2D OHWI filter is
// [O, KH*KW*I]). Packed for the path selected now.
Napi::Value F32GemmPack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 3);
  const auto weights = ArgFloat32Array(info, 0, "weights");
  const auto bias = ArgOptionalFloat32Array(info, 1, "bias");
  const ParamObject p(info, 2, "params");
  const auto n = static_cast<size_t>(p.Integer("units", 1, kMaxDim));
  const auto k = static_cast<size_t>(p.Integer("inputSize", 0, kMaxDim));
  CheckProduct(env, static_cast<double>(n) * static_cast<double>(k + 1), "units * (inputSize + 1)");
  CheckLength(env, weights.length, n * k, "weights");
  if (bias.data != nullptr) CheckLength(env, bias.length, n, "bias");
  auto* h = new GemmHandle;
  try {
    h->w = PackF32Gemm(weights.data, n, k, bias.data);
  } catch (const std::bad_alloc&) {
    delete h;
    ThrowOutOfMemory(env, "the packed weights");
  }
  h->bytes = (n + 64) * (k + 1) * sizeof(float);
  return NewHandle(env, h, &kGemmTag, F32PackedPath(*h->w));
}

// f32Gemm(packed, input: Float32Array, output: Float32Array, params: {batch, activation?, threads?})
// input [batch, inputSize], output [batch, units].
Napi::Value F32GemmBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 4);
  const GemmHandle& h =
      ArgHandle<GemmHandle>(info, 0, "packed", &kGemmTag, "weights packed by f32GemmPack");
  const auto input = ArgFloat32Array(info, 1, "input");
  const auto output = ArgFloat32Array(info, 2, "output");
  const ParamObject p(info, 3, "params");
  const auto m = static_cast<size_t>(p.Integer("batch", 0, kMaxDim));
  float min, max;
  ReadActivation(p, &min, &max);
  ThreadPool* pool = ReadPool(p);
  const size_t n = F32PackedN(*h.w), k = F32PackedK(*h.w);
  CheckProduct(env, static_cast<double>(m) * static_cast<double>(k), "batch * inputSize");
  CheckProduct(env, static_cast<double>(m) * static_cast<double>(n), "batch * units");
  CheckLength(env, input.length, m * k, "input");
  CheckLength(env, output.length, m * n, "output");
  CheckDisjoint(env, input.data, input.length, output.data, output.length);
  F32Gemm(*h.w, m, input.data, k, output.data, n, min, max, pool);
  return env.Undefined();
}

// f32Conv2d(packed, input: Float32Array, output: Float32Array,
//           params: {batch, inputHeight, inputWidth, inputChannels, filterHeight, filterWidth,
//                    strideHeight, strideWidth, dilationHeight, dilationWidth,
//                    padding: 'same' | 'valid', activation?, threads?}) -> [outputHeight, outputWidth]
// `packed` holds the OHWI filter packed as units = O, inputSize = KH*KW*I.
Napi::Value F32Conv2dBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 4);
  const GemmHandle& h =
      ArgHandle<GemmHandle>(info, 0, "packed", &kGemmTag, "a filter packed by f32GemmPack");
  const auto input = ArgFloat32Array(info, 1, "input");
  const auto output = ArgFloat32Array(info, 2, "output");
  const ParamObject p(info, 3, "params");
  const auto k_h = static_cast<size_t>(p.Integer("filterHeight", 1, kMaxDim));
  const auto k_w = static_cast<size_t>(p.Integer("filterWidth", 1, kMaxDim));
  const Conv2dGeometry g = ReadGeometry(env, p, k_h, k_w);
  float min, max;
  ReadActivation(p, &min, &max);
  ThreadPool* pool = ReadPool(p);
  const size_t out_c = F32PackedN(*h.w);
  const double k = static_cast<double>(k_h) * static_cast<double>(k_w) * static_cast<double>(g.in_c);
  if (k != static_cast<double>(F32PackedK(*h.w))) {
    ThrowWithCode(env,
                  "Expected filterHeight * filterWidth * inputChannels to equal the packed "
                  "filter's inputSize " + std::to_string(F32PackedK(*h.w)) + " but received " +
                      std::to_string(static_cast<uint64_t>(k)),
                  kErrInvalidArgument, true);
  }
  CheckProduct(env,
               static_cast<double>(g.batch) * static_cast<double>(g.out_h) *
                   static_cast<double>(g.out_w) * static_cast<double>(out_c),
               "the output");
  CheckLength(env, input.length, g.batch * g.in_h * g.in_w * g.in_c, "input");
  CheckLength(env, output.length, g.batch * g.out_h * g.out_w * out_c, "output");
  CheckDisjoint(env, input.data, input.length, output.data, output.length);
  try {
    F32Conv2d(*h.w, g, input.data, output.data, min, max, pool);
  } catch (const std::bad_alloc&) {
    ThrowOutOfMemory(env, "the im2col buffer");
  }
  return OutputSize(env, g);
}

// f32DepthwisePack(filter: Float32Array, bias: Float32Array | null,
//                  params: {filterHeight, filterWidth, channels}) -> {handle, path}
// filter [1, KH, KW, channels] (channels = input channels * depth multiplier).
Napi::Value F32DepthwisePack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 3);
  const auto filter = ArgFloat32Array(info, 0, "filter");
  const auto bias = ArgOptionalFloat32Array(info, 1, "bias");
  const ParamObject p(info, 2, "params");
  const auto k_h = static_cast<size_t>(p.Integer("filterHeight", 1, kMaxDim));
  const auto k_w = static_cast<size_t>(p.Integer("filterWidth", 1, kMaxDim));
  const auto channels = static_cast<size_t>(p.Integer("channels", 1, kMaxDim));
  CheckProduct(env,
               (static_cast<double>(k_h) * static_cast<double>(k_w) + 1) *
                   static_cast<double>(channels + 64),
               "the filter");
  CheckLength(env, filter.length, k_h * k_w * channels, "filter");
  if (bias.data != nullptr) CheckLength(env, bias.length, channels, "bias");
  auto* h = new DwconvHandle;
  try {
    h->w = PackF32Dwconv(filter.data, bias.data, k_h, k_w, channels);
  } catch (const std::bad_alloc&) {
    delete h;
    ThrowOutOfMemory(env, "the packed filter");
  }
  h->k_h = k_h;
  h->k_w = k_w;
  h->channels = channels;
  h->bytes = (k_h * k_w + 1) * (channels + 64) * sizeof(float);
  return NewHandle(env, h, &kDwconvTag, F32PackedDwconvPath(*h->w));
}

// f32DepthwiseConv2d(packed, input: Float32Array, output: Float32Array,
//                    params: {batch, inputHeight, inputWidth, inputChannels, depthMultiplier,
//                             strideHeight, strideWidth, dilationHeight, dilationWidth,
//                             padding, activation?, threads?}) -> [outputHeight, outputWidth]
Napi::Value F32DepthwiseConv2dBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 4);
  const DwconvHandle& h = ArgHandle<DwconvHandle>(info, 0, "packed", &kDwconvTag,
                                                  "a filter packed by f32DepthwisePack");
  const auto input = ArgFloat32Array(info, 1, "input");
  const auto output = ArgFloat32Array(info, 2, "output");
  const ParamObject p(info, 3, "params");
  const Conv2dGeometry g = ReadGeometry(env, p, h.k_h, h.k_w);
  const auto dm = static_cast<size_t>(p.Integer("depthMultiplier", 1, kMaxDim));
  float min, max;
  ReadActivation(p, &min, &max);
  ThreadPool* pool = ReadPool(p);
  if (static_cast<double>(g.in_c) * static_cast<double>(dm) != static_cast<double>(h.channels)) {
    ThrowWithCode(env,
                  "Expected inputChannels * depthMultiplier to equal the packed filter's " +
                      std::to_string(h.channels) + " channels but received " +
                      std::to_string(g.in_c) + " * " + std::to_string(dm),
                  kErrInvalidArgument, true);
  }
  CheckProduct(env,
               static_cast<double>(g.batch) * static_cast<double>(g.out_h) *
                   static_cast<double>(g.out_w) * static_cast<double>(h.channels),
               "the output");
  if (dm > 1) {
    CheckProduct(env,
                 static_cast<double>(g.batch) * static_cast<double>(g.in_h) *
                     static_cast<double>(g.in_w) * static_cast<double>(h.channels),
                 "the input repeated depthMultiplier times");
  }
  CheckLength(env, input.length, g.batch * g.in_h * g.in_w * g.in_c, "input");
  CheckLength(env, output.length, g.batch * g.out_h * g.out_w * h.channels, "output");
  CheckDisjoint(env, input.data, input.length, output.data, output.length);
  try {
    F32DepthwiseConv2d(*h.w, g, dm, input.data, output.data, min, max, pool);
  } catch (const std::bad_alloc&) {
    ThrowOutOfMemory(env, "the depthwise scratch buffers");
  }
  return OutputSize(env, g);
}

}  // namespace litequant
