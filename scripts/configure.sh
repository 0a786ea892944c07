#!/usr/bin/env bash
# Shared by test.sh and perf.sh: installs what is missing, fetches the current
# oneDNN from PyPI for the comparison (falling back to the system's 2.6 if
# that fails), and configures the release build directory with tests,
# convkit-perf and both comparators. Prints nothing but meson's errors.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh

build=${CONVKIT_BUILD_DIR:-build}
onednn_prefix=""
if [ "${CONVKIT_SYSTEM_ONEDNN:-0}" != "1" ]; then
  if prefix=$(bash scripts/fetch-onednn.sh); then
    onednn_prefix="$(cd "$prefix" && pwd)"
  else
    echo "configure: could not fetch oneDNN from PyPI; comparing against the system oneDNN" >&2
  fi
fi
options=(--buildtype=release -Dtests=enabled -Dperf=enabled
         -Donednn=enabled -Dxnnpack=enabled "-Donednn_prefix=$onednn_prefix")
if [ -d "$build/meson-private" ]; then
  meson setup --reconfigure "$build" "${options[@]}" >/dev/null
else
  meson setup "$build" "${options[@]}" >/dev/null
fi
