#!/usr/bin/env bash
# Fetches a native oneDNN for convkit-perf's comparison from PyPI: the
# OpenMP (GNU libgomp) CPU build, onednn-cpu-gomp with its headers from
# onednn-devel-cpu-gomp (2023.2.0 = oneDNN 3.2, a 39 MB wheel), unpacked into
# one prefix. This is oneDNN as its CPU users run it, on the same OpenMP
# runtime as convkit. (PyPI's plain `onednn` 2026.x is a SYCL build whose CPU
# engine runs through an OpenCL runtime and adds ~50 us to every call: it is
# not fetched.) Prints the prefix (include/, lib/) on success; exits non-zero
# if anything fails, so callers can fall back to Debian's libdnnl-dev (2.6).
# Usage: bash scripts/fetch-onednn.sh [DEST]   (default .deps/onednn-cpu-gomp-VERSION)
set -euo pipefail
cd "$(dirname "$0")/.."

version=${CONVKIT_ONEDNN_VERSION:-2023.2.0}
dest=${1:-.deps/onednn-cpu-gomp-$version}
if [ -f "$dest/VERSION" ] && [ -f "$dest/lib/libdnnl.so" ]; then
  echo "$dest"
  exit 0
fi

pip=(python3 -m pip)
if ! "${pip[@]}" --version >/dev/null 2>&1; then
  echo "fetch-onednn: pip is not available (install python3-pip)" >&2
  exit 1
fi
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
echo "fetch-onednn: downloading onednn-cpu-gomp==$version (native, OpenMP) from PyPI" >&2
"${pip[@]}" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --dest "$wheels" "onednn-cpu-gomp==$version" "onednn-devel-cpu-gomp==$version" >&2

rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
for w in "$wheels"/*.whl; do
  unpack=$(mktemp -d)
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$w" "$unpack"
  for data in "$unpack"/*.data/data; do
    [ -d "$data" ] && cp -a "$data"/. "$dest.tmp"/
  done
  rm -rf "$unpack"
done
if [ ! -f "$dest.tmp/lib/libdnnl.so" ] || [ ! -f "$dest.tmp/include/oneapi/dnnl/dnnl.hpp" ]; then
  echo "fetch-onednn: the wheels did not contain libdnnl and its headers" >&2
  exit 1
fi
echo "onednn-cpu-gomp $version" > "$dest.tmp/VERSION"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "$dest"
