#!/usr/bin/env bash
# Builds convkit (release, with tests and convkit-perf) and runs every test
# on every SIMD target this CPU supports, then the Python package's tests
# (pip install . into a fresh virtual environment: scripts/python-test.sh);
# ends with "N passed, N failed" over both.
# Usage: bash scripts/test.sh [extra meson test args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/configure.sh
build=${CONVKIT_BUILD_DIR:-build}
meson compile -C "$build"

rm -f "$build"/tests/*.xml
status=0
meson test -C "$build" --print-errorlogs "$@" || status=$?
bash scripts/python-test.sh build-python || status=1
python3 scripts/test-summary.py "$build" build-python || status=1
exit $status
