// Element-wise binary operators (elementwise_binary.h): XNNPACK's parameter setup, broadcasting
// collapsed into a loop nest, and the driver that hands its innermost runs to the vbinary
// kernels of the selected path.
#include "litequant/elementwise_binary.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

namespace litequant {
namespace {

constexpr uint64_t kMaxElements = (uint64_t{1} << 31) - 1;  // fits a JS typed array and int32

std::string ShapeString(const std::vector<size_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

uint32_t FloatBits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits;
}

// The float bounds of an activation (TFLite's CalculateActivationRange).
void FloatActivationRange(BinaryActivation activation, float* lo, float* hi) {
  const float inf = std::numeric_limits<float>::infinity();
  switch (activation) {
    case BinaryActivation::kRelu: *lo = 0.0f, *hi = inf; return;
    case BinaryActivation::kReluN1To1: *lo = -1.0f, *hi = 1.0f; return;
    case BinaryActivation::kRelu6: *lo = 0.0f, *hi = 6.0f; return;
    default: *lo = -inf, *hi = inf; return;
  }
}

bool ValidScale(float s) { return std::isfinite(s) && s > 0.0f; }
bool ValidZeroPoint(int32_t zp) { return zp >= -128 && zp <= 127; }

// [2^lo, 2^8): where XNNPACK takes the op (TFLite's delegate declines it outside).
bool RatioInRange(float r, int lo_exponent) {
  return r >= std::ldexp(1.0f, lo_exponent) && r < 256.0f;
}

Path VBinaryKernelPath(Path path) {
  for (;;) {
    switch (path) {
      case Path::kReference:
#ifdef LITEQUANT_BUILT_AVX2
      case Path::kAvx2:
#endif
#ifdef LITEQUANT_BUILT_NEON
      case Path::kNeon:
#endif
        return path;
      default: path = FallbackPath(path);
    }
  }
}

// Calls run(a_offset, b_offset, out_offset, n) for every innermost run of the loop nest.
template <typename Run>
void ForEachRun(const BroadcastLoops& loops, const Run& run) {
  if (loops.output_size == 0) return;
  const size_t inner = loops.rank - 1;
  const size_t n = loops.extent[inner];
  const size_t runs = loops.output_size / n;
  size_t index[kMaxBinaryRank] = {};
  size_t ia = 0, ib = 0, io = 0;
  for (size_t r = 0; r < runs; ++r, io += n) {
    run(ia, ib, io, n);
    for (size_t d = inner; d-- > 0;) {  // the odometer over the outer loops
      ia += loops.a_stride[d];
      ib += loops.b_stride[d];
      if (++index[d] < loops.extent[d]) break;
      index[d] = 0;
      ia -= loops.a_stride[d] * loops.extent[d];
      ib -= loops.b_stride[d] * loops.extent[d];
    }
  }
}

// For the reference: the flat index into an input of `shape` of output element `k`.
size_t SourceIndex(const std::vector<size_t>& shape, const std::vector<size_t>& out_shape,
                   size_t k) {
  size_t index = 0, stride = 1;
  for (size_t i = out_shape.size(); i-- > 0;) {
    const size_t coordinate = k % out_shape[i];
    k /= out_shape[i];
    const size_t j = i + shape.size();
    if (j < out_shape.size()) continue;  // shape has no such dimension (implicit 1)
    const size_t dim = shape[j - out_shape.size()];
    if (dim != 1) index += coordinate * stride;
    stride *= dim;
  }
  return index;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Parameters.

std::string ComputeBroadcastLoops(const std::vector<size_t>& a_shape,
                                  const std::vector<size_t>& b_shape, BroadcastLoops* loops) {
  if (a_shape.size() > kMaxBinaryRank || b_shape.size() > kMaxBinaryRank) {
    return "Expected shapes of rank at most " + std::to_string(kMaxBinaryRank) +
           " but received " + ShapeString(a_shape) + " and " + ShapeString(b_shape);
  }
  const size_t rank = std::max(a_shape.size(), b_shape.size());
  std::vector<size_t> da(rank, 1), db(rank, 1), out(rank, 1);
  std::copy(a_shape.begin(), a_shape.end(), da.begin() + (rank - a_shape.size()));
  std::copy(b_shape.begin(), b_shape.end(), db.begin() + (rank - b_shape.size()));
  uint64_t size = 1, a_size = 1, b_size = 1;
  for (size_t i = 0; i < rank; ++i) {
    if (da[i] != db[i] && da[i] != 1 && db[i] != 1) {
      return "Expected broadcastable shapes but received " + ShapeString(a_shape) + " and " +
             ShapeString(b_shape);
    }
    out[i] = da[i] == 1 ? db[i] : da[i];
    for (auto [total, d] : {std::pair<uint64_t*, size_t>{&size, out[i]}, {&a_size, da[i]},
                            {&b_size, db[i]}}) {
      if (d > kMaxElements) return "Expected tensors of fewer than 2^31 elements";
      *total *= d;
      if (*total > kMaxElements) return "Expected tensors of fewer than 2^31 elements";
    }
  }
  // Row-major strides, 0 where an input repeats; dimensions of extent 1 dropped.
  size_t ext[kMaxBinaryRank], sa[kMaxBinaryRank], sb[kMaxBinaryRank];
  size_t kept = 0;
  size_t stride_a = 1, stride_b = 1;
  size_t rev_ext[kMaxBinaryRank], rev_sa[kMaxBinaryRank], rev_sb[kMaxBinaryRank];
  for (size_t i = rank; i-- > 0;) {
    if (out[i] != 1) {
      rev_ext[kept] = out[i];
      rev_sa[kept] = da[i] == 1 ? 0 : stride_a;
      rev_sb[kept] = db[i] == 1 ? 0 : stride_b;
      ++kept;
    }
    stride_a *= da[i];
    stride_b *= db[i];
  }
  for (size_t i = 0; i < kept; ++i) {
    ext[i] = rev_ext[kept - 1 - i];
    sa[i] = rev_sa[kept - 1 - i];
    sb[i] = rev_sb[kept - 1 - i];
  }
  // Merge a dimension into its inner neighbour when both inputs step through them as one.
  BroadcastLoops result;
  result.output_shape = out;
  result.output_size = static_cast<size_t>(size);
  size_t r = 0;
  for (size_t i = 0; i < kept; ++i) {
    if (r > 0 && result.a_stride[r - 1] == sa[i] * ext[i] &&
        result.b_stride[r - 1] == sb[i] * ext[i]) {
      result.extent[r - 1] *= ext[i];
      result.a_stride[r - 1] = sa[i];
      result.b_stride[r - 1] = sb[i];
      continue;
    }
    result.extent[r] = ext[i];
    result.a_stride[r] = sa[i];
    result.b_stride[r] = sb[i];
    ++r;
  }
  if (r == 0) {  // every dimension is 1: one element
    result.extent[0] = 1;
    r = 1;
  }
  result.rank = r;
  *loops = result;
  return "";
}

void Qs8ActivationRange(BinaryActivation activation, float scale, int32_t zero_point,
                        int32_t* qmin, int32_t* qmax) {
  float lo, hi;
  FloatActivationRange(activation, &lo, &hi);
  const auto quantize = [&](float f) {
    float y = f / scale + static_cast<float>(zero_point);
    y = y < -128.0f ? -128.0f : (y > 127.0f ? 127.0f : y);
    return static_cast<int32_t>(std::nearbyint(y));  // lrintf: ties to even
  };
  *qmin = std::isinf(lo) ? -128 : quantize(lo);
  *qmax = std::isinf(hi) ? 127 : quantize(hi);
}

std::string CheckQs8Binary(BinaryOp op, const Qs8BinaryQuantization& q) {
  const std::pair<const char*, float> scales[] = {
      {"a_scale", q.a_scale}, {"b_scale", q.b_scale}, {"output_scale", q.output_scale}};
  for (const auto& [name, s] : scales) {
    if (!ValidScale(s)) {
      return std::string("Expected a finite positive float32 for ") + name + " but received " +
             std::to_string(s);
    }
  }
  const std::pair<const char*, int32_t> zero_points[] = {{"a_zero_point", q.a_zero_point},
                                                         {"b_zero_point", q.b_zero_point},
                                                         {"output_zero_point", q.output_zero_point}};
  for (const auto& [name, zp] : zero_points) {
    if (!ValidZeroPoint(zp)) {
      return std::string("Expected an integer between -128 and 127 for ") + name +
             " but received " + std::to_string(zp);
    }
  }
  if (op == BinaryOp::kMul) {
    const float r = (q.a_scale * q.b_scale) / q.output_scale;
    if (!RatioInRange(r, -16)) {
      return "Expected a_scale * b_scale / output_scale in [2^-16, 2^8) (XNNPACK's int8 MUL) "
             "but received " + std::to_string(r);
    }
    return "";
  }
  const float ra = q.a_scale / q.output_scale;
  const float rb = q.b_scale / q.output_scale;
  if (!RatioInRange(ra, -10) || !RatioInRange(rb, -10)) {
    return "Expected a_scale / output_scale and b_scale / output_scale in [2^-10, 2^8) "
           "(XNNPACK's int8 ADD/SUB) but received " + std::to_string(ra) + " and " +
           std::to_string(rb);
  }
  return "";
}

Qs8AddParams ComputeQs8AddParams(const Qs8BinaryQuantization& q, bool subtract) {
  const float a_ratio = q.a_scale / q.output_scale;
  float b_ratio = q.b_scale / q.output_scale;
  if (subtract) b_ratio = -b_ratio;
  const float max_ratio = std::max(std::fabs(a_ratio), std::fabs(b_ratio));
  const int max_exponent = static_cast<int>((FloatBits(max_ratio) >> 23) & 0xFF) - 127;
  const int shift = 20 - max_exponent;
  // |ratio| * 2^shift is exact (an exponent change), then rounded half to even (lrintf).
  const auto scaled = [&](float r) {
    const auto m = static_cast<int32_t>(std::nearbyint(std::ldexp(std::fabs(r), shift)));
    return r < 0 ? -m : m;
  };
  Qs8AddParams p;
  p.a_multiplier = scaled(a_ratio);
  p.b_multiplier = scaled(b_ratio);
  p.shift = static_cast<uint32_t>(shift);
  // Wraps as XNNPACK's int32 arithmetic (and the reference's `| 0`).
  p.bias = static_cast<int32_t>((uint32_t{1} << (shift - 1)) -
                                static_cast<uint32_t>(q.a_zero_point) *
                                    static_cast<uint32_t>(p.a_multiplier) -
                                static_cast<uint32_t>(q.b_zero_point) *
                                    static_cast<uint32_t>(p.b_multiplier));
  p.output_zero_point = q.output_zero_point;
  Qs8ActivationRange(q.activation, q.output_scale, q.output_zero_point, &p.qmin, &p.qmax);
  return p;
}

Qs8MulParams ComputeQs8MulParams(const Qs8BinaryQuantization& q) {
  Qs8MulParams p;
  p.a_zero_point = q.a_zero_point;
  p.b_zero_point = q.b_zero_point;
  p.scale = (q.a_scale * q.b_scale) / q.output_scale;
  p.output_zero_point = q.output_zero_point;
  Qs8ActivationRange(q.activation, q.output_scale, q.output_zero_point, &p.qmin, &p.qmax);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Kernel tables.

const Qs8VBinaryKernels& Qs8VBinaryKernelsFor(Path path) {
  switch (VBinaryKernelPath(path)) {
#ifdef LITEQUANT_BUILT_AVX2
    case Path::kAvx2: return kQs8VBinaryAvx2;
#endif
#ifdef LITEQUANT_BUILT_NEON
    case Path::kNeon: return kQs8VBinaryNeon;
#endif
    default: return kQs8VBinaryReference;
  }
}

const F32VBinaryKernels& F32VBinaryKernelsFor(Path path) {
  switch (VBinaryKernelPath(path)) {
#ifdef LITEQUANT_BUILT_AVX2
    case Path::kAvx2: return kF32VBinaryAvx2;
#endif
#ifdef LITEQUANT_BUILT_NEON
    case Path::kNeon: return kF32VBinaryNeon;
#endif
    default: return kF32VBinaryReference;
  }
}

// ---------------------------------------------------------------------------------------------
// Operators.

class Qs8BinaryOperator {
 public:
  BinaryOp op = BinaryOp::kAdd;
  BroadcastLoops loops;
  Path path = Path::kReference;
  const Qs8VBinaryKernels* kernels = nullptr;
  Qs8AddParams add;          // a is the vector operand of vaddc
  Qs8AddParams add_swapped;  // b is: multipliers exchanged
  Qs8MulParams mul;
  Qs8MulParams mul_swapped;
};

class F32BinaryOperator {
 public:
  BinaryOp op = BinaryOp::kAdd;
  BroadcastLoops loops;
  Path path = Path::kReference;
  const F32VBinaryKernels* kernels = nullptr;
  F32MinMaxParams minmax;
};

std::shared_ptr<const Qs8BinaryOperator> CreateQs8BinaryForPath(
    Path path, BinaryOp op, const std::vector<size_t>& a_shape,
    const std::vector<size_t>& b_shape, const Qs8BinaryQuantization& q) {
  if (op != BinaryOp::kAdd && op != BinaryOp::kSub && op != BinaryOp::kMul) {
    throw std::invalid_argument("Expected ADD, SUB or MUL for op");
  }
  auto result = std::make_shared<Qs8BinaryOperator>();
  std::string why = ComputeBroadcastLoops(a_shape, b_shape, &result->loops);
  if (why.empty()) why = CheckQs8Binary(op, q);
  if (!why.empty()) throw std::invalid_argument(why);
  result->op = op;
  result->path = VBinaryKernelPath(path);
  result->kernels = &Qs8VBinaryKernelsFor(result->path);
  if (op == BinaryOp::kMul) {
    result->mul = ComputeQs8MulParams(q);
    result->mul_swapped = result->mul;
    std::swap(result->mul_swapped.a_zero_point, result->mul_swapped.b_zero_point);
  } else {
    result->add = ComputeQs8AddParams(q, op == BinaryOp::kSub);
    result->add_swapped = result->add;
    std::swap(result->add_swapped.a_multiplier, result->add_swapped.b_multiplier);
  }
  return result;
}

std::shared_ptr<const Qs8BinaryOperator> CreateQs8Binary(BinaryOp op,
                                                         const std::vector<size_t>& a_shape,
                                                         const std::vector<size_t>& b_shape,
                                                         const Qs8BinaryQuantization& q) {
  return CreateQs8BinaryForPath(SelectedPath(), op, a_shape, b_shape, q);
}

std::shared_ptr<const F32BinaryOperator> CreateF32BinaryForPath(
    Path path, BinaryOp op, const std::vector<size_t>& a_shape,
    const std::vector<size_t>& b_shape, BinaryActivation activation) {
  if (op != BinaryOp::kAdd && op != BinaryOp::kSub && op != BinaryOp::kMul) {
    throw std::invalid_argument("Expected ADD, SUB or MUL for op");
  }
  auto result = std::make_shared<F32BinaryOperator>();
  const std::string why = ComputeBroadcastLoops(a_shape, b_shape, &result->loops);
  if (!why.empty()) throw std::invalid_argument(why);
  result->op = op;
  result->path = VBinaryKernelPath(path);
  result->kernels = &F32VBinaryKernelsFor(result->path);
  FloatActivationRange(activation, &result->minmax.min, &result->minmax.max);
  return result;
}

std::shared_ptr<const F32BinaryOperator> CreateF32Binary(BinaryOp op,
                                                         const std::vector<size_t>& a_shape,
                                                         const std::vector<size_t>& b_shape,
                                                         BinaryActivation activation) {
  return CreateF32BinaryForPath(SelectedPath(), op, a_shape, b_shape, activation);
}

const BroadcastLoops& Qs8BinaryLoops(const Qs8BinaryOperator& op) { return op.loops; }
const BroadcastLoops& F32BinaryLoops(const F32BinaryOperator& op) { return op.loops; }
const char* Qs8BinaryKernelName(const Qs8BinaryOperator& op) { return op.kernels->name; }
const char* F32BinaryKernelName(const F32BinaryOperator& op) { return op.kernels->name; }
Path Qs8BinaryPath(const Qs8BinaryOperator& op) { return op.path; }
Path F32BinaryPath(const F32BinaryOperator& op) { return op.path; }

void Qs8Binary(const Qs8BinaryOperator& op, const int8_t* a, const int8_t* b, int8_t* out) {
  const Qs8VBinaryKernels& k = *op.kernels;
  const size_t inner = op.loops.rank - 1;
  const bool a_scalar = op.loops.a_stride[inner] == 0 && op.loops.b_stride[inner] != 0;
  const bool b_scalar = op.loops.b_stride[inner] == 0 && op.loops.a_stride[inner] != 0;
  if (op.op == BinaryOp::kMul) {
    ForEachRun(op.loops, [&](size_t ia, size_t ib, size_t io, size_t n) {
      if (a_scalar) {
        k.vmulc(n, b + ib, int32_t{a[ia]} - op.mul.a_zero_point, out + io, op.mul_swapped);
      } else if (b_scalar) {
        k.vmulc(n, a + ia, int32_t{b[ib]} - op.mul.b_zero_point, out + io, op.mul);
      } else {
        k.vmul(n, a + ia, b + ib, out + io, op.mul);
      }
    });
    return;
  }
  ForEachRun(op.loops, [&](size_t ia, size_t ib, size_t io, size_t n) {
    // The repeated operand's term joins the bias (int32 sums wrap: same result).
    if (a_scalar) {
      Qs8AddParams p = op.add_swapped;
      p.bias = static_cast<int32_t>(static_cast<uint32_t>(p.bias) +
                                    static_cast<uint32_t>(int32_t{a[ia]}) *
                                        static_cast<uint32_t>(op.add.a_multiplier));
      k.vaddc(n, b + ib, out + io, p);
    } else if (b_scalar) {
      Qs8AddParams p = op.add;
      p.bias = static_cast<int32_t>(static_cast<uint32_t>(p.bias) +
                                    static_cast<uint32_t>(int32_t{b[ib]}) *
                                        static_cast<uint32_t>(op.add.b_multiplier));
      k.vaddc(n, a + ia, out + io, p);
    } else {
      k.vadd(n, a + ia, b + ib, out + io, op.add);
    }
  });
}

void F32Binary(const F32BinaryOperator& op, const float* a, const float* b, float* out) {
  const F32VBinaryKernels& k = *op.kernels;
  const size_t inner = op.loops.rank - 1;
  const bool a_scalar = op.loops.a_stride[inner] == 0 && op.loops.b_stride[inner] != 0;
  const bool b_scalar = op.loops.b_stride[inner] == 0 && op.loops.a_stride[inner] != 0;
  F32VBinaryFn vv = k.vadd;
  F32VBinaryCFn vc = k.vaddc;  // b repeats: a[i] op c
  F32VBinaryCFn cv = k.vaddc;  // a repeats: c op b[i] (as a kernel on b)
  switch (op.op) {
    case BinaryOp::kAdd: break;
    case BinaryOp::kSub: vv = k.vsub, vc = k.vsubc, cv = k.vrsubc; break;
    case BinaryOp::kMul: vv = k.vmul, vc = k.vmulc, cv = k.vmulc; break;
  }
  ForEachRun(op.loops, [&](size_t ia, size_t ib, size_t io, size_t n) {
    if (a_scalar) cv(n, b + ib, a[ia], out + io, op.minmax);
    else if (b_scalar) vc(n, a + ia, b[ib], out + io, op.minmax);
    else vv(n, a + ia, b + ib, out + io, op.minmax);
  });
}

// ---------------------------------------------------------------------------------------------
// Reference.

void Qs8BinaryReference(BinaryOp op, const std::vector<size_t>& a_shape,
                        const std::vector<size_t>& b_shape, const Qs8BinaryQuantization& q,
                        const int8_t* a, const int8_t* b, int8_t* out) {
  BroadcastLoops loops;
  const std::string why = ComputeBroadcastLoops(a_shape, b_shape, &loops);
  if (!why.empty()) throw std::invalid_argument(why);
  const Qs8AddParams add = op == BinaryOp::kMul ? Qs8AddParams{}
                                                : ComputeQs8AddParams(q, op == BinaryOp::kSub);
  const Qs8MulParams mul = ComputeQs8MulParams(q);
  for (size_t k = 0; k < loops.output_size; ++k) {
    const int32_t x = a[SourceIndex(a_shape, loops.output_shape, k)];
    const int32_t y = b[SourceIndex(b_shape, loops.output_shape, k)];
    out[k] = op == BinaryOp::kMul ? Qs8MulOne((x - mul.a_zero_point) * (y - mul.b_zero_point), mul)
                                  : Qs8AddOne(x, y, add);
  }
}

void F32BinaryReference(BinaryOp op, const std::vector<size_t>& a_shape,
                        const std::vector<size_t>& b_shape, BinaryActivation activation,
                        const float* a, const float* b, float* out) {
  BroadcastLoops loops;
  const std::string why = ComputeBroadcastLoops(a_shape, b_shape, &loops);
  if (!why.empty()) throw std::invalid_argument(why);
  F32MinMaxParams minmax;
  FloatActivationRange(activation, &minmax.min, &minmax.max);
  for (size_t k = 0; k < loops.output_size; ++k) {
    const float x = a[SourceIndex(a_shape, loops.output_shape, k)];
    const float y = b[SourceIndex(b_shape, loops.output_shape, k)];
    const float v = op == BinaryOp::kAdd ? x + y : op == BinaryOp::kSub ? x - y : x * y;
    out[k] = F32ClampOne(v, minmax);
  }
}

}  // namespace litequant
