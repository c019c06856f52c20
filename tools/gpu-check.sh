#!/usr/bin/env bash
# GPU numerics and speed, in two halves:
#
#   tools/gpu-check.sh prepare   here (needs MLIR): attn-compile the kernel
#                                matrix and the benchmark kernels for sm_90
#                                into build/kernels/, and copy the runtime's
#                                third-party headers and sources (nlohmann-
#                                json, googletest) into build/deps/; both
#                                travel to the GPU, which has no network
#   tools/gpu-check.sh run       on the GPU machine (CUDA, CMake, PyTorch; no
#                                MLIR): builds the runtime alone, then
#                                1. attn-gpu-test: every kernel against the
#                                   float64 reference (C++),
#                                2. bench/gpu_bench.py --check: every kernel
#                                   against an fp32 PyTorch reference,
#                                3. bench/gpu_bench.py --bench: TFLOP/s of ours,
#                                   SDPA (flash backend) and FlexAttention,
#                                4. bench/gpu_bench.py --sparse: NSA's attention
#                                   branches and MoBA-like selection against our
#                                   dense causal kernel at 16k-64k keys.
#
# The device tool runs it as: bash tools/gpu-check.sh run
#   (carry build/kernels and build/deps)
set -uo pipefail
cd "$(dirname "$0")/.."
arch=${ATTN_GPU_ARCH:-sm_90}
kernels=build/kernels/$arch
deps=build/deps

case "${1:-}" in
prepare)
  rm -rf "$deps" && mkdir -p "$deps"
  cp -r /usr/include/nlohmann "$deps/" || exit 1
  [ -d /usr/src/googletest ] && cp -r /usr/src/googletest "$deps/"
  echo "third-party code in $deps: $(ls "$deps" | tr '\n' ' ')"
  rm -rf "$kernels" && mkdir -p "$kernels"
  build/bin/attn-compile test/GPU/Inputs/matrix.mlir --target="$arch" -o "$kernels/matrix" &&
    build/bin/attn-compile bench/gpu-kernels.mlir --target="$arch" -o "$kernels/bench" &&
    build/bin/attn-compile bench/gpu-sparse-kernels.mlir --target="$arch" -o "$kernels/sparse" || exit 1
  echo "kernels in $kernels: $(ls "$kernels"/*/*.json | wc -l)"
  ;;
run)
  [ -d "$kernels" ] || { echo "no $kernels: run 'tools/gpu-check.sh prepare' on a machine with MLIR"; exit 1; }
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
  build=build-gpu
  generator="Unix Makefiles"; command -v ninja >/dev/null && generator=Ninja
  echo "== building the runtime (ATTN_RUNTIME_ONLY)"
  # The machine's own nlohmann-json and GoogleTest, else the copies.
  cmake -G "$generator" -S . -B "$build" -DATTN_RUNTIME_ONLY=ON -DCMAKE_BUILD_TYPE=Release \
    -DATTN_DEPS_DIR="$PWD/$deps" >/dev/null &&
    cmake --build "$build" -j "$(nproc)" >/dev/null || { echo "FAILED build"; exit 1; }
  export ATTN_RUNTIME_LIB=$PWD/$build/lib/libattn_runtime.so
  status=0
  echo "== attn-gpu-test (float64 reference)"
  ls "$kernels"/*/*.json | xargs -P "$(nproc)" -n 2 "$build/bin/attn-gpu-test" > "$build/gpu-test.log"
  [ $? -eq 0 ] || status=1
  grep -v ' passed, ' "$build/gpu-test.log" | grep -v '^PASS' | sort
  echo "$(grep -c '^PASS' "$build/gpu-test.log") passed, $(grep -c '^FAIL' "$build/gpu-test.log") failed"
  echo "== PyTorch fp32 reference"
  python3 bench/gpu_bench.py --check "$kernels"/matrix "$kernels"/bench "$kernels"/sparse | grep -v '^PASS' || status=1
  echo "== speed"
  python3 bench/gpu_bench.py --bench "$kernels"/bench --flex-lengths="${FLEX_LENGTHS:-8192}" || status=1
  echo "== sparse against dense"
  python3 bench/gpu_bench.py --sparse "$kernels"/sparse --sparse-lengths="${SPARSE_LENGTHS:-16384,32768,65536}" || status=1
  exit $status
  ;;
*)
  echo "usage: tools/gpu-check.sh prepare|run"; exit 2
  ;;
esac
