#!/usr/bin/env bash
# Installs the Debian packages the tests use when they are missing:
#   g++-aarch64-linux-gnu, qemu-user   the AArch64 native tests (cross-compiled, run under qemu)
#   flatbuffers-compiler               flatc, to compare JSON dumps of models in round-trip tests
set -euo pipefail
missing=()
if [ "$(uname -m)" = x86_64 ]; then
  command -v aarch64-linux-gnu-g++ >/dev/null || missing+=(g++-aarch64-linux-gnu)
  command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
fi
command -v flatc >/dev/null || missing+=(flatbuffers-compiler)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing ${missing[*]} (used by the tests)"
sudo_cmd=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "error: need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
