// The module's exports, all registered here.
#include <napi.h>

#include "bindings.h"

namespace litequant {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("capabilities", Napi::Function::New(env, Capabilities, "capabilities"));
  exports.Set("selectIsa", Napi::Function::New(env, SelectIsa, "selectIsa"));
  exports.Set("quantizeInt8", Napi::Function::New(env, QuantizeInt8, "quantizeInt8"));
  exports.Set("dequantizeInt8", Napi::Function::New(env, DequantizeInt8, "dequantizeInt8"));
  exports.Set("quantizeInt8HalfEven", Napi::Function::New(env, QuantizeInt8HalfEven, "quantizeInt8HalfEven"));
  exports.Set("qs8GemmPack", Napi::Function::New(env, Qs8GemmPack, "qs8GemmPack"));
  exports.Set("qs8GemmRun", Napi::Function::New(env, Qs8GemmRun, "qs8GemmRun"));
  exports.Set("qs8GemmAccumulate", Napi::Function::New(env, Qs8GemmAccumulateRun, "qs8GemmAccumulate"));
  exports.Set("qs8GemmColumnSums", Napi::Function::New(env, Qs8GemmColumnSumsCopy, "qs8GemmColumnSums"));
  exports.Set("qs8GemmInfo", Napi::Function::New(env, Qs8GemmInfo, "qs8GemmInfo"));
  exports.Set("f32GemmPack", Napi::Function::New(env, F32GemmPack, "f32GemmPack"));
  exports.Set("f32Gemm", Napi::Function::New(env, F32GemmBinding, "f32Gemm"));
  exports.Set("f32Conv2d", Napi::Function::New(env, F32Conv2dBinding, "f32Conv2d"));
  exports.Set("f32DepthwisePack", Napi::Function::New(env, F32DepthwisePack, "f32DepthwisePack"));
  exports.Set("f32DepthwiseConv2d", Napi::Function::New(env, F32DepthwiseConv2dBinding, "f32DepthwiseConv2d"));
  exports.Set("f32MinMax", Napi::Function::New(env, F32MinMaxBinding, "f32MinMax"));
  exports.Set("f32Histogram", Napi::Function::New(env, F32HistogramBinding, "f32Histogram"));
  exports.Set("f32ToF16", Napi::Function::New(env, F32ToF16Binding, "f32ToF16"));
  exports.Set("f16ToF32", Napi::Function::New(env, F16ToF32Binding, "f16ToF32"));
  exports.Set("qs16Pack", Napi::Function::New(env, Qs16Pack, "qs16Pack"));
  exports.Set("qs16Run", Napi::Function::New(env, Qs16Run, "qs16Run"));
  exports.Set("qs16Info", Napi::Function::New(env, Qs16Info, "qs16Info"));
  exports.Set("hybridPack", Napi::Function::New(env, HybridPack, "hybridPack"));
  exports.Set("hybridRun", Napi::Function::New(env, HybridRun, "hybridRun"));
  exports.Set("hybridInfo", Napi::Function::New(env, HybridInfo, "hybridInfo"));
  exports.Set("qs8ConvPack", Napi::Function::New(env, Qs8ConvPack, "qs8ConvPack"));
  exports.Set("qs8ConvRun", Napi::Function::New(env, Qs8ConvRun, "qs8ConvRun"));
  exports.Set("qs8ConvInfo", Napi::Function::New(env, Qs8ConvInfo, "qs8ConvInfo"));
  exports.Set("elementwiseBinaryCreate", Napi::Function::New(env, ElementwiseBinaryCreate, "elementwiseBinaryCreate"));
  exports.Set("elementwiseBinaryRun", Napi::Function::New(env, ElementwiseBinaryRun, "elementwiseBinaryRun"));
  exports.Set("elementwiseBinaryInfo", Napi::Function::New(env, ElementwiseBinaryInfo, "elementwiseBinaryInfo"));
  exports.Set("lstmPack", Napi::Function::New(env, LstmPack, "lstmPack"));
  exports.Set("lstmRun", Napi::Function::New(env, LstmRunBinding, "lstmRun"));
  exports.Set("lstmInfo", Napi::Function::New(env, LstmInfo, "lstmInfo"));
  exports.Set("lstmQs8Pack", Napi::Function::New(env, LstmQs8Pack, "lstmQs8Pack"));
  exports.Set("lstmQs8Run", Napi::Function::New(env, LstmQs8RunBinding, "lstmQs8Run"));
  exports.Set("lstmQs8Info", Napi::Function::New(env, LstmQs8Info, "lstmQs8Info"));
  exports.Set("lstmQs8Table", Napi::Function::New(env, LstmQs8Table, "lstmQs8Table"));
  return exports;
}

}  // namespace litequant

// NODE_API_MODULE pastes the function name into an identifier, so it needs an unqualified one.
static Napi::Object InitLitequant(Napi::Env env, Napi::Object exports) {
  return litequant::Init(env, exports);
}
NODE_API_MODULE(litequant, InitLitequant)
