// The module's exports, all registered here.
#include <napi.h>

#include "bindings.h"

namespace litequant {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("capabilities", Napi::Function::New(env, Capabilities, "capabilities"));
  exports.Set("selectIsa", Napi::Function::New(env, SelectIsa, "selectIsa"));
  exports.Set("quantizeInt8", Napi::Function::New(env, QuantizeInt8, "quantizeInt8"));
  exports.Set("dequantizeInt8", Napi::Function::New(env, DequantizeInt8, "dequantizeInt8"));
  return exports;
}

}  // namespace litequant

// NODE_API_MODULE pastes the function name into an identifier, so it needs an unqualified one.
static Napi::Object InitLitequant(Napi::Env env, Napi::Object exports) {
  return litequant::Init(env, exports);
}
NODE_API_MODULE(litequant, InitLitequant)
