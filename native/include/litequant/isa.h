// Instruction-set paths and CPU features.
//
// A path is a set of kernels compiled with one ISA's flags. Paths form fallback
// chains: a kernel family without an implementation for the selected path uses
// the best path below it in the chain (amx -> avx512vnni -> avx512 -> avx2 ->
// reference; avxvnni -> avx2; neondot -> neon -> reference).
#pragma once

#include <cstdint>

namespace litequant {

enum class Path : uint32_t {
  kReference = 0,
  kAvx2,        // AVX2 + FMA + F16C
  kAvxVnni,     // kAvx2 + AVX-VNNI (VEX-encoded dot products on 256-bit registers)
  kAvx512,      // AVX-512 F/BW/VL/DQ
  kAvx512Vnni,  // kAvx512 + AVX512_VNNI
  kAmx,         // kAvx512Vnni + AMX-TILE/AMX-INT8 with Linux permission granted
  kNeon,        // AArch64 Advanced SIMD
  kNeonDot,     // kNeon + SDOT/UDOT
  kCount
};

constexpr uint32_t kPathCount = static_cast<uint32_t>(Path::kCount);

// Name used by LITEQUANT_ISA and capabilities(): "reference", "avx2", ...
const char* PathName(Path path);
// Returns false when `name` is not a known path name.
bool PathFromName(const char* name, Path* path);
// The next path to try when a kernel family lacks `path`; kReference maps to itself.
Path FallbackPath(Path path);

// Features read from the CPU, already combined with the OS check that the
// register state is saved on context switch (XGETBV) where that applies.
struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vnni = false;
  bool avxvnni = false;
  bool amx_tile = false;
  bool amx_int8 = false;
  bool amx_permitted = false;  // Linux granted XTILEDATA to this process
  bool neon = false;
  bool neon_dot = false;
  char brand[64] = {0};
};

// Detected once per process (thread-safe); AMX permission is requested then.
const CpuFeatures& DetectCpu();

// Whether this CPU can run `path` (regardless of whether it was built).
bool PathSupported(const CpuFeatures& cpu, Path path);
// Whether this binary contains kernels for `path`.
bool PathBuilt(Path path);

// The path kernels dispatch on. Starts as the best built and supported path.
Path SelectedPath();
// Forces a path. Returns false (and changes nothing) when it is not built or
// not supported; `why` then names the reason.
bool SelectPath(Path path, const char** why);

}  // namespace litequant
