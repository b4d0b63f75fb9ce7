// qs8_igemm_5x16c2__avx2 and qs8_igemm_8x8c2__avx2: the indirect GEMM of qs8_igemm.h.
//
// The inner step is the one of qs8_gemm_5x16c2__avx2: one vpbroadcastd of an int16 pair
// (a[k], a[k+1]) per row, vpmaddwd against the pair's 16 (or 8) columns, vpaddd into int32
// accumulators (exact: no saturation). The pairs come straight from the int16 image at each
// row's tap pointer, and the weights are int16 already (widened once at pack time), so the loop
// has no conversion at all: 5 rows x 16 columns keep 10 accumulators + 2 weight vectors + the
// broadcast + a product in the 16 ymm registers, as the GEMM kernel; the narrow tile (8 columns)
// has room for 8 rows.
#include <immintrin.h>

#include <cstring>

#include "litequant/qs8_igemm.h"
#include "qs8_gemm_epilogue_avx2.h"

namespace litequant {
namespace {

inline __m256i BroadcastPair(const int16_t* p) {
  int32_t pair;
  std::memcpy(&pair, p, sizeof(pair));
  return _mm256_set1_epi32(pair);
}

// The accumulation of one tile. As in the GEMM kernel, the accumulators live in a local array
// indexed only by fully unrolled loops so GCC keeps them in registers.
template <size_t MR, size_t NV>
inline void AccumulateTile(size_t runs, size_t run, const int16_t* const* a,
                           const ptrdiff_t* offsets, const int16_t* w, const int32_t* init,
                           __m256i (&out)[MR][NV]) {
  __m256i acc[MR][NV];
#pragma GCC unroll 8
  for (size_t i = 0; i < MR; ++i) {
#pragma GCC unroll 2
    for (size_t v = 0; v < NV; ++v) {
      acc[i][v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(init + 8 * v));
    }
  }
  for (size_t t = 0; t < runs; ++t) {
    const ptrdiff_t offset = offsets[t];
    const int16_t* p[MR];
#pragma GCC unroll 8
    for (size_t i = 0; i < MR; ++i) p[i] = a[i] + offset;
    for (size_t k = 0; k < run; k += 2) {
      __m256i wv[NV];
#pragma GCC unroll 2
      for (size_t v = 0; v < NV; ++v) {
        wv[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 16 * v));
      }
      w += 16 * NV;
#pragma GCC unroll 8
      for (size_t i = 0; i < MR; ++i) {
        const __m256i ai = BroadcastPair(p[i] + k);
#pragma GCC unroll 2
        for (size_t v = 0; v < NV; ++v) {
          acc[i][v] = _mm256_add_epi32(acc[i][v], _mm256_madd_epi16(ai, wv[v]));
        }
      }
    }
  }
#pragma GCC unroll 8
  for (size_t i = 0; i < MR; ++i) {
#pragma GCC unroll 2
    for (size_t v = 0; v < NV; ++v) out[i][v] = acc[i][v];
  }
}

// Stores the first nc (<= 8) bytes of the 8 int32 values of v (already in int8 range).
inline void StoreInt8x8(int8_t* c, size_t nc, __m256i v) {
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i b = _mm_packs_epi16(w, w);
  if (nc == 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(c), b);
  } else {
    alignas(16) int8_t tmp[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), b);
    std::memcpy(c, tmp, nc);
  }
}

// Not inlined into the row loop: there the epilogue's constants would stay in registers across
// the accumulation and push accumulators to the stack (measured 1.6x slower).
template <size_t MR, typename Epilogue>
__attribute__((noinline)) void WideTile(size_t nc, size_t runs, size_t run, const int16_t* const* a,
                     const ptrdiff_t* offsets, const int16_t* w, const int32_t* init, int8_t* c,
                     size_t ldc, const Epilogue& e) {
  __m256i acc[MR][2];
  AccumulateTile<MR, 2>(runs, run, a, offsets, w, init, acc);
  RequantizeGroup<MR>(acc, e, c, ldc, nc);
}

template <size_t MR, typename Epilogue>
__attribute__((noinline)) void NarrowTile(size_t nc, size_t runs, size_t run, const int16_t* const* a,
                       const ptrdiff_t* offsets, const int16_t* w, const int32_t* init,
                       int8_t* c, size_t ldc, const Epilogue& e) {
  __m256i acc[MR][1];
  AccumulateTile<MR, 1>(runs, run, a, offsets, w, init, acc);
#pragma GCC unroll 8
  for (size_t i = 0; i < MR; ++i) StoreInt8x8(c + i * ldc, nc, e.Apply(acc[i][0], 0));
}

