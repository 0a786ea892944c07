#!/usr/bin/env python3
"""Turns a convkit-perf CSV into a PNG: GFLOP/s per shape, convkit beside
oneDNN (the faster of its two layouts) and XNNPACK, with the measured FMA
peak as a line when the matching JSON is given.

usage: plot.py RESULTS.csv OUT.png [--json RESULTS.json] [--title TEXT]
Needs matplotlib (Debian: python3-matplotlib).
"""
import argparse
import csv
import json
import math

import sys

try:
    import matplotlib
except ImportError:
    sys.exit(f"plot.py: no matplotlib for {sys.executable}; install python3-matplotlib "
             "(Debian) and run it with the system python3 (/usr/bin/python3)")

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("--json", help="convkit-perf --json output, for the peak line")
    ap.add_argument("--title", default="")
    args = ap.parse_args()

    shapes, series = [], {"convkit": {}, "oneDNN": {}, "XNNPACK": {}}
    threads = None
    with open(args.csv, newline="") as f:
        for r in csv.DictReader(f):
            key = r["name"] or r["shape"]
            if key not in shapes:
                shapes.append(key)
            threads = threads or r["threads"]
            if r["status"] != "ok" or not r["gflops"]:
                continue
            g = float(r["gflops"])
            impl = r["impl"]
            name = ("convkit" if impl == "convkit" else
                    "oneDNN" if impl.startswith("onednn") else
                    "XNNPACK" if impl == "xnnpack" else None)
            if name:
                series[name][key] = max(series[name].get(key, 0.0), g)

    peak = None
    subtitle = f"{threads} thread(s)"
    if args.json:
        with open(args.json) as f:
            m = json.load(f)["machine"]
        peak = m.get("peak_gflops")
        subtitle = f"{m['cpu']}, {m['target']}, {m['threads']} thread(s); {m['onednn']}"

    present = [s for s in series if series[s]]
    width = 0.8 / max(1, len(present))
    fig, ax = plt.subplots(figsize=(max(8, 0.42 * len(shapes) + 2), 5.5))
    colors = {"convkit": "#1f77b4", "oneDNN": "#ff7f0e", "XNNPACK": "#2ca02c"}
    for i, name in enumerate(present):
        xs = [j + (i - (len(present) - 1) / 2) * width for j in range(len(shapes))]
        ys = [series[name].get(s, math.nan) for s in shapes]
        ax.bar(xs, ys, width, label=name, color=colors[name])
    if peak:
        ax.axhline(peak, color="black", linestyle="--", linewidth=1,
                   label=f"measured FMA peak ({peak:.0f} GFLOP/s)")
    ax.set_xticks(range(len(shapes)))
    ax.set_xticklabels(shapes, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("GFLOP/s (median)")
    ax.set_title((args.title + "\n" if args.title else "") + subtitle, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)


if __name__ == "__main__":
    main()
