#include "params.h"

#include <cmath>

namespace litequant {
namespace {

template <typename T>
TypedView<T> Typed(const Napi::CallbackInfo& info, size_t i, const char* param,
                   napi_typedarray_type type, const char* what) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    ThrowExpected(info.Env(), what, param, v);
  }
  Napi::TypedArrayOf<T> a = v.As<Napi::TypedArrayOf<T>>();
  return {a.Data(), a.ElementLength()};
}

}  // namespace

ParamObject::ParamObject(const Napi::CallbackInfo& info, size_t i, const char* param)
    : env_(info.Env()), param_(param) {
  const Napi::Value v = info[i];
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction()) {
    ThrowExpected(env_, "an object", param, v);
  }
  object_ = v.As<Napi::Object>();
}

std::string ParamObject::Name(const char* field) const { return param_ + "." + field; }

Napi::Value ParamObject::Get(const char* field) const { return object_.Get(field); }

bool ParamObject::Has(const char* field) const {
  const Napi::Value v = Get(field);
  return !v.IsUndefined() && !v.IsNull();
}

int64_t ParamObject::Integer(const char* field, int64_t lo, int64_t hi) const {
  const Napi::Value v = Get(field);
  const std::string name = Name(field);
  const std::string what =
      "an integer between " + std::to_string(lo) + " and " + std::to_string(hi);
  if (!v.IsNumber()) ThrowExpected(env_, what, name.c_str(), v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || std::trunc(d) != d) {
    ThrowWithCode(env_, "Expected " + what + " for " + name + " but received " +
                            std::to_string(d), kErrInvalidArgument, true);
  }
  return static_cast<int64_t>(d);
}

double ParamObject::Number(const char* field, bool positive) const {
  const Napi::Value v = Get(field);
  const std::string name = Name(field);
  const char* what = positive ? "a finite number > 0" : "a finite number";
  if (!v.IsNumber()) ThrowExpected(env_, what, name.c_str(), v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || (positive && !(d > 0.0))) {
    ThrowWithCode(env_, std::string("Expected ") + what + " for " + name + " but received " +
                            std::to_string(d), kErrInvalidArgument, true);
  }
  return d;
}

double ParamObject::Bound(const char* field) const {
  const Napi::Value v = Get(field);
  const std::string name = Name(field);
  if (!v.IsNumber() || std::isnan(v.As<Napi::Number>().DoubleValue())) {
    ThrowExpected(env_, "a number (not NaN)", name.c_str(), v);
  }
  return v.As<Napi::Number>().DoubleValue();
}

bool ParamObject::Boolean(const char* field) const {
  const Napi::Value v = Get(field);
  if (!v.IsBoolean()) ThrowExpected(env_, "a boolean", Name(field).c_str(), v);
  return v.As<Napi::Boolean>().Value();
}

std::string ParamObject::String(const char* field) const {
  const Napi::Value v = Get(field);
  if (!v.IsString()) ThrowExpected(env_, "a string", Name(field).c_str(), v);
  return v.As<Napi::String>().Utf8Value();
}

size_t ParamObject::Choice(const char* field, const char* const* choices) const {
  const std::string s = String(field);
  std::string list;
  for (size_t i = 0; choices[i] != nullptr; ++i) {
    if (s == choices[i]) return i;
    list += (i ? ", '" : "'") + std::string(choices[i]) + "'";
  }
  ThrowWithCode(env_, "Expected one of " + list + " for " + Name(field) + " but received '" + s +
                          "'", kErrInvalidArgument, true);
}

TypedView<int16_t> ArgInt16Array(const Napi::CallbackInfo& info, size_t i, const char* param) {
  return Typed<int16_t>(info, i, param, napi_int16_array, "an Int16Array");
}

TypedView<int64_t> ArgBigInt64Array(const Napi::CallbackInfo& info, size_t i, const char* param) {
  return Typed<int64_t>(info, i, param, napi_bigint64_array, "a BigInt64Array");
}

TypedView<int64_t> ArgOptionalBigInt64Array(const Napi::CallbackInfo& info, size_t i,
                                            const char* param) {
  const Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) return {nullptr, 0};
  return Typed<int64_t>(info, i, param, napi_bigint64_array, "a BigInt64Array or null");
}

TypedView<float> ArgOptionalFloat32Array(const Napi::CallbackInfo& info, size_t i,
                                         const char* param) {
  const Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) return {nullptr, 0};
  return Typed<float>(info, i, param, napi_float32_array, "a Float32Array or null");
}

}  // namespace litequant
