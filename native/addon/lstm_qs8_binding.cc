// UNIDIRECTIONAL_SEQUENCE_LSTM, full integer (8x8->16), the whole sequence per call
// (litequant/lstm_qs8.h). Everything TFLite's Prepare derives is derived in TypeScript
// (deriveLstmInteger) and packed once into a handle (a type-tagged External owning the packed
// LSTM); the hot call runs a sequence on typed arrays without parsing options or allocating JS
// memory.
//
//   lstmQs8Pack(arrays: Array(33), numbers: Int32Array(40), params) -> handle
//     arrays, each null or a typed array of its exact length (gates in the order i f c o):
//        0- 3 input weights        Int8Array  [n_cell * n_input]     (input gate null: CIFG)
//        4- 7 recurrent weights    Int8Array  [n_cell * n_output]
//        8-11 input biases         Int32Array [n_cell]  effective: bias + zero-point terms
//       12-15 recurrent biases     Int32Array [n_cell]  effective
//       16-19 peephole weights     Int16Array [n_cell]  (18, the cell gate's, always null)
//       20-23 layer norm weights   Int16Array [n_cell]
//       24-27 layer norm biases    Int32Array [n_cell]  (the gate biases, with layer norm)
//       28    projection           Int8Array  [n_output * n_cell]
//       29    projection bias      Int32Array [n_output] effective
//       30-32 sigmoid, gate tanh, cell tanh tables  Int16Array [65536], indexed by x + 32768
//     numbers: (multiplier, shift) pairs: at 8g + 0/2/4/6 gate g's input, recurrent, peephole
//       and layer norm multipliers; 32 hidden; 34 projection; 36-39 the variance guards.
//     params {maxTime, batch, inputSize, cellSize, outputSize, timeMajor, cellShift,
//       hiddenOutputZeroPoint, hiddenZeroPoint, outputStateZeroPoint, cellClip, projClip}
//       (the clips quantized).
//   lstmQs8Run(handle, input: Int8Array, outputState: Int8Array, cellState: Int16Array,
//              output: Int8Array, threads: 1..256)
//     T*B*inputSize, B*outputSize (initial state in, final out), B*cellSize and T*B*outputSize
//     values, none overlapping another. threads split the input GEMM only.
//   lstmQs8Info(handle) -> {path, kernel, maxTime, batch, inputSize, cellSize, outputSize}
#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "args.h"
#include "bindings.h"
#include "litequant/lstm_qs8.h"
#include "litequant/thread_pool.h"
#include "params.h"

namespace litequant {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 24;
constexpr double kMaxElements = 1099511627776.0;  // 2^40
constexpr int64_t kMaxThreads = 256;
constexpr uint32_t kArrayCount = 33;
constexpr size_t kNumberCount = 40;
constexpr size_t kTableSize = 65536;
constexpr napi_type_tag kLstmQs8Tag = {0x6c6974657175616eULL, 0x6c73746d71733838ULL};

struct LstmQs8Handle {
  std::shared_ptr<const LstmQs8Packed> packed;
  LstmShape shape;
  int64_t external_bytes = 0;
};

template <typename T>
bool Overlap(const TypedView<T>& a, const void* b_data, size_t b_bytes) {
  const auto* a0 = reinterpret_cast<const uint8_t*>(a.data);
  const auto* b0 = static_cast<const uint8_t*>(b_data);
  const size_t a_bytes = a.length * sizeof(T);
  return a_bytes > 0 && b_bytes > 0 && a0 < b0 + b_bytes && b0 < a0 + a_bytes;
}

}  // namespace

Napi::Value LstmQs8Pack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 3);
  if (!info[0].IsArray() || info[0].As<Napi::Array>().Length() != kArrayCount) {
    ThrowExpected(env, "an Array of 33 typed arrays or nulls", "arrays", info[0]);
  }
  const auto arrays = info[0].As<Napi::Array>();
  const auto numbers = ArgInt32Array(info, 1, "numbers");
  CheckLength(env, numbers.length, kNumberCount, "numbers");
  const ParamObject p(info, 2, "params");
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

  LstmQs8Params w;
  w.shape = shape;
  const size_t ni = shape.n_input, nc = shape.n_cell, no = shape.n_output;
  auto multiplier = [&](size_t at) {
    return QuantizedMultiplier{numbers.data[at], numbers.data[at + 1]};
  };
  auto int8s = [&](uint32_t k, size_t length) {
    return OptionalTypedArrayElement<int8_t>(env, arrays, "arrays", k, napi_int8_array,
                                              "an Int8Array", length);
  };
  auto int16s = [&](uint32_t k, size_t length) {
    return OptionalTypedArrayElement<int16_t>(env, arrays, "arrays", k, napi_int16_array,
                                              "an Int16Array", length);
  };
  auto int32s = [&](uint32_t k, size_t length) {
    return OptionalTypedArrayElement<int32_t>(env, arrays, "arrays", k, napi_int32_array,
                                              "an Int32Array", length);
  };
  for (uint32_t g = 0; g < 4; ++g) {
    w.input_weights[g] = int8s(g, nc * ni);
    w.recurrent_weights[g] = int8s(4 + g, nc * no);
    w.input_bias[g] = int32s(8 + g, nc);
    w.recurrent_bias[g] = int32s(12 + g, nc);
    w.peephole[g] = int16s(16 + g, nc);
    w.layer_norm[g] = int16s(20 + g, nc);
    w.layer_norm_bias[g] = int32s(24 + g, nc);
    w.input_scale[g] = multiplier(8 * g);
    w.recurrent_scale[g] = multiplier(8 * g + 2);
    w.peephole_scale[g] = multiplier(8 * g + 4);
    w.layer_norm_scale[g] = multiplier(8 * g + 6);
    w.variance_guard[g] = numbers.data[36 + g];
  }
  w.projection = int8s(28, no * nc);
  w.projection_bias = int32s(29, no);
  w.sigmoid_table = int16s(30, kTableSize);
  w.tanh_gate_table = int16s(31, kTableSize);
  w.tanh_cell_table = int16s(32, kTableSize);
  w.hidden_scale = multiplier(32);
  w.projection_scale = multiplier(34);
  w.cell_shift = static_cast<int32_t>(p.Integer("cellShift", -15, -9));
  w.hidden_output_zero_point =
      static_cast<int32_t>(p.Integer("hiddenOutputZeroPoint", -128, 128));
  w.hidden_zero_point = static_cast<int32_t>(p.Integer("hiddenZeroPoint", -128, 127));
  w.output_state_zero_point = static_cast<int32_t>(p.Integer("outputStateZeroPoint", -128, 127));
  w.cell_clip = static_cast<int32_t>(p.Integer("cellClip", 0, 32767));
  w.proj_clip = static_cast<int32_t>(p.Integer("projClip", 0, 127));

  auto handle = std::make_unique<LstmQs8Handle>();
  handle->shape = shape;
  std::string failure;
  RunGuarded(env, [&] {
    try {
      handle->packed = PackLstmQs8(w);
    } catch (const std::invalid_argument& e) {
      failure = e.what();
    }
  });
  if (!failure.empty()) {
    ThrowWithCode(env, "Expected a consistent " + failure, kErrInvalidArgument, true);
  }
  // Tell the GC about the packed copy (weights in the GEMM layouts, vectors, three tables).
  handle->external_bytes = static_cast<int64_t>(
      4 * n_cell * static_cast<double>(ni + no) + n_cell * static_cast<double>(no) + 40 * n_cell +
      3 * 2 * static_cast<double>(kTableSize));
  return WrapTaggedHandle(env, std::move(handle), kLstmQs8Tag);
}

