// Argument checks for N-API entry points. Every failure becomes a JS exception
// with a stable `code`; messages read "Expected <what> for <param> but received <value>".
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace litequant {

constexpr const char* kErrInvalidArgument = "ERR_LITEQUANT_INVALID_ARGUMENT";
constexpr const char* kErrIsaUnavailable = "ERR_LITEQUANT_ISA_UNAVAILABLE";

// Throws a TypeError (or RangeError when `range` is true) carrying `code`.
[[noreturn]] void ThrowWithCode(Napi::Env env, const std::string& message, const char* code,
                                bool range = false);
[[noreturn]] void ThrowExpected(Napi::Env env, const std::string& what, const char* param,
                                const Napi::Value& received);

void CheckArgCount(const Napi::CallbackInfo& info, size_t count);

// A typed array of element type T; `length` (when not SIZE_MAX) must match.
template <typename T>
struct TypedView {
  T* data;
  size_t length;
};

TypedView<float> ArgFloat32Array(const Napi::CallbackInfo& info, size_t i, const char* param);
TypedView<int8_t> ArgInt8Array(const Napi::CallbackInfo& info, size_t i, const char* param);
TypedView<int32_t> ArgInt32Array(const Napi::CallbackInfo& info, size_t i, const char* param);
// An integer-valued number in [lo, hi].
int64_t ArgInteger(const Napi::CallbackInfo& info, size_t i, const char* param, int64_t lo,
                   int64_t hi);
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* param);

void CheckLength(Napi::Env env, size_t actual, size_t expected, const char* param);

}  // namespace litequant
