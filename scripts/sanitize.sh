#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer (clang 14, every report
# fatal: -fno-sanitize-recover=all, halt_on_error) over the test suite on
# every target this CPU supports, in its own build directory. The corpus
# test is left to the release run (10k shapes; an hour under ASan here).
# The same build has the fuzz targets linked with libFuzzer
# (-Dfuzzing_engine=libfuzzer): after the suite (which replays their seed
# corpora), each is fuzzed for CONVKIT_FUZZ_SECONDS (default 60) from a copy
# of its corpus, and the executions are reported.
# Usage: bash scripts/sanitize.sh   (after scripts/setup-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${CONVKIT_ASAN_DIR:-build-asan}
flags=-fno-sanitize-recover=all
if [ ! -d "$build/meson-private" ]; then
  CC=clang CXX=clang++ meson setup "$build" --buildtype=debugoptimized \
    -Dtests=enabled -Dperf=disabled -Donednn=disabled -Dxnnpack=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false -Dfuzzing_engine=libfuzzer \
    "-Dc_args=$flags" "-Dcpp_args=$flags" "-Dcpp_link_args=$flags" >/dev/null
fi
meson compile -C "$build"
rm -f "$build"/tests/*.xml
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
# The 9.4-GFLOP notebook timing shape's double reference alone takes
# minutes under ASan, and ThreadCreation caps the address space, which
# ASan's terabyte-sized shadow reservations cannot live with; every other
# case runs.
export GTEST_FILTER='-*NotebookTimingShape*:ThreadCreation.*'
tests=$(meson introspect "$build" --tests | python3 -c '
import json, sys
print(" ".join(t["name"] for t in json.load(sys.stdin) if t["name"] != "corpus_test"))')
# shellcheck disable=SC2086
meson test -C "$build" --print-errorlogs $tests

# Bounded fuzzing, from copies of the checked-in corpora (new inputs stay in
# the build directory). A crash, a sanitizer report or a wrong result is a
# failure; the reproducer is left as $build/fuzz-out/crash-*.
seconds=${CONVKIT_FUZZ_SECONDS:-60}
unset GTEST_FILTER
for fuzzer in desc_fuzzer conv_fuzzer; do
  corpus=$build/fuzz-out/${fuzzer%_fuzzer}
  rm -rf "$corpus" && mkdir -p "$corpus" && cp fuzz/corpus/"${fuzzer%_fuzzer}"/* "$corpus"/
  log=$build/fuzz-out/$fuzzer.log
  if "$build/fuzz/$fuzzer" -max_total_time="$seconds" -seed=1 -print_final_stats=1 \
      -artifact_prefix="$build/fuzz-out/" -max_len=256 "$corpus" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz: $fuzzer: $runs executions in $seconds s, no failure"
  else
    tail -n 40 "$log"
    echo "fuzz: $fuzzer FAILED (see $log)"
    exit 1
  fi
done
