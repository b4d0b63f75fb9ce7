// quantizeInt8 / dequantizeInt8: JS passes the tensor seen as [outer, channels, inner]
// and a scale and zero point per channel; the output array is allocated by JS.
#include <cmath>
#include <limits>

#include "args.h"
#include "bindings.h"
#include "litequant/quantize_tensor.h"

namespace litequant {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 40;

AxisLayout ArgLayout(const Napi::CallbackInfo& info, size_t first) {
  AxisLayout l;
  l.outer = static_cast<size_t>(ArgInteger(info, first, "outer", 0, kMaxDim));
  l.channels = static_cast<size_t>(ArgInteger(info, first + 1, "channels", 1, kMaxDim));
  l.inner = static_cast<size_t>(ArgInteger(info, first + 2, "inner", 0, kMaxDim));
  const double total =
      static_cast<double>(l.outer) * static_cast<double>(l.channels) * static_cast<double>(l.inner);
  if (total > static_cast<double>(kMaxDim)) {
    ThrowWithCode(info.Env(), "Expected outer * channels * inner to be at most 2^40",
                  kErrInvalidArgument, true);
  }
  return l;
}

void CheckScales(Napi::Env env, const TypedView<float>& scales) {
  for (size_t c = 0; c < scales.length; ++c) {
    const float s = scales.data[c];
    if (!(std::isfinite(s) && s > 0.0f)) {
      ThrowWithCode(env,
                    "Expected finite positive values for scales but received " +
                        std::to_string(s) + " at index " + std::to_string(c),
                    kErrInvalidArgument, true);
    }
  }
}

void CheckZeroPoints(Napi::Env env, const TypedView<int32_t>& zps, int32_t lo, int32_t hi) {
  for (size_t c = 0; c < zps.length; ++c) {
    if (zps.data[c] < lo || zps.data[c] > hi) {
      ThrowWithCode(env,
                    "Expected zero points between " + std::to_string(lo) + " and " +
                        std::to_string(hi) + " for zeroPoints but received " +
                        std::to_string(zps.data[c]) + " at index " + std::to_string(c),
                    kErrInvalidArgument, true);
    }
  }
}

}  // namespace

// quantizeInt8(input: Float32Array, output: Int8Array, scales: Float32Array,
//              zeroPoints: Int32Array, outer, channels, inner, qmin, qmax)
Napi::Value QuantizeInt8(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 9);
  const auto input = ArgFloat32Array(info, 0, "input");
  const auto output = ArgInt8Array(info, 1, "output");
  const auto scales = ArgFloat32Array(info, 2, "scales");
  const auto zps = ArgInt32Array(info, 3, "zeroPoints");
  const AxisLayout layout = ArgLayout(info, 4);
  const auto qmin = static_cast<int32_t>(ArgInteger(info, 7, "qmin", -128, 127));
  const auto qmax = static_cast<int32_t>(ArgInteger(info, 8, "qmax", qmin, 127));
  CheckLength(env, input.length, layout.size(), "input");
  CheckLength(env, output.length, layout.size(), "output");
  CheckLength(env, scales.length, layout.channels, "scales");
  CheckLength(env, zps.length, layout.channels, "zeroPoints");
  CheckScales(env, scales);
  CheckZeroPoints(env, zps, qmin, qmax);
  QuantizeToInt8(input.data, output.data, layout, scales.data, zps.data, qmin, qmax);
  return env.Undefined();
}

// quantizeInt8HalfEven(input: Float32Array, output: Int8Array, scale: Float32Array(1),
//                      zeroPoint): per tensor, halves to even (the runtime's QUANTIZE op).
Napi::Value QuantizeInt8HalfEven(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 4);
  const auto input = ArgFloat32Array(info, 0, "input");
  const auto output = ArgInt8Array(info, 1, "output");
  const auto scale = ArgFloat32Array(info, 2, "scale");
  const auto zp = static_cast<int32_t>(ArgInteger(info, 3, "zeroPoint", -128, 127));
  CheckLength(env, output.length, input.length, "output");
  CheckLength(env, scale.length, 1, "scale");
  CheckScales(env, scale);
  QuantizeToInt8HalfEven(input.data, output.data, input.length, scale.data[0], zp);
  return env.Undefined();
}

// dequantizeInt8(input: Int8Array, output: Float32Array, scales: Float32Array,
//                zeroPoints: Int32Array, outer, channels, inner)
Napi::Value DequantizeInt8(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 7);
  const auto input = ArgInt8Array(info, 0, "input");
  const auto output = ArgFloat32Array(info, 1, "output");
  const auto scales = ArgFloat32Array(info, 2, "scales");
  const auto zps = ArgInt32Array(info, 3, "zeroPoints");
  const AxisLayout layout = ArgLayout(info, 4);
  CheckLength(env, input.length, layout.size(), "input");
  CheckLength(env, output.length, layout.size(), "output");
  CheckLength(env, scales.length, layout.channels, "scales");
  CheckLength(env, zps.length, layout.channels, "zeroPoints");
  CheckScales(env, scales);
  CheckZeroPoints(env, zps, -128, 127);
  DequantizeFromInt8(input.data, output.data, layout, scales.data, zps.data);
  return env.Undefined();
}

}  // namespace litequant
