// LSTM: kernel dispatch, the float32 packing, and the run shared by float32 and hybrid (the
// algorithm is described in litequant/lstm.h; the hybrid packing is in lstm_hybrid.cc).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "litequant/lstm_packed.h"
#include "litequant/scratch_arena.h"

namespace litequant {
namespace {

const LstmF32Kernels& Resolve(Path path) {
  for (;;) {
    switch (path) {
      case Path::kReference: return kLstmF32Reference;
#ifdef LITEQUANT_BUILT_AVX2
      case Path::kAvx2: return kLstmF32Avx2;
#endif
#ifdef LITEQUANT_BUILT_NEON
      case Path::kNeon: return kLstmF32Neon;
#endif
      default: path = FallbackPath(path);
    }
  }
}


// Gate g's rows of a [gates * n_cell] combined vector.
std::vector<float> Combined(const LstmPacked& p, const float* const* per_gate) {
  const size_t n = p.shape.n_cell;
  std::vector<float> out(p.gates * n);
  for (int g = 0; g < 4; ++g) {
    if (p.slot[g] >= 0) std::memcpy(out.data() + p.slot[g] * n, per_gate[g], n * sizeof(float));
  }
  return out;
}

bool AllZero(const float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != 0.0f) return false;
  }
  return true;
}

// TFLite's ApplyActivationToVector for the float LSTMs; tanh on the path's kernel.
void Activate(const LstmPacked& p, size_t n, const float* x, float* y) {
  switch (p.options.activation) {
    case LstmActivation::kTanh: p.kernels->tanh(n, x, y); return;
    case LstmActivation::kRelu:
      for (size_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
      return;
    case LstmActivation::kRelu6:
      for (size_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : (x[i] > 6.0f ? 6.0f : x[i]);
      return;
    case LstmActivation::kReluN1To1:
      for (size_t i = 0; i < n; ++i) y[i] = x[i] < -1.0f ? -1.0f : (x[i] > 1.0f ? 1.0f : x[i]);
      return;
    case LstmActivation::kSignBit:
      for (size_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f || (x[i] == 0.0f && std::signbit(x[i]));
      return;
  }
}

// TFLite's MeanStddevNormalization (epsilon 1e-8) then coeff * v + bias, in float in TFLite's
// order (each operation on two floats, so computing it in double and rounding would agree).
void LayerNorm(size_t n, float* v, const float* coeff, const float* bias) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) sum += v[i];
  const float count = static_cast<float>(n);
  const float mean = sum / count;
  float sum_sq = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    const float d = v[i] - mean;
    sum_sq += d * d;
  }
  const float variance = sum_sq / count;
  const float inverse = 1.0f / std::sqrt(variance + 1e-8f);
  for (size_t i = 0; i < n; ++i) {
    const float normalized = (v[i] - mean) * inverse;
    v[i] = coeff[i] * normalized + bias[i];
  }
}

// Quantizes `rows` rows of n floats (hybrid.h's rules); offsets 0 when symmetric.
void QuantizeRows(const LstmPacked& p, size_t rows, size_t n, const float* x, int8_t* q,
                  float* scale, int32_t* offset) {
  for (size_t r = 0; r < rows; ++r) {
    if (p.options.asymmetric_quantize_inputs) {
      p.hybrid_kernels->quantize_row_asymmetric(n, x + r * n, q + r * n, &scale[r], &offset[r]);
    } else {
      p.hybrid_kernels->quantize_row_symmetric(n, x + r * n, q + r * n, &scale[r]);
      offset[r] = 0;
    }
  }
}

constexpr float kInf = std::numeric_limits<float>::infinity();

}  // namespace

const LstmF32Kernels& LstmF32KernelsFor(Path path) { return Resolve(path); }

size_t LstmQs8GemvPackedSize(size_t n, size_t k) {
  return (n + kLstmQs8GemvGroup - 1) / kLstmQs8GemvGroup * kLstmQs8GemvGroup * ((k + 3) / 4) * 4;
}

