#!/usr/bin/env bash
# 64-bit Arm under emulation: installs the cross toolchain and the arm64
# Highway and GoogleTest (scripts/setup-deps.sh --arm: adds dpkg's arm64
# architecture), cross-builds convkit and its tests for aarch64 with
# warnings as errors (scripts/cross/aarch64-linux-gnu.ini: every Highway
# target for Arm, NEON, SVE, SVE2, SVE_256 and SVE2_128, is compiled), then
# runs the suite under qemu-aarch64-static as three CPUs
# (scripts/qemu-suite.py aarch64: 256-bit SVE, 128-bit SVE2, NEON only),
# then meson's non-GoogleTest tests through the cross file's exe_wrapper.
# Usage: bash scripts/arm.sh [build] [out]   (defaults: build-arm, build-qemu-arm)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-arm}
out=${2:-build-qemu-arm}
bash scripts/setup-deps.sh --arm
# The pkg-config wrapper for the arm64 multiarch directories (meson 1.0 has
# no @DIRNAME@ for the cross file to name it by path).
export PATH=$PWD/scripts/cross:$PATH
if [ ! -d "$build/meson-private" ]; then
  meson setup "$build" --cross-file scripts/cross/aarch64-linux-gnu.ini \
    --buildtype=release -Dwerror=true -Dtests=enabled -Dperf=enabled \
    -Donednn=disabled -Dxnnpack=disabled >/dev/null
fi
meson compile -C "$build"
status=0
python3 scripts/qemu-suite.py aarch64 "$build" "$out" || status=1
# meson's own tests that are not GoogleTest programs, through the cross
# file's exe_wrapper as QEMU_CPU=max (SVE2): CONVKIT_TARGET with Arm's
# names and an invalid one, and the fuzz targets' seed corpora.
# convkit_perf_seeds (convkit-perf through MESON_EXE_WRAPPER) also runs
# under qemu, but its 9.4-GFLOP notebook layer checked against the double
# reference takes more than 10 minutes emulated; it runs natively.
tests=$(meson introspect "$build" --tests | python3 -c '
import json, sys
print(" ".join(t["name"] for t in json.load(sys.stdin)
               if t["name"].startswith("env_target_") or t["name"].endswith("_corpus")))')
# shellcheck disable=SC2086
QEMU_CPU=max meson test -C "$build" --no-rebuild --print-errorlogs $tests || status=1
exit $status
