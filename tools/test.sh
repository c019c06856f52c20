#!/usr/bin/env bash
# Builds (installing what is missing) and runs every test: the lit suite,
# which also drives the conformance runners and the runtime tests. Ends with
# one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh --build || { echo "0 passed, 1 failed (build)"; exit 1; }

echo
echo "== lit suite (build/test)"
out=$(mktemp)
/usr/lib/llvm-22/bin/lit -sv build/test "$@" | tee "$out"
status=${PIPESTATUS[0]}
count() { grep -E "^ *$1 *: *[0-9]+" "$out" | grep -oE "[0-9]+" | head -1; }
passed=$(( $(count Passed || true) + 0 ))
failed=$(( $(count Failed || echo 0) + $(count Unresolved || echo 0) + $(count "Timed Out" || echo 0) + 0 ))
rm -f "$out"
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
