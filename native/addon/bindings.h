// Every N-API entry point; registered together in addon.cc.
#pragma once

#include <napi.h>

namespace litequant {

Napi::Value Capabilities(const Napi::CallbackInfo& info);
Napi::Value SelectIsa(const Napi::CallbackInfo& info);
Napi::Value QuantizeInt8(const Napi::CallbackInfo& info);
Napi::Value DequantizeInt8(const Napi::CallbackInfo& info);

}  // namespace litequant
