#!/usr/bin/env python3
"""What the Python layer costs (issue 10's two figures):

1. Call overhead on the smallest notebook shape (4x8x8x3 -> 4, 3x3): a
   prepared convkit.Conv2d called from Python (op(x, out=y)) against the same
   operator's Forward timed in a C++ loop (Operator.time_forward), in
   alternating rounds; also the one-shot convkit.conv2d per call.
2. The resnet50 suite through Python (prepared operators, out= given) against
   convkit-perf's own convkit timings (--suite resnet50), in alternating
   sweeps; per layer the best sweep's median, then the geometric mean of
   Python time / convkit-perf time. convkit-perf times its implementations
   in turns (convkit, oneDNN, XNNPACK, short runs each), so its caches start
   colder than a loop's: the same layers timed in a C++ loop
   (Operator.time_forward) are the like-for-like column.

Usage: python3 examples/python_perf.py [--perf build/perf/convkit-perf]
       [--threads N] [--sweeps 3]   (run with nothing else on the machine)
"""
import argparse
import csv
import math
import os
import subprocess
import tempfile
import time

import numpy as np

import convkit


def parse_spec(spec):
    f = dict(kv.split("=") for kv in spec.split(","))
    pair = lambda v: tuple(int(i) for i in v.split("x")) if "x" in v else (int(v),) * 2
    kh, kw = pair(f["k"])
    return dict(n=int(f.get("n", 1)), h=int(f["h"]), w=int(f["w"]), ci=int(f["ci"]),
                co=int(f["co"]), kh=kh, kw=kw, stride=pair(f.get("s", "1")),
                pads=tuple(int(i) for i in f.get("p", "0:0:0:0").split(":")),
                dilation=pair(f.get("d", "1")), groups=int(f.get("g", "1")),
                bias=f.get("bias", "0") == "1")


def overhead(rounds=15, reps=3000):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8, 8, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    op = convkit.Conv2d(w)
    y = op(x)
    core = op._operator(x.shape)[0]
    cpp, py, oneshot = [], [], []
    for _ in range(rounds):
        cpp.append(core.time_forward(x, y, reps, 0))
        t0 = time.perf_counter()
        for _ in range(reps):
            op(x, out=y)
        py.append((time.perf_counter() - t0) / reps)
        t0 = time.perf_counter()
        for _ in range(reps // 10):
            convkit.conv2d(x, w, out=y)
        oneshot.append((time.perf_counter() - t0) / (reps // 10))
    c, p, o = (float(np.median(v)) * 1e6 for v in (cpp, py, oneshot))
    print(f"smallest notebook shape 4x8x8x3->4 3x3, median of {rounds} rounds x {reps} calls:")
    print(f"  C++ Forward loop      {c:7.2f} us/call")
    print(f"  Python op(x, out=y)   {p:7.2f} us/call   overhead {p - c:5.2f} us")
    print(f"  Python conv2d(x, w)   {o:7.2f} us/call   (one-shot: packs the weights each call)")


def time_cpp(layers, threads, reps=10):
    out = {}
    for name, (op, x, y) in layers.items():
        core = op._operator(x.shape)[0]
        core.time_forward(x, y, 1, threads)
        out[name] = float(np.median([core.time_forward(x, y, 1, threads)
                                     for _ in range(reps)])) * 1e3
    return out


def time_python(layers, threads, min_time=0.3, min_reps=10):
    out = {}
    for name, (op, x, y) in layers.items():
        op(x, out=y, threads=threads)
        times = []
        start = time.perf_counter()
        while len(times) < min_reps or time.perf_counter() - start < min_time:
            t0 = time.perf_counter()
            op(x, out=y, threads=threads)
            times.append(time.perf_counter() - t0)
        out[name] = float(np.median(times)) * 1e3
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--perf", default="build/perf/convkit-perf")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sweeps", type=int, default=3)
    args = parser.parse_args()
    print(f"convkit {convkit.__version__}, {convkit.supported_targets()[0]}, "
          f"{args.threads} thread(s)")
    overhead()
    if not os.path.exists(args.perf):
        print(f"no {args.perf}: resnet50 comparison skipped")
        return
    rng = np.random.default_rng(1)
    layers, best_py, best_cpp, best_loop = {}, {}, {}, {}
    for sweep in range(args.sweeps):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "r.csv")
            subprocess.run([args.perf, "--suite", "resnet50", "--threads", str(args.threads),
                            "--no-naive", "--quiet", "--csv", path], check=True,
                           stdout=subprocess.DEVNULL)
            rows = [r for r in csv.DictReader(open(path)) if r["impl"] == "convkit"]
        for r in rows:
            name = r["name"]
            best_cpp[name] = min(best_cpp.get(name, math.inf), float(r["median_ms"]))
            if name not in layers:
                s = parse_spec(r["shape"])
                x = rng.standard_normal((s["n"], s["h"], s["w"], s["ci"])).astype(np.float32)
                w = rng.standard_normal((s["kh"], s["kw"], s["ci"] // s["groups"],
                                         s["co"])).astype(np.float32)
                b = rng.standard_normal(s["co"]).astype(np.float32) if s["bias"] else None
                op = convkit.Conv2d(w, b, s["stride"], s["pads"], s["dilation"], s["groups"])
                layers[name] = (op, x, op(x, threads=args.threads))
        for name, t in time_python(layers, args.threads).items():
            best_py[name] = min(best_py.get(name, math.inf), t)
        for name, t in time_cpp(layers, args.threads).items():
            best_loop[name] = min(best_loop.get(name, math.inf), t)
    print(f"\nresnet50 suite, best of {args.sweeps} alternating sweeps (median ms):")
    print("| layer | convkit-perf | C++ loop | Python | Python / convkit-perf | "
          "Python / C++ loop |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    logs, loop_logs = [], []
    for name in best_cpp:
        ratio = best_py[name] / best_cpp[name]
        loop_ratio = best_py[name] / best_loop[name]
        logs.append(math.log(ratio))
        loop_logs.append(math.log(loop_ratio))
        print(f"| {name} | {best_cpp[name]:.4f} | {best_loop[name]:.4f} | "
              f"{best_py[name]:.4f} | {ratio:.3f} | {loop_ratio:.3f} |")
    gm = lambda v: math.exp(sum(v) / len(v))
    print(f"geometric mean Python / convkit-perf: {gm(logs):.4f}, "
          f"Python / C++ loop: {gm(loop_logs):.4f}")


if __name__ == "__main__":
    main()