// All m rows of a call, MR at a time, with the epilogue's constants set up once: for the small
// K of first layers and 1x1 convolutions the per-call costs rival the multiply-adds.
template <typename Epilogue>
void WideRows(size_t m, size_t nc, size_t runs, size_t run, const int16_t* const* a,
              const ptrdiff_t* offsets, const int16_t* w, const int32_t* init, int8_t* c,
              size_t ldc, const Epilogue& e) {
  size_t i = 0;
  for (; i + 5 <= m; i += 5) WideTile<5>(nc, runs, run, a + i, offsets, w, init, c + i * ldc, ldc, e);
  c += i * ldc;
  a += i;
  switch (m - i) {
    case 1: return WideTile<1>(nc, runs, run, a, offsets, w, init, c, ldc, e);
    case 2: return WideTile<2>(nc, runs, run, a, offsets, w, init, c, ldc, e);
    case 3: return WideTile<3>(nc, runs, run, a, offsets, w, init, c, ldc, e);
    case 4: return WideTile<4>(nc, runs, run, a, offsets, w, init, c, ldc, e);
    default: return;
  }
}

template <typename Epilogue>
void NarrowRows(size_t m, size_t nc, size_t runs, size_t run, const int16_t* const* a,
                const ptrdiff_t* offsets, const int16_t* w, const int32_t* init, int8_t* c,
                size_t ldc, const Epilogue& e) {
  size_t i = 0;
  for (; i + 8 <= m; i += 8) NarrowTile<8>(nc, runs, run, a + i, offsets, w, init, c + i * ldc, ldc, e);
  c += i * ldc;
  a += i;
  switch (m - i) {
    case 1: return NarrowTile<1>(nc, runs, run, a, offsets, w, init, c, ldc, e);
    case 2: return NarrowTile<2>(nc, runs, run, a, offsets, w, init, c, ldc, e);
    case 3: return NarrowTile<3>(nc, runs, run, a, offsets, w, init, c, ldc, e);
    case 4: return NarrowTile<4>(nc, runs, run, a, offsets, w, init, c, ldc, e);
    case 5: return NarrowTile<5>(nc, runs, run, a, offsets, w, init, c, ldc, e);
    case 6: return NarrowTile<6>(nc, runs, run, a, offsets, w, init, c, ldc, e);
    case 7: return NarrowTile<7>(nc, runs, run, a, offsets, w, init, c, ldc, e);
    default: return;
  }
}

void Wide(size_t m, size_t nc, size_t runs, size_t run, const int16_t* const* a,
          const ptrdiff_t* offsets, const int16_t* w, const int32_t* init, int8_t* c, size_t ldc,
          const Qs8GemmEpilogue& ep) {
  if (ep.mode == RequantMode::kFp32) {
    WideRows(m, nc, runs, run, a, offsets, w, init, c, ldc, Fp32Epilogue(ep, 0, nc));
  } else {
    WideRows(m, nc, runs, run, a, offsets, w, init, c, ldc, FixedPointEpilogue(ep, 0, nc));
  }
}

void Narrow(size_t m, size_t nc, size_t runs, size_t run, const int16_t* const* a,
            const ptrdiff_t* offsets, const int16_t* w, const int32_t* init, int8_t* c,
            size_t ldc, const Qs8GemmEpilogue& ep) {
  if (ep.mode == RequantMode::kFp32) {
    NarrowRows(m, nc, runs, run, a, offsets, w, init, c, ldc, Fp32Epilogue(ep, 0, nc));
  } else {
    NarrowRows(m, nc, runs, run, a, offsets, w, init, c, ldc, FixedPointEpilogue(ep, 0, nc));
  }
}

// 16 int8 -> 16 int16.
inline void Widen16(const int8_t* in, int16_t* out) {
  const __m256i v = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in)));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), v);
}

void Convert(size_t pixels, size_t channels, const int8_t* in, size_t in_stride, int16_t* out) {
  if (in_stride == channels) {  // one contiguous run
    const size_t n = pixels * channels;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) Widen16(in + i, out + i);
    for (; i < n; ++i) out[i] = in[i];
    return;
  }
  for (size_t p = 0; p < pixels; ++p, in += in_stride, out += channels) {
    size_t k = 0;
    for (; k + 16 <= channels; k += 16) Widen16(in + k, out + k);
    for (; k < channels; ++k) out[k] = in[k];
  }
}

}  // namespace

extern const Qs8IgemmConfig kQs8IgemmAvx2 = {
    Path::kAvx2,
    {"qs8_igemm_5x16c2__avx2", 5, 16, Wide},
    {"qs8_igemm_8x8c2__avx2", 8, 8, Narrow},
    Convert};

}  // namespace litequant
