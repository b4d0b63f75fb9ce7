// UNIDIRECTIONAL_SEQUENCE_LSTM, full integer (TFLite's 8x8->16: int8 input, output and hidden
// state, int16 cell state and gates, int8 weights), the whole sequence in one call, bit for bit
// the TypeScript reference createLstmInteger (lib/runtime/reference-ops/lstm.ts) and so TFLite's
// integer kernel. Everything TFLite's Prepare derives (effective multipliers, zero points folded
// into the biases, quantized clips, the sigmoid/tanh tables) is derived by the caller
// (deriveLstmInteger) and passed in: this layer only packs and runs.
//
// Packing: the input weights of the G gates present (4, or 3 with CIFG; order input, forget,
// cell, output) become one [G*n_cell, n_input] qs8 GEMM, the recurrent weights one
// [G*n_cell, n_output] GEMM, the projection a [n_output, n_cell] GEMM (qs8_gemm.h, raw int32
// accumulation: the biases are added by the LSTM kernels, wrapping like the reference's int32).
//
// A run:
//   1. in_acc[row] = W_x x[row] for the input rows of the next steps (all batch rows and time
//      steps, in chunks of about 20 rows taken just ahead of the steps that read them, so the
//      accumulators stay small next to the weights in L2): one GEMM per chunk (integer sums
//      are exact, so computing them ahead changes nothing).
//   2. per step, over the rows TFLite processes together (time-major: the batch rows of one
//      time step; batch-major: one batch row at one time step):
//        rec_acc = W_h h (one GEMM of `rows` rows, or the path's matrix-vector kernel for one
//        row: the GEMM's tiles are built for several rows);
//        gate = clamp16(MBQM(rec_acc + b_h, m_h) + clamp16(MBQM(in_acc + b_x, m_x)));
//        peephole (over n_output values per row: TFLite's quirk), integer layer norm,
//        sigmoid / tanh through 65536-entry tables; c = clip(f*c >> 15 + i*g >> (30 + shift));
//        o read after c (the output gate's peephole sees the new c);
//        h = clamp8(MBQM(o * tanh(c), m_hidden) + zp), or through the projection GEMM.
//   No allocation inside the sequence: scratch is sized once per run (a per-thread buffer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "litequant/isa.h"
#include "litequant/lstm.h"
#include "litequant/requantization.h"

