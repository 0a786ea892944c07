#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/desc, fuzz/corpus/conv)
in the byte layouts of fuzz/fuzz_input.h and conv_fuzzer.cc. The desc seeds
include every extreme descriptor that once broke convkit (issue 8); each is
replayed by `meson test --suite fuzz` in every build.
Usage: python3 fuzz/make_seeds.py
"""
import base64
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
I64_MAX = 2**63 - 1
INF = float("inf")
TARGETS = ["", "AVX3", "AVX2", "SSE4", "SSSE3", "SCALAR", "EMU128", "BEST", "NEON", "SVE",
           "avx2", "AVX9000"]
FIELDS = ["n", "h", "w", "ci", "co", "kh", "kw", "sh", "sw", "pt", "pb", "pl", "pr",
          "dh", "dw", "g"]


def desc(flags=0, sum_scale=1.0, lo=-INF, hi=INF, algorithm=0, threads=0, target="",
         oph=0, opw=0, **kw):
    v = dict(n=1, h=8, w=8, ci=4, co=4, kh=3, kw=3, sh=1, sw=1, pt=0, pb=0, pl=0, pr=0,
             dh=1, dw=1, g=1)
    v.update(kw)
    b = b"".join(struct.pack("<q", v[f]) for f in FIELDS)
    b += struct.pack("<B", flags) + struct.pack("<fff", sum_scale, lo, hi)
    b += struct.pack("<iiB", algorithm, threads, TARGETS.index(target))
    return b + struct.pack("<qq", oph, opw)


DESC = {
    # issue 8: Validate accepted it, depthwise read tap 0 at ih = -pad_top
    "oob_pad_h": desc(h=1, w=1, ci=1, co=1, g=1, kh=1, kw=1, pt=2**61 + 1, dh=I64_MAX,
                      sh=2**61 + 2),
    "oob_pad_w": desc(h=1, w=1, ci=1, co=1, g=1, kh=1, kw=1, pl=2**61 + 1, dw=I64_MAX,
                      sw=2**61 + 2),
    "oob_wrap_pad_2p62": desc(h=1, w=1, ci=4, co=4, g=4, kh=1, kw=1, pt=2**62, dh=I64_MAX,
                              sh=2**62 + 1),
    # the same just inside the 2^60 extent limit: valid, run and checked
    "large_pad_h_valid": desc(h=1, w=1, ci=1, co=1, g=1, kh=1, kw=1, pt=2**59 + 1, dh=2**59,
                              sh=2**59 + 2),
    "large_pad_w_valid": desc(h=1, w=1, ci=4, co=4, g=4, kh=1, kw=1, pl=2**59 + 1, dw=2**59,
                              sw=2**59 + 2),
    "large_pad_both_valid": desc(h=2, w=3, ci=2, co=3, kh=2, kw=2, pt=2**58, pl=2**58 - 1,
                                 dh=2**57, dw=2**57 + 1, sh=2**58, sw=2**58 + 7),
    "pads_2p40": desc(pt=2**40, pb=2**40, pl=2**40, pr=2**40),
    "ci_2p62": desc(ci=2**62, co=4),
    "pad_top_max": desc(pt=I64_MAX),
    "dilation_w_large": desc(dw=2**62),
    "dilation_both_max": desc(dh=I64_MAX, dw=I64_MAX, kh=2, kw=2),
    "stride_max": desc(sh=I64_MAX, sw=I64_MAX),
    "batch_huge": desc(n=2**40, h=56, w=56, ci=64, co=64),
    "h_1e8": desc(h=100000000, w=56, ci=64, co=64),
    "threads_2p30": desc(threads=2**30),
    "threads_2p29": desc(threads=2**29),
    "threads_100000": desc(threads=100000),
    "threads_negative": desc(threads=-1),
    "threads_min": desc(threads=-2**31),
    "algorithm_99": desc(algorithm=99),
    "algorithm_negative": desc(algorithm=-1),
    "layout_enum_3": desc(flags=0x80 | (3 << 2)),
    "weights_enum_3": desc(flags=0x80 | (3 << 4)),
    "target_invalid": desc(target="AVX9000"),
    "target_neon": desc(target="NEON"),
    "target_lowercase": desc(target="avx2"),
    "clamp_nan": desc(lo=float("nan")),
    "clamp_inverted": desc(lo=1.0, hi=-1.0),
    "sum_scale_inf": desc(flags=2, sum_scale=INF),
    "negative_everything": desc(n=-1, h=-1, w=-1, ci=-1, co=-1, kh=-1, kw=-1, sh=-1, sw=-1,
                                pt=-1, pb=-1, pl=-1, pr=-1, dh=-1, dw=-1, g=-1),
    "min_everything": desc(**{f: -2**63 for f in FIELDS}),
    "max_everything": desc(**{f: I64_MAX for f in FIELDS}),
    "zeros": b"",
    "batch_0": desc(n=0),
    "groups_mismatch": desc(ci=6, co=4, g=4),
    # ordinary ones, run and checked by the fuzzer
    "plain": desc(),
    "bias_relu": desc(flags=1, lo=0.0),
    "sum_relu6": desc(flags=3, sum_scale=0.5, lo=0.0, hi=6.0),
    "depthwise_s2": desc(ci=8, co=8, g=8, sh=2, sw=2, pt=1, pb=1, pl=1, pr=1),
    "grouped_dilated": desc(h=11, w=9, ci=6, co=9, g=3, dh=2, dw=3, pt=2, pl=1),
    "nchw_oihw": desc(flags=4 | 8 | 1, h=7, w=6, ci=5, co=11, pt=1, pb=1, pl=1, pr=1),
    "im2col_cout5": desc(h=5, w=7, ci=3, co=5, algorithm=3, threads=2),
    "shifted": desc(h=6, w=6, ci=7, co=9, algorithm=4),
    "naive": desc(algorithm=5),
    "nchw_gemm": desc(flags=4, algorithm=6),
    "nchw_pixel_gemm": desc(flags=4 | 1, h=9, w=9, ci=6, co=19, sh=2, sw=2, pt=1, pl=1, algorithm=7),
    "sliding_window": desc(flags=1, h=9, w=31, ci=1, co=16, kh=7, kw=7, pt=3, pb=3, pl=3, pr=3,
                           algorithm=8),
    "pixel_lanes": desc(flags=1, h=9, w=10, ci=20, co=12, pt=1, pb=2, pl=2, pr=1, algorithm=9),
    "transposed_outpad": desc(sh=2, sw=2, pt=1, pl=1, oph=1, opw=1),
    "transposed_outpad_bad": desc(sh=2, sw=2, oph=2, opw=-1),
    "kernel_larger_than_input": desc(h=2, w=2, kh=3, kw=3),
    "kernel_fits_padding": desc(h=1, w=1, kh=3, kw=3, pt=1, pb=1, pl=1, pr=1),
    # found by desc_fuzzer: a clamp to [inf, inf] (the checker's |inf - inf|)
    "clamp_inf_inf": desc(h=1, w=1, pt=1, pb=1, pl=1, pr=1, lo=INF, hi=INF),
    # found by conv_fuzzer: 1x1, a stride with one output column (was
    # normalised to 1, and the 1x1 direct GEMM then read A as the input)
    "stride_one_output_1x1": desc(h=5, w=2, ci=8, co=8, kh=1, kw=1, sw=2, algorithm=2),
    # found by desc_fuzzer: a subnormal clamp bound (ParseShapeSpec took
    # strtof's underflow ERANGE for an error)
    "clamp_subnormal": desc(lo=-3.57331108e-43, hi=1.97162694e-42),
}


def conv(vals, seed):
    return bytes(v & 0xFF for v in vals) + struct.pack("<Q", seed)


def main():
    d = os.path.join(HERE, "corpus", "desc")
    c = os.path.join(HERE, "corpus", "conv")
    for path in (d, c):
        os.makedirs(path, exist_ok=True)
        for f in os.listdir(path):
            os.remove(os.path.join(path, f))
    for name, b in DESC.items():
        with open(os.path.join(d, name + ".bin"), "wb") as f:
            f.write(b)
    # conv_fuzzer: n, h, w, groups, Cin/G, Cout/G, kh, kw, strides, pads (2),
    # dilations, flags, post, algorithm, target, threads, seed.
    rng = random.Random(20261123)
    seeds = {
        "dense_3x3": [1, 8, 8, 0, 3, 4, 2, 2, 0, 5, 5, 0, 1, 0, 0, 0, 0],
        "grouped_stride": [2, 11, 9, 2, 2, 3, 2, 4, 4, 1, 6, 4, 1, 0, 1, 0, 1],
        "depthwise_13": [1, 10, 9, 0, 0, 0, 2, 2, 0, 5, 5, 0, 8 | (12 << 4) | 1, 0, 0, 0, 0],
        "nchw_oihw_post": [2, 7, 6, 0, 4, 6, 2, 2, 0, 5, 5, 0, 7, 1 | 2 | 4 | 8 | (40 << 2), 0, 0, 1],
        "batch0": [0, 5, 5, 0, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    }
    # found by conv_fuzzer (the stride_one_output_1x1 bug above):
    # direct_gemm n=2,h=3,w=2,ci=32,co=32,k=1x1,s=1x2,p=0:1:0:0,g=4
    regress = base64.b64decode("ilLh/////wAwlAAAAAAAAAAAAAAA9A==")
    with open(os.path.join(c, "regress_1x1_stride_one_output.bin"), "wb") as f:
        f.write(regress)
    # found by desc_fuzzer: TransposedAsConv's extent minus huge pads
    # overflowed (UBSan)
    with open(os.path.join(d, "transposed_pads_overflow.bin"), "wb") as f:
        f.write(base64.b64decode(
            "AAAAAAAAAAEAREVCSUFOX0ZST05UAAAABAAAAAAAAAAEAAAAAAAAAAMAAAAAAAAAAwAAAAAAAAABAAAAAAAA"
            "AAEAAAAAAAAAAAAAAAAAAAAAAAAAOiB2YWx1ZSBpcyBub3QgZGVmaW5lZAAAAAAAADogdmFsdWUgaXMgbm90IGRl"
            "ZmluZWQAgP8AAIB/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="))
    for i in range(40):
        seeds[f"random_{i:02d}"] = [rng.randrange(256) for _ in range(17)]
    for name, vals in seeds.items():
        with open(os.path.join(c, name + ".bin"), "wb") as f:
            f.write(conv(vals, rng.getrandbits(64)))
    print(f"{len(DESC)} desc seeds, {len(seeds)} conv seeds")


if __name__ == "__main__":
    main()
