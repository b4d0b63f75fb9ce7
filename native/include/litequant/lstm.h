// UNIDIRECTIONAL_SEQUENCE_LSTM, float32 and hybrid (float activations and state, int8 weights),
// the whole sequence in one call, as TFLite's builtin kernel computes it (lstm_eval.cc; the
// TypeScript reference is lib/runtime/reference-ops/lstm.ts).
//
// Packing (once per model): the input weights of all gates become one [G*n_cell, n_input]
// matrix and the recurrent weights one [G*n_cell, n_output] matrix (G = 4, or 3 with CIFG: the
// gates in the order input, forget, cell, output, the input gate left out), packed for the f32
// GEMM or the int8 GEMM; biases (when there is no layer norm) are folded into the input GEMM.
//
// A run:
//   1. pre[row] = bias + W_x x[row] for every input row (all time steps, all batch rows) in one
//      GEMM; with layer norm the bias is added after normalization instead.
//   2. per step, over the rows TFLite processes together (time-major: the batch rows of one
//      time step; batch-major: one batch row, one time step):
//        gates = pre + W_h h (f32: a GEMV into scratch, then added; hybrid: h quantized per row,
//        int8 dot products, and the fc epilogue adds float(acc - zp*rowsum) * s_row*s_w to the
//        gates in place), peephole (input and forget gates read c, the output gate the new c),
//        layer norm, sigmoid / activation, c = clip(f*c + i*g) (CIFG: i = 1 - f),
//        h = o * act(c), projection (+ bias, clip), output row = h.
//   No allocation inside the sequence: scratch is sized once per run (a per-thread buffer).
//
// Numerics. Hybrid follows TFLite's rules (hybrid.h: per-row symmetric or asymmetric
// quantization, row-sum zero-point correction, every float operation in TFLite's order), so it
// equals the TypeScript reference bit for bit except where sigmoid/tanh differ. f32 sums in
// float with FMA (the reference in double), within ~1e-6 relative. Activation kernels: the
// reference computes sigmoid and tanh in double (what the TypeScript reference does), so on the
// reference path hybrid equals the TypeScript reference bit for bit; AVX2 and NEON evaluate
// them in float with < 3e-7 relative error (see LstmF32Kernels).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "litequant/isa.h"

