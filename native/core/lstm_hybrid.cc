// The hybrid LSTM's packing: the gates' int8 input and recurrent weights as two combined
// matrices for the int8 GEMM, each combined row carrying its gate's weight scale (the hybrid
// epilogue's per-channel scale, so s = s_row * s_w per gate as TFLite computes it), peephole
// weights dequantized to float as TFLite does (f32(scale * w)). The run is LstmRun
// (lstm_f32.cc).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "litequant/lstm_packed.h"

namespace litequant {
namespace {


void CheckScale(float scale, const std::string& what) {
  if (!(std::isfinite(scale) && scale > 0.0f)) {
    LstmInvalid("expected a finite scale > 0 for the " + what + " but received " +
            std::to_string(scale));
  }
}

}  // namespace

std::shared_ptr<const LstmPacked> PackLstmHybrid(const LstmShape& shape,
                                                 const LstmOptions& options,
                                                 const LstmHybridWeights& w, Path path) {
  const LstmStructure st = CheckLstmStructure(shape, w);
  const bool cifg = st.cifg;
  const bool layer_norm = st.layer_norm;
  for (int g = 0; g < 4; ++g) {
    if (g == 0 && cifg) continue;
    CheckScale(w.input_scale[g], std::string(kLstmGateNames[g]) + " gate input weights");
    CheckScale(w.recurrent_scale[g], std::string(kLstmGateNames[g]) + " gate recurrent weights");
  }

  auto p = std::make_shared<LstmPacked>();
  LstmPackCommon(shape, options, cifg, layer_norm, st.peephole, path, p.get());
  p->hybrid = true;
  p->hybrid_kernels = &HybridKernelsFor(path);
  const size_t n_cell = shape.n_cell;
  const size_t gw = p->gates * n_cell;
  p->bias.resize(gw);
  if (layer_norm) p->norm.resize(gw);
  p->input_scale.resize(gw);
  p->recurrent_scale.resize(gw);
  p->peephole_w.assign(4 * n_cell, 0.0f);
  std::vector<int8_t> input(gw * shape.n_input);
  std::vector<int8_t> recurrent(gw * shape.n_output);
  for (int g = 0; g < 4; ++g) {
    if (w.peephole[g] != nullptr) {
      CheckScale(w.peephole_scale[g], std::string(kLstmGateNames[g]) + " gate peephole weights");
      for (size_t j = 0; j < n_cell; ++j) {
        p->peephole_w[g * n_cell + j] = w.peephole_scale[g] * static_cast<float>(w.peephole[g][j]);
      }
    }
    if (p->slot[g] < 0) continue;
    const size_t s = static_cast<size_t>(p->slot[g]);
    std::memcpy(input.data() + s * n_cell * shape.n_input, w.input[g], n_cell * shape.n_input);
    std::memcpy(recurrent.data() + s * n_cell * shape.n_output, w.recurrent[g],
                n_cell * shape.n_output);
    std::memcpy(p->bias.data() + s * n_cell, w.bias[g], n_cell * sizeof(float));
    if (layer_norm) std::memcpy(p->norm.data() + s * n_cell, w.layer_norm[g], n_cell * sizeof(float));
    for (size_t j = 0; j < n_cell; ++j) {
      p->input_scale[s * n_cell + j] = w.input_scale[g];
      p->recurrent_scale[s * n_cell + j] = w.recurrent_scale[g];
    }
  }
  p->q_input = PackQs8GemmForPath(path, input.data(), gw, shape.n_input, nullptr, 0);
  p->q_recurrent = PackQs8GemmForPath(path, recurrent.data(), gw, shape.n_output, nullptr, 0);
  // Batch-major and batch-1 steps run one state row: the path's GEMV, when the weights suit it.
  const bool symmetric = std::find(recurrent.begin(), recurrent.end(), int8_t{-128}) == recurrent.end();
  if (p->kernels->qs8_gemv != nullptr && symmetric) {
    p->gemv_recurrent.resize(LstmQs8GemvPackedSize(gw, shape.n_output));
    PackLstmQs8Gemv(recurrent.data(), gw, shape.n_output, p->gemv_recurrent.data());
  }
  p->projection = w.projection != nullptr;
  if (p->projection) {
    CheckScale(w.projection_scale, "projection weights");
    p->projection_scale = w.projection_scale;
    p->q_projection =
        PackQs8GemmForPath(path, w.projection, shape.n_output, n_cell, nullptr, 0);
    if (w.projection_bias != nullptr) {
      p->projection_bias.assign(w.projection_bias, w.projection_bias + shape.n_output);
    }
  }
  if (!p->q_input || !p->q_recurrent || (p->projection && !p->q_projection)) {
    LstmInvalid("the int8 GEMM could not pack the weights");
  }
  p->kernel_name = std::string(Qs8PackedKernelName(*p->q_input)) + " + " + p->kernels->name;
  return p;
}

std::shared_ptr<const LstmPacked> PackLstmHybrid(const LstmShape& shape,
                                                 const LstmOptions& options,
                                                 const LstmHybridWeights& weights) {
  return PackLstmHybrid(shape, options, weights, SelectedPath());
}

}  // namespace litequant
