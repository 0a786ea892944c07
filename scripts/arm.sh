#!/usr/bin/env bash
# 64-bit Arm under emulation: installs the cross toolchain and the arm64
# Highway and GoogleTest (scripts/setup-deps.sh --arm: adds dpkg's arm64
# architecture), cross-builds convkit and its tests for aarch64 with
# warnings as errors (scripts/cross/aarch64-linux-gnu.ini: every Highway
# target for Arm, NEON, SVE, SVE2, SVE_256 and SVE2_128, is compiled), then
# runs the suite under qemu-aarch64-static as three CPUs
# (scripts/qemu-suite.py aarch64: 256-bit SVE, 128-bit SVE2, NEON only).
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
python3 scripts/qemu-suite.py aarch64 "$build" "$out"
