// int16x8 GEMM: dispatch, requantization parameters, packing and the tiling over threads.
#include "litequant/qs16_gemm.h"

#include <algorithm>
#include <cmath>

#include "litequant/thread_pool.h"

namespace litequant {

namespace {

// The path whose kernels run for `path` (after the fallback chain) and those kernels.
const Qs16GemmKernels& Resolve(Path path, Path* resolved) {
  for (;;) {
    *resolved = path;
    switch (path) {
      case Path::kReference: return kQs16GemmReference;
#ifdef LITEQUANT_BUILT_AVX2
      case Path::kAvx2: return kQs16GemmAvx2;
#endif
#ifdef LITEQUANT_BUILT_AVXVNNI
      case Path::kAvxVnni: return kQs16GemmAvxVnni;
#endif
#ifdef LITEQUANT_BUILT_AVX512VNNI
      case Path::kAvx512Vnni: return kQs16GemmAvx512Vnni;
#endif
#ifdef LITEQUANT_BUILT_NEON
      case Path::kNeon: return kQs16GemmNeon;
#endif
      default: path = FallbackPath(path);
    }
  }
}

}  // namespace

const Qs16GemmKernels& Qs16GemmKernelsFor(Path path) {
  Path resolved;
  return Resolve(path, &resolved);
}

bool MakeQs16Requant(Qs16RequantMode mode, Qs16ScaleRule rule, float input_scale,
                     const float* weight_scales, size_t count, float output_scale, int32_t qmin,
                     int32_t qmax, Qs16Requant* out, const char** why) {
  const auto positive = [](float s) { return std::isfinite(s) && s > 0.0f; };
  if (!positive(input_scale) || !positive(output_scale)) {
    *why = "input and output scales must be finite and > 0";
    return false;
  }
  if (count == 0) {
    *why = "at least one weight scale is needed";
    return false;
  }
  if (!(-32768 <= qmin && qmin <= qmax && qmax <= 32767)) {
    *why = "the clamp range must satisfy -32768 <= qmin <= qmax <= 32767";
    return false;
  }
  Qs16Requant r;
  r.mode = mode;
  r.qmin = qmin;
  r.qmax = qmax;
  for (size_t i = 0; i < count; ++i) {
    const float ws = weight_scales[i];
    if (!positive(ws)) {
      *why = "weight scales must be finite and > 0";
      return false;
    }
    const double real =
        rule == Qs16ScaleRule::kFloatProduct
            ? static_cast<double>(input_scale * ws) / static_cast<double>(output_scale)
            : static_cast<double>(input_scale) * static_cast<double>(ws) /
                  static_cast<double>(output_scale);
    if (mode == Qs16RequantMode::kDouble) {
      if (!std::isfinite(real)) {
        *why = "the real multiplier input_scale * weight_scale / output_scale overflows";
        return false;
      }
      r.scale.push_back(real);
      continue;
    }
    const QuantizedMultiplier q = QuantizeMultiplier(real);
    if (q.shift > 7) {  // TFLite's int64 MultiplyByQuantizedMultiplier requires shift < 8
      *why = "the real multiplier input_scale * weight_scale / output_scale must be below 128";
      return false;
    }
    r.multiplier.push_back(q.multiplier);
    r.shift.push_back(q.shift);
  }
  *out = std::move(r);
  return true;
}

class Qs16PackedWeights {
 public:
  Path path = Path::kReference;
  const Qs16GemmKernels* kernels = nullptr;
  size_t n = 0;
  size_t k = 0;
  size_t panel_elements = 0;
  std::vector<int16_t> panels;
  std::vector<int64_t> bias;  // empty: no bias
};

void Qs16ExpandPerTensor(Qs16Requant* rq, size_t channels) {
  if (rq->channels() != 1 || channels <= 1) return;
  if (rq->mode == Qs16RequantMode::kFixedPoint) {
    rq->multiplier.assign(channels, rq->multiplier[0]);
    rq->shift.assign(channels, rq->shift[0]);
  } else {
    rq->scale.assign(channels, rq->scale[0]);
  }
}

std::shared_ptr<const Qs16PackedWeights> PackQs16Gemm(const int8_t* w, size_t n, size_t k,
                                                      const int64_t* bias, Path path) {
  if (k > kQs16MaxK) return nullptr;
  if (bias != nullptr) {
    for (size_t j = 0; j < n; ++j) {
      if (bias[j] > kQs16MaxAbsBias || bias[j] < -kQs16MaxAbsBias) return nullptr;
    }
  }
  auto packed = std::make_shared<Qs16PackedWeights>();
  const Qs16GemmKernels& kernels = Resolve(path, &packed->path);
  packed->kernels = &kernels;
  packed->n = n;
  packed->k = k;
  packed->panel_elements = kernels.PanelElements(k);
  const size_t panels = (n + kernels.nr - 1) / kernels.nr;
  packed->panels.assign(panels * packed->panel_elements, 0);
  for (size_t p = 0; p < panels; ++p) {
    const size_t n0 = p * kernels.nr;
    const size_t nc = std::min<size_t>(kernels.nr, n - n0);
    kernels.pack(nc, k, w + n0 * k, k, packed->panels.data() + p * packed->panel_elements);
  }
  if (bias != nullptr) packed->bias.assign(bias, bias + n);
  return packed;
}

std::shared_ptr<const Qs16PackedWeights> PackQs16Gemm(const int8_t* w, size_t n, size_t k,
                                                      const int64_t* bias) {
  return PackQs16Gemm(w, n, k, bias, SelectedPath());
}

size_t Qs16PackedN(const Qs16PackedWeights& w) { return w.n; }
size_t Qs16PackedK(const Qs16PackedWeights& w) { return w.k; }
Path Qs16PackedPath(const Qs16PackedWeights& w) { return w.path; }
const char* Qs16PackedKernelName(const Qs16PackedWeights& w) { return w.kernels->name; }

void Qs16Gemm(const Qs16PackedWeights& w, size_t m, const int16_t* a, size_t lda, int16_t* c,
              size_t ldc, const Qs16Requant& requant, ThreadPool* pool) {
  const Qs16GemmKernels& kernels = *w.kernels;
  const size_t n = w.n;
  if (m == 0 || n == 0) return;
  // Per-tensor parameters become per-channel so kernels see one layout.
  std::vector<int32_t> multiplier, shift;
  std::vector<double> scale;
  const bool per_tensor = requant.channels() == 1 && n > 1;
  if (per_tensor) {
    if (requant.mode == Qs16RequantMode::kFixedPoint) {
      multiplier.assign(n, requant.multiplier[0]);
      shift.assign(n, requant.shift[0]);
    } else {
      scale.assign(n, requant.scale[0]);
    }
  }
  const int32_t* mult_all = per_tensor ? multiplier.data() : requant.multiplier.data();
  const int32_t* shift_all = per_tensor ? shift.data() : requant.shift.data();
  const double* scale_all = per_tensor ? scale.data() : requant.scale.data();
  const int64_t* bias_all = w.bias.empty() ? nullptr : w.bias.data();

  const size_t nr = kernels.nr;
  const size_t panels = (n + nr - 1) / nr;
  // Row blocks of a few tiles: small enough to spread work over threads, large enough for the
  // kernel's per-call column setup to be amortized.
  const size_t mb = std::max<size_t>(kernels.mr, 8 * kernels.mr);
  const size_t row_blocks = (m + mb - 1) / mb;
  const auto run = [&](size_t begin, size_t end) {
    for (size_t item = begin; item < end; ++item) {
      const size_t rb = item / panels;
      const size_t p = item % panels;
      const size_t m0 = rb * mb;
      const size_t mc = std::min(mb, m - m0);
      const size_t n0 = p * nr;
      const size_t nc = std::min(nr, n - n0);
      Qs16RequantParams rq;
      rq.mode = requant.mode;
      rq.qmin = requant.qmin;
      rq.qmax = requant.qmax;
      if (requant.mode == Qs16RequantMode::kFixedPoint) {
        rq.multiplier = mult_all + n0;
        rq.shift = shift_all + n0;
      } else {
        rq.scale = scale_all + n0;
      }
      kernels.gemm(mc, nc, w.k, a + m0 * lda, lda, w.panels.data() + p * w.panel_elements,
                   bias_all == nullptr ? nullptr : bias_all + n0, c + m0 * ldc + n0, ldc, rq);
    }
  };
  const size_t items = row_blocks * panels;
  if (pool == nullptr || pool->size() <= 1 || items == 1) {
    run(0, items);
  } else {
    pool->ParallelFor(items, 1, run);
  }
}

}  // namespace litequant
