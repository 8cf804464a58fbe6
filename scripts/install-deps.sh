#!/usr/bin/env bash
# Installs what pocketlm needs to build and test, and nothing that is already there.
# Idempotent; safe to run on every `make`. Needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libhalide14-0-dev                          # Halide 14: generators + AOT compile
  libflatbuffers-dev flatbuffers-compiler    # bundle schema
  nlohmann-json3-dev                         # compiler: Hugging Face tokenizer.json
  libgtest-dev libgmock-dev libbenchmark-dev # tests and benches
  clang lld llvm llvm-14                     # cross-linking kernels, sanitizers; llc-14 generates x86 kernel code
  g++-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross
  qemu-user                                  # run arm64 tests on x86
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
