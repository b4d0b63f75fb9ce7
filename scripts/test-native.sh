#!/usr/bin/env bash
# Native (ctest) tests: the host build, then the AArch64 cross build run under qemu.
# Installs the cross toolchain and qemu from Debian when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

echo "== native tests: host ($(uname -m))"
cmake -S . -B build-native -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-native -j"$jobs" >/dev/null
ctest --test-dir build-native --output-on-failure

if [ "$(uname -m)" != "x86_64" ]; then
  echo "== aarch64 cross tests: skipped (they cross-compile from x86_64 only)"
  exit 0
fi
bash scripts/ensure-test-tools.sh
echo "== native tests: aarch64 under qemu-aarch64"
cmake -S . -B build-native-aarch64 -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake >/dev/null
cmake --build build-native-aarch64 -j"$jobs" >/dev/null
ctest --test-dir build-native-aarch64 --output-on-failure
