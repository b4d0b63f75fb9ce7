// The machine's measured peak for the instruction sequences our kernels' inner loops run, per
// path that is built and supported here, so benchmark results read as "% of peak" from the same
// run. Each microbenchmark keeps enough independent accumulator chains in flight to hide the
// instruction's latency, so only the execution ports limit it.
//
//   peak_bench [--threads N] [--path NAME] [--kind int8|f32|u8s8_sat16] [--min-time SECONDS]
//
// Prints one JSON object per line on stdout:
//   {"family":"peak","kind":"int8","path":"avx2","instruction":"vpmaddwd","register":"ymm",
//    "threads":1,"ops":...,"seconds":...,"gops":...}
// ops counts 2 per multiply-accumulate (int8 MAC or float FMA); "seconds" is the longest thread
// CPU time of the best run (so another process sharing the core does not lower "gops"), and
// "wall_seconds"/"wall_gops" the same run's wall time. Skipped paths are named on stderr.
// kind "u8s8_sat16" is informational: the saturating sequence other libraries use without VNNI
// (explains a peer above our int8 peak); it is not what "% of peak" compares with.
//
// The loops are inline assembly: compiled with intrinsics, the compiler would hoist a multiply of
// loop-invariant inputs out of the loop. Assembly also needs no ISA flags on this target (only
// the kernel targets get them); a path runs only after the CPU check says it can.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <time.h>
#include <vector>

#include "litequant/isa.h"

using namespace litequant;

