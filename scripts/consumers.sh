#!/usr/bin/env bash
# convkit as its users consume it (tests/consumer/):
#   1. a meson subproject under a debug consumer: convkit's own files must
#      compile at -O3, the consumer's at -O0; the program runs;
#   2. `meson install`, then `pkg-config --cflags --libs convkit` must give
#      only -I and -lconvkit (no Highway, no OpenMP), and a program built
#      with it runs;
#   3. `find_package(convkit)` from CMake on that install, convkit::convkit.
# Writes <dir>/meson-logs/testlog.json so the three count in CI's last line.
# Usage: bash scripts/consumers.sh [dir]   (default build-consumer)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/${1:-build-consumer}
rm -rf "$work"
mkdir -p "$work/src/subprojects" "$work/meson-logs"
cp tests/consumer/meson.build tests/consumer/app.cc tests/consumer/CMakeLists.txt "$work/src/"
ln -s "$root" "$work/src/subprojects/convkit"
log=$work/meson-logs/testlog.json
: > "$log"
status=0
result() {  # name, exit code
  local r=OK
  [ "$2" -eq 0 ] || { r=FAIL; status=1; }
  echo "{\"name\": \"$1\", \"result\": \"$r\"}" >> "$log"
  echo "consumers: $1: $r"
}

(
  set -e
  meson setup "$work/b" "$work/src" >/dev/null
  python3 - "$work/b/compile_commands.json" <<'PY'
import json, sys
bad = []
for c in json.load(open(sys.argv[1])):
    args = c["command"].split()
    opt = [a for a in args if a.startswith("-O")]
    want = "-O0" if c["file"].endswith("app.cc") else "-O3"
    if not opt or opt[-1] != want:
        bad.append(f'{c["file"]}: {opt} (want {want})')
print("\n".join(bad) or "optimization: convkit -O3, consumer -O0")
sys.exit(1 if bad else 0)
PY
  meson compile -C "$work/b" >/dev/null
  "$work/b/app"
)
result subproject_debug_consumer $?

prefix=$work/inst/usr/local
(
  set -e
  meson install -C "$work/b" --destdir "$work/inst" >/dev/null
  pc=$(find "$prefix" -name convkit.pc | head -n 1)
  flags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --define-variable=prefix="$prefix" \
          --cflags --libs convkit)
  echo "pkg-config: $flags"
  for word in $flags; do
    case $word in -I*|-L*|-lconvkit) ;; *) echo "unexpected: $word"; exit 1 ;; esac
  done
  libdir=$(dirname "$(find "$prefix" -name 'libconvkit.so' | head -n 1)")
  # shellcheck disable=SC2086
  c++ -std=c++17 "$work/src/app.cc" $flags -Wl,-rpath,"$libdir" -o "$work/app-pkgconfig"
  "$work/app-pkgconfig"
)
result pkg_config $?

(
  set -e
  cmake -S "$work/src" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build "$work/cmake" >/dev/null
  "$work/cmake/app"
)
result cmake_find_package $?
exit $status
