// Reads a plain JS options object (sharp style: JS validates the user's options and passes one
// object; C++ checks every field again, so no JS input can crash the process). Failures throw
// ERR_LITEQUANT_INVALID_ARGUMENT with "Expected <what> for <param>.<field> but received ...".
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>

#include "args.h"

namespace litequant {

class ParamObject {
 public:
  // info[i] must be a plain object; `param` names it in messages.
  ParamObject(const Napi::CallbackInfo& info, size_t i, const char* param);

  int64_t Integer(const char* field, int64_t lo, int64_t hi) const;
  // A finite number; `positive` also requires > 0.
  double Number(const char* field, bool positive) const;
  // A number that is not NaN (infinities allowed: clamp bounds).
  double Bound(const char* field) const;
  bool Boolean(const char* field) const;
  std::string String(const char* field) const;
  // One of `choices` (a null-terminated list); returns its index.
  size_t Choice(const char* field, const char* const* choices) const;
  bool Has(const char* field) const;

 private:
  Napi::Value Get(const char* field) const;
  std::string Name(const char* field) const;

  Napi::Env env_;
  Napi::Object object_;
  std::string param_;
};

// Runs a native computation; an allocation failure (scratch for huge shapes) becomes a JS
// RangeError with ERR_LITEQUANT_INVALID_ARGUMENT instead of terminating the process.
template <typename F>
void RunGuarded(Napi::Env env, const F& compute) {
  try {
    compute();
  } catch (const std::bad_alloc&) {
    ThrowWithCode(env,
                  "Expected shapes whose working memory can be allocated, but an allocation "
                  "failed",
                  kErrInvalidArgument, true);
  }
}

// Typed-array arguments that args.h does not cover.
TypedView<int16_t> ArgInt16Array(const Napi::CallbackInfo& info, size_t i, const char* param);
TypedView<int64_t> ArgBigInt64Array(const Napi::CallbackInfo& info, size_t i, const char* param);
// A BigInt64Array or null/undefined (then data is null and length 0).
TypedView<int64_t> ArgOptionalBigInt64Array(const Napi::CallbackInfo& info, size_t i,
                                            const char* param);
// A Float32Array or null/undefined.
TypedView<float> ArgOptionalFloat32Array(const Napi::CallbackInfo& info, size_t i,
                                         const char* param);

// Element k of the JS array `name` (an array of optional tensors): null/undefined, or a typed
// array of `type` and `length` (a typed error otherwise).
template <typename T>
const T* OptionalTypedArrayElement(Napi::Env env, const Napi::Array& array, const char* name,
                                   uint32_t k, napi_typedarray_type type, const char* type_name,
                                   size_t length) {
  const Napi::Value v = array.Get(k);
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  const std::string param = std::string(name) + "[" + std::to_string(k) + "]";
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    ThrowExpected(env, std::string(type_name) + " or null", param.c_str(), v);
  }
  const auto a = v.As<Napi::TypedArrayOf<T>>();
  CheckLength(env, a.ElementLength(), length, param.c_str());
  return a.Data();
}

// info[0] as the External<H> a pack function tagged with `tag` (`maker` names that function).
template <typename H>
H& TaggedHandle(const Napi::CallbackInfo& info, const napi_type_tag& tag, const char* maker) {
  const Napi::Value v = info[0];
  if (!v.IsExternal() || !v.As<Napi::External<H>>().CheckTypeTag(&tag)) {
    ThrowExpected(info.Env(), std::string("a handle from ") + maker, "handle", v);
  }
  return *v.As<Napi::External<H>>().Data();
}

// A packed-weights handle as a tagged External whose `external_bytes` the GC is told about, from
// creation until it is collected.
template <typename H>
Napi::Value WrapTaggedHandle(Napi::Env env, std::unique_ptr<H> handle, const napi_type_tag& tag) {
  Napi::MemoryManagement::AdjustExternalMemory(env, handle->external_bytes);
  auto external = Napi::External<H>::New(env, handle.release(), [](Napi::Env finalize_env, H* h) {
    Napi::MemoryManagement::AdjustExternalMemory(finalize_env, -h->external_bytes);
    delete h;
  });
  external.TypeTag(&tag);
  return external;
}

}  // namespace litequant
