// qs8 GEMM driver: packs weights once per path, packs activation panels per call into
// thread-local scratch, walks tiles (optionally on a thread pool) and calls the micro-kernels.
//
// Loop order per task: blocks of A panels sized to stay in L2; for each NR-column tile (whose
// packed weights stay in L1), every panel of the block. Every output element is computed by
// one kernel call over the whole K, so neither the tiling nor the thread count changes results.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "litequant/qs8_gemm.h"
#include "litequant/qs8_gemm_kernels.h"
#include "litequant/thread_pool.h"

namespace litequant {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kABlockBytes = 128 * 1024;  // packed A block kept in L2 while tiles stream
constexpr size_t kMinParallelMacs = size_t{1} << 21;  // below (~30 us on one thread), waking
                                                      // workers costs what it saves
constexpr size_t kTasksPerThread = 4;

struct AlignedDelete {
  void operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(kAlignment)); }
};
using AlignedBytes = std::unique_ptr<uint8_t[], AlignedDelete>;

AlignedBytes AllocateAligned(size_t bytes) {
  // +kAlignment: never zero-sized (kernels themselves stay inside the packed sizes).
  return AlignedBytes(new (std::align_val_t(kAlignment)) uint8_t[bytes + kAlignment]);
}

// Per-thread scratch for packed A panels; grows, never shrinks.
void* Scratch(size_t bytes) {
  thread_local AlignedBytes buffer;
  thread_local size_t capacity = 0;
  if (capacity < bytes) {
    buffer = AllocateAligned(bytes);
    capacity = bytes;
  }
  return buffer.get();
}

size_t DivideRoundUp(size_t a, size_t b) { return (a + b - 1) / b; }

int8_t AsInt8(int8_t v) { return v; }
int16_t AsInt16(int8_t v) { return v; }
uint8_t AsUint8Xor80(int8_t v) { return static_cast<uint8_t>(v) ^ 0x80u; }

// Panels of up to mr_max rows, [kc / AKR][mr][AKR] each. Row by row: contiguous reads, and
// the group size and conversion are compile-time constants so the copies unroll.
template <typename T, size_t AKR, T (*Convert)(int8_t)>
void PackPanels(const int8_t* a, size_t lda, size_t m, size_t k, size_t kc, size_t mr_max,
                T* out) {
  const size_t full = k / AKR * AKR;
  for (size_t p0 = 0; p0 < m; p0 += mr_max) {
    const size_t mr = std::min(mr_max, m - p0);
    const size_t step = mr * AKR;
    for (size_t i = 0; i < mr; ++i) {
      const int8_t* row = a + (p0 + i) * lda;
      T* dst = out + i * AKR;
      size_t g = 0;
      for (; g < full; g += AKR, dst += step) {
        for (size_t r = 0; r < AKR; ++r) dst[r] = Convert(row[g + r]);
      }
      for (; g < kc; g += AKR, dst += step) {
        for (size_t r = 0; r < AKR; ++r) dst[r] = g + r < k ? Convert(row[g + r]) : T(0);
      }
    }
    out += mr * kc;
  }
}

template <typename T, T (*Convert)(int8_t)>
void PackPanelsAnyGroup(const int8_t* a, size_t lda, size_t m, size_t k, size_t kc,
                        size_t mr_max, size_t akr, T* out) {
  switch (akr) {
    case 1: return PackPanels<T, 1, Convert>(a, lda, m, k, kc, mr_max, out);
    case 2: return PackPanels<T, 2, Convert>(a, lda, m, k, kc, mr_max, out);
    case 4: return PackPanels<T, 4, Convert>(a, lda, m, k, kc, mr_max, out);
    case 8: return PackPanels<T, 8, Convert>(a, lda, m, k, kc, mr_max, out);
    case 16: return PackPanels<T, 16, Convert>(a, lda, m, k, kc, mr_max, out);
    default: throw std::logic_error("qs8 GEMM: A groups must be 1, 2, 4, 8 or 16");
  }
}

}  // namespace

class Qs8PackedWeights {
 public:
  size_t n = 0;
  size_t k = 0;
  size_t kc = 0;
  int32_t a_zero_point = 0;
  Path path = Path::kReference;
  const Qs8GemmConfig* config = nullptr;  // null: the reference loops on `w`
  AlignedBytes packed;                    // tiles (optimized paths)
  std::vector<int32_t> gemm_init;         // per column, padded to whole tiles
  std::vector<int32_t> acc_init;
  std::vector<int32_t> column_sums;
  std::vector<int8_t> w;                  // reference path: the weights as given
  std::vector<int32_t> bias;              // reference path: empty when there is none
};

