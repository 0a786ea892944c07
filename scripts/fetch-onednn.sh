#!/usr/bin/env bash
# Fetches a current oneDNN for convkit-perf's comparison from PyPI (Debian 12
# ships 2.6 from 2022): the onednn-devel headers and the onednn library with
# the runtime wheels it needs (TBB; the SYCL runtime and Intel's OpenCL CPU
# device, through which this build runs its CPU engine), unpacked into one
# prefix. Prints the prefix (include/, lib/) on success; exits non-zero if
# anything fails, so callers can fall back to the system oneDNN.
# Usage: bash scripts/fetch-onednn.sh [DEST]   (default .deps/onednn-VERSION)
set -euo pipefail
cd "$(dirname "$0")/.."

version=${CONVKIT_ONEDNN_VERSION:-2026.1.0}
dest=${1:-.deps/onednn-$version}
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
echo "fetch-onednn: downloading onednn-devel==$version and its runtime from PyPI" >&2
"${pip[@]}" download --quiet --disable-pip-version-check --only-binary=:all: \
  --dest "$wheels" "onednn-devel==$version" tbb-devel >&2

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
echo "$version" > "$dest.tmp/VERSION"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "$dest"
