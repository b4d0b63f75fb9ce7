// UNIDIRECTIONAL_SEQUENCE_LSTM, float32 and hybrid, the whole sequence per call
// (litequant/lstm.h). Packed once into a handle (a type-tagged External owning the packed LSTM);
// the hot call runs a sequence on Float32Arrays without parsing options or allocating JS memory.
//
//   lstmPack(kind: 'float32' | 'hybrid', tensors: Array(21), scales: Float32Array(21) | null,
//            params) -> handle
//     tensors: TFLite's LSTM inputs 1..17 then 20..23, in that order (input weights i f c o,
//       recurrent weights i f c o, peephole i f o, bias i f c o, projection, projection bias,
//       layer norm i f c o), each a typed array of its exact length or null when absent.
//       float32: all Float32Array. hybrid: the weight matrices, peephole weights and projection
//       Int8Array, the rest Float32Array; scales[k] is tensor k's scale (only read for those).
//     params {maxTime, batch, inputSize, cellSize, outputSize, timeMajor, activation: 'tanh' |
//       'relu' | 'relu6' | 'relu-n1-to-1' | 'sign-bit', cellClip, projClip, asymmetric}
//   lstmRun(handle, input, outputState, cellState, output, threads: 1..256)
//     Float32Arrays of T*B*inputSize, B*outputSize (initial state in, final out), B*cellSize and
//     T*B*outputSize values, none overlapping another. threads split the input GEMM only.
//   lstmInfo(handle) -> {kind, path, kernel, maxTime, batch, inputSize, cellSize, outputSize}
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "args.h"
#include "bindings.h"
#include "litequant/lstm.h"
#include "litequant/thread_pool.h"
#include "params.h"

namespace litequant {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 24;
constexpr double kMaxElements = 1099511627776.0;  // 2^40
constexpr int64_t kMaxThreads = 256;
constexpr size_t kTensorCount = 21;
constexpr napi_type_tag kLstmTag = {0x6c6974657175616eULL, 0x6c73746d5f5f5f5fULL};

struct LstmHandle {
  std::shared_ptr<const LstmPacked> packed;
  LstmShape shape;
  int64_t external_bytes = 0;
};

// Which entries of `tensors` are int8 for a hybrid LSTM: the 8 gate matrices, the 3 peephole
// vectors and the projection.
bool HybridInt8(uint32_t k) { return k < 11 || k == 15; }

// The length tensor k must have.
size_t TensorLength(const LstmShape& s, uint32_t k) {
  if (k < 4) return s.n_cell * s.n_input;
  if (k < 8) return s.n_cell * s.n_output;
  if (k < 15) return s.n_cell;
  if (k == 15) return s.n_output * s.n_cell;
  if (k == 16) return s.n_output;
  return s.n_cell;  // layer norm
}

LstmActivation ReadActivation(const ParamObject& p) {
  static const char* const kNames[] = {"tanh", "relu", "relu6", "relu-n1-to-1", "sign-bit",
                                       nullptr};
  static const LstmActivation kValues[] = {LstmActivation::kTanh, LstmActivation::kRelu,
                                           LstmActivation::kRelu6, LstmActivation::kReluN1To1,
                                           LstmActivation::kSignBit};
  return kValues[p.Choice("activation", kNames)];
}

bool Overlap(const TypedView<float>& a, const TypedView<float>& b) {
  return a.length > 0 && b.length > 0 && a.data < b.data + b.length && b.data < a.data + a.length;
}

}  // namespace