void PackLstmQs8Gemv(const int8_t* w, size_t n, size_t k, int8_t* packed) {
  const size_t k4 = (k + 3) / 4;
  std::memset(packed, 0, LstmQs8GemvPackedSize(n, k));
  for (size_t j = 0; j < n; ++j) {
    int8_t* group = packed + (j / kLstmQs8GemvGroup) * k4 * 32;
    const size_t o = j % kLstmQs8GemvGroup;
    for (size_t kk = 0; kk < k; ++kk) group[(kk / 4) * 32 + o * 4 + kk % 4] = w[j * k + kk];
  }
}

void LstmPackCommon(const LstmShape& shape, const LstmOptions& options, bool cifg,
                    bool has_layer_norm, bool has_peephole, Path path, LstmPacked* p) {
  if (shape.n_input == 0 || shape.n_cell == 0 || shape.n_output == 0) {
    LstmInvalid("expected n_input, n_cell and n_output >= 1");
  }
  if (!(options.cell_clip >= 0.0f) || !(options.proj_clip >= 0.0f)) {
    LstmInvalid("expected non-negative clips but received cell_clip " +
            std::to_string(options.cell_clip) + ", proj_clip " + std::to_string(options.proj_clip));
  }
  p->shape = shape;
  p->options = options;
  p->path = path;
  p->kernels = &Resolve(path);
  p->layer_norm = has_layer_norm;
  p->peephole = has_peephole;
  int next = 0;
  for (int g = 0; g < 4; ++g) p->slot[g] = g == 0 && cifg ? -1 : next++;
  p->gates = static_cast<size_t>(next);
}

std::shared_ptr<const LstmPacked> PackLstmF32(const LstmShape& shape, const LstmOptions& options,
                                              const LstmF32Weights& w, Path path) {
  const LstmStructure st = CheckLstmStructure(shape, w);
  const bool cifg = st.cifg;
  const bool layer_norm = st.layer_norm;

  auto p = std::make_shared<LstmPacked>();
  LstmPackCommon(shape, options, cifg, layer_norm, st.peephole, path, p.get());
  const size_t n_cell = shape.n_cell;
  const size_t gw = p->gates * n_cell;
  p->bias = Combined(*p, w.bias);
  if (layer_norm) p->norm = Combined(*p, w.layer_norm);
  p->peephole_w.assign(4 * n_cell, 0.0f);
  for (int g = 0; g < 4; ++g) {
    if (w.peephole[g] != nullptr) {
      std::memcpy(p->peephole_w.data() + g * n_cell, w.peephole[g], n_cell * sizeof(float));
    }
  }
  std::vector<float> input(gw * shape.n_input);
  std::vector<float> recurrent(gw * shape.n_output);
  for (int g = 0; g < 4; ++g) {
    if (p->slot[g] < 0) continue;
    const size_t s = static_cast<size_t>(p->slot[g]);
    std::memcpy(input.data() + s * n_cell * shape.n_input, w.input[g],
                n_cell * shape.n_input * sizeof(float));
    std::memcpy(recurrent.data() + s * n_cell * shape.n_output, w.recurrent[g],
                n_cell * shape.n_output * sizeof(float));
  }
  p->f32_input = PackF32Gemm(input.data(), gw, shape.n_input, layer_norm ? nullptr : p->bias.data(),
                             path);
  p->f32_recurrent = PackF32Gemm(recurrent.data(), gw, shape.n_output, nullptr, path);
  p->projection = w.projection != nullptr;
  if (p->projection) {
    p->f32_projection =
        PackF32Gemm(w.projection, shape.n_output, n_cell, w.projection_bias, path);
  }
  p->kernel_name = std::string(F32GemmKernelsFor(F32PackedPath(*p->f32_input)).name) + " + " +
                   p->kernels->name;
  return p;
}

