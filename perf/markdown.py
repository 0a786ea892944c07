#!/usr/bin/env python3
"""Turns a convkit-perf CSV into a Markdown table, one row per shape:
convkit's median time, GFLOP/s and % of peak, the peers' median times and
convkit's speed-ups (peer time / convkit time), plus per-suite geometric means.

usage: markdown.py RESULTS.csv [--json RESULTS.json]
"""
import argparse
import csv
import json
import math


def f(v, digits):
    return "" if v in ("", None) else f"{float(v):.{digits}f}"


def x(v):
    return "–" if v in ("", None) else f"{float(v):.2f}×"


def geomean(vals):
    vals = [float(v) for v in vals if v not in ("", None)]
    return math.exp(sum(math.log(v) for v in vals) / len(vals)) if vals else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.json:
        with open(args.json) as fh:
            m = json.load(fh)["machine"]
        print(f"{m['cpu']}; convkit {m['convkit']} on {m['target']}, {m['threads']} thread(s), "
              f"measured FMA peak {m['peak_gflops']:.0f} GFLOP/s; {m['compiler']}; "
              f"{m['onednn']}; {m['xnnpack']}\n")
    rows = list(csv.DictReader(open(args.csv, newline="")))
    shapes, by = [], {}
    for r in rows:
        key = (r["suite"], r["name"])
        if key not in by:
            shapes.append(key)
            by[key] = {}
        by[key][r["impl"]] = r

    def ms(r):
        return f(r["median_ms"], 3) if r and r["status"] == "ok" else (r["status"] if r else "")

    print("| suite | layer | convkit ms | GFLOP/s | %peak | oneDNN nhwc ms | oneDNN blocked ms"
          " | XNNPACK ms | naive ms | vs oneDNN | vs XNNPACK | vs best peer |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    suites = {}
    for key in shapes:
        d = by[key]
        c = d.get("convkit", {})
        print(f"| {key[0]} | {key[1]} | {ms(c)} | {f(c.get('gflops'), 1)} | {f(c.get('pct_peak'), 1)}"
              f" | {ms(d.get('onednn_nhwc'))} | {ms(d.get('onednn_blocked'))} | {ms(d.get('xnnpack'))}"
              f" | {ms(d.get('naive'))} | {x(c.get('speedup_vs_onednn'))} | {x(c.get('speedup_vs_xnnpack'))}"
              f" | {x(c.get('speedup_vs_best_peer'))} |")
        suites.setdefault(key[0], []).append(c)
    print()
    print("| suite | shapes | geomean vs oneDNN | vs XNNPACK | vs best peer | won / lost vs best peer |")
    print("|---|---:|---:|---:|---:|---:|")
    everything = [c for cs in suites.values() for c in cs]
    for name, cs in list(suites.items()) + ([("all", everything)] if len(suites) > 1 else []):
        peer = [float(c["speedup_vs_best_peer"]) for c in cs if c.get("speedup_vs_best_peer")]
        won = sum(1 for p in peer if p >= 1.0)
        g = [geomean(c.get(k) for c in cs) for k in
             ("speedup_vs_onednn", "speedup_vs_xnnpack", "speedup_vs_best_peer")]
        print(f"| {name} | {len(cs)} | " + " | ".join("–" if v is None else f"{v:.2f}×" for v in g)
              + f" | {won} / {len(peer) - won} |")


if __name__ == "__main__":
    main()
