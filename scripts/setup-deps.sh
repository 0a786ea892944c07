#!/usr/bin/env bash
# Installs what building, testing and benchmarking convkit needs on Debian 12
# or Ubuntu (apt-get; only packages that are missing). Used by the README's
# quick-start commands and by .ci/run. Safe to run repeatedly.
set -euo pipefail

packages=(
  g++ pkg-config meson ninja-build python3 python3-pip  # build (pip: PyPI oneDNN)
  libhwy-dev                                 # Highway (>= 1.0.3)
  libgtest-dev                               # tests
  libomp-dev                                 # OpenMP for clang builds
  clang libclang-rt-14-dev                   # sanitizers, libFuzzer (scripts/sanitize.sh, tsan.sh)
  qemu-user-static                           # old x86 CPUs (scripts/old-cpus.py)
  cmake                                      # find_package consumer (scripts/consumers.sh)
  libdnnl-dev libxnnpack-dev libpthreadpool-dev  # convkit-perf comparators
  python3-matplotlib                         # perf/plot.py
)

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
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
