// qs8 GEMM: weights are packed once into a handle (a type-tagged External owning the packed
// weights and the prepared requantization), then the hot call runs the GEMM on Int8Arrays.
// The hot call parses no option objects and allocates nothing: handle, arrays, m, threads.
//
//   qs8GemmPack(weights: Int8Array [n*k], n, k, bias: Int32Array [n] | null, aZeroPoint,
//               mode: 0 (fp32) | 1 (fixed-point), scales: Float64Array [1 | n],
//               outputZeroPoint, qmin, qmax) -> handle
//     scales are the real requantization scales s_in * s_w / s_out: fp32 mode rounds each to
//     float, fixed-point mode turns each into a Q31 multiplier and shift (QuantizeMultiplier).
//   qs8GemmRun(handle, a: Int8Array [m*k], m, c: Int8Array [m*n], threads) -> undefined
//   qs8GemmAccumulate(handle, a: Int8Array [m*k], m, acc: Int32Array [m*n], threads)
//   qs8GemmColumnSums(handle, out: Int32Array [n])
//   qs8GemmInfo(handle) -> { n, k, aZeroPoint, path, kernel }
// threads: 0 (one per core) to 256; 1 runs on the calling thread.
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>

#include "args.h"
#include "bindings.h"
#include "litequant/qs8_gemm.h"
#include "litequant/thread_pool.h"

namespace litequant {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 40;
constexpr int64_t kMaxThreads = 256;
constexpr napi_type_tag kQs8GemmTag = {0x6c6974657175616eULL, 0x7473385f67656d6dULL};

struct Qs8GemmHandle {
  std::shared_ptr<const Qs8PackedWeights> packed;
  Qs8Requant requant;
  size_t n = 0;
  size_t k = 0;
  int64_t external_bytes = 0;
};

Qs8GemmHandle& Handle(const Napi::CallbackInfo& info) {
  const Napi::Value v = info[0];
  if (!v.IsExternal() || !v.As<Napi::External<Qs8GemmHandle>>().CheckTypeTag(&kQs8GemmTag)) {
    ThrowExpected(info.Env(), "a handle from qs8GemmPack", "handle", v);
  }
  return *v.As<Napi::External<Qs8GemmHandle>>().Data();
}

ThreadPool* Pool(const Napi::CallbackInfo& info, size_t i) {
  const int64_t threads = ArgInteger(info, i, "threads", 0, kMaxThreads);
  return threads == 1 ? nullptr : SharedThreadPool(static_cast<size_t>(threads));
}

// m rows of `cols`: the array must hold exactly m * cols elements.
void CheckRows(Napi::Env env, size_t length, size_t m, size_t cols, const char* param) {
  if (static_cast<double>(m) * static_cast<double>(cols) > static_cast<double>(kMaxDim)) {
    ThrowWithCode(env, std::string("Expected at most 2^40 elements for ") + param,
                  kErrInvalidArgument, true);
  }
  CheckLength(env, length, m * cols, param);
}

TypedView<double> ArgFloat64Array(const Napi::CallbackInfo& info, size_t i, const char* param) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    ThrowExpected(info.Env(), "a Float64Array", param, v);
  }
  Napi::Float64Array a = v.As<Napi::Float64Array>();
  return {a.Data(), a.ElementLength()};
}

// Standard exceptions from core (allocation, parameter checks) become JS errors.
template <typename F>
auto Guarded(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    ThrowWithCode(env, "Out of memory in the qs8 GEMM", kErrInvalidArgument, true);
  } catch (const std::exception& e) {
    ThrowWithCode(env, e.what(), kErrInvalidArgument, true);
  }
}

}  // namespace

