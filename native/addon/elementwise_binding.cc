// Element-wise ADD/SUB/MUL on int8 (XNNPACK's rules) and float32 tensors with broadcasting: the
// shapes, quantization and activation are checked once into a handle (a type-tagged External
// owning the operator); the hot call runs it on typed arrays without parsing any options.
//
//   elementwiseBinaryCreate(dtype: 'int8' | 'float32', op: 'add' | 'sub' | 'mul',
//                           aShape: number[], bShape: number[], params) -> handle
//     params: { activation: 'none' | 'relu' | 'relu-n1-to-1' | 'relu6' } and, for int8,
//             { aScale, aZeroPoint, bScale, bZeroPoint, outputScale, outputZeroPoint }
//   elementwiseBinaryRun(handle, a, b, output)   (Int8Array or Float32Array, as the dtype)
//   elementwiseBinaryInfo(handle) -> { dtype, outputShape, outputSize, aSize, bSize, kernel, path }
// output may be the same array as an input of the output's size (in place), and must not
// overlap an input otherwise.
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "args.h"
#include "bindings.h"
#include "litequant/elementwise_binary.h"
#include "params.h"

namespace litequant {
namespace {

constexpr napi_type_tag kElementwiseBinaryTag = {0x6c6974657175616eULL, 0x7662696e61727931ULL};
constexpr int64_t kMaxDim = (int64_t{1} << 31) - 1;

struct BinaryHandle {
  bool int8 = false;
  std::shared_ptr<const Qs8BinaryOperator> qs8;
  std::shared_ptr<const F32BinaryOperator> f32;
  size_t a_size = 0;
  size_t b_size = 0;
  size_t output_size = 0;
  const BroadcastLoops& loops() const { return int8 ? Qs8BinaryLoops(*qs8) : F32BinaryLoops(*f32); }
};

BinaryHandle& Handle(const Napi::CallbackInfo& info) {
  return TaggedHandle<BinaryHandle>(info, kElementwiseBinaryTag, "elementwiseBinaryCreate");
}

std::vector<size_t> ArgShape(const Napi::CallbackInfo& info, size_t i, const char* param) {
  const Napi::Value v = info[i];
  const std::string what = "an array of at most " + std::to_string(kMaxBinaryRank) +
                           " integers between 0 and 2^31 - 1";
  if (!v.IsArray()) ThrowExpected(info.Env(), what, param, v);
  const Napi::Array array = v.As<Napi::Array>();
  if (array.Length() > kMaxBinaryRank) ThrowExpected(info.Env(), what, param, v);
  std::vector<size_t> shape(array.Length());
  for (uint32_t j = 0; j < array.Length(); ++j) {
    const Napi::Value d = array.Get(j);
    const double x = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1.0;
    if (!(x >= 0 && x <= static_cast<double>(kMaxDim) && x == static_cast<double>(static_cast<int64_t>(x)))) {
      ThrowExpected(info.Env(), what, param, v);
    }
    shape[j] = static_cast<size_t>(x);
  }
  return shape;
}

BinaryActivation ReadActivation(const ParamObject& o) {
  static const char* const kActivations[] = {"none", "relu", "relu-n1-to-1", "relu6", nullptr};
  switch (o.Choice("activation", kActivations)) {
    case 1: return BinaryActivation::kRelu;
    case 2: return BinaryActivation::kReluN1To1;
    case 3: return BinaryActivation::kRelu6;
    default: return BinaryActivation::kNone;
  }
}

// A float32 scale that stays finite and positive (the double may not).
float ReadScale(Napi::Env env, const ParamObject& o, const char* field) {
  const double s = o.Number(field, true);
  const auto f = static_cast<float>(s);
  if (!(f > 0.0f && f <= 3.4028234663852886e38f)) {
    ThrowWithCode(env,
                  std::string("Expected a scale that is a finite positive float32 for params.") +
                      field + " but received " + std::to_string(s),
                  kErrInvalidArgument, true);
  }
  return f;
}

// Whether [p, p + bytes) and [q, q + other) share a byte.
bool Overlap(const void* p, size_t bytes, const void* q, size_t other) {
  const auto* a = static_cast<const uint8_t*>(p);
  const auto* b = static_cast<const uint8_t*>(q);
  return bytes > 0 && other > 0 && a < b + other && b < a + bytes;
}

void CheckAliasing(Napi::Env env, const void* out, size_t out_bytes, const void* in,
                   size_t in_bytes, const char* param) {
  if (out == in && out_bytes == in_bytes) return;  // in place
  if (Overlap(out, out_bytes, in, in_bytes)) {
    ThrowWithCode(env,
                  std::string("Expected an output that is ") + param +
                      " itself or does not overlap it",
                  kErrInvalidArgument);
  }
}

}  // namespace

Napi::Value ElementwiseBinaryCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 5);
  const std::string dtype = ArgString(info, 0, "dtype");
  if (dtype != "int8" && dtype != "float32") ThrowExpected(env, "'int8' or 'float32'", "dtype", info[0]);
  const std::string op_name = ArgString(info, 1, "op");
  BinaryOp op;
  if (op_name == "add") op = BinaryOp::kAdd;
  else if (op_name == "sub") op = BinaryOp::kSub;
  else if (op_name == "mul") op = BinaryOp::kMul;
  else ThrowExpected(env, "'add', 'sub' or 'mul'", "op", info[1]);
  const std::vector<size_t> a_shape = ArgShape(info, 2, "aShape");
  const std::vector<size_t> b_shape = ArgShape(info, 3, "bShape");
  const ParamObject params(info, 4, "params");
  const BinaryActivation activation = ReadActivation(params);

  auto handle = std::make_unique<BinaryHandle>();
  handle->int8 = dtype == "int8";
  try {
    if (handle->int8) {
      Qs8BinaryQuantization q;
      q.a_scale = ReadScale(env, params, "aScale");
      q.a_zero_point = static_cast<int32_t>(params.Integer("aZeroPoint", -128, 127));
      q.b_scale = ReadScale(env, params, "bScale");
      q.b_zero_point = static_cast<int32_t>(params.Integer("bZeroPoint", -128, 127));
      q.output_scale = ReadScale(env, params, "outputScale");
      q.output_zero_point = static_cast<int32_t>(params.Integer("outputZeroPoint", -128, 127));
      q.activation = activation;
      handle->qs8 = CreateQs8Binary(op, a_shape, b_shape, q);
    } else {
      handle->f32 = CreateF32Binary(op, a_shape, b_shape, activation);
    }
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    ThrowWithCode(env, "Out of memory creating an element-wise operator", kErrInvalidArgument, true);
  } catch (const std::exception& e) {
    ThrowWithCode(env, e.what(), kErrInvalidArgument, true);
  }
  const auto count = [](const std::vector<size_t>& shape) {
    size_t n = 1;
    for (size_t d : shape) n *= d;
    return n;
  };
  handle->a_size = count(a_shape);
  handle->b_size = count(b_shape);
  handle->output_size = handle->loops().output_size;
  auto external = Napi::External<BinaryHandle>::New(
      env, handle.release(), [](Napi::Env, BinaryHandle* h) { delete h; });
  external.TypeTag(&kElementwiseBinaryTag);
  return external;
}

