#!/usr/bin/env bash
# convkit as its users consume it (tests/consumer/), each check one case in
# CI's closing line:
#   subproject_*: a meson consumer with meson's default (debug) build type
#     and convkit in subprojects/, as a plain directory and through a wrap
#     file, each with and without --force-fallback-for=libhwy (Highway from
#     convkit's own subprojects/highway.wrap). Every variant is configured
#     twice in the same checkout (a redirect meson writes must not break the
#     next setup); the plain directory without fallback and the wrap file
#     with it are also built and run. Checked: convkit's files compile at
#     -O3 and the consumer's at -O0, no test, perf or fuzz target of
#     convkit is built, none of convkit's flags reach the consumer's files,
#     and -Dconvkit:install=false installs nothing of convkit.
#   subproject_dir_debugoptimized: the plain directory built and run with
#     --buildtype=debugoptimized (convkit at -O2).
#   For each build directory given (default: build; CI adds the static
#   variant, scripts/variants.sh), after `meson install --destdir`:
#   install_<b>: headers, the library (SONAME libconvkit.so.0 when shared),
#     convkit.pc, the CMake package and, where it was built, convkit-perf;
#   header_<b>: the installed convkit.h compiles alone with -Wall -Wextra
#     -Wpedantic -Werror as C++17 and C++20, with g++ and clang++;
#   pkg_config_<b>: `pkg-config --cflags --libs convkit` gives only -I, -L
#     and -lconvkit (--static for a static library, adding Highway and
#     OpenMP), and a program built with it runs;
#   cmake_<b>: find_package(convkit CONFIG) and convkit::convkit.
# Writes <dir>/meson-logs/testlog.json for scripts/test-summary.py.
# Usage: bash scripts/consumers.sh [dir [build...]]   (default build-consumer build)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$root/${1:-build-consumer}
shift || true
installs=("$@")
[ ${#installs[@]} -gt 0 ] || installs=(build)
rm -rf "$work"
mkdir -p "$work/meson-logs"
log=$work/meson-logs/testlog.json
: > "$log"
status=0
result() {  # name, exit code
  local r=OK
  [ "$2" -eq 0 ] || { r=FAIL; status=1; }
  echo "{\"name\": \"$1\", \"result\": \"$r\"}" >> "$log"
  echo "consumers: $1: $r"
}

# convkit's working tree as a tarball for the wrap-file consumers, put in
# their packagecache so that meson finds it without a download.
tarball=$work/convkit-src.tar.gz
git ls-files -co --exclude-standard -z |
  tar czf "$tarball" --null -T - --ignore-failed-read --transform 's,^,convkit/,' 2>/dev/null
hash=$(sha256sum "$tarball" | cut -d' ' -f1)

new_consumer() {  # dir, dir|wrap
  local src=$1
  mkdir -p "$src/subprojects"
  cp tests/consumer/meson.build tests/consumer/app.cc tests/consumer/CMakeLists.txt "$src/"
  if [ "$2" = dir ]; then
    ln -s "$root" "$src/subprojects/convkit"
  else
    mkdir -p "$src/subprojects/packagecache"
    cp "$tarball" "$src/subprojects/packagecache/"
    cat > "$src/subprojects/convkit.wrap" <<EOF
[wrap-file]
directory = convkit
source_url = https://convkit.invalid/convkit-src.tar.gz
source_filename = convkit-src.tar.gz
source_hash = $hash

[provide]
convkit = convkit_dep
EOF
  fi
  # Highway's tarball, once downloaded, is shared between consumers.
  if [ -f "$work/highway-1.0.3.tar.gz" ]; then
    mkdir -p "$src/subprojects/packagecache"
    cp "$work/highway-1.0.3.tar.gz" "$src/subprojects/packagecache/"
  fi
}

check_flags() {  # compile_commands.json
  python3 - "$1" <<'PY'
import json, sys
bad = []
for c in json.load(open(sys.argv[1])):
    f, args = c["file"], c["command"].split()
    opt = [a for a in args if a.startswith("-O")]
    if "subprojects/convkit/" in f or f.startswith("../subprojects/convkit"):
        if any(p in f for p in ("/tests/", "/perf/", "/fuzz/")):
            bad.append(f"{f}: convkit's tests, perf and fuzz targets must not build")
        elif not opt or opt[-1] != "-O3":
            bad.append(f"{f}: {opt} (want -O3)")
    elif f.endswith("app.cc"):
        if not opt or opt[-1] != "-O0":
            bad.append(f"{f}: {opt} (want -O0)")
        leaked = [a for a in args if "HWY" in a or "sanitize" in a or a == "-fopenmp"]
        if leaked:
            bad.append(f"{f}: convkit's flags leaked into the consumer: {leaked}")
print("\n".join(bad) or "flags: convkit -O3, consumer -O0 and none of convkit's flags")
sys.exit(1 if bad else 0)
PY
}

subproject() {  # name, dir|wrap, fallback?, build?
  local name=$1 how=$2 fallback=$3 build=$4 src=$work/$1
  new_consumer "$src" "$how"
  local opts=(--force-fallback-for=convkit -Dconvkit:install=false)
  [ "$fallback" = yes ] && opts=(--force-fallback-for=convkit,libhwy -Dconvkit:install=false)
  (
    set -e
    cd "$src"
    meson setup b1 "${opts[@]}" > b1.log || { tail -n 30 b1.log; exit 1; }
    if [ "$fallback" = yes ]; then
      grep -q "highway" b1.log && grep -q "Subprojects" b1.log
      sed -n '/Subprojects/,/^$/p' b1.log
      [ -f "$work/highway-1.0.3.tar.gz" ] ||
        cp subprojects/packagecache/highway-1.0.3.tar.gz "$work/" 2>/dev/null || true
    fi
    # The next setup in the same checkout: meson's redirects must hold.
    meson setup b2 "${opts[@]}" > b2.log || { tail -n 30 b2.log; exit 1; }
    echo "$name: configured twice"
    if [ "$build" = yes ]; then
      check_flags b1/compile_commands.json
      meson compile -C b1 > compile.log || { tail -n 30 compile.log; exit 1; }
      b1/app
      meson install -C b1 --destdir "$src/inst" > install.log
      if [ -n "$(find "$src/inst" -type f 2>/dev/null)" ]; then
        echo "-Dconvkit:install=false still installed:"; find "$src/inst" -type f; exit 1
      fi
    fi
  )
  result "$name" $?
}

subproject subproject_dir_debug dir no yes
subproject subproject_wrap_fallback_hwy wrap yes yes
subproject subproject_dir_fallback_hwy dir yes no
subproject subproject_wrap wrap no no

# A consumer built with --buildtype=debugoptimized keeps -O2 for convkit
# (lib/meson.build raises only lower levels to -O3): g++ 12 at -O2 once
# refused to compile kernels that are always inlined but were called
# through function pointers.
(
  set -e
  src=$work/subproject_dir_debugoptimized
  new_consumer "$src" dir
  cd "$src"
  meson setup b1 --buildtype=debugoptimized --force-fallback-for=convkit \
    -Dconvkit:install=false > b1.log || { tail -n 30 b1.log; exit 1; }
  meson compile -C b1 > compile.log || { tail -n 30 compile.log; exit 1; }
  b1/app
)
result subproject_dir_debugoptimized $?

for b in "${installs[@]}"; do
  label=$(basename "$b" | tr -c 'a-zA-Z0-9\n' '_')
  dest=$work/install-$label
  prefix=$dest/usr/local
  if ! meson install -C "$root/$b" --destdir "$dest" > "$work/install-$label.log" 2>&1; then
    tail -n 20 "$work/install-$label.log"
    for c in install header pkg_config cmake; do result "${c}_$label" 1; done
    continue
  fi
  static=no
  [ -n "$(find "$prefix" -name libconvkit.a)" ] && static=yes
  (
    set -e
    test -f "$prefix/include/convkit/convkit.h" && test -f "$prefix/include/convkit/version.h"
    find "$prefix" -name convkit.pc | grep -q . && find "$prefix" -name convkitConfig.cmake | grep -q .
    find "$prefix" -name convkitConfigVersion.cmake | grep -q .
    if [ $static = no ]; then
      so=$(find "$prefix" -name 'libconvkit.so.*.*.*' | head -n 1)
      soname=$(readelf -d "$so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
      echo "install: $(basename "$so"), SONAME $soname"
      [ "$soname" = libconvkit.so.0 ] && [ -L "$(dirname "$so")/libconvkit.so.0" ]
    else
      echo "install: static $(find "$prefix" -name libconvkit.a -printf '%f %s bytes')"
    fi
    if [ -x "$root/$b/perf/convkit-perf" ]; then
      test -x "$prefix/bin/convkit-perf"
      echo "install: bin/convkit-perf"
    fi
  )
  result "install_$label" $?
  (
    set -e
    for cxx in g++ clang++; do
      for std in c++17 c++20; do
        echo '#include "convkit/convkit.h"' |
          $cxx -std=$std -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$prefix/include" -x c++ -
      done
    done
    echo "header: convkit.h alone, C++17 and C++20, g++ and clang++, -Werror"
  )
  result "header_$label" $?
  (
    set -e
    pc=$(find "$prefix" -name convkit.pc | head -n 1)
    pcopts=(--cflags --libs)
    [ $static = yes ] && pcopts=(--static --cflags --libs)
    flags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --define-variable=prefix="$prefix" \
            "${pcopts[@]}" convkit)
    echo "pkg-config ${pcopts[*]}: $flags"
    for word in $flags; do
      case $word in
        -I*|-L*|-lconvkit) ;;
        -lhwy|-fopenmp) [ $static = yes ] || { echo "unexpected: $word"; exit 1; } ;;
        *) echo "unexpected: $word"; exit 1 ;;
      esac
    done
    libdir=$(dirname "$pc")/..
    # shellcheck disable=SC2086
    c++ -std=c++17 "$root/tests/consumer/app.cc" $flags -Wl,-rpath,"$libdir" \
      -o "$work/app-pkgconfig-$label"
    "$work/app-pkgconfig-$label"
  )
  result "pkg_config_$label" $?
  (
    set -e
    mkdir -p "$work/cmake-src-$label"
    cp tests/consumer/CMakeLists.txt tests/consumer/app.cc "$work/cmake-src-$label/"
    cmake -S "$work/cmake-src-$label" -B "$work/cmake-$label" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
    cmake --build "$work/cmake-$label" >/dev/null
    "$work/cmake-$label/app"
  )
  result "cmake_$label" $?
done
exit $status
