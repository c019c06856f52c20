#!/usr/bin/env bash
# Builds the runtime alone (ATTN_RUNTIME_ONLY, no MLIR) and runs its GPU
# checks, for the GPU machine (CUDA, CMake, PyTorch, Triton; no MLIR, no lit):
#   1. attn-gpu-runtime-unit (GoogleTest; its launch tests launch an empty
#      kernel);
#   2. naive kernels with the attention ABI (test/Runtime/Inputs), built by
#      nvcc for this GPU, through attn-gpu-test and the Python binding;
#   3. a Triton vector add through the binding's launch_raw;
#   4. attn-gpu-test on every NAME.json in the folders given (attn-compile
#      output), several kernels at a time.
# usage: runtime/tools/run-gpu-checks.sh BUILD_DIR [ARTEFACT_DIR...]
# Without nlohmann-json or GoogleTest on the machine, set ATTN_DEPS_DIR to
# the copies tools/gpu-check.sh prepare makes (default build/deps).
# Prints one line per step ("ok STEP" / "FAILED STEP" / "skipped STEP: why")
# and exits nonzero when a step failed.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: run-gpu-checks.sh BUILD_DIR [ARTEFACT_DIR...]}
shift
inputs=$root/test/Runtime/Inputs
work=$build/gpu-checks
failed=0

step() { # NAME COMMAND...: runs, shows the output, records the outcome
  local name=$1
  shift
  echo "== $name"
  if "$@"; then echo "ok $name"; else echo "FAILED $name"; failed=1; fi
}

if command -v ninja >/dev/null; then
  generator=Ninja
else
  generator="Unix Makefiles"
fi
cmake -G "$generator" -S "$root" -B "$build" -DATTN_RUNTIME_ONLY=ON \
  -DATTN_DEPS_DIR="${ATTN_DEPS_DIR:-$root/build/deps}" >/dev/null &&
  cmake --build "$build" -j "$(nproc)" >/dev/null || { echo "FAILED build"; exit 1; }
export ATTN_RUNTIME_LIB=$build/lib/libattn_runtime.so
rm -rf "$work" && mkdir -p "$work"

if [ -x "$build/bin/attn-gpu-runtime-unit" ]; then
  step unit "$build/bin/attn-gpu-runtime-unit" --gtest_brief=1
else
  echo "skipped unit: no GoogleTest (see ATTN_DEPS_DIR above)"
fi

nvcc=${CUDA_PATH:-/usr/local/cuda}/bin/nvcc
if [ -x "$nvcc" ]; then
  step naive-build python3 "$inputs/naive_artefacts.py" "$work/naive" device \
    "$build/bin/attn-artefact-json"
  step naive-gpu-test "$build/bin/attn-gpu-test" "$work"/naive/*.json
  if python3 -c "import torch" 2>/dev/null; then
    step naive-torch python3 "$inputs/naive_torch_check.py" "$root" "$work/naive"
  else
    echo "skipped naive-torch: no torch"
  fi
else
  echo "skipped naive kernels: no $nvcc"
fi

if python3 -c "import triton, torch" 2>/dev/null; then
  step triton-compile python3 "$inputs/triton_add.py" compile "$work/triton" device
  step triton-run python3 "$inputs/triton_add.py" run "$root" "$work/triton"
else
  echo "skipped triton: no triton or torch"
fi

# The reference is single-threaded: several processes, two kernels each.
gpu_test_folder() {
  local log=$work/$(basename "$1").log
  ls "$1"/*.json | xargs -P "$(nproc)" -n 2 "$build/bin/attn-gpu-test" >"$log"
  local rc=$?
  grep -v ' passed, ' "$log" | sort
  echo "$(grep -c '^PASS' "$log") passed, $(grep -c '^FAIL' "$log") failed"
  return $rc
}
for dir in "$@"; do
  step "gpu-test $dir" gpu_test_folder "$dir"
done
exit $failed