Napi::Value Qs8GemmPack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 10);
  const auto weights = ArgInt8Array(info, 0, "weights");
  const auto n = static_cast<size_t>(ArgInteger(info, 1, "n", 1, kMaxDim));
  const auto k = static_cast<size_t>(ArgInteger(info, 2, "k", 0, kMaxDim));
  CheckRows(env, weights.length, n, k, "weights");
  const int32_t* bias = nullptr;
  if (!info[3].IsNull() && !info[3].IsUndefined()) {
    const auto b = ArgInt32Array(info, 3, "bias");
    CheckLength(env, b.length, n, "bias");
    bias = b.data;
  }
  const auto a_zero_point = static_cast<int32_t>(ArgInteger(info, 4, "aZeroPoint", -128, 127));
  const auto mode = ArgInteger(info, 5, "mode", 0, 1) == 0 ? RequantMode::kFp32
                                                             : RequantMode::kFixedPoint;
  const auto scales = ArgFloat64Array(info, 6, "scales");
  if (scales.length != 1 && scales.length != n) {
    ThrowWithCode(env,
                  "Expected 1 or " + std::to_string(n) + " scales but received " +
                      std::to_string(scales.length),
                  kErrInvalidArgument, true);
  }
  auto handle = std::make_unique<Qs8GemmHandle>();
  Qs8Requant& rq = handle->requant;
  rq.mode = mode;
  rq.output_zero_point =
      static_cast<int32_t>(ArgInteger(info, 7, "outputZeroPoint", -128, 127));
  rq.qmin = static_cast<int32_t>(ArgInteger(info, 8, "qmin", -128, 127));
  rq.qmax = static_cast<int32_t>(ArgInteger(info, 9, "qmax", rq.qmin, 127));
  for (size_t j = 0; j < scales.length; ++j) {
    const double s = scales.data[j];
    const float f = static_cast<float>(s);
    const QuantizedMultiplier q = QuantizeMultiplier(s);
    // fp32: the float must be finite; fixed-point: the shift must fit (scale < 2^31).
    const bool ok = std::isfinite(s) && s > 0 &&
                    (mode == RequantMode::kFp32 ? std::isfinite(f) : q.shift <= 31);
    if (!ok) {
      ThrowWithCode(env,
                    "Expected finite positive scales below 2^31 but received " +
                        std::to_string(s) + " at index " + std::to_string(j),
                    kErrInvalidArgument, true);
    }
    if (mode == RequantMode::kFp32) rq.scale.push_back(f);
    else rq.multiplier.push_back(q);
  }
  handle->n = n;
  handle->k = k;
  handle->packed = Guarded(env, [&] { return PackQs8Gemm(weights.data, n, k, bias, a_zero_point); });
  // Tell the GC about the packed copy (weights, per-column sums and inits).
  handle->external_bytes = static_cast<int64_t>(n * k + 16 * n);
  Napi::MemoryManagement::AdjustExternalMemory(env, handle->external_bytes);
  auto external = Napi::External<Qs8GemmHandle>::New(
      env, handle.release(), [](Napi::Env finalize_env, Qs8GemmHandle* h) {
        Napi::MemoryManagement::AdjustExternalMemory(finalize_env, -h->external_bytes);
        delete h;
      });
  external.TypeTag(&kQs8GemmTag);
  return external;
}

Napi::Value Qs8GemmRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 5);
  Qs8GemmHandle& h = Handle(info);
  const auto a = ArgInt8Array(info, 1, "a");
  const auto m = static_cast<size_t>(ArgInteger(info, 2, "m", 0, kMaxDim));
  const auto c = ArgInt8Array(info, 3, "c");
  ThreadPool* pool = Pool(info, 4);
  CheckRows(env, a.length, m, h.k, "a");
  CheckRows(env, c.length, m, h.n, "c");
  Guarded(env, [&] { Qs8Gemm(*h.packed, m, a.data, h.k, c.data, h.n, h.requant, pool); });
  return env.Undefined();
}

Napi::Value Qs8GemmAccumulateRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 5);
  Qs8GemmHandle& h = Handle(info);
  const auto a = ArgInt8Array(info, 1, "a");
  const auto m = static_cast<size_t>(ArgInteger(info, 2, "m", 0, kMaxDim));
  const auto acc = ArgInt32Array(info, 3, "acc");
  ThreadPool* pool = Pool(info, 4);
  CheckRows(env, a.length, m, h.k, "a");
  CheckRows(env, acc.length, m, h.n, "acc");
  Guarded(env, [&] { Qs8GemmAccumulate(*h.packed, m, a.data, h.k, acc.data, h.n, pool); });
  return env.Undefined();
}

Napi::Value Qs8GemmColumnSumsCopy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 2);
  Qs8GemmHandle& h = Handle(info);
  const auto out = ArgInt32Array(info, 1, "out");
  CheckLength(env, out.length, h.n, "out");
  std::memcpy(out.data, Qs8ColumnSums(*h.packed), h.n * sizeof(int32_t));
  return env.Undefined();
}

Napi::Value Qs8GemmInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 1);
  const Qs8GemmHandle& h = Handle(info);
  Napi::Object out = Napi::Object::New(env);
  out.Set("n", Napi::Number::New(env, static_cast<double>(h.n)));
  out.Set("k", Napi::Number::New(env, static_cast<double>(h.k)));
  out.Set("aZeroPoint", Napi::Number::New(env, Qs8PackedAZeroPoint(*h.packed)));
  out.Set("path", Napi::String::New(env, PathName(Qs8PackedPath(*h.packed))));
  out.Set("kernel", Napi::String::New(env, Qs8PackedKernelName(*h.packed)));
  return out;
}

}  // namespace litequant
