#!/usr/bin/env bash
# The Python package as its users get it: a fresh virtual environment on
# Debian's Python 3 (with the system's numpy and PyTorch visible:
# --system-site-packages), `pip install .` (meson-python and nanobind from
# PyPI, the same meson build), then pytest over tests/python. Writes
# <dir>/tests/pytest.xml and <dir>/meson-logs/testlog.json for
# scripts/test-summary.py, so the cases count in the closing line.
# Usage: bash scripts/python-test.sh [dir]   (default build-python)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-python}
python=/usr/bin/python3
[ -x "$python" ] || python=python3
rm -rf "$dir/venv" "$dir/tests" "$dir/meson-logs"
mkdir -p "$dir/tests" "$dir/meson-logs"
"$python" -m venv --system-site-packages "$dir/venv"
venv_python=$PWD/$dir/venv/bin/python
"$venv_python" -m pip install -q --disable-pip-version-check pytest
echo "python: pip install . ($("$venv_python" --version))"
"$venv_python" -m pip install -q --disable-pip-version-check . 2>&1 | tail -n 20
# From outside the checkout, so that `import convkit` is the installed one.
status=0
(cd "$dir" && "$venv_python" -m pytest -q -p no:cacheprovider \
   --junitxml=tests/pytest.xml "$OLDPWD/tests/python") || status=$?
result=OK
[ $status -eq 0 ] || result=FAIL
echo "{\"name\": \"pytest\", \"result\": \"$result\"}" > "$dir/meson-logs/testlog.json"
exit $status
