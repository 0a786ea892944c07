"""convkit's Python package against float64 numpy references (the library's
tolerance rule, lib/ref/check.h), against PyTorch where it is installed,
and with bad input. Run by scripts/test.sh after `pip install .` into a
virtual environment (scripts/python-test.sh)."""
import threading

import numpy as np
import pytest

import convkit

U = 2.0 ** -24


# --- float64 references ---------------------------------------------------

def _nhwc(x, layout):
    return x if layout == "NHWC" else x.transpose(0, 2, 3, 1)


def _hwio(w, layout):
    return w if layout == "NHWC" else w.transpose(2, 3, 1, 0)


def _from_nhwc(y, layout):
    return y if layout == "NHWC" else np.ascontiguousarray(y.transpose(0, 3, 1, 2))


def _cols(x, kh, kw, stride, pads, dilation):
    """im2col in float64: [N, OH, OW, KH, KW, C] of the zero-padded x."""
    sh, sw = stride
    dh, dw = dilation
    t, b, l, r = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (t, b), (l, r), (0, 0)))
    n, hp, wp, c = xp.shape
    oh = (hp - (kh - 1) * dh - 1) // sh + 1
    ow = (wp - (kw - 1) * dw - 1) // sw + 1
    s = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, shape=(n, oh, ow, kh, kw, c),
        strides=(s[0], s[1] * sh, s[2] * sw, s[1] * dh, s[2] * dw, s[3]))


def ref_conv(x, w, bias, stride, pads, dilation, groups):
    """(y, magnitude) in float64, NHWC/HWIO: y = bias + sum x*w and
    M = |bias| + sum |x|*|w|, per group."""
    kh, kw, cg, co = w.shape
    cols = _cols(x, kh, kw, stride, pads, dilation)
    og = co // groups
    ys, ms = [], []
    for g in range(groups):
        a = cols[..., g * cg:(g + 1) * cg].reshape(*cols.shape[:3], -1)
        wg = w[..., g * og:(g + 1) * og].astype(np.float64).reshape(-1, og)
        ys.append(a @ wg)
        ms.append(np.abs(a) @ np.abs(wg))
    y, m = np.concatenate(ys, axis=-1), np.concatenate(ms, axis=-1)
    if bias is not None:
        y = y + bias.astype(np.float64)
        m = m + np.abs(bias.astype(np.float64))
    return y, m


def assert_close(got, ref, mag, k):
    """|got - ref| <= min(gamma(k+1), 8 sqrt(k+1) u) M + u |ref| (check.h)."""
    n = k + 1
    gamma = n * U / (1 - n * U)
    bound = min(gamma, 8 * np.sqrt(n) * U) * mag + U * np.abs(ref)
    err = np.abs(got.astype(np.float64) - ref)
    bad = err > bound
    assert got.shape == ref.shape
    assert np.isfinite(got).all()
    assert not bad.any(), (f"{bad.sum()} of {bad.size} outside the bound; worst error "
                           f"{err.max():.3g}, bound there {bound.flat[np.argmax(err)]:.3g}")


