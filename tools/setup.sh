#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine needs, builds into ./build and runs
# attn-opt on an example model. Safe to run again: it installs only what is
# missing and rebuilds only what changed.
#
#   tools/setup.sh            install, build, run the example
#   tools/setup.sh --build    install and build only (used by tools/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

LLVM=/usr/lib/llvm-22
PACKAGES=(libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools libomp-22-dev
          libopenblas-dev cmake ninja-build g++ python3 nlohmann-json3-dev
          libgtest-dev)

step() { printf '\n== %s\n' "$*"; }

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  step "installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  if ! apt-cache show libmlir-22-dev >/dev/null 2>&1; then
    # Not in this machine's Debian sources: use LLVM's own repository.
    step "adding apt.llvm.org (llvm-toolchain-bookworm-22)"
    $sudo apt-get install -y -qq wget gnupg ca-certificates
    wget -qO- https://apt.llvm.org/llvm-snapshot.gpg.key | $sudo tee /etc/apt/trusted.gpg.d/apt.llvm.org.asc >/dev/null
    echo "deb http://apt.llvm.org/bookworm/ llvm-toolchain-bookworm-22 main" |
      $sudo tee /etc/apt/sources.list.d/llvm-22.list >/dev/null
    $sudo apt-get update -qq
  fi
  $sudo apt-get install -y -qq "${missing[@]}"
}

build() {
  if [ ! -f build/build.ninja ]; then
    step "configuring ./build"
    cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release \
      -DMLIR_DIR=$LLVM/lib/cmake/mlir -DLLVM_EXTERNAL_LIT=$LLVM/bin/lit
  fi
  step "building (ninja -C build)"
  ninja -C build
}

install_packages
build
[ "${1:-}" = "--build" ] && exit 0

step "attn-opt on examples/llama-layer.mlir (canonicalize, plan CPU tiles)"
build/bin/attn-opt examples/llama-layer.mlir --canonicalize --attn-plan-tiles=target=cpu
