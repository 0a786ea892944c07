#!/usr/bin/env bash
# Installs what building, testing and benchmarking convkit needs on Debian 12
# or Ubuntu (apt-get; only packages that are missing). Used by the README's
# quick-start commands and by .ci/run. Safe to run repeatedly.
# --arm: also what the aarch64 cross build needs (scripts/arm.sh): adds
# dpkg's arm64 architecture for libhwy-dev:arm64 and libgtest-dev:arm64.
set -euo pipefail
arm=no
[ "${1:-}" = --arm ] && arm=yes

packages=(
  g++ pkg-config meson ninja-build python3 python3-pip  # build (pip: PyPI oneDNN)
  libhwy-dev                                 # Highway (>= 1.0.3)
  libgtest-dev                               # tests
  libomp-dev                                 # OpenMP for clang builds
  clang libclang-rt-14-dev                   # sanitizers, libFuzzer (scripts/sanitize.sh, tsan.sh)
  qemu-user-static                           # old x86 CPUs and Arm (scripts/qemu-suite.py)
  cmake                                      # find_package consumer (scripts/consumers.sh)
  libdnnl-dev libxnnpack-dev libpthreadpool-dev  # convkit-perf comparators
  libcpuinfo-dev                             # --target caps XNNPACK's ISA too
  python3-matplotlib                         # perf/plot.py
  python3-venv python3-numpy python3-torch   # Python package tests (scripts/python-test.sh)
)

if [ $arm = yes ]; then
  packages=(g++-aarch64-linux-gnu libhwy-dev:arm64 libgtest-dev:arm64 qemu-user-static)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "setup-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if [ $arm = yes ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $sudo dpkg --add-architecture arm64
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
