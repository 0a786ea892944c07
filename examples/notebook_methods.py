#!/usr/bin/env python3
"""The notebooks' three ways to compute conv2d (../shared/seeds), against
convkit.conv2d and PyTorch, on the notebooks' shapes: NHWC activations,
HWIO weights, float32.

  naive    the 7-deep loop (notebook 001's naive_conv2d; only where it
           finishes in seconds)
  shifted  K x K matrix multiplications of the shifted input (notebook 000's
           conv_mul)
  im2col   np.lib.stride_tricks.as_strided + one matmul (notebook 003's
           conv_im2col, with stride)

Each result is checked against convkit's (relative error printed); times
are medians of repeated calls. Usage: python3 examples/notebook_methods.py
[--threads N]
"""
import argparse
import os
import time

import numpy as np

import convkit

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the table then has no PyTorch column
    torch = None

# The notebooks' shapes (perf/suites.cc, "seeds"): N, H, W, C, Cout, KH, KW, stride.
SHAPES = [
    ("000 4x8x8x3->4 3x3", (4, 8, 8, 3, 4, 3, 3, (1, 1))),
    ("002 6x5x5x5->5 3x2 s2x1", (6, 5, 5, 5, 5, 3, 2, (2, 1))),
    ("003 10x32x32x8->16 3x3", (10, 32, 32, 8, 16, 3, 3, (1, 1))),
    ("001 32x128x128x32->64 3x3", (32, 128, 128, 32, 64, 3, 3, (1, 1))),
]


def out_size(x, w, stride):
    """(OH, OW) of an unpadded convolution, as the notebooks compute it."""
    (_, h, wd, _), (kh, kw, _, _) = x.shape, w.shape
    return (h - kh) // stride[0] + 1, (wd - kw) // stride[1] + 1


def conv_naive(x, w, stride):
    n, _, _, c = x.shape
    kh, kw, _, co = w.shape
    sh, sw = stride
    oh, ow = out_size(x, w, stride)
    out = np.zeros((n, oh, ow, co), dtype=np.float32)
    for i in range(n):
        for o in range(co):
            for y in range(oh):
                for x1 in range(ow):
                    acc = 0.0
                    for m in range(kh):
                        for q in range(kw):
                            for ci in range(c):
                                acc += x[i, y * sh + m, x1 * sw + q, ci] * w[m, q, ci, o]
                    out[i, y, x1, o] = acc
    return out


def conv_shifted(x, w, stride):
    kh, kw, _, co = w.shape
    sh, sw = stride
    oh, ow = out_size(x, w, stride)
    out = np.zeros((x.shape[0], oh, ow, co), dtype=np.float32)
    for m in range(kh):
        for q in range(kw):
            out += x[:, m:m + (oh - 1) * sh + 1:sh, q:q + (ow - 1) * sw + 1:sw, :] @ w[m, q]
    return out


def conv_im2col(x, w, stride):
    n, _, _, c = x.shape
    kh, kw, _, co = w.shape
    sh, sw = stride
    oh, ow = out_size(x, w, stride)
    ns, hs, ws, cs = x.strides
    a = np.lib.stride_tricks.as_strided(
        x, shape=(n, oh, ow, kh, kw, c), strides=(ns, hs * sh, ws * sw, hs, ws, cs))
    return (a.reshape(-1, kh * kw * c) @ w.reshape(-1, co)).reshape(n, oh, ow, co)


def median_time(f, budget=1.0, max_reps=200):
    f()  # warm up
    times = []
    start = time.perf_counter()
    while len(times) < max_reps and (len(times) < 3 or time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def fmt(seconds):
    if seconds is None:
        return "—"
    return f"{seconds * 1e3:.3f}" if seconds < 10 else f"{seconds:.1f} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="convkit's and PyTorch's threads (default: all cores)")
    args = parser.parse_args()
    if torch is not None:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"convkit {convkit.__version__} on {convkit.supported_targets()[0]}, "
          f"{args.threads} threads"
          + (f", PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"
             if torch is not None else ", no PyTorch"))
    print("median ms per call; speed-up = method time / convkit time\n")
    head = (f"| shape | naive | shifted | im2col | convkit | PyTorch | "
            f"convkit vs naive / shifted / im2col / PyTorch | max rel. error |")
    print(head)
    print("|" + " --- |" * 8)
    for name, (n, h, wd, c, co, kh, kw, stride) in SHAPES:
        x = rng.standard_normal((n, h, wd, c)).astype(np.float32)
        w = rng.standard_normal((kh, kw, c, co)).astype(np.float32)
        op = convkit.Conv2d(w, stride=stride, threads=args.threads)
        y = op(x)
        out = np.empty_like(y)
        scale = np.abs(y).max()
        times, errors = {}, []
        flops = 2.0 * y.size * kh * kw * c
        methods = [("shifted", conv_shifted), ("im2col", conv_im2col)]
        if flops < 5e6:  # the Python loop: about 1 us per multiply-add
            methods.insert(0, ("naive", conv_naive))
        for label, f in methods:
            r = f(x, w, stride)
            errors.append(np.abs(r - y).max() / scale)
            times[label] = median_time(lambda: f(x, w, stride),
                                       budget=0.3 if label == "naive" else 1.0,
                                       max_reps=3 if label == "naive" else 200)
        times["convkit"] = median_time(lambda: op(x, out=out))
        if torch is not None:
            xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
            wt = torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1)))
            with torch.no_grad():
                r = F.conv2d(xt, wt, stride=stride).numpy().transpose(0, 2, 3, 1)
                errors.append(np.abs(r - y).max() / scale)
                times["torch"] = median_time(lambda: F.conv2d(xt, wt, stride=stride))
        ck = times["convkit"]
        ups = " / ".join("—" if times.get(k) is None else f"{times[k] / ck:.1f}×"
                         for k in ("naive", "shifted", "im2col", "torch"))
        print(f"| {name} | {fmt(times.get('naive'))} | {fmt(times['shifted'])} | "
              f"{fmt(times['im2col'])} | {fmt(ck)} | {fmt(times.get('torch'))} | {ups} | "
              f"{max(errors):.1e} |")


if __name__ == "__main__":
    main()
