// Element-wise binary operators (ADD, SUB, MUL) on int8 and float32 tensors with NumPy
// broadcasting, as the official TFLite runtime computes them through XNNPACK (the rules are in
// vbinary.h):
//
//   int8 ADD/SUB: XNNPACK qs8-vadd, defined when both s_in / s_out ratios (float32) are in
//                 [2^-10, 2^8) (TFLite's builtin kernels run otherwise: not here).
//   int8 MUL:     XNNPACK qs8-vmul fp32, defined when float(float(s_a s_b) / s_out) is in
//                 [2^-16, 2^8).
//   float32:      one float operation per element, then the fused activation as a float clamp.
//
// Create once (shapes, quantization and activation checked; the kernels of the path selected
// at that moment chosen), run any number of times from any thread: the operator is immutable
// and a run allocates nothing. Broadcasting collapses the shapes into at most kMaxBinaryRank
// loops whose innermost run is handed to the kernels (vector-vector, or vector-scalar when one
// input repeats one value along it). Runs are single-threaded: the ops are memory-bound and
// small next to the convolutions around them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "litequant/isa.h"
#include "litequant/vbinary.h"

namespace litequant {

enum class BinaryOp : uint8_t { kAdd = 0, kSub = 1, kMul = 2 };

// The clamps of TFLite's fused activations (TANH and SIGN_BIT are not clamps: not here).
enum class BinaryActivation : uint8_t { kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3 };

constexpr size_t kMaxBinaryRank = 8;

// Broadcasting of two shapes (right-aligned, missing dimensions are 1; sizes must be equal or
// one of them 1) as a loop nest: dimensions of extent 1 dropped, neighbours that step both
// inputs the same way merged. Strides are in elements, 0 along dimensions an input repeats;
// the innermost loop (index rank - 1) steps each input by 0 or 1.
struct BroadcastLoops {
  std::vector<size_t> output_shape;
  size_t output_size = 0;
  size_t rank = 0;  // >= 1 (a one-element output is one loop of extent 1)
  size_t extent[kMaxBinaryRank] = {};
  size_t a_stride[kMaxBinaryRank] = {};
  size_t b_stride[kMaxBinaryRank] = {};
};

// An empty string and *loops filled, or what is wrong with the shapes (ranks above
// kMaxBinaryRank, sizes that do not broadcast, tensors of 2^31 elements or more).
std::string ComputeBroadcastLoops(const std::vector<size_t>& a_shape,
                                  const std::vector<size_t>& b_shape, BroadcastLoops* loops);

// Scales and zero points of an int8 binary op, and its fused activation.
struct Qs8BinaryQuantization {
  float a_scale = 1.0f;
  int32_t a_zero_point = 0;
  float b_scale = 1.0f;
  int32_t b_zero_point = 0;
  float output_scale = 1.0f;
  int32_t output_zero_point = 0;
  BinaryActivation activation = BinaryActivation::kNone;
};

// XNNPACK's quantized clamp of an activation: lrintf(clamp(f / scale + zp, -128, 127)) in float.
void Qs8ActivationRange(BinaryActivation activation, float scale, int32_t zero_point,
                        int32_t* qmin, int32_t* qmax);

// An empty string when XNNPACK's rule covers `op` with these scales (finite positive scales,
// zero points in [-128, 127], ratios in range), else what is wrong.
std::string CheckQs8Binary(BinaryOp op, const Qs8BinaryQuantization& q);

// xnn_init_qs8_add_minmax_scalar_params: multipliers with 20 significant bits,
// shift = 20 - exponent(max ratio), bias = 2^(shift-1) - zp_a m_a - zp_b m_b (wraps).
// `subtract` negates b's ratio (XNNPACK's SUB). q must pass CheckQs8Binary.
Qs8AddParams ComputeQs8AddParams(const Qs8BinaryQuantization& q, bool subtract);
Qs8MulParams ComputeQs8MulParams(const Qs8BinaryQuantization& q);

class Qs8BinaryOperator;  // defined in core; opaque to callers
class F32BinaryOperator;

// Throw std::invalid_argument (the message of ComputeBroadcastLoops / CheckQs8Binary).
std::shared_ptr<const Qs8BinaryOperator> CreateQs8Binary(BinaryOp op,
                                                         const std::vector<size_t>& a_shape,
                                                         const std::vector<size_t>& b_shape,
                                                         const Qs8BinaryQuantization& q);
std::shared_ptr<const F32BinaryOperator> CreateF32Binary(BinaryOp op,
                                                         const std::vector<size_t>& a_shape,
                                                         const std::vector<size_t>& b_shape,
                                                         BinaryActivation activation);
// The same on an explicit path (tests); it must be supported by this CPU (not checked).
std::shared_ptr<const Qs8BinaryOperator> CreateQs8BinaryForPath(
    Path path, BinaryOp op, const std::vector<size_t>& a_shape,
    const std::vector<size_t>& b_shape, const Qs8BinaryQuantization& q);
std::shared_ptr<const F32BinaryOperator> CreateF32BinaryForPath(
    Path path, BinaryOp op, const std::vector<size_t>& a_shape,
    const std::vector<size_t>& b_shape, BinaryActivation activation);

const BroadcastLoops& Qs8BinaryLoops(const Qs8BinaryOperator& op);
const BroadcastLoops& F32BinaryLoops(const F32BinaryOperator& op);
// The kernels that run ("qs8_vbinary__avx2") and their path.
const char* Qs8BinaryKernelName(const Qs8BinaryOperator& op);
const char* F32BinaryKernelName(const F32BinaryOperator& op);
Path Qs8BinaryPath(const Qs8BinaryOperator& op);
Path F32BinaryPath(const F32BinaryOperator& op);

// a and b hold their shapes' element counts, out the output's. out may be the same pointer as an
// input of the output's size (in place) but must not overlap an input otherwise.
void Qs8Binary(const Qs8BinaryOperator& op, const int8_t* a, const int8_t* b, int8_t* out);
void F32Binary(const F32BinaryOperator& op, const float* a, const float* b, float* out);

// The truth: one element at a time through the broadcast index (no loop collapsing), with the
// scalar rules of vbinary.h. q must pass CheckQs8Binary; shapes must broadcast.
void Qs8BinaryReference(BinaryOp op, const std::vector<size_t>& a_shape,
                        const std::vector<size_t>& b_shape, const Qs8BinaryQuantization& q,
                        const int8_t* a, const int8_t* b, int8_t* out);
void F32BinaryReference(BinaryOp op, const std::vector<size_t>& a_shape,
                        const std::vector<size_t>& b_shape, BinaryActivation activation,
                        const float* a, const float* b, float* out);

}  // namespace litequant