const Qs8GemmConfig* Qs8GemmConfigFor(Path path) {
  for (;;) {
    switch (path) {
      case Path::kReference: return nullptr;
#ifdef LITEQUANT_BUILT_AVX2
      case Path::kAvx2: return &kQs8GemmAvx2;
#endif
#ifdef LITEQUANT_BUILT_AVXVNNI
      case Path::kAvxVnni: return &kQs8GemmAvxVnni;
#endif
#ifdef LITEQUANT_BUILT_AVX512VNNI
      case Path::kAvx512Vnni: return &kQs8GemmAvx512Vnni;
#endif
#ifdef LITEQUANT_BUILT_NEON
      case Path::kNeon: return &kQs8GemmNeon;
#endif
#ifdef LITEQUANT_BUILT_NEONDOT
      case Path::kNeonDot: return &kQs8GemmNeonDot;
#endif
      default: path = FallbackPath(path);
    }
  }
}

size_t Qs8GemmPaddedK(const Qs8GemmConfig& config, size_t k) {
  const size_t align = std::max(config.kr, config.a_kr);  // both powers of two
  return DivideRoundUp(k, align) * align;
}

void Qs8GemmPackW(const Qs8GemmConfig& config, const int8_t* w, size_t n, size_t k, int8_t* out) {
  const size_t kc = Qs8GemmPaddedK(config, k);
  const size_t nr = config.nr;
  const size_t kr = config.kr;
  for (size_t n0 = 0; n0 < n; n0 += nr) {
    for (size_t g = 0; g < kc; g += kr) {
      for (size_t j = 0; j < nr; ++j) {
        for (size_t r = 0; r < kr; ++r) {
          const bool inside = n0 + j < n && g + r < k;
          *out++ = inside ? w[(n0 + j) * k + g + r] : 0;
        }
      }
    }
  }
}

void Qs8GemmPackA(const Qs8GemmConfig& config, const int8_t* a, size_t lda, size_t m, size_t k,
                  void* out) {
  const size_t kc = Qs8GemmPaddedK(config, k);
  switch (config.a_kind) {
    case Qs8PackedAKind::kInt8:
      PackPanelsAnyGroup<int8_t, AsInt8>(a, lda, m, k, kc, config.mr, config.a_kr,
                                         static_cast<int8_t*>(out));
      break;
    case Qs8PackedAKind::kInt16:
      PackPanelsAnyGroup<int16_t, AsInt16>(a, lda, m, k, kc, config.mr, config.a_kr,
                                           static_cast<int16_t*>(out));
      break;
    case Qs8PackedAKind::kUint8Xor80:
      PackPanelsAnyGroup<uint8_t, AsUint8Xor80>(a, lda, m, k, kc, config.mr, config.a_kr,
                                                static_cast<uint8_t*>(out));
      break;
  }
}

std::shared_ptr<const Qs8PackedWeights> PackQs8GemmWithConfig(const Qs8GemmConfig* config,
                                                              const int8_t* w, size_t n, size_t k,
                                                              const int32_t* bias,
                                                              int32_t a_zero_point) {
  auto p = std::make_shared<Qs8PackedWeights>();
  p->n = n;
  p->k = k;
  p->a_zero_point = a_zero_point;
  p->column_sums.resize(n);
  bool has_min = false;
  for (size_t j = 0; j < n; ++j) {
    uint32_t sum = 0;  // wraps like the kernels' int32 sums
    for (size_t r = 0; r < k; ++r) {
      sum += static_cast<uint32_t>(static_cast<int32_t>(w[j * k + r]));
      has_min = has_min || w[j * k + r] == -128;
    }
    p->column_sums[j] = static_cast<int32_t>(sum);
  }

  if (config != nullptr && config->needs_weights_above_min && has_min) config = config->exact;
  p->config = config;
  if (config == nullptr) {
    p->path = Path::kReference;
    p->w.assign(w, w + n * k);
    if (bias != nullptr) p->bias.assign(bias, bias + n);
    return p;
  }

  p->path = config->path;
  p->kc = Qs8GemmPaddedK(*config, k);
  const size_t padded_n = DivideRoundUp(n, config->nr) * config->nr;
  p->packed = AllocateAligned(padded_n * p->kc);
  Qs8GemmPackW(*config, w, n, k, reinterpret_cast<int8_t*>(p->packed.get()));
  // Unsigned arithmetic: these sums wrap exactly as the kernels' accumulators do.
  const uint32_t offset = static_cast<uint32_t>(Qs8PackedAOffset(config->a_kind));
  const uint32_t gemm_factor = static_cast<uint32_t>(a_zero_point) + offset;
  p->gemm_init.assign(padded_n, 0);
  p->acc_init.assign(padded_n, 0);
  for (size_t j = 0; j < n; ++j) {
    const auto colsum = static_cast<uint32_t>(p->column_sums[j]);
    const uint32_t b = bias != nullptr ? static_cast<uint32_t>(bias[j]) : 0u;
    p->gemm_init[j] = static_cast<int32_t>(b - gemm_factor * colsum);
    p->acc_init[j] = static_cast<int32_t>(0u - offset * colsum);
  }
  return p;
}

