// The reference (scalar) qs8 ADD/SUB/MUL kernels: the truth every other path is tested against.
#include "litequant/vbinary.h"

namespace litequant {
namespace {

void VAdd(size_t n, const int8_t* a, const int8_t* b, int8_t* out, const Qs8AddParams& p) {
  for (size_t i = 0; i < n; ++i) out[i] = Qs8AddOne(a[i], b[i], p);
}

void VAddC(size_t n, const int8_t* a, int8_t* out, const Qs8AddParams& p) {
  for (size_t i = 0; i < n; ++i) out[i] = Qs8AddOne(a[i], 0, p);
}

void VMul(size_t n, const int8_t* a, const int8_t* b, int8_t* out, const Qs8MulParams& p) {
  for (size_t i = 0; i < n; ++i) {
    out[i] = Qs8MulOne((int32_t{a[i]} - p.a_zero_point) * (int32_t{b[i]} - p.b_zero_point), p);
  }
}

void VMulC(size_t n, const int8_t* a, int32_t c, int8_t* out, const Qs8MulParams& p) {
  for (size_t i = 0; i < n; ++i) out[i] = Qs8MulOne((int32_t{a[i]} - p.a_zero_point) * c, p);
}

}  // namespace

extern const Qs8VBinaryKernels kQs8VBinaryReference = {"qs8_vbinary__reference", VAdd, VAddC,
                                                       VMul, VMulC};

}  // namespace litequant
