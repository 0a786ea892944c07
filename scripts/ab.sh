#!/usr/bin/env bash
# A/B timing of convkit alone: two or more builds of convkit-perf (or one
# build under several environments), run in turn N times on one shape file,
# printing per shape the best median each variant reached, in ms.
#
#   bash scripts/ab.sh [-n N] [-a "convkit-perf args"] SHAPES BIN_A BIN_B ...
#   bash scripts/ab.sh [-n N] [-a "..."] -e SHAPES BIN "ENV_A" "ENV_B" ...
#
# e.g., against the previous commit:
#   git worktree add /tmp/base HEAD~1
#   (cd /tmp/base && meson setup build-base --buildtype=release -Dtests=disabled &&
#    ninja -C build-base perf/convkit-perf)
#   bash scripts/ab.sh -n 3 -a "--threads 1 --sweeps 2" my.shapes \
#     /tmp/base/build-base/perf/convkit-perf build/perf/convkit-perf
# or the same build with CONVKIT_CACHE or CONVKIT_TARGET set ("-" for none):
#   bash scripts/ab.sh -e my.shapes build/perf/convkit-perf - CONVKIT_CACHE=48K,2M,12
#
# Variants alternate (A B A B ...), so a slow spell of the host hits each;
# each run times only convkit (--impls convkit --no-naive). Nothing else
# may run meanwhile (a build or a helper turns 2-thread runs into 4 ms
# scheduler stalls). SHAPES: convkit-perf --shapes syntax (a '# name' line
# before each spec names it).
set -euo pipefail
n=3
args="--threads 1 --sweeps 2"
env_mode=0
while getopts "n:a:e" opt; do
  case $opt in
    n) n=$OPTARG ;;
    a) args=$OPTARG ;;
    e) env_mode=1 ;;
    *) sed -n '2,23p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -lt 3 ]; then
  sed -n '2,23p' "$0" >&2
  exit 2
fi
shapes=$1
shift
if [ "$env_mode" = 1 ]; then
  bin=$1
  shift
fi
variants=("$@")
out=$(mktemp)
csv=$(mktemp)
trap 'rm -f "$out" "$csv"' EXIT
for ((i = 0; i < n; ++i)); do
  for ((v = 0; v < ${#variants[@]}; ++v)); do
    if [ "$env_mode" = 1 ]; then
      e=${variants[$v]}
      [ "$e" = "-" ] && e=""
      # shellcheck disable=SC2206  # ENV_A may hold several NAME=VALUE words
      run=(env $e "$bin")
    else
      run=("${variants[$v]}")
    fi
    # shellcheck disable=SC2086
    "${run[@]}" --shapes "$shapes" $args --no-naive --quiet --impls convkit --csv "$csv" >/dev/null
    # The CSV's full-precision medians (the table rounds to 1 us); names
    # hold no comma (spaces become _), the shape column is quoted.
    awk -F, -v v="$v" 'NR > 1 && /,convkit,/ {
        n = split($0, f, "\""); split(f[n], t, ","); name = $2; gsub(/ /, "_", name)
        print v, ++row, name, t[6] }' "$csv" >>"$out"
  done
done
# Per shape and variant the smallest median over the runs.
awk -v nv="${#variants[@]}" '
  { key = $2 SUBSEP $1; if (!(key in best) || $4 < best[key]) best[key] = $4; name[$2] = $3;
    if ($2 > rows) rows = $2 }
  END {
    printf "%-40s", "shape"; for (v = 0; v < nv; ++v) printf " %10s", substr("ABCDEFGHIJKLMNOPQRSTUVWXYZ", v + 1, 1); printf "   last/A\n";
    for (r = 1; r <= rows; ++r) {
      printf "%-40s", name[r]; for (v = 0; v < nv; ++v) printf " %10.5f", best[r SUBSEP v];
      printf "   %.3f\n", best[r SUBSEP (nv - 1)] / best[r SUBSEP 0]
    }
  }' "$out"
letters=ABCDEFGHIJKLMNOPQRSTUVWXYZ
for ((v = 0; v < ${#variants[@]}; ++v)); do
  echo "${letters:$v:1} = ${variants[$v]}"
done