namespace {

// One microbenchmark: `run(iters, sink)` executes `iters` loop iterations of `ops_per_iter`
// operations and stores a reduction of its accumulators to sink (64 bytes) so they stay live.
struct PeakKernel {
  const char* kind;         // "int8", "f32" or "u8s8_sat16"
  Path path;
  const char* instruction;  // the instruction that does the multiplies
  const char* reg;          // register width
  double ops_per_iter;
  void (*run)(uint64_t iters, void* sink);
};

#define LQ_STR2(x) #x
#define LQ_STR(x) LQ_STR2(x)

#if defined(__x86_64__)

// ---- AVX2: int8 as the AVX2 GEMM runs it after widening to int16 (vpmovsxbw happens once per
// loaded vector, outside this steady state): vpmaddwd into a temporary, vpaddd into one of 10
// accumulators. 16 int16 MACs per vpmaddwd ymm.
#define LQ_MADDWD_Y(t, acc)                                   \
  "vpmaddwd %%ymm1, %%ymm0, %%ymm" LQ_STR(t) "\n\t"            \
  "vpaddd %%ymm" LQ_STR(t) ", %%ymm" LQ_STR(acc) ", %%ymm" LQ_STR(acc) "\n\t"

void Int8MaddwdYmm(uint64_t iters, void* sink) {
  __asm__ volatile(
      "vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
      "vpabsw %%ymm0, %%ymm1\n\t"
      "vpxor %%ymm2, %%ymm2, %%ymm2\n\t"
      "vmovdqa %%ymm2, %%ymm3\n\t"
      "vmovdqa %%ymm2, %%ymm4\n\t"
      "vmovdqa %%ymm2, %%ymm5\n\t"
      "vmovdqa %%ymm2, %%ymm6\n\t"
      "vmovdqa %%ymm2, %%ymm7\n\t"
      "vmovdqa %%ymm2, %%ymm8\n\t"
      "vmovdqa %%ymm2, %%ymm9\n\t"
      "vmovdqa %%ymm2, %%ymm10\n\t"
      "vmovdqa %%ymm2, %%ymm11\n\t"
      "1:\n\t"
      LQ_MADDWD_Y(12, 2) LQ_MADDWD_Y(13, 3) LQ_MADDWD_Y(14, 4) LQ_MADDWD_Y(15, 5)
      LQ_MADDWD_Y(12, 6) LQ_MADDWD_Y(13, 7) LQ_MADDWD_Y(14, 8) LQ_MADDWD_Y(15, 9)
      LQ_MADDWD_Y(12, 10) LQ_MADDWD_Y(13, 11)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vpaddd %%ymm3, %%ymm2, %%ymm2\n\t"
      "vpaddd %%ymm5, %%ymm4, %%ymm4\n\t"
      "vpaddd %%ymm7, %%ymm6, %%ymm6\n\t"
      "vpaddd %%ymm9, %%ymm8, %%ymm8\n\t"
      "vpaddd %%ymm11, %%ymm10, %%ymm10\n\t"
      "vpaddd %%ymm4, %%ymm2, %%ymm2\n\t"
      "vpaddd %%ymm8, %%ymm6, %%ymm6\n\t"
      "vpaddd %%ymm10, %%ymm6, %%ymm6\n\t"
      "vpaddd %%ymm6, %%ymm2, %%ymm2\n\t"
      "vmovdqu %%ymm2, (%[out])\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters)
      : [out] "r"(sink)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

// ---- For reading peers' numbers only (not a "% of peak" reference): the sequence int8 libraries
// without VNNI use, vpmaddubsw (u8 x s8 pairs summed with int16 saturation, 32 MACs) + vpmaddwd
// by ones + vpaddd. Our kernels avoid it because the int16 saturation changes results.
#define LQ_MADDUBSW_Y(t, acc)                                 \
  "vpmaddubsw %%ymm1, %%ymm0, %%ymm" LQ_STR(t) "\n\t"          \
  "vpmaddwd %%ymm15, %%ymm" LQ_STR(t) ", %%ymm" LQ_STR(t) "\n\t" \
  "vpaddd %%ymm" LQ_STR(t) ", %%ymm" LQ_STR(acc) ", %%ymm" LQ_STR(acc) "\n\t"

void U8S8MaddubswYmm(uint64_t iters, void* sink) {
  __asm__ volatile(
      "vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
      "vpabsb %%ymm0, %%ymm1\n\t"
      "vpabsw %%ymm0, %%ymm15\n\t"
      "vpxor %%ymm2, %%ymm2, %%ymm2\n\t"
      "vmovdqa %%ymm2, %%ymm3\n\t"
      "vmovdqa %%ymm2, %%ymm4\n\t"
      "vmovdqa %%ymm2, %%ymm5\n\t"
      "vmovdqa %%ymm2, %%ymm6\n\t"
      "vmovdqa %%ymm2, %%ymm7\n\t"
      "vmovdqa %%ymm2, %%ymm8\n\t"
      "vmovdqa %%ymm2, %%ymm9\n\t"
      "1:\n\t"
      LQ_MADDUBSW_Y(10, 2) LQ_MADDUBSW_Y(11, 3) LQ_MADDUBSW_Y(12, 4) LQ_MADDUBSW_Y(13, 5)
      LQ_MADDUBSW_Y(10, 6) LQ_MADDUBSW_Y(11, 7) LQ_MADDUBSW_Y(12, 8) LQ_MADDUBSW_Y(13, 9)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vpaddd %%ymm3, %%ymm2, %%ymm2\n\t"
      "vpaddd %%ymm5, %%ymm4, %%ymm4\n\t"
      "vpaddd %%ymm7, %%ymm6, %%ymm6\n\t"
      "vpaddd %%ymm9, %%ymm8, %%ymm8\n\t"
      "vpaddd %%ymm4, %%ymm2, %%ymm2\n\t"
      "vpaddd %%ymm8, %%ymm6, %%ymm6\n\t"
      "vpaddd %%ymm6, %%ymm2, %%ymm2\n\t"
      "vmovdqu %%ymm2, (%[out])\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters)
      : [out] "r"(sink)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm15");
}

// ---- AVX-512 without VNNI: the same pair on zmm (32 MACs per vpmaddwd).
#define LQ_MADDWD_Z(t, acc)                                   \
  "vpmaddwd %%zmm1, %%zmm0, %%zmm" LQ_STR(t) "\n\t"            \
  "vpaddd %%zmm" LQ_STR(t) ", %%zmm" LQ_STR(acc) ", %%zmm" LQ_STR(acc) "\n\t"

void Int8MaddwdZmm(uint64_t iters, void* sink) {
  __asm__ volatile(
      "vpternlogd $0xff, %%zmm0, %%zmm0, %%zmm0\n\t"
      "vpabsw %%zmm0, %%zmm1\n\t"
      "vpxord %%zmm2, %%zmm2, %%zmm2\n\t"
      "vmovdqa64 %%zmm2, %%zmm3\n\t"
      "vmovdqa64 %%zmm2, %%zmm4\n\t"
      "vmovdqa64 %%zmm2, %%zmm5\n\t"
      "vmovdqa64 %%zmm2, %%zmm6\n\t"
      "vmovdqa64 %%zmm2, %%zmm7\n\t"
      "vmovdqa64 %%zmm2, %%zmm8\n\t"
      "vmovdqa64 %%zmm2, %%zmm9\n\t"
      "vmovdqa64 %%zmm2, %%zmm10\n\t"
      "vmovdqa64 %%zmm2, %%zmm11\n\t"
      "1:\n\t"
      LQ_MADDWD_Z(12, 2) LQ_MADDWD_Z(13, 3) LQ_MADDWD_Z(14, 4) LQ_MADDWD_Z(15, 5)
      LQ_MADDWD_Z(12, 6) LQ_MADDWD_Z(13, 7) LQ_MADDWD_Z(14, 8) LQ_MADDWD_Z(15, 9)
      LQ_MADDWD_Z(12, 10) LQ_MADDWD_Z(13, 11)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vpaddd %%zmm3, %%zmm2, %%zmm2\n\t"
      "vpaddd %%zmm5, %%zmm4, %%zmm4\n\t"
      "vpaddd %%zmm7, %%zmm6, %%zmm6\n\t"
      "vpaddd %%zmm9, %%zmm8, %%zmm8\n\t"
      "vpaddd %%zmm11, %%zmm10, %%zmm10\n\t"
      "vpaddd %%zmm4, %%zmm2, %%zmm2\n\t"
      "vpaddd %%zmm8, %%zmm6, %%zmm6\n\t"
      "vpaddd %%zmm10, %%zmm6, %%zmm6\n\t"
      "vpaddd %%zmm6, %%zmm2, %%zmm2\n\t"
      "vmovdqu32 %%zmm2, (%[out])\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters)
      : [out] "r"(sink)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

// ---- VNNI: vpdpbusd accumulates u8 x s8 dot products of 4 in place, 12 chains (its latency is
// ~5 cycles at up to 2 per cycle). {vex} (written %{vex%} in extended asm) selects the AVX-VNNI encoding; without it the
// assembler would emit the EVEX (AVX512_VNNI + VL) form, which AVX-VNNI-only CPUs lack.
#define LQ_DPBUSD_VEX(acc) "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm" LQ_STR(acc) "\n\t"
#define LQ_DPBUSD_Z(acc) "vpdpbusd %%zmm1, %%zmm0, %%zmm" LQ_STR(acc) "\n\t"

void Int8DpbusdYmm(uint64_t iters, void* sink) {
  __asm__ volatile(
      "vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
      "vpabsb %%ymm0, %%ymm1\n\t"
      "vpxor %%ymm2, %%ymm2, %%ymm2\n\t"
      "vmovdqa %%ymm2, %%ymm3\n\t"
      "vmovdqa %%ymm2, %%ymm4\n\t"
      "vmovdqa %%ymm2, %%ymm5\n\t"
      "vmovdqa %%ymm2, %%ymm6\n\t"
      "vmovdqa %%ymm2, %%ymm7\n\t"
      "vmovdqa %%ymm2, %%ymm8\n\t"
      "vmovdqa %%ymm2, %%ymm9\n\t"
      "vmovdqa %%ymm2, %%ymm10\n\t"
      "vmovdqa %%ymm2, %%ymm11\n\t"
      "vmovdqa %%ymm2, %%ymm12\n\t"
      "vmovdqa %%ymm2, %%ymm13\n\t"
      "1:\n\t"
      LQ_DPBUSD_VEX(2) LQ_DPBUSD_VEX(3) LQ_DPBUSD_VEX(4) LQ_DPBUSD_VEX(5) LQ_DPBUSD_VEX(6)
      LQ_DPBUSD_VEX(7) LQ_DPBUSD_VEX(8) LQ_DPBUSD_VEX(9) LQ_DPBUSD_VEX(10) LQ_DPBUSD_VEX(11)
      LQ_DPBUSD_VEX(12) LQ_DPBUSD_VEX(13)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vpaddd %%ymm3, %%ymm2, %%ymm2\n\t"
      "vpaddd %%ymm5, %%ymm4, %%ymm4\n\t"
      "vpaddd %%ymm7, %%ymm6, %%ymm6\n\t"
      "vpaddd %%ymm9, %%ymm8, %%ymm8\n\t"
      "vpaddd %%ymm11, %%ymm10, %%ymm10\n\t"
      "vpaddd %%ymm13, %%ymm12, %%ymm12\n\t"
      "vpaddd %%ymm4, %%ymm2, %%ymm2\n\t"
      "vpaddd %%ymm8, %%ymm6, %%ymm6\n\t"
      "vpaddd %%ymm12, %%ymm10, %%ymm10\n\t"
      "vpaddd %%ymm6, %%ymm2, %%ymm2\n\t"
      "vpaddd %%ymm10, %%ymm2, %%ymm2\n\t"
      "vmovdqu %%ymm2, (%[out])\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters)
      : [out] "r"(sink)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13");
}

void Int8DpbusdZmm(uint64_t iters, void* sink) {
  __asm__ volatile(
      "vpternlogd $0xff, %%zmm0, %%zmm0, %%zmm0\n\t"
      "vpabsb %%zmm0, %%zmm1\n\t"
      "vpxord %%zmm2, %%zmm2, %%zmm2\n\t"
      "vmovdqa64 %%zmm2, %%zmm3\n\t"
      "vmovdqa64 %%zmm2, %%zmm4\n\t"
      "vmovdqa64 %%zmm2, %%zmm5\n\t"
      "vmovdqa64 %%zmm2, %%zmm6\n\t"
      "vmovdqa64 %%zmm2, %%zmm7\n\t"
      "vmovdqa64 %%zmm2, %%zmm8\n\t"
      "vmovdqa64 %%zmm2, %%zmm9\n\t"
      "vmovdqa64 %%zmm2, %%zmm10\n\t"
      "vmovdqa64 %%zmm2, %%zmm11\n\t"
      "vmovdqa64 %%zmm2, %%zmm12\n\t"
      "vmovdqa64 %%zmm2, %%zmm13\n\t"
      "1:\n\t"
      LQ_DPBUSD_Z(2) LQ_DPBUSD_Z(3) LQ_DPBUSD_Z(4) LQ_DPBUSD_Z(5) LQ_DPBUSD_Z(6) LQ_DPBUSD_Z(7)
      LQ_DPBUSD_Z(8) LQ_DPBUSD_Z(9) LQ_DPBUSD_Z(10) LQ_DPBUSD_Z(11) LQ_DPBUSD_Z(12)
      LQ_DPBUSD_Z(13)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vpaddd %%zmm3, %%zmm2, %%zmm2\n\t"
      "vpaddd %%zmm5, %%zmm4, %%zmm4\n\t"
      "vpaddd %%zmm7, %%zmm6, %%zmm6\n\t"
      "vpaddd %%zmm9, %%zmm8, %%zmm8\n\t"
      "vpaddd %%zmm11, %%zmm10, %%zmm10\n\t"
      "vpaddd %%zmm13, %%zmm12, %%zmm12\n\t"
      "vpaddd %%zmm4, %%zmm2, %%zmm2\n\t"
      "vpaddd %%zmm8, %%zmm6, %%zmm6\n\t"
      "vpaddd %%zmm12, %%zmm10, %%zmm10\n\t"
      "vpaddd %%zmm6, %%zmm2, %%zmm2\n\t"
      "vpaddd %%zmm10, %%zmm2, %%zmm2\n\t"
      "vmovdqu32 %%zmm2, (%[out])\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters)
      : [out] "r"(sink)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13");
}

// ---- float32 FMA, 12 chains (latency 4-5 cycles, 2 per cycle). Inputs 1.0 and 0.0 keep the
// accumulators finite and exact (no denormal or overflow slow paths).
#define LQ_FMA_Y(acc) "vfmadd231ps %%ymm1, %%ymm0, %%ymm" LQ_STR(acc) "\n\t"
#define LQ_FMA_Z(acc) "vfmadd231ps %%zmm1, %%zmm0, %%zmm" LQ_STR(acc) "\n\t"

void F32FmaYmm(uint64_t iters, void* sink) {
  __asm__ volatile(
      "vxorps %%ymm1, %%ymm1, %%ymm1\n\t"
      "vcmpeqps %%ymm1, %%ymm1, %%ymm0\n\t"
      "vpsrld $25, %%ymm0, %%ymm0\n\t"
      "vpslld $23, %%ymm0, %%ymm0\n\t"  // 0x3f800000 = 1.0f
      "vxorps %%ymm2, %%ymm2, %%ymm2\n\t"
      "vmovaps %%ymm2, %%ymm3\n\t"
      "vmovaps %%ymm2, %%ymm4\n\t"
      "vmovaps %%ymm2, %%ymm5\n\t"
      "vmovaps %%ymm2, %%ymm6\n\t"
      "vmovaps %%ymm2, %%ymm7\n\t"
      "vmovaps %%ymm2, %%ymm8\n\t"
      "vmovaps %%ymm2, %%ymm9\n\t"
      "vmovaps %%ymm2, %%ymm10\n\t"
      "vmovaps %%ymm2, %%ymm11\n\t"
      "vmovaps %%ymm2, %%ymm12\n\t"
      "vmovaps %%ymm2, %%ymm13\n\t"
      "1:\n\t"
      LQ_FMA_Y(2) LQ_FMA_Y(3) LQ_FMA_Y(4) LQ_FMA_Y(5) LQ_FMA_Y(6) LQ_FMA_Y(7) LQ_FMA_Y(8)
      LQ_FMA_Y(9) LQ_FMA_Y(10) LQ_FMA_Y(11) LQ_FMA_Y(12) LQ_FMA_Y(13)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vaddps %%ymm3, %%ymm2, %%ymm2\n\t"
      "vaddps %%ymm13, %%ymm12, %%ymm12\n\t"
      "vaddps %%ymm12, %%ymm2, %%ymm2\n\t"
      "vmovups %%ymm2, (%[out])\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters)
      : [out] "r"(sink)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13");
}

void F32FmaZmm(uint64_t iters, void* sink) {
  __asm__ volatile(
      "vpxord %%zmm1, %%zmm1, %%zmm1\n\t"
      "vpternlogd $0xff, %%zmm0, %%zmm0, %%zmm0\n\t"
      "vpsrld $25, %%zmm0, %%zmm0\n\t"
      "vpslld $23, %%zmm0, %%zmm0\n\t"  // 1.0f
      "vpxord %%zmm2, %%zmm2, %%zmm2\n\t"
      "vmovaps %%zmm2, %%zmm3\n\t"
      "vmovaps %%zmm2, %%zmm4\n\t"
      "vmovaps %%zmm2, %%zmm5\n\t"
      "vmovaps %%zmm2, %%zmm6\n\t"
      "vmovaps %%zmm2, %%zmm7\n\t"
      "vmovaps %%zmm2, %%zmm8\n\t"
      "vmovaps %%zmm2, %%zmm9\n\t"
      "vmovaps %%zmm2, %%zmm10\n\t"
      "vmovaps %%zmm2, %%zmm11\n\t"
      "vmovaps %%zmm2, %%zmm12\n\t"
      "vmovaps %%zmm2, %%zmm13\n\t"
      "1:\n\t"
      LQ_FMA_Z(2) LQ_FMA_Z(3) LQ_FMA_Z(4) LQ_FMA_Z(5) LQ_FMA_Z(6) LQ_FMA_Z(7) LQ_FMA_Z(8)
      LQ_FMA_Z(9) LQ_FMA_Z(10) LQ_FMA_Z(11) LQ_FMA_Z(12) LQ_FMA_Z(13)
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      "vaddps %%zmm3, %%zmm2, %%zmm2\n\t"
      "vaddps %%zmm13, %%zmm12, %%zmm12\n\t"
      "vaddps %%zmm12, %%zmm2, %%zmm2\n\t"
      "vmovups %%zmm2, (%[out])\n\t"
      "vzeroupper\n\t"
      : [n] "+r"(iters)
      : [out] "r"(sink)
      : "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13");
}

// MACs per instruction: vpmaddwd ymm 16, zmm 32; vpdpbusd ymm 32, zmm 64; FMA ymm 8, zmm 16.
const PeakKernel kKernels[] = {
    {"int8", Path::kAvx2, "vpmaddwd", "ymm", 2.0 * 16 * 10, Int8MaddwdYmm},
    {"f32", Path::kAvx2, "vfmadd231ps", "ymm", 2.0 * 8 * 12, F32FmaYmm},
    {"int8", Path::kAvxVnni, "vpdpbusd", "ymm", 2.0 * 32 * 12, Int8DpbusdYmm},
    {"int8", Path::kAvx512, "vpmaddwd", "zmm", 2.0 * 32 * 10, Int8MaddwdZmm},
    {"f32", Path::kAvx512, "vfmadd231ps", "zmm", 2.0 * 16 * 12, F32FmaZmm},
    {"int8", Path::kAvx512Vnni, "vpdpbusd", "zmm", 2.0 * 64 * 12, Int8DpbusdZmm},
    {"u8s8_sat16", Path::kAvx2, "vpmaddubsw", "ymm", 2.0 * 32 * 8, U8S8MaddubswYmm},
};

#elif defined(__aarch64__)

// ---- NEON int8 as the NEON GEMM runs it: smull + smlal2 widen 16 byte products to int16 (two
// products per lane cannot overflow int16 with weights in [-127, 127]), sadalp adds pairs into
// int32 accumulators. 16 MACs per group, 8 independent groups.
#define LQ_SMULL_GROUP(t, acc)                                     \
  "smull v" LQ_STR(t) ".8h, v0.8b, v1.8b\n\t"                       \
  "smlal2 v" LQ_STR(t) ".8h, v0.16b, v1.16b\n\t"                    \
  "sadalp v" LQ_STR(acc) ".4s, v" LQ_STR(t) ".8h\n\t"

void Int8SmlalNeon(uint64_t iters, void* sink) {
  __asm__ volatile(
      "movi v0.16b, #3\n\t"
      "movi v1.16b, #5\n\t"
      "movi v16.4s, #0\n\t"
      "movi v17.4s, #0\n\t"
      "movi v18.4s, #0\n\t"
      "movi v19.4s, #0\n\t"
      "movi v20.4s, #0\n\t"
      "movi v21.4s, #0\n\t"
      "movi v22.4s, #0\n\t"
      "movi v23.4s, #0\n\t"
      "1:\n\t"
      LQ_SMULL_GROUP(2, 16) LQ_SMULL_GROUP(3, 17) LQ_SMULL_GROUP(4, 18) LQ_SMULL_GROUP(5, 19)
      LQ_SMULL_GROUP(6, 20) LQ_SMULL_GROUP(7, 21) LQ_SMULL_GROUP(24, 22) LQ_SMULL_GROUP(25, 23)
      "subs %x[n], %x[n], #1\n\t"
      "b.ne 1b\n\t"
      "add v16.4s, v16.4s, v17.4s\n\t"
      "add v18.4s, v18.4s, v19.4s\n\t"
      "add v20.4s, v20.4s, v21.4s\n\t"
      "add v22.4s, v22.4s, v23.4s\n\t"
      "add v16.4s, v16.4s, v18.4s\n\t"
      "add v20.4s, v20.4s, v22.4s\n\t"
      "add v16.4s, v16.4s, v20.4s\n\t"
      "str q16, [%[out]]\n\t"
      : [n] "+r"(iters)
      : [out] "r"(sink)
      : "cc", "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17", "v18",
        "v19", "v20", "v21", "v22", "v23", "v24", "v25");
}

// ---- NEON dot product: sdot adds 4 byte products into each int32 lane (16 MACs), 16 chains.
#define LQ_SDOT(acc) "sdot v" LQ_STR(acc) ".4s, v0.16b, v1.16b\n\t"
// ---- float32: fmla on 4 lanes, 16 chains.
#define LQ_FMLA(acc) "fmla v" LQ_STR(acc) ".4s, v0.4s, v1.4s\n\t"

#define LQ_ZERO_V16_TO_V31                                                                    \
  "movi v16.4s, #0\n\tmovi v17.4s, #0\n\tmovi v18.4s, #0\n\tmovi v19.4s, #0\n\t"              \
  "movi v20.4s, #0\n\tmovi v21.4s, #0\n\tmovi v22.4s, #0\n\tmovi v23.4s, #0\n\t"              \
  "movi v24.4s, #0\n\tmovi v25.4s, #0\n\tmovi v26.4s, #0\n\tmovi v27.4s, #0\n\t"              \
  "movi v28.4s, #0\n\tmovi v29.4s, #0\n\tmovi v30.4s, #0\n\tmovi v31.4s, #0\n\t"

#define LQ_SUM_V16_TO_V31(op)                                                                  \
  op " v16.4s, v16.4s, v17.4s\n\t" op " v18.4s, v18.4s, v19.4s\n\t"                            \
  op " v20.4s, v20.4s, v21.4s\n\t" op " v22.4s, v22.4s, v23.4s\n\t"                            \
  op " v24.4s, v24.4s, v25.4s\n\t" op " v26.4s, v26.4s, v27.4s\n\t"                            \
  op " v28.4s, v28.4s, v29.4s\n\t" op " v30.4s, v30.4s, v31.4s\n\t"                            \
  op " v16.4s, v16.4s, v18.4s\n\t" op " v20.4s, v20.4s, v22.4s\n\t"                            \
  op " v24.4s, v24.4s, v26.4s\n\t" op " v28.4s, v28.4s, v30.4s\n\t"                            \
  op " v16.4s, v16.4s, v20.4s\n\t" op " v24.4s, v24.4s, v28.4s\n\t"                            \
  op " v16.4s, v16.4s, v24.4s\n\t"

#define LQ_V16_TO_V31_CLOBBERS                                                                 \
  "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28",   \
      "v29", "v30", "v31"

void Int8SdotNeon(uint64_t iters, void* sink) {
  // This target is built for armv8-a, whose assembler rejects sdot: allow it for this block only
  // (GNU as accepts dotprod from armv8.2-a), then restore the target's architecture.
  __asm__ volatile(
      ".arch armv8.2-a+dotprod\n\t"
      "movi v0.16b, #3\n\t"
      "movi v1.16b, #5\n\t"
      LQ_ZERO_V16_TO_V31
      "1:\n\t"
      LQ_SDOT(16) LQ_SDOT(17) LQ_SDOT(18) LQ_SDOT(19) LQ_SDOT(20) LQ_SDOT(21) LQ_SDOT(22)
      LQ_SDOT(23) LQ_SDOT(24) LQ_SDOT(25) LQ_SDOT(26) LQ_SDOT(27) LQ_SDOT(28) LQ_SDOT(29)
      LQ_SDOT(30) LQ_SDOT(31)
      "subs %x[n], %x[n], #1\n\t"
      "b.ne 1b\n\t"
      LQ_SUM_V16_TO_V31("add")
      "str q16, [%[out]]\n\t"
      ".arch armv8-a\n\t"
      : [n] "+r"(iters)
      : [out] "r"(sink)
      : "cc", "memory", "v0", "v1", LQ_V16_TO_V31_CLOBBERS);
}

void F32FmlaNeon(uint64_t iters, void* sink) {
  __asm__ volatile(
      "fmov v0.4s, #1.0\n\t"
      "movi v1.4s, #0\n\t"
      LQ_ZERO_V16_TO_V31
      "1:\n\t"
      LQ_FMLA(16) LQ_FMLA(17) LQ_FMLA(18) LQ_FMLA(19) LQ_FMLA(20) LQ_FMLA(21) LQ_FMLA(22)
      LQ_FMLA(23) LQ_FMLA(24) LQ_FMLA(25) LQ_FMLA(26) LQ_FMLA(27) LQ_FMLA(28) LQ_FMLA(29)
      LQ_FMLA(30) LQ_FMLA(31)
      "subs %x[n], %x[n], #1\n\t"
      "b.ne 1b\n\t"
      LQ_SUM_V16_TO_V31("fadd")
      "str q16, [%[out]]\n\t"
      : [n] "+r"(iters)
      : [out] "r"(sink)
      : "cc", "memory", "v0", "v1", LQ_V16_TO_V31_CLOBBERS);
}

const PeakKernel kKernels[] = {
    {"int8", Path::kNeon, "smull+smlal2+sadalp", "q", 2.0 * 16 * 8, Int8SmlalNeon},
    {"f32", Path::kNeon, "fmla", "q", 2.0 * 4 * 16, F32FmlaNeon},
    {"int8", Path::kNeonDot, "sdot", "q", 2.0 * 16 * 16, Int8SdotNeon},
};

#endif  // other architectures: no peak microbenchmarks

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU time of the calling thread: it stops while another process has the core, so the peak
// measured with it does not drop when the machine is shared. Wall time where it is missing.
double ThreadCpuSeconds() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
  timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) {
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
#endif
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

struct Timing {
  double wall = 0;  // from the common start to the last thread's end
  double cpu = 0;   // the longest thread CPU time
};

// Runs `iters` iterations on each of `threads` threads started together.
Timing TimeOnThreads(const PeakKernel& k, uint64_t iters, size_t threads) {
  alignas(64) static unsigned char sinks[64][64];
  std::vector<double> cpu(threads, 0.0);
  auto body = [&](size_t t) {
    const double c0 = ThreadCpuSeconds();
    k.run(iters, sinks[t % 64]);
    cpu[t] = ThreadCpuSeconds() - c0;
  };
  Timing timing;
  if (threads <= 1) {
    const auto t0 = Clock::now();
    body(0);
    timing.wall = Seconds(t0, Clock::now());
  } else {
    std::atomic<size_t> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        body(t);
      });
    }
    while (ready.load() < threads) std::this_thread::yield();
    const auto t0 = Clock::now();
    go.store(true, std::memory_order_release);
    for (auto& th : pool) th.join();
    timing.wall = Seconds(t0, Clock::now());
  }
  timing.cpu = *std::max_element(cpu.begin(), cpu.end());
  return timing;
}

struct Measurement {
  double ops = 0;
  Timing best;  // the run with the least CPU time
};

// Grows the iteration count until one run lasts ~min_time/16, then keeps the best of the runs
// that fit in min_time.
Measurement Measure(const PeakKernel& k, size_t threads, double min_time) {
  uint64_t iters = 1024;
  Timing t = TimeOnThreads(k, iters, threads);
  while (t.wall < min_time / 16 && iters < (uint64_t{1} << 40)) {
    iters *= 2;
    t = TimeOnThreads(k, iters, threads);
  }
  Measurement m;
  m.best = t;
  double spent = 0;
  for (int r = 0; r < 48 && (r < 3 || spent < min_time); ++r) {
    const Timing s = TimeOnThreads(k, iters, threads);
    if (s.cpu < m.best.cpu) m.best = s;
    spent += s.wall;
  }
  m.ops = k.ops_per_iter * static_cast<double>(iters) * static_cast<double>(threads);
  return m;
}

void Usage() {
  std::fprintf(stderr,
               "usage: peak_bench [--threads N] [--path NAME] [--kind int8|f32|u8s8_sat16] "
               "[--min-time SECONDS]\n");
}

}  // namespace

int main(int argc, char** argv) {
  size_t threads = 1;
  std::string only_path, only_kind;
  double min_time = 0.25;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--threads" && has_value) {
      const long v = std::strtol(argv[++i], nullptr, 10);
      if (v < 1 || v > 64) {
        std::fprintf(stderr, "peak_bench: --threads must be in [1, 64]\n");
        return 2;
      }
      threads = static_cast<size_t>(v);
    } else if (arg == "--path" && has_value) {
      only_path = argv[++i];
    } else if (arg == "--kind" && has_value) {
      only_kind = argv[++i];
    } else if (arg == "--min-time" && has_value) {
      min_time = std::strtod(argv[++i], nullptr);
      if (!(min_time > 0 && min_time < 60)) {
        std::fprintf(stderr, "peak_bench: --min-time must be in (0, 60) seconds\n");
        return 2;
      }
    } else if (arg == "--help" || arg == "-h") {
      Usage();
      return 0;
    } else {
      Usage();
      return 2;
    }
  }

  size_t printed = 0;
#if defined(__x86_64__) || defined(__aarch64__)
  const CpuFeatures& cpu = DetectCpu();
  for (const PeakKernel& k : kKernels) {
    const char* name = PathName(k.path);
    if (!only_path.empty() && only_path != name) continue;
    if (!only_kind.empty() && only_kind != k.kind) continue;
    if (!PathBuilt(k.path)) {
      std::fprintf(stderr, "peak_bench: skip %s %s: no kernels built for this path\n", k.kind,
                   name);
      continue;
    }
    if (!PathSupported(cpu, k.path)) {
      std::fprintf(stderr, "peak_bench: skip %s %s: not supported by this CPU\n", k.kind, name);
      continue;
    }
    const Measurement m = Measure(k, threads, min_time);
    std::printf(
        "{\"family\":\"peak\",\"kind\":\"%s\",\"path\":\"%s\",\"instruction\":\"%s\","
        "\"register\":\"%s\",\"threads\":%zu,\"ops\":%.0f,\"seconds\":%.6g,\"gops\":%.4g,"
        "\"wall_seconds\":%.6g,\"wall_gops\":%.4g}\n",
        k.kind, name, k.instruction, k.reg, threads, m.ops, m.best.cpu, m.ops / m.best.cpu * 1e-9,
        m.best.wall, m.ops / m.best.wall * 1e-9);
    std::fflush(stdout);
    ++printed;
  }
#endif
  if (printed == 0) std::fprintf(stderr, "peak_bench: nothing measured on this machine\n");
  return 0;
}
