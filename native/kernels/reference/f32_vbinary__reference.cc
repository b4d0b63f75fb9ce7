// The reference (scalar) f32 ADD/SUB/MUL kernels with the fused activation's clamp.
#include "litequant/vbinary.h"

namespace litequant {
namespace {

struct Add {
  static float Apply(float x, float y) { return x + y; }
};
struct Sub {
  static float Apply(float x, float y) { return x - y; }
};
struct Mul {
  static float Apply(float x, float y) { return x * y; }
};

template <typename Op>
void VV(size_t n, const float* a, const float* b, float* out, const F32MinMaxParams& p) {
  for (size_t i = 0; i < n; ++i) out[i] = F32ClampOne(Op::Apply(a[i], b[i]), p);
}

template <typename Op>
void VC(size_t n, const float* a, float c, float* out, const F32MinMaxParams& p) {
  for (size_t i = 0; i < n; ++i) out[i] = F32ClampOne(Op::Apply(a[i], c), p);
}

void RSubC(size_t n, const float* a, float c, float* out, const F32MinMaxParams& p) {
  for (size_t i = 0; i < n; ++i) out[i] = F32ClampOne(c - a[i], p);
}

}  // namespace

extern const F32VBinaryKernels kF32VBinaryReference = {
    "f32_vbinary__reference", VV<Add>, VV<Sub>, VV<Mul>, VC<Add>, VC<Sub>, RSubC, VC<Mul>};

}  // namespace litequant