Napi::Value ElementwiseBinaryRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 4);
  const BinaryHandle& h = Handle(info);
  if (h.int8) {
    const auto a = ArgInt8Array(info, 1, "a");
    const auto b = ArgInt8Array(info, 2, "b");
    const auto out = ArgInt8Array(info, 3, "output");
    CheckLength(env, a.length, h.a_size, "a");
    CheckLength(env, b.length, h.b_size, "b");
    CheckLength(env, out.length, h.output_size, "output");
    CheckAliasing(env, out.data, out.length, a.data, a.length, "a");
    CheckAliasing(env, out.data, out.length, b.data, b.length, "b");
    Qs8Binary(*h.qs8, a.data, b.data, out.data);
  } else {
    const auto a = ArgFloat32Array(info, 1, "a");
    const auto b = ArgFloat32Array(info, 2, "b");
    const auto out = ArgFloat32Array(info, 3, "output");
    CheckLength(env, a.length, h.a_size, "a");
    CheckLength(env, b.length, h.b_size, "b");
    CheckLength(env, out.length, h.output_size, "output");
    CheckAliasing(env, out.data, out.length * 4, a.data, a.length * 4, "a");
    CheckAliasing(env, out.data, out.length * 4, b.data, b.length * 4, "b");
    F32Binary(*h.f32, a.data, b.data, out.data);
  }
  return env.Undefined();
}

Napi::Value ElementwiseBinaryInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 1);
  const BinaryHandle& h = Handle(info);
  const BroadcastLoops& loops = h.loops();
  Napi::Object out = Napi::Object::New(env);
  out.Set("dtype", Napi::String::New(env, h.int8 ? "int8" : "float32"));
  Napi::Array shape = Napi::Array::New(env, loops.output_shape.size());
  for (size_t i = 0; i < loops.output_shape.size(); ++i) {
    shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(loops.output_shape[i])));
  }
  out.Set("outputShape", shape);
  out.Set("outputSize", Napi::Number::New(env, static_cast<double>(h.output_size)));
  out.Set("aSize", Napi::Number::New(env, static_cast<double>(h.a_size)));
  out.Set("bSize", Napi::Number::New(env, static_cast<double>(h.b_size)));
  out.Set("kernel", Napi::String::New(env, h.int8 ? Qs8BinaryKernelName(*h.qs8) : F32BinaryKernelName(*h.f32)));
  out.Set("path", Napi::String::New(env, PathName(h.int8 ? Qs8BinaryPath(*h.qs8) : F32BinaryPath(*h.f32))));
  return out;
}

}  // namespace litequant
