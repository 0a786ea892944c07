#!/usr/bin/env bash
# Builds convkit (release, with tests and convkit-perf) and runs every test
# on every SIMD target this CPU supports; ends with "N passed, N failed".
# Usage: bash scripts/test.sh [extra meson test args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/configure.sh
build=${CONVKIT_BUILD_DIR:-build}
meson compile -C "$build"

rm -f "$build"/tests/*.xml
status=0
meson test -C "$build" --print-errorlogs "$@" || status=$?
python3 scripts/test-summary.py "$build" || status=1
exit $status