std::shared_ptr<const Qs8PackedWeights> PackQs8GemmForPath(Path path, const int8_t* w, size_t n,
                                                           size_t k, const int32_t* bias,
                                                           int32_t a_zero_point) {
  return PackQs8GemmWithConfig(Qs8GemmConfigFor(path), w, n, k, bias, a_zero_point);
}

std::shared_ptr<const Qs8PackedWeights> PackQs8Gemm(const int8_t* w, size_t n, size_t k,
                                                    const int32_t* bias, int32_t a_zero_point) {
  return PackQs8GemmForPath(SelectedPath(), w, n, k, bias, a_zero_point);
}

size_t Qs8PackedN(const Qs8PackedWeights& w) { return w.n; }
size_t Qs8PackedK(const Qs8PackedWeights& w) { return w.k; }
int32_t Qs8PackedAZeroPoint(const Qs8PackedWeights& w) { return w.a_zero_point; }
Path Qs8PackedPath(const Qs8PackedWeights& w) { return w.path; }
const char* Qs8PackedKernelName(const Qs8PackedWeights& w) {
  return w.config != nullptr ? w.config->name : "qs8_gemm__reference";
}
const int32_t* Qs8ColumnSums(const Qs8PackedWeights& w) { return w.column_sums.data(); }

namespace {

// One call's work: the output is either requantized int8 (c) or raw int32 (acc).
struct GemmCall {
  const Qs8PackedWeights* w;
  const Qs8GemmConfig* config;
  size_t m;
  const int8_t* a;
  size_t lda;
  int8_t* c;
  size_t ldc;
  Qs8GemmEpilogue ep;  // offsets applied per tile
  int32_t* acc;
  size_t ldacc;
};

// Panels [p_begin, p_end) x tiles [t_begin, t_end) on this thread.
void RunRange(const GemmCall& call, size_t p_begin, size_t p_end, size_t t_begin, size_t t_end) {
  const Qs8GemmConfig& cfg = *call.config;
  const Qs8PackedWeights& w = *call.w;
  const size_t mr_max = cfg.mr;
  const size_t nr = cfg.nr;
  const size_t kc = w.kc;
  const size_t elem = Qs8PackedAElementSize(cfg.a_kind);
  const size_t panel_bytes = mr_max * kc * elem;
  const size_t block_panels = std::max<size_t>(1, kABlockBytes / std::max<size_t>(panel_bytes, 1));
  const int8_t* packed_w = reinterpret_cast<const int8_t*>(w.packed.get());
  const int32_t* init = call.c != nullptr ? w.gemm_init.data() : w.acc_init.data();
  const bool per_channel = call.ep.per_channel;

  for (size_t b0 = p_begin; b0 < p_end; b0 += block_panels) {
    const size_t b1 = std::min(p_end, b0 + block_panels);
    const size_t row0 = b0 * mr_max;
    const size_t rows = std::min(call.m, b1 * mr_max) - row0;
    auto* a_block = static_cast<uint8_t*>(Scratch(rows * kc * elem));
    Qs8GemmPackA(cfg, call.a + row0 * call.lda, call.lda, rows, w.k, a_block);
    for (size_t t = t_begin; t < t_end; ++t) {
      const size_t n0 = t * nr;
      const size_t nc = std::min(nr, w.n - n0);
      const int8_t* w_tile = packed_w + n0 * kc;
      Qs8GemmEpilogue ep = call.ep;
      if (per_channel) {
        if (ep.scale != nullptr) ep.scale += n0;
        if (ep.multiplier != nullptr) ep.multiplier += n0;
      }
      for (size_t r = 0; r < rows; r += mr_max) {
        const size_t mr = std::min(mr_max, rows - r);
        const uint8_t* a_panel = a_block + r * kc * elem;  // panels before this one are full
        const size_t row = row0 + r;
        if (call.c != nullptr) {
          cfg.gemm(mr, nc, kc, a_panel, w_tile, init + n0, call.c + row * call.ldc + n0,
                   call.ldc, ep);
        } else {
          cfg.accumulate(mr, nc, kc, a_panel, w_tile, init + n0, call.acc + row * call.ldacc + n0,
                         call.ldacc);
        }
      }
    }
  }
}

void Run(const GemmCall& call, ThreadPool* pool) {
  const size_t mr = call.config->mr;
  const size_t nr = call.config->nr;
  const size_t panels = DivideRoundUp(call.m, mr);
  const size_t tiles = DivideRoundUp(call.w->n, nr);
  size_t threads = pool != nullptr ? pool->size() : 1;
  const double macs = static_cast<double>(call.m) * static_cast<double>(call.w->n) *
                      static_cast<double>(std::max<size_t>(call.w->k, 1));
  if (macs < static_cast<double>(kMinParallelMacs)) threads = 1;
  if (threads == 1) {
    RunRange(call, 0, panels, 0, tiles);
    return;
  }
  // A grid of tasks: rows first (no duplicated A packing), columns when rows run short.
  const size_t target = kTasksPerThread * threads;
  const size_t m_chunks = std::min(panels, target);
  const size_t n_chunks = std::min(tiles, DivideRoundUp(target, m_chunks));
  pool->ParallelFor(m_chunks * n_chunks, 1, [&](size_t begin, size_t end) {
    for (size_t task = begin; task < end; ++task) {
      const size_t mi = task / n_chunks;
      const size_t ni = task % n_chunks;
      RunRange(call, mi * panels / m_chunks, (mi + 1) * panels / m_chunks, ni * tiles / n_chunks,
               (ni + 1) * tiles / n_chunks);
    }
  });
}

void CheckRequant(const Qs8Requant& rq, size_t n) {
  const bool fp32 = rq.mode == RequantMode::kFp32;
  const size_t count = fp32 ? rq.scale.size() : rq.multiplier.size();
  if (count != 1 && count != n) {
    throw std::invalid_argument("Qs8Gemm: expected 1 or " + std::to_string(n) +
                                " requantization entries but received " + std::to_string(count));
  }
  if (rq.qmin < -128 || rq.qmax > 127 || rq.qmin > rq.qmax) {
    throw std::invalid_argument("Qs8Gemm: expected -128 <= qmin <= qmax <= 127");
  }
  if (rq.output_zero_point < -128 || rq.output_zero_point > 127) {
    throw std::invalid_argument("Qs8Gemm: expected an output zero point in [-128, 127]");
  }
  for (size_t j = 0; j < count; ++j) {
    if (fp32 && !std::isfinite(rq.scale[j])) {
      throw std::invalid_argument("Qs8Gemm: expected finite scales");
    }
    // QuantizeMultiplier's range; outside it the fixed-point rule is undefined (shifts >= 32)
    // or saturates differently (multiplier INT32_MIN).
    if (!fp32 && (rq.multiplier[j].multiplier < 0 || rq.multiplier[j].shift < -31 ||
                  rq.multiplier[j].shift > 31)) {
      throw std::invalid_argument(
          "Qs8Gemm: expected multipliers >= 0 with shifts in [-31, 31]");
    }
  }
}

}  // namespace

