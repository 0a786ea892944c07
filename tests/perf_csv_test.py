#!/usr/bin/env python3
"""Runs `convkit-perf --suite seeds --check --reps 1` and checks its CSV and
JSON: every required column, one row per seeds shape x implementation, every
implementation that was built ran and passed --check, and the figures are
consistent. Also checks that a malformed --shape exits with status 2 naming
the bad field. Usage: perf_csv_test.py CONVKIT_PERF OUT_DIR [--onednn] [--xnnpack]
"""
import csv
import json
import os
import shlex
import subprocess
import sys

REQUIRED = ["shape", "impl", "threads", "target", "status", "median_ms", "min_ms",
            "gflops", "pct_peak", "workspace_bytes"]
SEEDS = [
    "n=4,h=8,w=8,ci=3,co=4,k=3x3,s=1x1,p=0:0:0:0,d=1x1,g=1",
    "n=10,h=32,w=32,ci=8,co=16,k=3x3,s=1x1,p=0:0:0:0,d=1x1,g=1",
    "n=32,h=128,w=128,ci=32,co=64,k=3x3,s=1x1,p=0:0:0:0,d=1x1,g=1",
    "n=6,h=5,w=5,ci=5,co=5,k=3x2,s=2x1,p=0:0:0:0,d=1x1,g=1",
]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    perf, out = sys.argv[1], sys.argv[2]
    # In a cross build meson runs tests through the exe_wrapper (qemu) and
    # names it here; a python test must apply it to what it runs itself.
    wrapper = shlex.split(os.environ.get("MESON_EXE_WRAPPER", ""))
    want = ["convkit", "naive"]
    if "--onednn" in sys.argv:
        want += ["onednn_nhwc", "onednn_blocked"]
    if "--xnnpack" in sys.argv:
        want += ["xnnpack"]
    os.makedirs(out, exist_ok=True)
    csv_path, json_path = os.path.join(out, "seeds.csv"), os.path.join(out, "seeds.json")
    run = subprocess.run(wrapper + [perf, "--suite", "seeds", "--check", "--reps", "1", "--min-time", "0",
                          "--csv", csv_path, "--json", json_path],
                         capture_output=True, text=True)
    sys.stdout.write(run.stdout)
    if run.returncode != 0:
        fail(f"convkit-perf exited with {run.returncode}: {run.stderr}")

    with open(csv_path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in reader.fieldnames]
        if missing:
            fail(f"CSV lacks columns {missing}")
        rows = list(reader)
    by_key = {(r["shape"], r["impl"]): r for r in rows}
    if len(by_key) != len(rows):
        fail("duplicate shape x impl rows")
    for shape in SEEDS:
        for impl in want:
            r = by_key.get((shape, impl))
            if r is None:
                fail(f"no row for {impl} on {shape}")
            if impl == "naive" and shape.startswith("n=32,") and r["status"] == "skipped":
                continue  # ~6 s per run: skipped by design
            if r["status"] != "ok":
                fail(f"{impl} on {shape}: status {r['status']} ({r.get('detail')})")
            median, minimum = float(r["median_ms"]), float(r["min_ms"])
            gflops, pct = float(r["gflops"]), float(r["pct_peak"])
            if not (median > 0 and 0 < minimum <= median and gflops > 0 and pct > 0):
                fail(f"{impl} on {shape}: bad figures {r}")
            if int(r["threads"]) < 1:
                fail(f"{impl} on {shape}: threads {r['threads']}")
            if impl == "convkit" and not r["target"]:
                fail(f"convkit on {shape}: no target")
    # Speed-ups are peer time / convkit time.
    for shape in SEEDS:
        ck = by_key[(shape, "convkit")]
        naive = by_key[(shape, "naive")]
        if naive["status"] == "ok":
            want_x = float(naive["median_ms"]) / float(ck["median_ms"])
            got_x = float(ck["speedup_vs_naive"])
            if abs(got_x - want_x) > 0.01 * want_x + 0.002:
                fail(f"speedup_vs_naive {got_x} != {want_x} on {shape}")

    with open(json_path) as f:
        doc = json.load(f)
    if len(doc["rows"]) != len(rows) or not doc["machine"]["cpu"] or doc["machine"]["peak_gflops"] <= 0:
        fail("JSON does not match the CSV or lacks the machine description")

    bad = subprocess.run(wrapper + [perf, "--shape", "h=5,w=5,ci=3,co=4,k=3y3"], capture_output=True, text=True)
    if bad.returncode != 2 or "field k" not in bad.stderr:
        fail(f"malformed --shape: exit {bad.returncode}, stderr {bad.stderr!r}")
    print(f"ok: {len(rows)} rows, implementations {sorted(set(r['impl'] for r in rows))}")


if __name__ == "__main__":
    main()
