#!/usr/bin/env bash
# Builds convkit (release, with tests and convkit-perf) and runs every test
# on every SIMD target this CPU supports; ends with "N passed, N failed".
# Usage: bash scripts/test.sh [extra meson test args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh

build=${CONVKIT_BUILD_DIR:-build}
options=(--buildtype=release -Dtests=enabled -Dperf=enabled
         -Donednn=enabled -Dxnnpack=enabled)
if [ -d "$build/meson-private" ]; then
  meson setup --reconfigure "$build" "${options[@]}" >/dev/null
else
  meson setup "$build" "${options[@]}" >/dev/null
fi
meson compile -C "$build"

rm -f "$build"/tests/*.xml "$build"/perf/*.xml
status=0
meson test -C "$build" --print-errorlogs "$@" || status=$?
python3 scripts/test-summary.py "$build" || status=1
exit $status
