// CPU feature detection: CPUID + XGETBV on x86 (the OS must save the vector
// state before a feature counts), getauxval on AArch64.
#include <cstring>

#include "litequant/isa.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#elif defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace litequant {
namespace {

#if defined(__x86_64__) || defined(_M_X64)

struct CpuidRegs {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs Cpuid(unsigned leaf, unsigned subleaf) {
  CpuidRegs r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

uint64_t Xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool Bit(unsigned reg, int bit) { return (reg >> bit) & 1u; }

// Linux keeps AMX tile data disabled until a process asks for it.
bool RequestAmxPermission() {
#if defined(__linux__)
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

CpuFeatures Detect() {
  CpuFeatures f;
  const unsigned max_leaf = Cpuid(0, 0).eax;
  if (max_leaf < 1) return f;
  const CpuidRegs l1 = Cpuid(1, 0);
  const bool osxsave = Bit(l1.ecx, 27);
  const uint64_t xcr0 = osxsave ? Xgetbv0() : 0;
  const bool ymm_state = (xcr0 & 0x6) == 0x6;            // SSE + AVX state
  const bool zmm_state = ymm_state && (xcr0 & 0xE0) == 0xE0;  // opmask + ZMM_Hi256 + Hi16_ZMM
  const bool tile_state = (xcr0 & 0x60000) == 0x60000;   // XTILECFG + XTILEDATA

  const CpuidRegs l7 = max_leaf >= 7 ? Cpuid(7, 0) : CpuidRegs{};
  const CpuidRegs l7s1 = (max_leaf >= 7 && l7.eax >= 1) ? Cpuid(7, 1) : CpuidRegs{};

  f.fma = ymm_state && Bit(l1.ecx, 12);
  f.f16c = ymm_state && Bit(l1.ecx, 29);
  f.avx2 = ymm_state && Bit(l1.ecx, 28) && Bit(l7.ebx, 5);
  f.avxvnni = f.avx2 && Bit(l7s1.eax, 4);
  f.avx512f = zmm_state && Bit(l7.ebx, 16);
  f.avx512dq = f.avx512f && Bit(l7.ebx, 17);
  f.avx512bw = f.avx512f && Bit(l7.ebx, 30);
  f.avx512vl = f.avx512f && Bit(l7.ebx, 31);
  f.avx512vnni = f.avx512f && Bit(l7.ecx, 11);
  f.amx_tile = tile_state && Bit(l7.edx, 24);
  f.amx_int8 = tile_state && Bit(l7.edx, 25);
  f.amx_permitted = f.amx_tile && f.amx_int8 && RequestAmxPermission();

  if (Cpuid(0x80000000u, 0).eax >= 0x80000004u) {
    unsigned words[12];
    for (unsigned i = 0; i < 3; ++i) {
      const CpuidRegs r = Cpuid(0x80000002u + i, 0);
      words[4 * i] = r.eax;
      words[4 * i + 1] = r.ebx;
      words[4 * i + 2] = r.ecx;
      words[4 * i + 3] = r.edx;
    }
    std::memcpy(f.brand, words, sizeof(words));
    f.brand[sizeof(words)] = '\0';
  }
  return f;
}

#elif defined(__aarch64__)

CpuFeatures Detect() {
  CpuFeatures f;
  f.neon = true;  // Advanced SIMD is mandatory on AArch64
#if defined(__linux__)
  f.neon_dot = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
  std::strncpy(f.brand, "aarch64", sizeof(f.brand) - 1);
  return f;
}

#else

CpuFeatures Detect() { return CpuFeatures{}; }

#endif

}  // namespace

const CpuFeatures& DetectCpu() {
  static const CpuFeatures features = Detect();  // thread-safe static init
  return features;
}

}  // namespace litequant