namespace litequant {

class ThreadPool;

// ---------------------------------------------------------------------------------------------
// Kernels (native/kernels/<dir>/lstm_qs8__<path>.cc): elementwise over n values, no alignment.
// MBQM is TFLite's MultiplyByQuantizedMultiplier (requantization.h); multipliers are >= 0
// with shifts in [-31, 31]; int32 sums wrap. Every path equals the reference bit for bit.
struct LstmQs8Kernels {
  // out = clamp16(MBQM(rec + rec_bias, rec_m) + clamp16(MBQM(in + in_bias, in_m))), then
  // table[out + 32768] when table is not null (the activation of a gate with neither peephole
  // nor layer norm, fused).
  void (*gate)(size_t n, const int32_t* in, const int32_t* in_bias, QuantizedMultiplier in_m,
               const int32_t* rec, const int32_t* rec_bias, QuantizedMultiplier rec_m,
               const int16_t* table, int16_t* out);
  // out = clamp16(MBQM(w * c, m) + out).
  void (*peephole)(size_t n, const int16_t* w, const int16_t* c, QuantizedMultiplier m,
                   int16_t* out);
  // y = table[x + 32768]; y may be x.
  void (*lookup)(size_t n, const int16_t* table, const int16_t* x, int16_t* y);
  // c = clamp16(wrap16(RDBPOT(f * c, 15)) + wrap16(RDBPOT(i * g, mix_shift))), then clipped to
  // +-clip when clip > 0. i null means 32767 - f (CIFG). mix_shift in [1, 31].
  void (*cell)(size_t n, const int16_t* i, const int16_t* f, const int16_t* g, int mix_shift,
               int32_t clip, int16_t* c);
  // out = clamp8(MBQM(o * t, m) + zero_point).
  void (*hidden)(size_t n, const int16_t* o, const int16_t* t, QuantizedMultiplier m,
                 int32_t zero_point, int8_t* out);
  // out = clamp8(MBQM(acc + bias, m) + zero_point), then clipped to +-clip when clip > 0.
  void (*output)(size_t n, const int32_t* acc, const int32_t* bias, QuantizedMultiplier m,
                 int32_t zero_point, int32_t clip, int8_t* out);
  // Optional (null: the qs8 GEMM computes it): the product of one row, used for the recurrent
  // and projection products of steps with one row (batch-major, or batch 1):
  //   acc[j] = sum_{k < kk} w[j][k] * h[k] for j < n, int32 with wrap-around.
  // matvec_pack writes matvec_packed_size(n, kk) bytes from w [n][kk] row-major; scratch holds
  // matvec_scratch_size(kk) bytes (aligned to 32).
  size_t (*matvec_packed_size)(size_t n, size_t kk);
  size_t (*matvec_scratch_size)(size_t kk);
  void (*matvec_pack)(size_t n, size_t kk, const int8_t* w, int8_t* packed);
  void (*matvec)(size_t n, size_t kk, const int8_t* packed, const int8_t* h, void* scratch,
                 int32_t* acc);
  const char* name;  // e.g. "lstm_qs8__avx2"
};

extern const LstmQs8Kernels kLstmQs8Reference;
extern const LstmQs8Kernels kLstmQs8Avx2;
extern const LstmQs8Kernels kLstmQs8Neon;

// The kernels for `path`, following the fallback chain to a built one.
const LstmQs8Kernels& LstmQs8KernelsFor(Path path);

// TFLite's integer layer norm (ApplyLayerNorm) on `rows` rows of n values, in place: scalar on
// every path (kernels/reference/lstm_qs8__reference.cc). bias may be null. m.shift + 12 must
// be in [-31, 31].
void LstmQs8LayerNorm(int16_t* v, size_t rows, size_t n, const int16_t* coeff,
                      const int32_t* bias, QuantizedMultiplier m, int32_t variance_guard);

// ---------------------------------------------------------------------------------------------
// Layers.

// Per gate (input, forget, cell, output): the input gate's entries are null for CIFG;
// peephole[2] is always null and peephole all null or all present; layer_norm all null or all
// present. The biases are the effective ones (bias + zero-point terms, as deriveLstmInteger
// computes them); with layer norm the gate bias goes to layer_norm_bias instead. Shapes: input
// [n_cell, n_input], recurrent [n_cell, n_output], vectors [n_cell], projection
// [n_output, n_cell], projection bias [n_output]. Tables: 65536 values indexed by x + 32768.
// Pointers need only live during packing.
struct LstmQs8Params {
  LstmShape shape;
  const int8_t* input_weights[4] = {};
  const int8_t* recurrent_weights[4] = {};
  const int32_t* input_bias[4] = {};
  const int32_t* recurrent_bias[4] = {};
  QuantizedMultiplier input_scale[4];
  QuantizedMultiplier recurrent_scale[4];
  const int16_t* peephole[4] = {};
  QuantizedMultiplier peephole_scale[4];
  const int16_t* layer_norm[4] = {};
  const int32_t* layer_norm_bias[4] = {};
  QuantizedMultiplier layer_norm_scale[4];
  int32_t variance_guard[4] = {1, 1, 1, 1};
  const int8_t* projection = nullptr;
  const int32_t* projection_bias = nullptr;
  QuantizedMultiplier projection_scale;
  QuantizedMultiplier hidden_scale;
  // h = MBQM(o * tanh(c)) + hidden_output_zero_point without a projection; with one, the
  // projection's input is MBQM(o * tanh(c)) - hidden_zero_point and the output state zero
  // point is added after it.
  int32_t hidden_output_zero_point = 0;
  int32_t hidden_zero_point = 0;
  int32_t output_state_zero_point = 0;
  int32_t cell_shift = -15;  // log2 of the cell state's scale, in [-15, -9]
  int32_t cell_clip = 0;     // quantized; 0 = none
  int32_t proj_clip = 0;     // quantized; 0 = none
  const int16_t* sigmoid_table = nullptr;    // gemmlowp logistic, 3 integer bits
  const int16_t* tanh_gate_table = nullptr;  // gemmlowp tanh, 3 integer bits
  const int16_t* tanh_cell_table = nullptr;  // gemmlowp tanh, 15 + cell_shift integer bits
};

class LstmQs8Packed;  // defined in core; immutable, shareable between threads

// Pack for the path selected now (or `path`). Throws std::invalid_argument naming the problem
// when the shape or parameters are inconsistent (a half CIFG, peephole weights for some gates
// only, n_output != n_cell without a projection, a peephole with n_output > n_cell, a
// multiplier or shift out of range, a missing table, ...).
std::shared_ptr<const LstmQs8Packed> PackLstmQs8(const LstmQs8Params& params);
std::shared_ptr<const LstmQs8Packed> PackLstmQs8(const LstmQs8Params& params, Path path);

const LstmShape& LstmQs8PackedShape(const LstmQs8Packed& p);
Path LstmQs8PackedPath(const LstmQs8Packed& p);
// "qs8_gemm_5x16c2__avx2 + lstm_qs8__avx2".
const char* LstmQs8PackedKernelName(const LstmQs8Packed& p);

// Runs the whole sequence. input [T*B*n_input], output [T*B*n_output] (in the shape's layout);
// output_state [B*n_output] and cell_state [B*n_cell] hold the initial state and receive the
// final one. No buffer may overlap another. pool (may be null) splits only the input GEMM of
// step 1; the results do not depend on it.
void LstmQs8Run(const LstmQs8Packed& p, const int8_t* input, int8_t* output_state,
                int16_t* cell_state, int8_t* output, ThreadPool* pool);

// gemmlowp's int16 logistic or tanh with `integer_bits` (0..7) integer bits, for every input:
// table[x + 32768] (the tables LstmQs8Weights takes). Throws std::invalid_argument otherwise.
enum class LstmQs8Activation { kLogistic, kTanh };
void LstmQs8ActivationTable(LstmQs8Activation kind, int integer_bits, int16_t* table);

}  // namespace litequant
