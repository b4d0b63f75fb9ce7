// Reads a plain JS options object (sharp style: JS validates the user's options and passes one
// object; C++ checks every field again, so no JS input can crash the process). Failures throw
// ERR_LITEQUANT_INVALID_ARGUMENT with "Expected <what> for <param>.<field> but received ...".
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
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

}  // namespace litequant
