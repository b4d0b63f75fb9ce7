// Calibration and weight-conversion utilities: min/max, streaming histogram, float16 conversion.
// Each takes JS-allocated arrays and a thread count; results are the same for every count.
#include <cmath>
#include <new>
#include <string>
#include <vector>

#include "args.h"
#include "bindings.h"
#include "litequant/tensor_utils.h"
#include "litequant/thread_pool.h"

namespace litequant {
namespace {

template <typename T>
TypedView<T> ArgTyped(const Napi::CallbackInfo& info, size_t i, const char* param,
                      napi_typedarray_type type, const char* what) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    ThrowExpected(info.Env(), what, param, v);
  }
  Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
  return {a.Data(), a.ElementLength()};
}

TypedView<uint16_t> ArgUint16Array(const Napi::CallbackInfo& info, size_t i, const char* param) {
  return ArgTyped<uint16_t>(info, i, param, napi_uint16_array, "a Uint16Array");
}

TypedView<double> ArgFloat64Array(const Napi::CallbackInfo& info, size_t i, const char* param) {
  return ArgTyped<double>(info, i, param, napi_float64_array, "a Float64Array");
}

// A number that is exactly representable as a finite float32 value.
float ArgFloat32Bound(const Napi::CallbackInfo& info, size_t i, const char* param) {
  const Napi::Value v = info[i];
  if (!v.IsNumber()) ThrowExpected(info.Env(), "a finite float32 number", param, v);
  const double d = v.As<Napi::Number>().DoubleValue();
  const auto f = static_cast<float>(d);
  if (!std::isfinite(d) || !std::isfinite(f)) {
    ThrowWithCode(info.Env(),
                  std::string("Expected a finite float32 number for ") + param +
                      " but received " + std::to_string(d),
                  kErrInvalidArgument, true);
  }
  return f;
}

ThreadPool* ArgPool(const Napi::CallbackInfo& info, size_t i) {
  const auto threads = static_cast<size_t>(ArgInteger(info, i, "threads", 1, 256));
  return threads > 1 ? SharedThreadPool(threads) : nullptr;
}

void CheckDisjoint(Napi::Env env, const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
  const auto a0 = reinterpret_cast<uintptr_t>(a), b0 = reinterpret_cast<uintptr_t>(b);
  if (a_bytes != 0 && b_bytes != 0 && a0 < b0 + b_bytes && b0 < a0 + a_bytes) {
    ThrowWithCode(env, "Expected input and output to be separate memory but they overlap",
                  kErrInvalidArgument);
  }
}

}  // namespace

// f32MinMax(values: Float32Array, threads) -> {min, max, hasNaN, hasInfinity}
// NaN is ignored; min = Infinity and max = -Infinity when no value is left; zeros come back +0.
Napi::Value F32MinMaxBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 2);
  const auto values = ArgFloat32Array(info, 0, "values");
  ThreadPool* pool = ArgPool(info, 1);
  F32MinMax r;
  try {
    r = F32MinMaxOf(values.data, values.length, pool);
  } catch (const std::bad_alloc&) {
    ThrowWithCode(env, "Not enough memory for min/max", "ERR_LITEQUANT_OUT_OF_MEMORY");
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("min", Napi::Number::New(env, r.min));
  out.Set("max", Napi::Number::New(env, r.max));
  out.Set("hasNaN", Napi::Boolean::New(env, r.saw_nan));
  out.Set("hasInfinity", Napi::Boolean::New(env, r.saw_inf));
  return out;
}

// f32Histogram(values: Float32Array, counts: Float64Array, lo, hi, threads)
// Adds each non-NaN value's bin to counts (bins = counts.length): bin = clamp(floor((x - lo) *
// float(bins / (hi - lo))), 0, bins - 1) in float32; lo and hi are rounded to float32 first.
Napi::Value F32HistogramBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 5);
  const auto values = ArgFloat32Array(info, 0, "values");
  const auto counts = ArgFloat64Array(info, 1, "counts");
  const float lo = ArgFloat32Bound(info, 2, "lo");
  const float hi = ArgFloat32Bound(info, 3, "hi");
  ThreadPool* pool = ArgPool(info, 4);
  if (counts.length < 1 || counts.length > kMaxHistogramBins) {
    ThrowWithCode(env,
                  "Expected between 1 and " + std::to_string(kMaxHistogramBins) +
                      " bins (counts.length) but received " + std::to_string(counts.length),
                  kErrInvalidArgument, true);
  }
  const auto bins = static_cast<uint32_t>(counts.length);
  const float scale = F32HistogramScale(lo, hi, bins);
  if (!(hi > lo) || !std::isfinite(scale) || !(scale > 0.0f)) {
    ThrowWithCode(env,
                  "Expected lo < hi with a representable bin width but received lo " +
                      std::to_string(lo) + " and hi " + std::to_string(hi),
                  kErrInvalidArgument, true);
  }
  try {
    std::vector<uint64_t> added(bins, 0);
    F32Histogram(values.data, values.length, lo, hi, bins, added.data(), pool);
    for (uint32_t b = 0; b < bins; ++b) counts.data[b] += static_cast<double>(added[b]);
  } catch (const std::bad_alloc&) {
    ThrowWithCode(env, "Not enough memory for the histogram", "ERR_LITEQUANT_OUT_OF_MEMORY");
  }
  return env.Undefined();
}

// f32ToF16(input: Float32Array, output: Uint16Array, threads): IEEE binary16 bits, round to
// nearest even.
Napi::Value F32ToF16Binding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 3);
  const auto input = ArgFloat32Array(info, 0, "input");
  const auto output = ArgUint16Array(info, 1, "output");
  ThreadPool* pool = ArgPool(info, 2);
  CheckLength(env, output.length, input.length, "output");
  CheckDisjoint(env, input.data, input.length * 4, output.data, output.length * 2);
  F32ToF16(input.data, input.length, output.data, pool);
  return env.Undefined();
}

// f16ToF32(input: Uint16Array, output: Float32Array, threads): exact.
Napi::Value F16ToF32Binding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 3);
  const auto input = ArgUint16Array(info, 0, "input");
  const auto output = ArgFloat32Array(info, 1, "output");
  ThreadPool* pool = ArgPool(info, 2);
  CheckLength(env, output.length, input.length, "output");
  CheckDisjoint(env, input.data, input.length * 2, output.data, output.length * 4);
  F16ToF32(input.data, input.length, output.data, pool);
  return env.Undefined();
}

}  // namespace litequant