void Qs8Gemm(const Qs8PackedWeights& w, size_t m, const int8_t* a, size_t lda, int8_t* c,
             size_t ldc, const Qs8Requant& requant, ThreadPool* pool) {
  CheckRequant(requant, w.n);
  if (m == 0 || w.n == 0) return;
  if (w.config == nullptr) {
    Qs8GemmReference(m, w.n, w.k, a, lda, w.w.data(), w.bias.empty() ? nullptr : w.bias.data(),
                     w.a_zero_point, requant, c, ldc);
    return;
  }
  GemmCall call{};
  call.w = &w;
  call.config = w.config;
  call.m = m;
  call.a = a;
  call.lda = lda;
  call.c = c;
  call.ldc = ldc;
  call.ep.mode = requant.mode;
  call.ep.per_channel = requant.mode == RequantMode::kFp32 ? requant.scale.size() > 1
                                                           : requant.multiplier.size() > 1;
  call.ep.scale = requant.scale.empty() ? nullptr : requant.scale.data();
  call.ep.multiplier = requant.multiplier.empty() ? nullptr : requant.multiplier.data();
  call.ep.output_zero_point = requant.output_zero_point;
  call.ep.qmin = requant.qmin;
  call.ep.qmax = requant.qmax;
  Run(call, pool);
}

void Qs8GemmAccumulate(const Qs8PackedWeights& w, size_t m, const int8_t* a, size_t lda,
                       int32_t* acc, size_t ldacc, ThreadPool* pool) {
  if (m == 0 || w.n == 0) return;
  if (w.config == nullptr) {
    Qs8GemmAccumulateReference(m, w.n, w.k, a, lda, w.w.data(), acc, ldacc);
    return;
  }
  GemmCall call{};
  call.w = &w;
  call.config = w.config;
  call.m = m;
  call.a = a;
  call.lda = lda;
  call.acc = acc;
  call.ldacc = ldacc;
  Run(call, pool);
}

}  // namespace litequant
