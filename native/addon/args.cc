#include "args.h"

#include <cmath>

namespace litequant {
namespace {

std::string Describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) {
    static const char* const kNames[] = {"Int8Array",    "Uint8Array",   "Uint8ClampedArray",
                                         "Int16Array",   "Uint16Array",  "Int32Array",
                                         "Uint32Array",  "Float32Array", "Float64Array",
                                         "BigInt64Array", "BigUint64Array"};
    const auto t = static_cast<size_t>(v.As<Napi::TypedArray>().TypedArrayType());
    const std::string name = t < sizeof(kNames) / sizeof(kNames[0]) ? kNames[t] : "TypedArray";
    return "a " + name + " of length " + std::to_string(v.As<Napi::TypedArray>().ElementLength());
  }
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) return "NaN";
    std::string s = std::to_string(d);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  if (v.IsString()) return "the string '" + v.As<Napi::String>().Utf8Value() + "'";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsArray()) return "an Array";
  if (v.IsFunction()) return "a function";
  return "an object";
}

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

}  // namespace

void ThrowWithCode(Napi::Env env, const std::string& message, const char* code, bool range) {
  Napi::Error e = range ? static_cast<Napi::Error>(Napi::RangeError::New(env, message))
                        : static_cast<Napi::Error>(Napi::TypeError::New(env, message));
  e.Set("code", Napi::String::New(env, code));
  throw e;
}

void ThrowExpected(Napi::Env env, const std::string& what, const char* param,
                   const Napi::Value& received) {
  ThrowWithCode(env, "Expected " + what + " for " + param + " but received " + Describe(received),
                kErrInvalidArgument);
}

void CheckArgCount(const Napi::CallbackInfo& info, size_t count) {
  if (info.Length() != count) {
    ThrowWithCode(info.Env(),
                  "Expected " + std::to_string(count) + " arguments but received " +
                      std::to_string(info.Length()),
                  kErrInvalidArgument);
  }
}

TypedView<float> ArgFloat32Array(const Napi::CallbackInfo& info, size_t i, const char* param) {
  return ArgTyped<float>(info, i, param, napi_float32_array, "a Float32Array");
}

TypedView<int8_t> ArgInt8Array(const Napi::CallbackInfo& info, size_t i, const char* param) {
  return ArgTyped<int8_t>(info, i, param, napi_int8_array, "an Int8Array");
}

TypedView<int32_t> ArgInt32Array(const Napi::CallbackInfo& info, size_t i, const char* param) {
  return ArgTyped<int32_t>(info, i, param, napi_int32_array, "an Int32Array");
}

int64_t ArgInteger(const Napi::CallbackInfo& info, size_t i, const char* param, int64_t lo,
                   int64_t hi) {
  const Napi::Value v = info[i];
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    if (d >= static_cast<double>(lo) && d <= static_cast<double>(hi) && std::trunc(d) == d) {
      return static_cast<int64_t>(d);  // the message below is only built on failure (hot path)
    }
  }
  const std::string what =
      "an integer between " + std::to_string(lo) + " and " + std::to_string(hi);
  if (!v.IsNumber()) ThrowExpected(info.Env(), what, param, v);
  ThrowWithCode(info.Env(), "Expected " + what + " for " + param + " but received " + Describe(v),
                kErrInvalidArgument, true);
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* param) {
  const Napi::Value v = info[i];
  if (!v.IsString()) ThrowExpected(info.Env(), "a string", param, v);
  return v.As<Napi::String>().Utf8Value();
}

void CheckLength(Napi::Env env, size_t actual, size_t expected, const char* param) {
  if (actual != expected) {
    ThrowWithCode(env,
                  "Expected length " + std::to_string(expected) + " for " + param +
                      " but received length " + std::to_string(actual),
                  kErrInvalidArgument, true);
  }
}

}  // namespace litequant
