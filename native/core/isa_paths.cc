// Path names, fallback chains, what is built and supported, and the selected path.
#include <atomic>
#include <cstring>

#include "litequant/isa.h"

namespace litequant {
namespace {

constexpr const char* kPathNames[kPathCount] = {"reference", "avx2",       "avxvnni", "avx512",
                                                "avx512vnni", "amx",      "neon",    "neondot"};

// The build defines LITEQUANT_BUILT_<PATH> for every per-ISA target it compiles.
constexpr bool kBuilt[kPathCount] = {
    true,
#ifdef LITEQUANT_BUILT_AVX2
    true,
#else
    false,
#endif
#ifdef LITEQUANT_BUILT_AVXVNNI
    true,
#else
    false,
#endif
#ifdef LITEQUANT_BUILT_AVX512
    true,
#else
    false,
#endif
#ifdef LITEQUANT_BUILT_AVX512VNNI
    true,
#else
    false,
#endif
#ifdef LITEQUANT_BUILT_AMX
    true,
#else
    false,
#endif
#ifdef LITEQUANT_BUILT_NEON
    true,
#else
    false,
#endif
#ifdef LITEQUANT_BUILT_NEONDOT
    true,
#else
    false,
#endif
};

// Preference order when choosing automatically: best first.
constexpr Path kPreference[] = {Path::kAmx,    Path::kAvx512Vnni, Path::kAvx512, Path::kAvxVnni,
                                Path::kAvx2,   Path::kNeonDot,    Path::kNeon,   Path::kReference};

Path BestPath() {
  const CpuFeatures& cpu = DetectCpu();
  for (Path p : kPreference) {
    if (PathBuilt(p) && PathSupported(cpu, p)) return p;
  }
  return Path::kReference;
}

std::atomic<uint32_t>& SelectedSlot() {
  static std::atomic<uint32_t> slot{static_cast<uint32_t>(BestPath())};
  return slot;
}

}  // namespace

const char* PathName(Path path) {
  const auto i = static_cast<uint32_t>(path);
  return i < kPathCount ? kPathNames[i] : "unknown";
}

bool PathFromName(const char* name, Path* path) {
  for (uint32_t i = 0; i < kPathCount; ++i) {
    if (std::strcmp(name, kPathNames[i]) == 0) {
      *path = static_cast<Path>(i);
      return true;
    }
  }
  return false;
}

Path FallbackPath(Path path) {
  switch (path) {
    case Path::kAmx: return Path::kAvx512Vnni;
    case Path::kAvx512Vnni: return Path::kAvx512;
    case Path::kAvx512: return Path::kAvx2;
    case Path::kAvxVnni: return Path::kAvx2;
    case Path::kNeonDot: return Path::kNeon;
    default: return Path::kReference;
  }
}

bool PathSupported(const CpuFeatures& cpu, Path path) {
  const bool avx2 = cpu.avx2 && cpu.fma && cpu.f16c;
  const bool avx512 = avx2 && cpu.avx512f && cpu.avx512bw && cpu.avx512vl && cpu.avx512dq;
  switch (path) {
    case Path::kReference: return true;
    case Path::kAvx2: return avx2;
    case Path::kAvxVnni: return avx2 && cpu.avxvnni;
    case Path::kAvx512: return avx512;
    case Path::kAvx512Vnni: return avx512 && cpu.avx512vnni;
    case Path::kAmx: return avx512 && cpu.avx512vnni && cpu.amx_int8 && cpu.amx_permitted;
    case Path::kNeon: return cpu.neon;
    case Path::kNeonDot: return cpu.neon && cpu.neon_dot;
    default: return false;
  }
}

bool PathBuilt(Path path) {
  const auto i = static_cast<uint32_t>(path);
  return i < kPathCount && kBuilt[i];
}

Path SelectedPath() { return static_cast<Path>(SelectedSlot().load(std::memory_order_relaxed)); }

bool SelectPath(Path path, const char** why) {
  if (!PathBuilt(path)) {
    *why = "this binary was built without kernels for that path";
    return false;
  }
  if (!PathSupported(DetectCpu(), path)) {
    *why = "this CPU (or the operating system) does not support that path";
    return false;
  }
  SelectedSlot().store(static_cast<uint32_t>(path), std::memory_order_relaxed);
  return true;
}

}  // namespace litequant
