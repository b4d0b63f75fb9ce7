// The full-integer LSTM: kernel dispatch, packing and the run (algorithm in lstm_qs8.h).
#include "litequant/lstm_qs8.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "litequant/qs8_gemm.h"
#include "litequant/scratch_arena.h"

namespace litequant {
namespace {

constexpr int kInput = 0;
constexpr int kForget = 1;
constexpr int kCell = 2;
constexpr int kOutput = 3;
constexpr size_t kTableSize = 65536;
constexpr const char* kGateNames[4] = {"input", "forget", "cell", "output"};
constexpr size_t kInputChunkRows = 20;  // whole panels of the 4- and 5-row GEMM tiles

const LstmQs8Kernels& Resolve(Path path) {
  for (;;) {
    switch (path) {
      case Path::kReference: return kLstmQs8Reference;
#ifdef LITEQUANT_BUILT_AVX2
      case Path::kAvx2: return kLstmQs8Avx2;
#endif
#ifdef LITEQUANT_BUILT_NEON
      case Path::kNeon: return kLstmQs8Neon;
#endif
      default: path = FallbackPath(path);
    }
  }
}

[[noreturn]] void Invalid(const std::string& message) {
  throw std::invalid_argument("integer LSTM: " + message);
}

void CheckMultiplier(const QuantizedMultiplier& m, int extra_shift, const std::string& what) {
  const int shift = m.shift + extra_shift;
  if (m.multiplier < 0 || shift < -31 || shift > 31) {
    Invalid("expected a multiplier >= 0 with a shift in [-31, 31] for " + what +
            " but received " + std::to_string(m.multiplier) + " * 2^" + std::to_string(shift));
  }
}

}  // namespace

class LstmQs8Packed {
 public:
  LstmShape shape;
  Path path = Path::kReference;
  const LstmQs8Kernels* kernels = nullptr;
  std::string kernel_name;
  int slot[4] = {-1, -1, -1, -1};  // gate -> row block of the combined matrices; -1: CIFG
  size_t gates = 0;
  std::shared_ptr<const Qs8PackedWeights> input;      // [gates * n_cell, n_input]
  std::shared_ptr<const Qs8PackedWeights> recurrent;  // [gates * n_cell, n_output]
  std::shared_ptr<const Qs8PackedWeights> projection;  // [n_output, n_cell] or null
  // The kernels' one-row layouts of the same matrices (when the path has a matvec kernel).
  std::vector<int8_t> recurrent_matvec;
  std::vector<int8_t> projection_matvec;
  bool has_projection = false;
  std::vector<int32_t> input_bias;      // [gates * n_cell]
  std::vector<int32_t> recurrent_bias;  // [gates * n_cell]
  std::vector<int32_t> projection_bias;  // [n_output] (zeros when the model has none)
  QuantizedMultiplier input_scale[4];
  QuantizedMultiplier recurrent_scale[4];
  bool peephole = false;
  std::vector<int16_t> peephole_weights[4];
  QuantizedMultiplier peephole_scale[4];
  bool layer_norm = false;
  std::vector<int16_t> layer_norm_weights[4];
  std::vector<int32_t> layer_norm_bias[4];  // empty: none
  QuantizedMultiplier layer_norm_scale[4];
  int32_t variance_guard[4] = {1, 1, 1, 1};
  QuantizedMultiplier projection_scale;
  QuantizedMultiplier hidden_scale;
  int32_t hidden_output_zero_point = 0;
  int32_t hidden_zero_point = 0;
  int32_t output_state_zero_point = 0;
  int mix_shift = 15;
  int32_t cell_clip = 0;
  int32_t proj_clip = 0;
  std::vector<int16_t> sigmoid;
  std::vector<int16_t> tanh_gate;
  std::vector<int16_t> tanh_cell;
};

const LstmQs8Kernels& LstmQs8KernelsFor(Path path) { return Resolve(path); }

std::shared_ptr<const LstmQs8Packed> PackLstmQs8(const LstmQs8Params& w, Path path) {
  const LstmShape& shape = w.shape;
  const size_t n_in = shape.n_input;
  const size_t n_cell = shape.n_cell;
  const size_t n_out = shape.n_output;
  if (n_in == 0 || n_cell == 0 || n_out == 0) Invalid("expected n_input, n_cell and n_output >= 1");
  const bool cifg = w.input_weights[kInput] == nullptr;
  const bool has_projection = w.projection != nullptr;
  const bool peephole = w.peephole[kForget] != nullptr;
  const bool layer_norm = w.layer_norm[kForget] != nullptr;
  for (int g = 0; g < 4; ++g) {
    const std::string gate = std::string(kGateNames[g]) + " gate";
    const bool present = g != kInput || !cifg;
    if ((w.input_weights[g] != nullptr) != present ||
        (w.recurrent_weights[g] != nullptr) != present ||
        (w.input_bias[g] != nullptr) != present || (w.recurrent_bias[g] != nullptr) != present) {
      Invalid("the " + gate + " needs its input and recurrent weights and biases" +
              (g == kInput ? ", or none of them (CIFG)" : ""));
    }
    if (g != kCell && (w.peephole[g] != nullptr) != (peephole && present)) {
      Invalid("the peephole weights must be present for every gate (the input gate's only "
              "without CIFG) or for none");
    }
    if (g == kCell && w.peephole[g] != nullptr) Invalid("the cell gate has no peephole weights");
    if ((w.layer_norm[g] != nullptr) != (layer_norm && present)) {
      Invalid("the layer norm coefficients must be present for every gate present or for none");
    }
    if (!layer_norm && w.layer_norm_bias[g] != nullptr) {
      Invalid("the " + gate + " has a layer norm bias but no layer norm");
    }
    if (!present) continue;
    CheckMultiplier(w.input_scale[g], 0, gate + " input scale");
    CheckMultiplier(w.recurrent_scale[g], 0, gate + " recurrent scale");
    if (peephole && g != kCell) CheckMultiplier(w.peephole_scale[g], 0, gate + " peephole scale");
    if (layer_norm) {
      CheckMultiplier(w.layer_norm_scale[g], 12, gate + " layer norm scale (shift + 12)");
      if (w.variance_guard[g] < 1) Invalid("expected a variance guard >= 1 for the " + gate);
    }
  }
  if (!has_projection && w.projection_bias != nullptr) {
    Invalid("a projection bias needs projection weights");
  }
  if (!has_projection && n_out != n_cell) {
    Invalid("n_output " + std::to_string(n_out) + " differs from n_cell " + std::to_string(n_cell) +
            " without a projection");
  }
  if (peephole && n_out > n_cell) {
    Invalid("a peephole LSTM with n_output " + std::to_string(n_out) + " > n_cell " +
            std::to_string(n_cell) + " reads past TFLite's peephole weights");
  }
  if (w.cell_shift < -15 || w.cell_shift > -9) {
    Invalid("expected a cell state scale of 2^-15..2^-9 but received 2^" +
            std::to_string(w.cell_shift));
  }
  CheckMultiplier(w.hidden_scale, 0, "the hidden scale");
  if (has_projection) CheckMultiplier(w.projection_scale, 0, "the projection scale");
  if (w.cell_clip < 0 || w.cell_clip > 32767 || w.proj_clip < 0 || w.proj_clip > 127) {
    Invalid("expected quantized clips in [0, 32767] (cell) and [0, 127] (projection)");
  }
  if (w.sigmoid_table == nullptr || w.tanh_gate_table == nullptr || w.tanh_cell_table == nullptr) {
    Invalid("expected the sigmoid, gate tanh and cell tanh tables");
  }

  auto p = std::make_shared<LstmQs8Packed>();
  p->shape = shape;
  p->path = path;
  p->kernels = &Resolve(path);
  int next = 0;
  for (int g = 0; g < 4; ++g) p->slot[g] = g == kInput && cifg ? -1 : next++;
  p->gates = static_cast<size_t>(next);
  const size_t rows = p->gates * n_cell;
  std::vector<int8_t> wx(rows * n_in);
  std::vector<int8_t> wh(rows * n_out);
  p->input_bias.resize(rows);
  p->recurrent_bias.resize(rows);
  for (int g = 0; g < 4; ++g) {
    if (p->slot[g] < 0) continue;
    const size_t at = static_cast<size_t>(p->slot[g]) * n_cell;
    std::memcpy(wx.data() + at * n_in, w.input_weights[g], n_cell * n_in);
    std::memcpy(wh.data() + at * n_out, w.recurrent_weights[g], n_cell * n_out);
    std::memcpy(p->input_bias.data() + at, w.input_bias[g], n_cell * sizeof(int32_t));
    std::memcpy(p->recurrent_bias.data() + at, w.recurrent_bias[g], n_cell * sizeof(int32_t));
    p->input_scale[g] = w.input_scale[g];
    p->recurrent_scale[g] = w.recurrent_scale[g];
    if (peephole && g != kCell) {
      p->peephole_weights[g].assign(w.peephole[g], w.peephole[g] + n_cell);
      p->peephole_scale[g] = w.peephole_scale[g];
    }
    if (layer_norm) {
      p->layer_norm_weights[g].assign(w.layer_norm[g], w.layer_norm[g] + n_cell);
      if (w.layer_norm_bias[g] != nullptr) {
        p->layer_norm_bias[g].assign(w.layer_norm_bias[g], w.layer_norm_bias[g] + n_cell);
      }
      p->layer_norm_scale[g] = w.layer_norm_scale[g];
      p->variance_guard[g] = w.variance_guard[g];
    }
  }
  p->input = PackQs8GemmForPath(path, wx.data(), rows, n_in, nullptr, 0);
  const LstmQs8Kernels& k = *p->kernels;
  // Steps of several rows (time-major, batch > 1) need the GEMM; steps of one row the matvec.
  const bool matvec = k.matvec != nullptr;
  const bool gemm = !matvec || (shape.time_major && shape.batch > 1);
  auto pack_matvec = [&](const int8_t* m, size_t n, size_t kk, std::vector<int8_t>* out) {
    out->resize(k.matvec_packed_size(n, kk));
    k.matvec_pack(n, kk, m, out->data());
  };
  if (gemm) p->recurrent = PackQs8GemmForPath(path, wh.data(), rows, n_out, nullptr, 0);
  if (matvec) pack_matvec(wh.data(), rows, n_out, &p->recurrent_matvec);
  p->has_projection = has_projection;
  if (has_projection) {
    if (gemm) p->projection = PackQs8GemmForPath(path, w.projection, n_out, n_cell, nullptr, 0);
    if (matvec) pack_matvec(w.projection, n_out, n_cell, &p->projection_matvec);
    p->projection_bias.assign(n_out, 0);
    if (w.projection_bias != nullptr) {
      std::memcpy(p->projection_bias.data(), w.projection_bias, n_out * sizeof(int32_t));
    }
    p->projection_scale = w.projection_scale;
  }
  p->peephole = peephole;
  p->layer_norm = layer_norm;
  p->hidden_scale = w.hidden_scale;
  p->hidden_output_zero_point = w.hidden_output_zero_point;
  p->hidden_zero_point = w.hidden_zero_point;
  p->output_state_zero_point = w.output_state_zero_point;
  p->mix_shift = 30 + w.cell_shift;
  p->cell_clip = w.cell_clip;
  p->proj_clip = w.proj_clip;
  p->sigmoid.assign(w.sigmoid_table, w.sigmoid_table + kTableSize);
  p->tanh_gate.assign(w.tanh_gate_table, w.tanh_gate_table + kTableSize);
  p->tanh_cell.assign(w.tanh_cell_table, w.tanh_cell_table + kTableSize);
  p->kernel_name = std::string(Qs8PackedKernelName(*p->input)) + " + " + k.name;
  return p;
}

std::shared_ptr<const LstmQs8Packed> PackLstmQs8(const LstmQs8Params& params) {
  return PackLstmQs8(params, SelectedPath());
}

const LstmShape& LstmQs8PackedShape(const LstmQs8Packed& p) { return p.shape; }
Path LstmQs8PackedPath(const LstmQs8Packed& p) { return p.path; }
const char* LstmQs8PackedKernelName(const LstmQs8Packed& p) { return p.kernel_name.c_str(); }

void LstmQs8Run(const LstmQs8Packed& p, const int8_t* input, int8_t* output_state,
                int16_t* cell_state, int8_t* output, ThreadPool* pool) {
  const LstmShape& s = p.shape;
  const LstmQs8Kernels& k = *p.kernels;
  const size_t n_cell = s.n_cell;
  const size_t n_out = s.n_output;
  const size_t width = p.gates * n_cell;  // one row of the combined gate accumulators
  const size_t total_rows = s.max_time * s.batch;
  if (total_rows == 0) return;
  const size_t step_rows = s.time_major ? s.batch : 1;
  // Steps consume input rows in memory order in both layouts, so the input GEMM runs on chunks
  // of whole steps just ahead of them: its accumulators stay small next to the weights in L2.
  const size_t chunk_rows =
      std::min(total_rows, std::max(step_rows, kInputChunkRows / step_rows * step_rows));

  ScratchArena& arena = ThreadScratch();
  const size_t matvec_bytes =
      k.matvec == nullptr ? 0 : k.matvec_scratch_size(std::max(n_out, n_cell));
  arena.Reserve(chunk_rows * width * 4 +
                step_rows * (width * 4 + 6 * n_cell * 2 + n_cell + n_out * 4) + matvec_bytes +
                9 * 64);
  int32_t* in_acc = arena.Take<int32_t>(chunk_rows * width);
  int32_t* rec_acc = arena.Take<int32_t>(step_rows * width);
  int16_t* gate[4];
  for (int g = 0; g < 4; ++g) gate[g] = arena.Take<int16_t>(step_rows * n_cell);
  int16_t* cell_tanh = arena.Take<int16_t>(step_rows * n_cell);
  int8_t* hidden = arena.Take<int8_t>(step_rows * n_cell);
  int32_t* proj_acc = arena.Take<int32_t>(step_rows * n_out);
  void* matvec_scratch = arena.Take<uint8_t>(matvec_bytes);
  // One product: the matvec kernel for one row, else the GEMM.
  auto product = [&](const std::shared_ptr<const Qs8PackedWeights>& gemm,
                     const std::vector<int8_t>& matvec, size_t n, size_t rows, const int8_t* a,
                     size_t kk, int32_t* acc) {
    if (rows == 1 && !matvec.empty()) {
      k.matvec(n, kk, matvec.data(), a, matvec_scratch, acc);
    } else {
      Qs8GemmAccumulate(*gemm, rows, a, kk, acc, n, nullptr);
    }
  };

  size_t chunk_begin = 0;
  size_t chunk_end = 0;

  // One step. `row`: first input/output row of the step; `state_row`: first state row.
  auto step = [&](size_t row, size_t rows, size_t state_row) {
    int8_t* h = output_state + state_row * n_out;
    int16_t* c = cell_state + state_row * n_cell;
    const size_t n = rows * n_cell;
    if (row + rows > chunk_end) {
      // The input contribution of the next chunk of rows (whole steps).
      chunk_begin = row;
      chunk_end = std::min(total_rows, row + chunk_rows);
      Qs8GemmAccumulate(*p.input, chunk_end - chunk_begin, input + row * s.n_input, s.n_input,
                        in_acc, width, pool);
    }
    const int32_t* in_rows = in_acc + (row - chunk_begin) * width;
    product(p.recurrent, p.recurrent_matvec, width, rows, h, n_out, rec_acc);
    // Everything up to the activation; the output gate's peephole needs the new c.
    auto preactivate = [&](int g) {
      const size_t at = static_cast<size_t>(p.slot[g]) * n_cell;
      const int16_t* activation = g == kCell ? p.tanh_gate.data() : p.sigmoid.data();
      // Without peephole and layer norm the gate kernel applies the activation itself.
      const bool fused = !p.layer_norm && (!p.peephole || g == kCell);
      for (size_t r = 0; r < rows; ++r) {
        k.gate(n_cell, in_rows + r * width + at, p.input_bias.data() + at,
               p.input_scale[g], rec_acc + r * width + at, p.recurrent_bias.data() + at,
               p.recurrent_scale[g], fused ? activation : nullptr, gate[g] + r * n_cell);
      }
      if (fused) return;
      if (p.peephole && g != kCell) {
        // TFLite passes n_output as the vector length: rows of n_output over the flat buffers.
        for (size_t r = 0; r < rows; ++r) {
          k.peephole(n_out, p.peephole_weights[g].data(), c + r * n_out, p.peephole_scale[g],
                     gate[g] + r * n_out);
        }
      }
      if (p.layer_norm) {
        LstmQs8LayerNorm(gate[g], rows, n_cell, p.layer_norm_weights[g].data(),
                         p.layer_norm_bias[g].empty() ? nullptr : p.layer_norm_bias[g].data(),
                         p.layer_norm_scale[g], p.variance_guard[g]);
      }
      k.lookup(n, activation, gate[g], gate[g]);
    };
    const bool cifg = p.slot[kInput] < 0;
    if (!cifg) preactivate(kInput);
    preactivate(kForget);
    preactivate(kCell);
    k.cell(n, cifg ? nullptr : gate[kInput], gate[kForget], gate[kCell], p.mix_shift, p.cell_clip,
           c);
    preactivate(kOutput);
    k.lookup(n, p.tanh_cell.data(), c, cell_tanh);
    if (!p.has_projection) {
      k.hidden(n, gate[kOutput], cell_tanh, p.hidden_scale, p.hidden_output_zero_point, h);
    } else {
      k.hidden(n, gate[kOutput], cell_tanh, p.hidden_scale, -p.hidden_zero_point, hidden);
      product(p.projection, p.projection_matvec, n_out, rows, hidden, n_cell, proj_acc);
      for (size_t r = 0; r < rows; ++r) {
        k.output(n_out, proj_acc + r * n_out, p.projection_bias.data(), p.projection_scale,
                 p.output_state_zero_point, p.proj_clip, h + r * n_out);
      }
    }
    std::memcpy(output + row * n_out, h, rows * n_out);
  };
  if (s.time_major) {
    for (size_t t = 0; t < s.max_time; ++t) step(t * s.batch, s.batch, 0);
  } else {
    for (size_t b = 0; b < s.batch; ++b) {
      for (size_t t = 0; t < s.max_time; ++t) step(b * s.max_time + t, 1, b);
    }
  }
}

}  // namespace litequant
