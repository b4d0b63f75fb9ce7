// Helpers shared by the native/bench/*_bench.cc programs: clocks, the MxKxN GEMM shape and the
// key=value conv shape syntax (keys case-insensitive), so every bench reads the same SPEC.
// Each bench keeps its own flags, validation and JSON output (bench/run.ts parses those).
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

namespace litequant_bench {

inline double Now() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

inline double CpuNow() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

inline std::string Upper(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

// "MxKxN" with all three positive; Shape is an aggregate {m, k, n}.
template <class Shape>
bool ParseGemmShape(const std::string& spec, Shape* out) {
  unsigned long m = 0, k = 0, n = 0;
  char tail = 0;
  if (std::sscanf(spec.c_str(), "%lux%lux%lu%c", &m, &k, &n, &tail) != 3 || m == 0 || k == 0 ||
      n == 0) {
    return false;
  }
  *out = {m, k, n};
  return true;
}

// The raw fields of a kind=...,H=,W=,C=,... conv SPEC; -1 marks an absent key. The caller
// validates them (which kinds and keys it accepts differs per bench).
struct ConvSpecFields {
  std::string kind, padding = "SAME";
  long oc = -1, kh = -1, kw = -1, sh = -1, sw = -1, dh = -1, dw = -1;
  long k = 3, stride = 1, dilation = 1, dm = 1, n = 1, h = -1, w = -1, c = -1;
};

// usage(message) reports a malformed SPEC and does not return.
template <class UsageFn>
ConvSpecFields ParseConvSpecFields(const std::string& spec, UsageFn usage) {
  ConvSpecFields f;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t end = std::min(spec.find(',', start), spec.size());
    const std::string item = spec.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      usage("--shape item without '=': " + item);
      continue;
    }
    const std::string key = Upper(item.substr(0, eq));
    const std::string value = item.substr(eq + 1);
    if (key == "KIND") {
      f.kind = value;
      continue;
    }
    if (key == "PADDING" || key == "PAD") {
      f.padding = Upper(value);
      continue;
    }
    char* tail = nullptr;
    const long v = std::strtol(value.c_str(), &tail, 10);
    if (value.empty() || *tail != '\0' || v < 1) {
      usage("--shape needs a positive integer: " + item);
      continue;
    }
    long* slot = key == "N" ? &f.n : key == "H" ? &f.h : key == "W" ? &f.w : key == "C" ? &f.c
               : key == "OC" ? &f.oc : key == "K" ? &f.k : key == "KH" ? &f.kh
               : key == "KW" ? &f.kw : key == "S" ? &f.stride : key == "SH" ? &f.sh
               : key == "SW" ? &f.sw : key == "D" ? &f.dilation : key == "DH" ? &f.dh
               : key == "DW" ? &f.dw : key == "DM" ? &f.dm : nullptr;
    if (slot == nullptr) {
      usage("--shape has an unknown key: " + key);
      continue;
    }
    *slot = v;
  }
  return f;
}

}  // namespace litequant_bench
