// Every N-API entry point; registered together in addon.cc.
#pragma once

#include <napi.h>

namespace litequant {

Napi::Value Capabilities(const Napi::CallbackInfo& info);
Napi::Value SelectIsa(const Napi::CallbackInfo& info);
Napi::Value QuantizeInt8(const Napi::CallbackInfo& info);
Napi::Value DequantizeInt8(const Napi::CallbackInfo& info);
Napi::Value QuantizeInt8HalfEven(const Napi::CallbackInfo& info);
Napi::Value Qs8GemmPack(const Napi::CallbackInfo& info);
Napi::Value Qs8GemmRun(const Napi::CallbackInfo& info);
Napi::Value Qs8GemmAccumulateRun(const Napi::CallbackInfo& info);
Napi::Value Qs8GemmColumnSumsCopy(const Napi::CallbackInfo& info);
Napi::Value Qs8GemmInfo(const Napi::CallbackInfo& info);
Napi::Value F32GemmPack(const Napi::CallbackInfo& info);
Napi::Value F32GemmBinding(const Napi::CallbackInfo& info);
Napi::Value F32Conv2dBinding(const Napi::CallbackInfo& info);
Napi::Value F32DepthwisePack(const Napi::CallbackInfo& info);
Napi::Value F32DepthwiseConv2dBinding(const Napi::CallbackInfo& info);
Napi::Value F32MinMaxBinding(const Napi::CallbackInfo& info);
Napi::Value F32HistogramBinding(const Napi::CallbackInfo& info);
Napi::Value F32ToF16Binding(const Napi::CallbackInfo& info);
Napi::Value F16ToF32Binding(const Napi::CallbackInfo& info);
Napi::Value Qs16Pack(const Napi::CallbackInfo& info);
Napi::Value Qs16Run(const Napi::CallbackInfo& info);
Napi::Value Qs16Info(const Napi::CallbackInfo& info);
Napi::Value HybridPack(const Napi::CallbackInfo& info);
Napi::Value HybridRun(const Napi::CallbackInfo& info);
Napi::Value HybridInfo(const Napi::CallbackInfo& info);
Napi::Value Qs8ConvPack(const Napi::CallbackInfo& info);
Napi::Value Qs8ConvRun(const Napi::CallbackInfo& info);
Napi::Value Qs8ConvInfo(const Napi::CallbackInfo& info);
Napi::Value ElementwiseBinaryCreate(const Napi::CallbackInfo& info);
Napi::Value ElementwiseBinaryRun(const Napi::CallbackInfo& info);
Napi::Value ElementwiseBinaryInfo(const Napi::CallbackInfo& info);
Napi::Value LstmPack(const Napi::CallbackInfo& info);
Napi::Value LstmRunBinding(const Napi::CallbackInfo& info);
Napi::Value LstmInfo(const Napi::CallbackInfo& info);
Napi::Value LstmQs8Pack(const Napi::CallbackInfo& info);
Napi::Value LstmQs8RunBinding(const Napi::CallbackInfo& info);
Napi::Value LstmQs8Info(const Napi::CallbackInfo& info);
Napi::Value LstmQs8Table(const Napi::CallbackInfo& info);

}  // namespace litequant