Napi::Value LstmQs8RunBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 6);
  const LstmQs8Handle& h = TaggedHandle<LstmQs8Handle>(info, kLstmQs8Tag, "lstmQs8Pack");
  const LstmShape& s = h.shape;
  const auto input = ArgInt8Array(info, 1, "input");
  const auto output_state = ArgInt8Array(info, 2, "outputState");
  const auto cell_state = ArgInt16Array(info, 3, "cellState");
  const auto output = ArgInt8Array(info, 4, "output");
  const int64_t threads = ArgInteger(info, 5, "threads", 1, kMaxThreads);
  const size_t rows = s.max_time * s.batch;
  CheckLength(env, input.length, rows * s.n_input, "input");
  CheckLength(env, output_state.length, s.batch * s.n_output, "outputState");
  CheckLength(env, cell_state.length, s.batch * s.n_cell, "cellState");
  CheckLength(env, output.length, rows * s.n_output, "output");
  const TypedView<int8_t> bytes[3] = {input, output_state, output};
  const size_t cell_bytes = cell_state.length * sizeof(int16_t);
  bool overlap = false;
  for (int a = 0; a < 3; ++a) {
    overlap = overlap || Overlap(bytes[a], cell_state.data, cell_bytes);
    for (int b = a + 1; b < 3; ++b) {
      overlap = overlap || Overlap(bytes[a], bytes[b].data, bytes[b].length);
    }
  }
  if (overlap) {
    ThrowWithCode(env, "Expected input, outputState, cellState and output that do not overlap",
                  kErrInvalidArgument);
  }
  ThreadPool* pool = threads > 1 ? SharedThreadPool(static_cast<size_t>(threads)) : nullptr;
  RunGuarded(env, [&] {
    LstmQs8Run(*h.packed, input.data, output_state.data, cell_state.data, output.data, pool);
  });
  return env.Undefined();
}

// lstmQs8Table(kind: 'logistic' | 'tanh', integerBits: 0..7, out: Int16Array(65536))
Napi::Value LstmQs8Table(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 3);
  const std::string kind = ArgString(info, 0, "kind");
  if (kind != "logistic" && kind != "tanh") {
    ThrowExpected(env, "'logistic' or 'tanh'", "kind", info[0]);
  }
  const int integer_bits = static_cast<int>(ArgInteger(info, 1, "integerBits", 0, 7));
  const auto out = ArgInt16Array(info, 2, "out");
  CheckLength(env, out.length, 65536, "out");
  const auto activation =
      kind == "logistic" ? LstmQs8Activation::kLogistic : LstmQs8Activation::kTanh;
  LstmQs8ActivationTable(activation, integer_bits, out.data);
  return env.Undefined();
}

Napi::Value LstmQs8Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckArgCount(info, 1);
  const LstmQs8Handle& h = TaggedHandle<LstmQs8Handle>(info, kLstmQs8Tag, "lstmQs8Pack");
  Napi::Object out = Napi::Object::New(env);
  out.Set("path", Napi::String::New(env, PathName(LstmQs8PackedPath(*h.packed))));
  out.Set("kernel", Napi::String::New(env, LstmQs8PackedKernelName(*h.packed)));
  out.Set("maxTime", Napi::Number::New(env, static_cast<double>(h.shape.max_time)));
  out.Set("batch", Napi::Number::New(env, static_cast<double>(h.shape.batch)));
  out.Set("inputSize", Napi::Number::New(env, static_cast<double>(h.shape.n_input)));
  out.Set("cellSize", Napi::Number::New(env, static_cast<double>(h.shape.n_cell)));
  out.Set("outputSize", Napi::Number::New(env, static_cast<double>(h.shape.n_output)));
  return out;
}

}  // namespace litequant
