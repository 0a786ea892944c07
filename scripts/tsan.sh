#!/usr/bin/env bash
# ThreadSanitizer (clang 14) over the threading tests: threads_test (8
# std::threads x 50 calls on one operator, thread counts 1-8, FP
# environment), and every ThreadsBitIdentical / thread-count case of
# conv_test and backward_test, on every target. OpenMP is clang's libomp with
# its Archer tool (libarcher.so), which tells TSan about OpenMP's
# synchronization; libgomp is not instrumented and floods TSan with false
# reports. Every report is fatal (halt_on_error).
# Usage: bash scripts/tsan.sh   (after scripts/setup-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${CONVKIT_TSAN_DIR:-build-tsan}
if [ ! -d "$build/meson-private" ]; then
  CC=clang CXX=clang++ meson setup "$build" --buildtype=debugoptimized \
    -Dtests=enabled -Dperf=disabled -Donednn=disabled -Dxnnpack=disabled \
    -Db_sanitize=thread -Db_lundef=false >/dev/null
fi
meson compile -C "$build" tests/threads_test tests/conv_test tests/backward_test
rm -f "$build"/tests/*.xml
archer=$(clang -print-file-name=libarcher.so)
if [ ! -f "$archer" ]; then
  archer=$(ls /usr/lib/llvm-*/lib/libarcher.so 2>/dev/null | head -n 1)
fi
if [ ! -f "$archer" ]; then
  echo "tsan: libarcher.so not found (Debian: libomp-14-dev)" >&2
  exit 1
fi
export OMP_TOOL_LIBRARIES=$archer
export ARCHER_OPTIONS=verbose=1
# libomp itself is not instrumented: its internal accesses are not ours
# (Archer reports the synchronization that matters).
export TSAN_OPTIONS="halt_on_error=1 ignore_noninstrumented_modules=1 second_deadlock_stack=1"
export GTEST_FILTER='*Thread*:*OperatorReuseAndConcurrency*:*DataAndWeightsAgainstReference*'
meson test -C "$build" --no-rebuild --print-errorlogs threads_test conv_test backward_test