namespace litequant {

class ThreadPool;

// ---------------------------------------------------------------------------------------------
// Kernels (native/kernels/<dir>/lstm_f32__<path>.cc): elementwise, n values, no alignment,
// in place allowed (y == x). NaN in gives NaN out.
//   sigmoid: y = 1 / (1 + exp(-x)); tanh: y = tanh(x). Optimized paths: relative error below
//   3e-7 (plus 1e-38 absolute where the result underflows; measured max 1.5e-7 for both on
//   AVX2 and NEON), checked in lstm_f32_test.cc.
//   cell: c = clip(f*c + i*g), i null means 1 - f (CIFG); clip 0 = none. Products rounded
//   separately (no FMA), as TFLite's float code.
//   qs8_gemv (the hybrid recurrent product of one state row, the step's critical path): acc[j] =
//   sum_k W[j][k] * x[k] exactly (int32), W packed by PackLstmQs8Gemv: groups of 8 outputs, each
//   a run of k4 = ceil(k / 4) quads of 32 bytes (quad q holds W[8g + o][4q + t] at o * 4 + t),
//   zero padded. x has k4 * 4 values (the tail zero). n outputs written, the group padding not.
//   Weights must lie in [-127, 127] (TFLite's symmetric int8 weights): the AVX2 kernel multiplies
//   |x| (unsigned) by W with x's sign (VPSIGNB, VPMADDUBSW), whose pair sums then stay within
//   int16; packing checks it and otherwise leaves the row to the int8 GEMM (as it does for
//   several rows per step, time-major batches). Null on paths without one.
using LstmUnaryFn = void (*)(size_t n, const float* x, float* y);
using LstmCellFn = void (*)(size_t n, const float* i, const float* f, const float* g, float clip,
                            float* c);
using LstmQs8GemvFn = void (*)(size_t n, size_t k, const int8_t* packed, const int8_t* x,
                               int32_t* acc);

struct LstmF32Kernels {
  LstmUnaryFn sigmoid;
  LstmUnaryFn tanh;
  LstmCellFn cell;
  LstmQs8GemvFn qs8_gemv;  // may be null
  const char* name;        // e.g. "lstm_f32__avx2"
};

constexpr size_t kLstmQs8GemvGroup = 8;

// The qs8_gemv layout of W [n, k] (bytes: ceil(n / 8) * 8 * ceil(k / 4) * 4).
void PackLstmQs8Gemv(const int8_t* w, size_t n, size_t k, int8_t* packed);
size_t LstmQs8GemvPackedSize(size_t n, size_t k);

extern const LstmF32Kernels kLstmF32Reference;
extern const LstmF32Kernels kLstmF32Avx2;
extern const LstmF32Kernels kLstmF32Neon;

// The kernels for `path`, following the fallback chain to a built one.
const LstmF32Kernels& LstmF32KernelsFor(Path path);

// ---------------------------------------------------------------------------------------------
// Layers.

// TFLite's fused activation of the cell gate and of c (float and hybrid LSTMs).
enum class LstmActivation : uint8_t { kTanh, kRelu, kRelu6, kReluN1To1, kSignBit };

struct LstmShape {
  size_t max_time = 0;
  size_t batch = 0;
  size_t n_input = 0;
  size_t n_cell = 0;
  size_t n_output = 0;
  bool time_major = false;  // input/output [time, batch, features], else [batch, time, features]
};

struct LstmOptions {
  LstmActivation activation = LstmActivation::kTanh;
  float cell_clip = 0.0f;  // 0: none
  float proj_clip = 0.0f;  // 0: none
  bool asymmetric_quantize_inputs = false;  // hybrid only
};

// Per gate (input, forget, cell, output). The input gate's weights, bias, peephole and layer
// norm are null for CIFG; peephole[2] is always null; layer_norm all null for a plain LSTM.
// Shapes: input [n_cell, n_input], recurrent [n_cell, n_output], the vectors [n_cell],
// projection [n_output, n_cell], projection bias [n_output]. Pointers need only live during
// packing.
struct LstmF32Weights {
  const float* input[4] = {};
  const float* recurrent[4] = {};
  const float* peephole[4] = {};
  const float* bias[4] = {};
  const float* layer_norm[4] = {};
  const float* projection = nullptr;
  const float* projection_bias = nullptr;
};

// Hybrid: int8 matrices and peephole vectors with one scale each (zero point 0); biases, layer
// norm coefficients and projection bias float.
struct LstmHybridWeights {
  const int8_t* input[4] = {};
  float input_scale[4] = {};
  const int8_t* recurrent[4] = {};
  float recurrent_scale[4] = {};
  const int8_t* peephole[4] = {};
  float peephole_scale[4] = {};
  const float* bias[4] = {};
  const float* layer_norm[4] = {};
  const int8_t* projection = nullptr;
  float projection_scale = 0.0f;
  const float* projection_bias = nullptr;
};

class LstmPacked;  // defined in core; immutable, shareable between threads

// Pack for the path selected now (or `path`). Throw std::invalid_argument naming the problem
// when the shape, options or weights are inconsistent (a missing gate, a half CIFG, peephole
// weights for some gates only, scales that are not finite and > 0, ...).
std::shared_ptr<const LstmPacked> PackLstmF32(const LstmShape& shape, const LstmOptions& options,
                                              const LstmF32Weights& weights);
std::shared_ptr<const LstmPacked> PackLstmF32(const LstmShape& shape, const LstmOptions& options,
                                              const LstmF32Weights& weights, Path path);
std::shared_ptr<const LstmPacked> PackLstmHybrid(const LstmShape& shape,
                                                 const LstmOptions& options,
                                                 const LstmHybridWeights& weights);
std::shared_ptr<const LstmPacked> PackLstmHybrid(const LstmShape& shape,
                                                 const LstmOptions& options,
                                                 const LstmHybridWeights& weights, Path path);

const LstmShape& LstmPackedShape(const LstmPacked& p);
bool LstmPackedHybrid(const LstmPacked& p);
Path LstmPackedPath(const LstmPacked& p);
// "f32_gemm_6x16__avx2 + lstm_f32__avx2" or "qs8_gemm_5x16c2__avx2 + lstm_f32__avx2".
const char* LstmPackedKernelName(const LstmPacked& p);

// Runs the whole sequence. input [T*B*n_input], output [T*B*n_output] (in the shape's layout);
// output_state [B*n_output] and cell_state [B*n_cell] hold the initial state and receive the
// final one. No buffer may overlap another. pool (may be null) splits only the input GEMM of
// step 1; the results do not depend on it.
void LstmRun(const LstmPacked& p, const float* input, float* output_state, float* cell_state,
             float* output, ThreadPool* pool);

}  // namespace litequant
