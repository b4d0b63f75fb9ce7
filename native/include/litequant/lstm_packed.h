// The packed LSTM shared by native/core/lstm_f32.cc and lstm_hybrid.cc (core only: callers use
// the opaque LstmPacked of lstm.h).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "litequant/f32_gemm.h"
#include "litequant/hybrid.h"
#include "litequant/lstm.h"
#include "litequant/qs8_gemm.h"

namespace litequant {

class LstmPacked {
 public:
  LstmShape shape;
  LstmOptions options;
  bool hybrid = false;
  Path path = Path::kReference;
  const LstmF32Kernels* kernels = nullptr;
  std::string kernel_name;
  // Gates in the combined matrices: slot[g] (-1: the CIFG input gate), `gates` of them.
  int slot[4] = {-1, -1, -1, -1};
  size_t gates = 0;
  bool layer_norm = false;
  bool peephole = false;
  std::vector<float> bias;        // [gates * n_cell]
  std::vector<float> norm;        // [gates * n_cell] layer norm coefficients, or empty
  std::vector<float> peephole_w;  // [4 * n_cell] by gate (cell gate and CIFG input gate unused)
  std::vector<float> projection_bias;  // [n_output] or empty
  bool projection = false;
  // f32
  std::shared_ptr<const F32PackedWeights> f32_input, f32_recurrent, f32_projection;
  // hybrid
  const HybridKernels* hybrid_kernels = nullptr;
  std::shared_ptr<const Qs8PackedWeights> q_input, q_recurrent, q_projection;
  std::vector<float> input_scale, recurrent_scale;  // [gates * n_cell]: the gate's weight scale
  // The recurrent weights in the qs8_gemv layout (one state row per step), or empty.
  std::vector<int8_t> gemv_recurrent;
  float projection_scale = 0.0f;
};

[[noreturn]] inline void LstmInvalid(const std::string& message) {
  throw std::invalid_argument("LSTM: " + message);
}

constexpr const char* kLstmGateNames[4] = {"input", "forget", "cell", "output"};

struct LstmStructure {
  bool cifg = false;
  bool peephole = false;
  bool layer_norm = false;
};

// The structure checks both weight kinds (LstmF32Weights, LstmHybridWeights) share, as TFLite's
// Prepare makes them: every gate present (the input gate absent only for CIFG), peephole and layer
// norm all or none, a projection bias only with projection weights.
template <typename Weights>
LstmStructure CheckLstmStructure(const LstmShape& shape, const Weights& w) {
  LstmStructure s;
  s.cifg = w.input[0] == nullptr;
  if (s.cifg != (w.recurrent[0] == nullptr)) {
    LstmInvalid("the input gate needs both its input and recurrent weights, or neither (CIFG)");
  }
  for (int g = 0; g < 4; ++g) {
    if (g == 0 && s.cifg) continue;
    if (w.input[g] == nullptr || w.recurrent[g] == nullptr || w.bias[g] == nullptr) {
      LstmInvalid(std::string("the ") + kLstmGateNames[g] + " gate's weights or bias are missing");
    }
  }
  if (s.cifg && w.bias[0] != nullptr) LstmInvalid("a CIFG LSTM cannot have an input gate bias");
  s.peephole = w.peephole[1] != nullptr;
  if (w.peephole[2] != nullptr || (w.peephole[3] != nullptr) != s.peephole ||
      (!s.cifg && (w.peephole[0] != nullptr) != s.peephole) ||
      (s.cifg && w.peephole[0] != nullptr)) {
    LstmInvalid("the peephole weights must be all present (the input gate's only without CIFG) or "
                "all absent");
  }
  s.layer_norm = w.layer_norm[1] != nullptr;
  for (int g = 0; g < 4; ++g) {
    const bool want = s.layer_norm && !(g == 0 && s.cifg);
    if ((w.layer_norm[g] != nullptr) != want) {
      LstmInvalid("the layer norm coefficients must be present for every gate (the input gate's "
                  "only without CIFG) or for none");
    }
  }
  if (w.projection == nullptr && w.projection_bias != nullptr) {
    LstmInvalid("a projection bias needs projection weights");
  }
  if (w.projection == nullptr && shape.n_output != shape.n_cell) {
    LstmInvalid("n_output differs from n_cell without a projection");
  }
  return s;
}

// Fills the fields both kinds share (shape and option checks, gate slots, kernels) from which
// gates have input weights; throws std::invalid_argument naming the problem.
void LstmPackCommon(const LstmShape& shape, const LstmOptions& options, bool cifg,
                    bool has_layer_norm, bool has_peephole, Path path, LstmPacked* p);

}  // namespace litequant