Napi::Value LstmPack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 4);
  const std::string kind = ArgString(info, 0, "kind");
  if (kind != "float32" && kind != "hybrid") ThrowExpected(env, "'float32' or 'hybrid'", "kind", info[0]);
  const bool hybrid = kind == "hybrid";
  if (!info[1].IsArray() || info[1].As<Napi::Array>().Length() != kTensorCount) {
    ThrowExpected(env, "an Array of 21 typed arrays or nulls", "tensors", info[1]);
  }
  const auto tensors = info[1].As<Napi::Array>();
  TypedView<float> scales{nullptr, 0};
  if (hybrid) {
    scales = ArgFloat32Array(info, 2, "scales");
    CheckLength(env, scales.length, kTensorCount, "scales");
  } else {
    scales = ArgOptionalFloat32Array(info, 2, "scales");
  }
  const ParamObject p(info, 3, "params");
  LstmShape shape;
  shape.max_time = static_cast<size_t>(p.Integer("maxTime", 0, kMaxDim));
  shape.batch = static_cast<size_t>(p.Integer("batch", 0, kMaxDim));
  shape.n_input = static_cast<size_t>(p.Integer("inputSize", 1, kMaxDim));
  shape.n_cell = static_cast<size_t>(p.Integer("cellSize", 1, kMaxDim));
  shape.n_output = static_cast<size_t>(p.Integer("outputSize", 1, kMaxDim));
  shape.time_major = p.Boolean("timeMajor");
  const double n_cell = static_cast<double>(shape.n_cell);
  const double rows = static_cast<double>(shape.max_time) * static_cast<double>(shape.batch);
  const double widest = static_cast<double>(std::max(shape.n_input, shape.n_output));
  if (4 * n_cell * widest > kMaxElements || rows * 4 * n_cell > kMaxElements ||
      rows * widest > kMaxElements) {
    ThrowWithCode(env, "Expected an LSTM whose weights and sequence hold at most 2^40 values",
                  kErrInvalidArgument, true);
  }
  LstmOptions options;
  options.activation = ReadActivation(p);
  options.cell_clip = static_cast<float>(p.Number("cellClip", false));
  options.proj_clip = static_cast<float>(p.Number("projClip", false));
  options.asymmetric_quantize_inputs = p.Boolean("asymmetric");

  auto handle = std::make_unique<LstmHandle>();
  handle->shape = shape;
  std::string failure;
  RunGuarded(env, [&] {
    try {
      if (hybrid) {
        LstmHybridWeights w;
        const int8_t* q[kTensorCount] = {};
        const float* f[kTensorCount] = {};
        for (uint32_t k = 0; k < kTensorCount; ++k) {
          const size_t n = TensorLength(shape, k);
          if (HybridInt8(k)) {
            q[k] = OptionalTypedArrayElement<int8_t>(env, tensors, "tensors", k, napi_int8_array,
                                                     "an Int8Array", n);
          } else {
            f[k] = OptionalTypedArrayElement<float>(env, tensors, "tensors", k,
                                                    napi_float32_array, "a Float32Array", n);
          }
        }
        for (int g = 0; g < 4; ++g) {
          w.input[g] = q[g];
          w.input_scale[g] = scales.data[g];
          w.recurrent[g] = q[4 + g];
          w.recurrent_scale[g] = scales.data[4 + g];
          w.bias[g] = f[11 + g];
          w.layer_norm[g] = f[17 + g];
        }
        const int peephole_gate[3] = {0, 1, 3};
        for (int k = 0; k < 3; ++k) {
          w.peephole[peephole_gate[k]] = q[8 + k];
          w.peephole_scale[peephole_gate[k]] = scales.data[8 + k];
        }
        w.projection = q[15];
        w.projection_scale = scales.data[15];
        w.projection_bias = f[16];
        handle->packed = PackLstmHybrid(shape, options, w);
      } else {
        LstmF32Weights w;
        const float* f[kTensorCount] = {};
        for (uint32_t k = 0; k < kTensorCount; ++k) {
          f[k] = OptionalTypedArrayElement<float>(env, tensors, "tensors", k, napi_float32_array,
                                                  "a Float32Array",
                               TensorLength(shape, k));
        }
        for (int g = 0; g < 4; ++g) {
          w.input[g] = f[g];
          w.recurrent[g] = f[4 + g];
          w.bias[g] = f[11 + g];
          w.layer_norm[g] = f[17 + g];
        }
        w.peephole[0] = f[8];
        w.peephole[1] = f[9];
        w.peephole[3] = f[10];
        w.projection = f[15];
        w.projection_bias = f[16];
        handle->packed = PackLstmF32(shape, options, w);
      }
    } catch (const std::invalid_argument& e) {
      failure = e.what();
    }
  });
  if (!failure.empty()) ThrowWithCode(env, "Expected a consistent " + failure, kErrInvalidArgument, true);
  // Tell the GC about the packed copy (weights in the GEMM layouts, vectors).
  const double weight_bytes = 4 * n_cell * static_cast<double>(shape.n_input + shape.n_output) +
                              n_cell * static_cast<double>(shape.n_output);
  handle->external_bytes = static_cast<int64_t>(weight_bytes * (hybrid ? 1 : 4) + 64 * n_cell);
  return WrapTaggedHandle(env, std::move(handle), kLstmTag);
}

Napi::Value LstmRunBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 6);
  const LstmHandle& h = TaggedHandle<LstmHandle>(info, kLstmTag, "lstmPack");
  const LstmShape& s = h.shape;
  const auto input = ArgFloat32Array(info, 1, "input");
  const auto output_state = ArgFloat32Array(info, 2, "outputState");
  const auto cell_state = ArgFloat32Array(info, 3, "cellState");
  const auto output = ArgFloat32Array(info, 4, "output");
  const int64_t threads = ArgInteger(info, 5, "threads", 1, kMaxThreads);
  const size_t rows = s.max_time * s.batch;
  CheckLength(env, input.length, rows * s.n_input, "input");
  CheckLength(env, output_state.length, s.batch * s.n_output, "outputState");
  CheckLength(env, cell_state.length, s.batch * s.n_cell, "cellState");
  CheckLength(env, output.length, rows * s.n_output, "output");
  const TypedView<float> views[4] = {input, output_state, cell_state, output};
  for (int a = 0; a < 4; ++a) {
    for (int b = a + 1; b < 4; ++b) {
      if (Overlap(views[a], views[b])) {
        ThrowWithCode(env, "Expected input, outputState, cellState and output that do not overlap",
                      kErrInvalidArgument);
      }
    }
  }
  ThreadPool* pool = threads > 1 ? SharedThreadPool(static_cast<size_t>(threads)) : nullptr;
  RunGuarded(env, [&] {
    LstmRun(*h.packed, input.data, output_state.data, cell_state.data, output.data, pool);
  });
  return env.Undefined();
}

Napi::Value LstmInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 1);
  const LstmHandle& h = TaggedHandle<LstmHandle>(info, kLstmTag, "lstmPack");
  Napi::Object out = Napi::Object::New(env);
  out.Set("kind", Napi::String::New(env, LstmPackedHybrid(*h.packed) ? "hybrid" : "float32"));
  out.Set("path", Napi::String::New(env, PathName(LstmPackedPath(*h.packed))));
  out.Set("kernel", Napi::String::New(env, LstmPackedKernelName(*h.packed)));
  out.Set("maxTime", Napi::Number::New(env, static_cast<double>(h.shape.max_time)));
  out.Set("batch", Napi::Number::New(env, static_cast<double>(h.shape.batch)));
  out.Set("inputSize", Napi::Number::New(env, static_cast<double>(h.shape.n_input)));
  out.Set("cellSize", Napi::Number::New(env, static_cast<double>(h.shape.n_cell)));
  out.Set("outputSize", Napi::Number::New(env, static_cast<double>(h.shape.n_output)));
  return out;
}

}  // namespace litequant
