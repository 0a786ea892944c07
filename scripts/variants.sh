#!/usr/bin/env bash
# Build variants beside the release stage's (g++ 12, release -O3, shared
# library, OpenMP): here clang 14, debug (-O0 -g, assertions on), static
# library, OpenMP disabled (every call runs on the calling thread; the
# thread-count tests then check that 1..8 requested threads give the same
# bits). The whole suite runs on every target this CPU supports, except
# the 9.4-GFLOP notebook timing shape (90 s per target at -O0) and most of
# the corpus: every 16th shape (633) on the best target.
# scripts/consumers.sh then installs this build and links a program to the
# static library through pkg-config --static and CMake.
# Usage: bash scripts/variants.sh [build]   (default build-variant)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-variant}
if [ ! -d "$build/meson-private" ]; then
  CC=clang CXX=clang++ meson setup "$build" --buildtype=debug -Dwerror=true \
    -Ddefault_library=static -Dopenmp=disabled -Dtests=enabled -Dperf=disabled \
    -Donednn=disabled -Dxnnpack=disabled >/dev/null
fi
meson compile -C "$build"
rm -f "$build"/tests/*.xml
export GTEST_FILTER='-*NotebookTimingShape*'
tests=$(meson introspect "$build" --tests | python3 -c '
import json, sys
print(" ".join(t["name"] for t in json.load(sys.stdin) if t["name"] != "corpus_test"))')
status=0
# shellcheck disable=SC2086
meson test -C "$build" --print-errorlogs $tests || status=1
# The corpus sample's run writes its own testlog.json: keep both for
# scripts/test-summary.py.
log=$build/meson-logs/testlog.json
cp "$log" "$log.suite"
best=$({ "$build/tests/env_target_test" best=? || true; } |
       sed -n 's/best supported target \([^,]*\),.*/\1/p')
echo "variants: corpus sample on $best"
GTEST_FILTER="*/$best" CONVKIT_CORPUS_EVERY=16 meson test -C "$build" --print-errorlogs corpus_test ||
  status=1
cat "$log.suite" >> "$log"
exit $status