std::shared_ptr<const LstmPacked> PackLstmF32(const LstmShape& shape, const LstmOptions& options,
                                              const LstmF32Weights& weights) {
  return PackLstmF32(shape, options, weights, SelectedPath());
}

const LstmShape& LstmPackedShape(const LstmPacked& p) { return p.shape; }
bool LstmPackedHybrid(const LstmPacked& p) { return p.hybrid; }
Path LstmPackedPath(const LstmPacked& p) { return p.path; }
const char* LstmPackedKernelName(const LstmPacked& p) { return p.kernel_name.c_str(); }

void LstmRun(const LstmPacked& p, const float* input, float* output_state, float* cell_state,
             float* output, ThreadPool* pool) {
  const LstmShape& s = p.shape;
  const size_t n_in = s.n_input;
  const size_t n_cell = s.n_cell;
  const size_t n_out = s.n_output;
  const size_t gw = p.gates * n_cell;
  const size_t total = s.max_time * s.batch;
  if (total == 0) return;
  const size_t block = s.time_major ? s.batch : 1;  // rows TFLite steps together

  ScratchArena& arena = ThreadScratch();
  // + 4: the GEMV reads the state row padded to a multiple of 4.
  const size_t q_len = std::max(total * n_in, block * std::max(n_out, n_cell)) + 4;
  const size_t acc_len = std::max(total * gw, block * n_out);
  arena.Reserve(64 * 8 + sizeof(float) * (total * gw + block * gw + 2 * block * n_cell) +
                (p.hybrid ? q_len + sizeof(int32_t) * acc_len + 8 * total : 0));
  float* pre = arena.Take<float>(total * gw);
  float* rec = arena.Take<float>(block * gw);
  float* hidden = arena.Take<float>(block * n_cell);
  float* act = arena.Take<float>(block * n_cell);
  int8_t* q = nullptr;
  int32_t* acc = nullptr;
  float* row_scale = nullptr;
  int32_t* offset = nullptr;
  if (p.hybrid) {
    q = arena.Take<int8_t>(q_len);
    acc = arena.Take<int32_t>(acc_len);
    row_scale = arena.Take<float>(total);
    offset = arena.Take<int32_t>(total);
  }
  const float* gate_bias = p.layer_norm ? nullptr : p.bias.data();

  // 1. Every row's input contribution (plus bias) in one GEMM.
  if (p.hybrid) {
    QuantizeRows(p, total, n_in, input, q, row_scale, offset);
    Qs8GemmAccumulate(*p.q_input, total, q, n_in, acc, gw, pool);
    const int32_t* sums = Qs8ColumnSums(*p.q_input);
    for (size_t r = 0; r < total; ++r) {
      p.hybrid_kernels->fc_epilogue(gw, acc + r * gw, sums, offset[r], row_scale[r],
                                    p.input_scale.data(), gate_bias, -kInf, kInf, pre + r * gw);
    }
  } else {
    F32Gemm(*p.f32_input, total, input, n_in, pre, gw, -kInf, kInf, pool);
  }

  const float proj_lo = p.options.proj_clip > 0.0f ? -p.options.proj_clip : -kInf;
  const float proj_hi = p.options.proj_clip > 0.0f ? p.options.proj_clip : kInf;
  const int si = p.slot[0], sf = p.slot[1], sg = p.slot[2], so = p.slot[3];
  const float* norm = p.layer_norm ? p.norm.data() : nullptr;
  const float* pe = p.peephole_w.data();

  // 2. The steps: `rows` rows from input row `row`, state rows from `state_row`.
  const auto step = [&](size_t row, size_t rows, size_t state_row) {
    float* h = output_state + state_row * n_out;
    float* c = cell_state + state_row * n_cell;
    float* gates = pre + row * gw;
    if (p.hybrid) {
      // TFLite skips the product of an all-zero state (the first step from the reset state).
      if (!AllZero(h, rows * n_out)) {
        QuantizeRows(p, rows, n_out, h, q, row_scale, offset);
        if (rows == 1 && !p.gemv_recurrent.empty()) {
          std::memset(q + n_out, 0, 3);
          p.kernels->qs8_gemv(gw, n_out, p.gemv_recurrent.data(), q, acc);
        } else {
          Qs8GemmAccumulate(*p.q_recurrent, rows, q, n_out, acc, gw, nullptr);
        }
        const int32_t* sums = Qs8ColumnSums(*p.q_recurrent);
        for (size_t r = 0; r < rows; ++r) {
          // The epilogue's bias is the gate row itself: it adds to the gates in place.
          p.hybrid_kernels->fc_epilogue(gw, acc + r * gw, sums, offset[r], row_scale[r],
                                        p.recurrent_scale.data(), gates + r * gw, -kInf, kInf,
                                        gates + r * gw);
        }
      }
    } else {
      F32Gemm(*p.f32_recurrent, rows, h, n_out, rec, gw, -kInf, kInf, nullptr);
      for (size_t k = 0; k < rows * gw; ++k) gates[k] += rec[k];
    }
    for (size_t r = 0; r < rows; ++r) {
      float* gr = gates + r * gw;
      float* cr = c + r * n_cell;
      const auto finish = [&](int g, int slot) {
        float* v = gr + static_cast<size_t>(slot) * n_cell;
        if (p.peephole && g != 2) {
          const float* w = pe + static_cast<size_t>(g) * n_cell;
          for (size_t j = 0; j < n_cell; ++j) {
            const float t = w[j] * cr[j];
            v[j] += t;
          }
        }
        if (norm != nullptr) {
          const size_t at = static_cast<size_t>(slot) * n_cell;
          LayerNorm(n_cell, v, norm + at, p.bias.data() + at);
        }
        if (g == 2) Activate(p, n_cell, v, v);
        else p.kernels->sigmoid(n_cell, v, v);
      };
      if (si >= 0) finish(0, si);
      finish(1, sf);
      finish(2, sg);
      p.kernels->cell(n_cell, si >= 0 ? gr + si * n_cell : nullptr, gr + sf * n_cell,
                      gr + sg * n_cell, p.options.cell_clip, cr);
      finish(3, so);
      const float* o = gr + so * n_cell;
      float* hid = hidden + r * n_cell;
      Activate(p, n_cell, cr, act);
      for (size_t j = 0; j < n_cell; ++j) hid[j] = o[j] * act[j];
    }
    if (!p.projection) {
      std::memcpy(h, hidden, rows * n_out * sizeof(float));
    } else if (p.hybrid) {
      const float* bias = p.projection_bias.empty() ? nullptr : p.projection_bias.data();
      if (AllZero(hidden, rows * n_cell)) {
        for (size_t r = 0; r < rows; ++r) {
          for (size_t j = 0; j < n_out; ++j) {
            const float v = bias == nullptr ? 0.0f : bias[j];
            h[r * n_out + j] = v < proj_lo ? proj_lo : (v > proj_hi ? proj_hi : v);
          }
        }
      } else {
        QuantizeRows(p, rows, n_cell, hidden, q, row_scale, offset);
        Qs8GemmAccumulate(*p.q_projection, rows, q, n_cell, acc, n_out, nullptr);
        const int32_t* sums = Qs8ColumnSums(*p.q_projection);
        for (size_t r = 0; r < rows; ++r) {
          p.hybrid_kernels->fc_epilogue(n_out, acc + r * n_out, sums, offset[r],
                                        row_scale[r] * p.projection_scale, nullptr, bias,
                                        proj_lo, proj_hi, h + r * n_out);
        }
      }
    } else {
      F32Gemm(*p.f32_projection, rows, hidden, n_cell, h, n_out, proj_lo, proj_hi, nullptr);
    }
    std::memcpy(output + row * n_out, h, rows * n_out * sizeof(float));
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