def rand(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


# (N, H, W, C, Cout, KH, KW, stride, padding (as given), dilation, groups)
CASES = [
    (4, 8, 8, 3, 4, 3, 3, 1, 0, 1, 1),                 # notebook 000
    (6, 5, 5, 5, 5, 3, 2, (2, 1), 0, 1, 1),            # notebook 002
    (2, 9, 11, 6, 10, 3, 3, 2, 1, 1, 1),               # stride, int padding
    (1, 10, 7, 8, 12, 3, 5, (1, 2), (2, 1), (2, 1), 2),  # pair padding, dilation, groups
    (2, 7, 9, 5, 7, 2, 3, 1, (1, 0, 2, 1), 1, 1),      # four-int padding
    (1, 12, 12, 16, 16, 3, 3, 1, 1, 1, 16),            # depthwise
    (3, 6, 6, 13, 21, 1, 1, 1, 0, 1, 1),               # pointwise
]


def _pads(p):
    if isinstance(p, int):
        return (p,) * 4
    if len(p) == 2:
        return (p[0], p[0], p[1], p[1])
    return tuple(p)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_conv2d_against_float64(case, bias, layout):
    n, h, w, c, co, kh, kw, s, p, d, g = CASES[case]
    rng = np.random.default_rng(case)
    x = rand(rng, n, h, w, c)
    wt = rand(rng, kh, kw, c // g, co)
    b = rand(rng, co) if bias else None
    xl = x if layout == "NHWC" else np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    wl = wt if layout == "NHWC" else np.ascontiguousarray(wt.transpose(3, 2, 0, 1))
    y = convkit.conv2d(xl, wl, b, stride=s, padding=p, dilation=d, groups=g, layout=layout)
    ref, mag = ref_conv(x, wt, b, _pair(s), _pads(p), _pair(d), g)
    assert_close(_nhwc(y, layout), ref, mag, kh * kw * c // g)


@pytest.mark.parametrize("post", ["relu", "relu6", "clamp"])
def test_post_ops(post):
    rng = np.random.default_rng(7)
    x, w, b = rand(rng, 2, 9, 9, 5), rand(rng, 3, 3, 5, 6), rand(rng, 6)
    kwargs = {"activation": post} if post != "clamp" else {"clamp": (-0.5, 1.25)}
    y = convkit.conv2d(x, w, b, padding=1, **kwargs)
    ref, mag = ref_conv(x, w, b, (1, 1), (1, 1, 1, 1), (1, 1), 1)
    lo, hi = {"relu": (0, np.inf), "relu6": (0, 6), "clamp": (-0.5, 1.25)}[post]
    clamped = np.clip(ref, lo, hi)
    # The clamp adds no error: compare against the clamped reference.
    assert_close(y, clamped, mag, 45)
    assert y.min() >= lo and y.max() <= hi


def test_out_argument_written_in_place():
    rng = np.random.default_rng(1)
    x, w = rand(rng, 1, 6, 6, 3), rand(rng, 3, 3, 3, 4)
    out = np.full((1, 4, 4, 4), np.nan, dtype=np.float32)
    y = convkit.conv2d(x, w, out=out)
    assert y is out
    np.testing.assert_array_equal(out, convkit.conv2d(x, w))


def test_prepared_operator_matches_one_shot():
    rng = np.random.default_rng(2)
    w, b = rand(rng, 3, 3, 8, 16), rand(rng, 16)
    op = convkit.Conv2d(w, b, stride=1, padding=1, activation="relu")
    for shape in [(1, 14, 14, 8), (3, 7, 9, 8), (1, 14, 14, 8)]:
        x = rand(rng, *shape)
        np.testing.assert_array_equal(
            op(x), convkit.conv2d(x, w, b, padding=1, activation="relu"))
    w[...] = 0  # packed at creation: later changes to w are not seen
    x = rand(rng, 1, 14, 14, 8)
    assert np.abs(op(x)).max() > 0
    info = op.plan((1, 14, 14, 8))
    assert info["target"] in convkit.supported_targets()


def test_plan_and_targets():
    info = convkit.plan((1, 56, 56, 64), (3, 3, 64, 64), padding=1)
    for key in ["algorithm", "kernel", "target", "mr", "nr", "threads", "workspace_bytes"]:
        assert key in info
    assert info["out_h"] == 56 and info["out_w"] == 56
    assert info["target"] == convkit.supported_targets()[0]
    scalar = convkit.plan((1, 8, 8, 3), (3, 3, 3, 4), max_target="SCALAR")
    assert scalar["target"] in ("SCALAR", "EMU128")
    assert convkit.plan((1, 8, 8, 3), (3, 3, 3, 4), threads=1)["threads"] == 1
    assert convkit.plan((1, 8, 8, 3), (3, 3, 3, 4), algorithm="naive")["algorithm"] == "naive"
    assert set(convkit.supported_targets()) <= set(convkit.compiled_targets())


@pytest.mark.parametrize("target", ["best", "fallback"])
def test_every_thread_count_and_target_agree(target):
    """Bit-identical for every thread count (the library's promise)."""
    rng = np.random.default_rng(3)
    x, w = rand(rng, 2, 17, 19, 12), rand(rng, 3, 3, 12, 20)
    mt = None if target == "best" else "SCALAR"
    ys = [convkit.conv2d(x, w, padding=1, threads=t, max_target=mt) for t in (1, 2, 3, 5)]
    for y in ys[1:]:
        np.testing.assert_array_equal(y, ys[0])


# --- backward and transposed ----------------------------------------------

def ref_backward_data(dy, w, x_shape, stride, pads, dilation, groups):
    """dx (float64, NHWC) and its magnitude, by scattering dy @ W^T through
    the im2col index map."""
    n, h, wd, c = x_shape
    kh, kw, cg, co = w.shape
    og = co // groups
    t, b, l, r = pads
    sh, sw = stride
    dh, dw_ = dilation
    oh, ow = dy.shape[1:3]
    dx = np.zeros((n, h + t + b, wd + l + r, c))
    mag = np.zeros_like(dx)
    for g in range(groups):
        wg = w[..., g * og:(g + 1) * og].astype(np.float64)   # kh kw cg og
        dyg = dy[..., g * og:(g + 1) * og].astype(np.float64)  # n oh ow og
        for i in range(kh):
            for j in range(kw):
                contrib = dyg @ wg[i, j].T                      # n oh ow cg
                cabs = np.abs(dyg) @ np.abs(wg[i, j]).T
                rows = slice(i * dh, i * dh + (oh - 1) * sh + 1, sh)
                cols = slice(j * dw_, j * dw_ + (ow - 1) * sw + 1, sw)
                dx[:, rows, cols, g * cg:(g + 1) * cg] += contrib
                mag[:, rows, cols, g * cg:(g + 1) * cg] += cabs
    return dx[:, t:t + h, l:l + wd], mag[:, t:t + h, l:l + wd]


def ref_backward_weights(x, dy, w_shape, stride, pads, dilation, groups):
    kh, kw, cg, co = w_shape
    og = co // groups
    cols = _cols(x, kh, kw, stride, pads, dilation)
    dw = np.zeros(w_shape)
    mag = np.zeros(w_shape)
    for g in range(groups):
        a = cols[..., g * cg:(g + 1) * cg].reshape(-1, kh * kw * cg)
        dyg = dy[..., g * og:(g + 1) * og].astype(np.float64).reshape(-1, og)
        dw[..., g * og:(g + 1) * og] = (a.T @ dyg).reshape(kh, kw, cg, og)
        mag[..., g * og:(g + 1) * og] = (np.abs(a).T @ np.abs(dyg)).reshape(kh, kw, cg, og)
    return dw, mag


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_backward_passes_against_float64(case, layout):
    n, h, w, c, co, kh, kw, s, p, d, g = CASES[case]
    rng = np.random.default_rng(100 + case)
    x = rand(rng, n, h, w, c)
    wt = rand(rng, kh, kw, c // g, co)
    y, _ = ref_conv(x, wt, None, _pair(s), _pads(p), _pair(d), g)
    dy = rand(rng, *y.shape)
    to = (lambda a: a) if layout == "NHWC" else (
        lambda a: np.ascontiguousarray(a.transpose(0, 3, 1, 2)))
    wl = wt if layout == "NHWC" else np.ascontiguousarray(wt.transpose(3, 2, 0, 1))
    x_shape = to(x).shape
    dx = convkit.conv2d_backward_data(to(dy), wl, x_shape, s, p, d, g, layout=layout)
    rdx, mdx = ref_backward_data(dy, wt, x.shape, _pair(s), _pads(p), _pair(d), g)
    assert_close(_nhwc(dx, layout), rdx, mdx, kh * kw * co // g)
    dw, db = convkit.conv2d_backward_weights(to(x), to(dy), wl.shape, s, p, d, g,
                                             layout=layout, bias=True)
    rdw, mdw = ref_backward_weights(x, dy, wt.shape, _pair(s), _pads(p), _pair(d), g)
    assert_close(_hwio(dw, layout), rdw, mdw, dy.shape[0] * dy.shape[1] * dy.shape[2])
    rdb = dy.astype(np.float64).sum(axis=(0, 1, 2))
    assert_close(db, rdb, np.abs(dy.astype(np.float64)).sum(axis=(0, 1, 2)),
                 dy.shape[0] * dy.shape[1] * dy.shape[2])


@pytest.mark.parametrize("layout", ["NHWC", "NCHW"])
def test_conv_transpose2d_is_backward_data_plus_bias(layout):
    rng = np.random.default_rng(9)
    # conv_transpose2d(x) with stride 2, padding 1, output_padding 1: the
    # backward-data pass of the convolution of a 2x4x9x6 (NHWC) input.
    n, ci, co, h, w = 2, 5, 6, 4, 5  # transposed: Cin=5 -> Cout=6
    xt = rand(rng, n, h, w, ci)
    wt = rand(rng, 3, 3, co, ci)     # HWIO of the forward conv: [KH][KW][co][ci]
    b = rand(rng, co)
    oh, ow = (h - 1) * 2 - 2 + 3 + 1, (w - 1) * 2 - 2 + 3 + 1
    to = (lambda a: a) if layout == "NHWC" else (
        lambda a: np.ascontiguousarray(a.transpose(0, 3, 1, 2)))
    # NHWC weights [KH][KW][Cout/G][Cin]; NCHW PyTorch's [Cin][Cout/G][KH][KW].
    wl = wt if layout == "NHWC" else np.ascontiguousarray(wt.transpose(3, 2, 0, 1))
    y = convkit.conv_transpose2d(to(xt), wl, b, stride=2, padding=1, output_padding=1,
                                 layout=layout)
    ref, mag = ref_backward_data(xt, wt, (n, oh, ow, co), (2, 2), (1, 1, 1, 1), (1, 1), 1)
    assert_close(_nhwc(y, layout), ref + b, mag + np.abs(b), 9 * ci + 1)


# --- bad input ------------------------------------------------------------

def test_bad_input_names_the_argument():
    rng = np.random.default_rng(4)
    x, w = rand(rng, 1, 8, 8, 3), rand(rng, 3, 3, 3, 4)
    with pytest.raises(TypeError, match="x must have dtype float32"):
        convkit.conv2d(x.astype(np.float64), w)
    with pytest.raises(TypeError, match="w must be a numpy.ndarray"):
        convkit.conv2d(x, w.tolist())
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        convkit.conv2d(x[0], w)
    with pytest.raises(ValueError, match="w has 3 input channels per group"):
        convkit.conv2d(rand(rng, 1, 8, 8, 5), w)
    with pytest.raises(ValueError, match="x is not C-contiguous"):
        convkit.conv2d(x[:, ::2], w)
    with pytest.raises(ValueError, match="bias has 3 elements"):
        convkit.conv2d(x, w, rand(rng, 3))
    with pytest.raises(ValueError, match="stride_h"):
        convkit.conv2d(x, w, stride=(0, 1))
    with pytest.raises(ValueError, match="padding"):
        convkit.conv2d(x, w, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="layout"):
        convkit.conv2d(x, w, layout="NWHC")
    with pytest.raises(ValueError, match="kernel"):
        convkit.conv2d(rand(rng, 1, 2, 2, 3), w)
    with pytest.raises(ValueError, match="output_min|clamp"):
        convkit.conv2d(x, w, clamp=(1.0, -1.0))
    with pytest.raises(ValueError, match="output_min|clamp"):
        convkit.conv2d(x, w, clamp=(float("nan"), 1.0))
    with pytest.raises(ValueError, match="max_target|target"):
        convkit.conv2d(x, w, max_target="AVX9000")
    with pytest.raises(ValueError, match="threads"):
        convkit.conv2d(x, w, threads=-1)
    with pytest.raises(ValueError, match="activation"):
        convkit.conv2d(x, w, activation="gelu")
    with pytest.raises(ValueError, match="dy has shape"):
        convkit.conv2d_backward_data(rand(rng, 1, 5, 5, 4), w, x.shape)


def test_bad_input_leaves_out_untouched_and_copy_converts():
    rng = np.random.default_rng(5)
    x, w = rand(rng, 1, 8, 8, 3), rand(rng, 3, 3, 3, 4)
    out = np.full((1, 6, 6, 4), 7.0, dtype=np.float32)
    with pytest.raises(ValueError):
        convkit.conv2d(x, w, clamp=(2.0, 1.0), out=out)
    assert (out == 7.0).all()
    # copy=True converts dtype and layout in memory; results as float32.
    y64 = convkit.conv2d(x.astype(np.float64), w.tolist(), copy=True)
    np.testing.assert_array_equal(y64, convkit.conv2d(x, w))
    xs = np.asfortranarray(x)
    np.testing.assert_array_equal(convkit.conv2d(xs, w, copy=True), convkit.conv2d(x, w))


def test_zero_copy_for_contiguous_input():
    rng = np.random.default_rng(6)
    x, w = rand(rng, 1, 8, 8, 3), rand(rng, 3, 3, 3, 4)
    before = x.copy()
    convkit.conv2d(x, w)
    np.testing.assert_array_equal(x, before)
    # The checked array is the caller's own (no conversion happened).
    assert convkit._array(x, "x", 4, False) is x


def test_python_threads_share_an_operator():
    rng = np.random.default_rng(8)
    w = rand(rng, 3, 3, 16, 32)
    op = convkit.Conv2d(w, padding=1)
    xs = [rand(rng, 1, 20, 20, 16) for _ in range(4)]
    want = [op(x, threads=1) for x in xs]
    got = [None] * 16
    errors = []

    def work(i):
        try:
            got[i] = op(xs[i % 4], threads=1 + i % 2)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(16):
        np.testing.assert_array_equal(got[i], want[i % 4])


# --- PyTorch ----------------------------------------------------------------

try:
    import torch
    import torch.nn.functional as F
    HAVE_TORCH = True
except ImportError:  # pragma: no cover - torch is optional
    HAVE_TORCH = False

needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed")


def _t64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


@needs_torch
@pytest.mark.parametrize("case", range(len(CASES)))
def test_against_torch_conv2d(case):
    n, h, w, c, co, kh, kw, s, p, d, g = CASES[case]
    if isinstance(p, tuple) and len(p) == 4:
        pytest.skip("PyTorch's conv2d has no asymmetric padding")
    rng = np.random.default_rng(200 + case)
    x, wt, b = rand(rng, n, c, h, w), rand(rng, co, c // g, kh, kw), rand(rng, co)
    y = convkit.conv2d(x, wt, b, s, p, d, g, layout="NCHW")
    ref = F.conv2d(_t64(x), _t64(wt), _t64(b), s, p, d, g).numpy()
    mag = F.conv2d(_t64(np.abs(x)), _t64(np.abs(wt)), _t64(np.abs(b)), s, p, d, g).numpy()
    assert_close(y, ref, mag, kh * kw * c // g)


@needs_torch
def test_against_torch_conv_transpose2d():
    rng = np.random.default_rng(11)
    x, wt, b = rand(rng, 2, 6, 5, 7), rand(rng, 6, 2, 3, 3), rand(rng, 4)
    y = convkit.conv_transpose2d(x, wt, b, stride=2, padding=1, output_padding=1, groups=2,
                                 layout="NCHW")
    ref = F.conv_transpose2d(_t64(x), _t64(wt), _t64(b), 2, 1, 1, 2).numpy()
    mag = F.conv_transpose2d(_t64(np.abs(x)), _t64(np.abs(wt)), _t64(np.abs(b)),
                             2, 1, 1, 2).numpy()
    assert_close(y, ref, mag, 9 * 3 + 1)


def _torch_grads(x, w, b, dy, stride, padding, groups):
    """(y, dx, dw, db) in float64 by torch autograd, and the same on |x|, |w|,
    |b|, |dy| as the magnitudes that bound float32 rounding."""
    out = []
    for f in (lambda t: t, torch.abs):
        x64 = f(x.detach().double()).requires_grad_(True)
        w64 = f(w.detach().double()).requires_grad_(True)
        b64 = None if b is None else f(b.detach().double()).requires_grad_(True)
        y64 = F.conv2d(x64, w64, b64, stride, padding, 1, groups)
        y64.backward(f(dy.double()))
        out.append((y64.detach().numpy(), x64.grad.numpy(), w64.grad.numpy(),
                    None if b is None else b64.grad.numpy()))
    return out


@needs_torch
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("bias", [False, True])
def test_torch_autograd_matches_pytorch(groups, bias):
    """convkit.torch.Conv2d (module) and conv2d (function): forward and
    every gradient against PyTorch's float64 autograd, with the tolerance
    rule (K: the terms each output sums)."""
    import convkit.torch as ct
    torch.manual_seed(groups)
    layer = ct.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=1, groups=groups, bias=bias)
    assert isinstance(layer, torch.nn.Conv2d)
    x = torch.randn(3, 4, 9, 8, requires_grad=True)
    y = layer(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    (ry, rdx, rdw, rdb), (my, mdx, mdw, mdb) = _torch_grads(
        x, layer.weight, layer.bias, dy, (2, 1), (1, 1), groups)
    pixels = y.shape[0] * y.shape[2] * y.shape[3]
    assert_close(y.detach().numpy(), ry, my, 3 * 2 * 4 // groups)
    assert_close(x.grad.numpy(), rdx, mdx, 3 * 2 * 6 // groups)
    assert_close(layer.weight.grad.numpy(), rdw, mdw, pixels)
    if bias:
        assert_close(layer.bias.grad.numpy(), rdb, mdb, pixels)
    # The function form, gradients to x only.
    x2 = x.detach().clone().requires_grad_(True)
    y2 = ct.conv2d(x2, layer.weight.detach(), None, (2, 1), 1, 1, groups)
    y2.backward(dy)
    (_, rdx2, _, _), (_, mdx2, _, _) = _torch_grads(
        x2, layer.weight, None, dy, (2, 1), (1, 1), groups)
    assert_close(x2.grad.numpy(), rdx2, mdx2, 3 * 2 * 6 // groups)
