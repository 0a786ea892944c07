#!/usr/bin/env bash
# Builds convkit in release and runs convkit-perf against oneDNN, XNNPACK and
# the naive loop. Arguments go to convkit-perf (default: --suite quick; see
# --help), e.g.: bash scripts/perf.sh --suite all --threads 1 --csv out.csv
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/configure.sh
build=${CONVKIT_BUILD_DIR:-build}
meson compile -C "$build" convkit-perf >/dev/null
exec "$build/perf/convkit-perf" "$@"
