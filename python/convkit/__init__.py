"""convkit: portable SIMD/OpenMP 2-D convolution for numpy (and PyTorch).

PyTorch's argument names and semantics, numpy float32 arrays in and out::

    y = convkit.conv2d(x, w, bias, stride=1, padding=0, dilation=1, groups=1,
                       layout="NHWC")

``layout`` is "NHWC" (x: [N, H, W, C], weights HWIO: [KH, KW, C/groups, Cout],
the notebooks') or "NCHW" (x: [N, C, H, W], weights OIHW: [Cout, C/groups, KH,
KW], PyTorch's). ``padding`` is an int, a pair (top/bottom, left/right, as
PyTorch) or four ints (top, bottom, left, right). C-contiguous float32 input
is used in place (no copy); anything else raises ``TypeError`` (not an array,
wrong dtype) or ``ValueError`` (rank, shape, contiguity, or convkit's own
check, whose message names the field) unless ``copy=True`` allows a
converted copy. The GIL is released while convkit computes, so Python
threads run convolutions concurrently; ``threads=`` sets convkit's OpenMP
threads per call (0: automatic).
"""
import numpy as np

from . import _convkit

__all__ = [
    "conv2d", "Conv2d", "conv2d_backward_data", "conv2d_backward_weights",
    "conv_transpose2d", "plan", "compiled_targets", "supported_targets",
    "__version__",
]

__version__ = _convkit.version()

_LAYOUTS = {"NHWC": (_convkit.Layout.NHWC, _convkit.WeightsLayout.HWIO),
            "NCHW": (_convkit.Layout.NCHW, _convkit.WeightsLayout.OIHW)}


def compiled_targets():
    """SIMD targets compiled into this build, best first."""
    return _convkit.compiled_targets()


def supported_targets():
    """Compiled targets this CPU can run, best first."""
    return _convkit.supported_targets()


# --- argument checking ----------------------------------------------------

def _array(a, name, rank, copy):
    """a as a C-contiguous float32 ndarray of the given rank, without a copy
    unless copy=True; else TypeError/ValueError naming the argument."""
    if not isinstance(a, np.ndarray):
        if not copy:
            raise TypeError(f"convkit: {name} must be a numpy.ndarray of float32, "
                            f"not {type(a).__name__} (or pass copy=True)")
        a = np.asarray(a)
    if a.dtype != np.float32:
        if not copy:
            raise TypeError(f"convkit: {name} must have dtype float32, not {a.dtype} "
                            f"(or pass copy=True)")
        if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
            raise TypeError(f"convkit: {name} has dtype {a.dtype}, which cannot be "
                            f"converted to float32")
    if a.ndim != rank:
        raise ValueError(f"convkit: {name} must have {rank} dimensions, not {a.ndim} "
                         f"(shape {a.shape})")
    if not a.flags.c_contiguous or a.dtype != np.float32:
        if not copy:
            raise ValueError(f"convkit: {name} is not C-contiguous (pass copy=True to "
                             f"copy it)")
        a = np.ascontiguousarray(a, dtype=np.float32)
    return a


def _pair(v, name):
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return int(v), int(v)
    try:
        t = tuple(v)
    except TypeError:
        raise TypeError(f"convkit: {name} must be an int or a pair of ints, not "
                        f"{type(v).__name__}") from None
    if len(t) != 2 or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool)
                              for i in t):
        raise ValueError(f"convkit: {name} must be an int or a pair of ints, not {v!r}")
    return int(t[0]), int(t[1])


def _padding(p):
    """(top, bottom, left, right) from an int, a pair (PyTorch: (h, w)) or
    four ints."""
    if isinstance(p, str):
        raise ValueError(f"convkit: padding must be an int, a pair or four ints, not "
                         f"{p!r}")
    if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
        return (int(p),) * 4
    try:
        t = tuple(p)
    except TypeError:
        raise TypeError(f"convkit: padding must be an int, a pair or four ints, not "
                        f"{type(p).__name__}") from None
    if not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in t):
        raise ValueError(f"convkit: padding must hold ints, not {p!r}")
    if len(t) == 2:
        return int(t[0]), int(t[0]), int(t[1]), int(t[1])
    if len(t) == 4:
        return tuple(int(i) for i in t)
    raise ValueError(f"convkit: padding must be an int, a pair or four ints, not {p!r}")


def _layouts(layout):
    if not isinstance(layout, str) or layout.upper() not in _LAYOUTS:
        raise ValueError(f"convkit: layout must be \"NHWC\" or \"NCHW\", not {layout!r}")
    return layout.upper()


def _post_ops(desc, activation, clamp):
    if activation is not None:
        if activation == "relu":
            desc.output_min = max(desc.output_min, 0.0)
        elif activation == "relu6":
            desc.output_min, desc.output_max = 0.0, 6.0
        else:
            raise ValueError(f"convkit: activation must be None, \"relu\" or \"relu6\", "
                             f"not {activation!r}")
    if clamp is not None:
        try:
            lo, hi = clamp
        except (TypeError, ValueError):
            raise ValueError(f"convkit: clamp must be a pair (min, max), not {clamp!r}") \
                from None
        lo = float("-inf") if lo is None else float(lo)
        hi = float("inf") if hi is None else float(hi)
        if activation is not None:
            lo, hi = max(lo, desc.output_min), min(hi, desc.output_max)
        desc.output_min, desc.output_max = lo, hi


def _geometry(desc, stride, padding, dilation, groups):
    desc.stride_h, desc.stride_w = _pair(stride, "stride")
    desc.pad_top, desc.pad_bottom, desc.pad_left, desc.pad_right = _padding(padding)
    desc.dilation_h, desc.dilation_w = _pair(dilation, "dilation")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"convkit: groups must be an int, not {type(groups).__name__}")
    desc.groups = int(groups)


def _split_x(shape, layout):
    """(N, H, W, C) of an activation shape in layout."""
    if layout == "NHWC":
        return shape
    n, c, h, w = shape
    return n, h, w, c


def _split_w(shape, layout):
    """(KH, KW, Cin/G, Cout) of a weight shape (HWIO or OIHW)."""
    if layout == "NHWC":
        return shape
    o, i, kh, kw = shape
    return kh, kw, i, o


def _y_shape(n, oh, ow, c, layout):
    return (n, oh, ow, c) if layout == "NHWC" else (n, c, oh, ow)


def _conv_desc(x_shape, w_shape, has_bias, stride, padding, dilation, groups, layout,
               x_name="x", w_name="w"):
    """The descriptor of conv2d(x, w) from shapes, with the shape checks that
    name the argument: w's input channels against x's and groups."""
    n, h, w, c = _split_x(x_shape, layout)
    kh, kw, cg, co = _split_w(w_shape, layout)
    desc = _convkit.Conv2dDesc()
    desc.layout, desc.weights_layout = _LAYOUTS[layout]
    _geometry(desc, stride, padding, dilation, groups)
    if desc.groups >= 1 and cg * desc.groups != c:
        raise ValueError(
            f"convkit: {w_name} has {cg} input channels per group, but {x_name} has {c} "
            f"channels and groups={desc.groups} (want {w_name} with "
            f"{c // desc.groups if c % desc.groups == 0 else c / desc.groups} per group; "
            f"{w_name}.shape {tuple(w_shape)}, {x_name}.shape {tuple(x_shape)}, {layout})")
    desc.batch, desc.in_h, desc.in_w, desc.in_channels = n, h, w, c
    desc.kernel_h, desc.kernel_w, desc.out_channels = kh, kw, co
    desc.has_bias = has_bias
    return desc


def _bias(bias, out_channels, copy):
    if bias is None:
        return None
    b = _array(bias, "bias", 1, copy)
    if b.shape[0] != out_channels:
        raise ValueError(f"convkit: bias has {b.shape[0]} elements, want out_channels = "
                         f"{out_channels}")
    return b


def _out(out, shape, name="out"):
    if out is None:
        return np.empty(shape, dtype=np.float32)
    if not isinstance(out, np.ndarray) or out.dtype != np.float32:
        raise TypeError(f"convkit: {name} must be a float32 numpy.ndarray")
    if out.shape != tuple(shape) or not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"convkit: {name} must be a writeable C-contiguous array of shape "
                         f"{tuple(shape)}, not {out.shape}")
    return out


def _threads(threads):
    if not isinstance(threads, (int, np.integer)) or isinstance(threads, bool):
        raise TypeError(f"convkit: threads must be an int, not {type(threads).__name__}")
    return int(threads)


def _target(max_target):
    if max_target is None:
        return ""
    if not isinstance(max_target, str):
        raise TypeError("convkit: max_target must be a target name (str) or None")
    return max_target


# --- forward --------------------------------------------------------------

def conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, layout="NHWC",
           *, activation=None, clamp=None, out=None, threads=0, max_target=None,
           algorithm="auto", copy=False):
    """y = conv2d(x, w) + bias, then ``activation`` ("relu", "relu6") and
    ``clamp=(min, max)`` fused into the store. Cross-correlation, as
    ``torch.nn.functional.conv2d``. ``out``: an existing output array
    (written in place). Returns y (float32, x's layout)."""
    layout = _layouts(layout)
    x = _array(x, "x", 4, copy)
    w = _array(w, "w", 4, copy)
    desc = _conv_desc(x.shape, w.shape, bias is not None, stride, padding, dilation,
                      groups, layout)
    b = _bias(bias, desc.out_channels, copy)
    _post_ops(desc, activation, clamp)
    oh, ow = _convkit.output_shape(desc)
    y = _out(out, _y_shape(desc.batch, oh, ow, desc.out_channels, layout))
    _convkit.forward(desc, x, w, b, y, algorithm, _target(max_target), _threads(threads))
    return y


class Conv2d:
    """A prepared convolution: the weights (and bias) are packed once per
    input shape, as convkit::Conv2d, and every call with that shape reuses
    them (the first call with a new (N, H, W) packs again and keeps both).
    The arrays given are copied when packing; later changes to them are not
    seen. Calls may come from several Python threads at once."""

    def __init__(self, w, bias=None, stride=1, padding=0, dilation=1, groups=1,
                 layout="NHWC", *, activation=None, clamp=None, threads=0,
                 max_target=None, algorithm="auto", copy=False):
        self.layout = _layouts(layout)
        self._w = _array(w, "w", 4, copy).copy()
        kh, kw, cg, co = _split_w(self._w.shape, self.layout)
        self._bias = None if bias is None else _bias(bias, co, copy).copy()
        self._args = (stride, padding, dilation, groups)
        self._post = (activation, clamp)
        self._threads = _threads(threads)
        self._target = _target(max_target)
        self._algorithm = algorithm
        self._ops = {}
        # Validate everything but the input size now, with a 1-pixel-padded
        # image big enough for the kernel.
        probe = _convkit.Conv2dDesc()
        _geometry(probe, stride, padding, dilation, groups)
        _post_ops(probe, activation, clamp)
        self.out_channels = co
        self.in_channels = cg * probe.groups

    def _operator(self, shape):
        op = self._ops.get(shape)
        if op is None:
            desc = _conv_desc(shape, self._w.shape, self._bias is not None, *self._args,
                              self.layout)
            _post_ops(desc, *self._post)
            op = _convkit.Operator(desc, self._w, self._bias, self._algorithm,
                                   self._target, self._threads)
            oh, ow = _convkit.output_shape(desc)
            op = (op, _y_shape(desc.batch, oh, ow, desc.out_channels, self.layout))
            self._ops[shape] = op
        return op

    def __call__(self, x, *, out=None, threads=0, copy=False):
        x = _array(x, "x", 4, copy)
        op, y_shape = self._operator(x.shape)
        y = _out(out, y_shape)
        op.forward(x, y, _threads(threads))
        return y

    def plan(self, x_shape):
        """What runs for input of x_shape: algorithm, kernel, target,
        register tile and cache blocks, threads, workspace."""
        return self._operator(tuple(x_shape))[0].plan()


def plan(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, layout="NHWC", *,
         activation=None, clamp=None, threads=0, max_target=None, algorithm="auto"):
    """What ``conv2d`` would run for these arguments (arrays, or their shapes):
    a dict with algorithm, kernel, target, mr, tile_rows, nr, mc, kc, nc, out_h, out_w,
    threads and workspace_bytes."""
    layout = _layouts(layout)
    x_shape = tuple(x.shape) if hasattr(x, "shape") else tuple(x)
    w_shape = tuple(w.shape) if hasattr(w, "shape") else tuple(w)
    if len(x_shape) != 4 or len(w_shape) != 4:
        raise ValueError("convkit: x and w must have 4 dimensions")
    desc = _conv_desc(x_shape, w_shape, bias is not None, stride, padding, dilation,
                      groups, layout)
    _post_ops(desc, activation, clamp)
    return _convkit.plan(desc, algorithm, _target(max_target), _threads(threads))


# --- backward and transposed ----------------------------------------------

def _check_dy(dy, desc, layout):
    """dy must have the shape of desc's output."""
    oh, ow = _convkit.output_shape(desc)
    want = _y_shape(desc.batch, oh, ow, desc.out_channels, layout)
    if dy.shape != want:
        raise ValueError(f"convkit: dy has shape {dy.shape}, but the convolution's output "
                         f"is {want}")


def conv2d_backward_data(dy, w, input_shape, stride=1, padding=0, dilation=1, groups=1,
                         layout="NHWC", *, out=None, threads=0, max_target=None,
                         copy=False):
    """dx = d(loss)/dx of y = conv2d(x, w) given dy = d(loss)/dy
    (``torch.nn.grad.conv2d_input(input_shape, w, dy, ...)``); x's shape is
    ``input_shape`` (it cannot always be inferred from dy's)."""
    layout = _layouts(layout)
    dy = _array(dy, "dy", 4, copy)
    w = _array(w, "w", 4, copy)
    input_shape = tuple(int(i) for i in input_shape)
    if len(input_shape) != 4:
        raise ValueError(f"convkit: input_shape must have 4 dimensions, not {input_shape}")
    desc = _conv_desc(input_shape, w.shape, False, stride, padding, dilation, groups,
                      layout, x_name="input_shape")
    _check_dy(dy, desc, layout)
    dx = _out(out, input_shape)
    _convkit.backward_data(desc, dy, w, dx, _target(max_target), _threads(threads))
    return dx


def conv2d_backward_weights(x, dy, weight_shape, stride=1, padding=0, dilation=1,
                            groups=1, layout="NHWC", *, bias=False, threads=0,
                            max_target=None, copy=False):
    """dw = d(loss)/dw of y = conv2d(x, w) given x and dy
    (``torch.nn.grad.conv2d_weight(x, weight_shape, dy, ...)``), in the
    layout's weight format; with ``bias=True`` returns (dw, dbias), dbias
    the sum of dy over images and pixels."""
    layout = _layouts(layout)
    x = _array(x, "x", 4, copy)
    dy = _array(dy, "dy", 4, copy)
    weight_shape = tuple(int(i) for i in weight_shape)
    if len(weight_shape) != 4:
        raise ValueError(f"convkit: weight_shape must have 4 dimensions, not {weight_shape}")
    desc = _conv_desc(x.shape, weight_shape, bool(bias), stride, padding, dilation, groups,
                      layout, w_name="weight_shape")
    _check_dy(dy, desc, layout)
    dw = np.empty(weight_shape, dtype=np.float32)
    db = np.empty(desc.out_channels, dtype=np.float32) if bias else None
    _convkit.backward_weights(desc, x, dy, dw, db, _target(max_target), _threads(threads))
    return (dw, db) if bias else dw


def conv_transpose2d(x, w, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, layout="NHWC", *, out=None, threads=0, max_target=None,
                     copy=False):
    """``torch.nn.functional.conv_transpose2d`` (same argument order).
    Weights: NCHW takes PyTorch's [Cin, Cout/groups, KH, KW]; NHWC takes
    [KH, KW, Cout/groups, Cin]. ``padding`` is an int or a pair."""
    layout = _layouts(layout)
    x = _array(x, "x", 4, copy)
    w = _array(w, "w", 4, copy)
    n, h, wd, c = _split_x(x.shape, layout)
    if layout == "NHWC":
        kh, kw, og, ci = w.shape
    else:
        ci, og, kh, kw = w.shape
    t = _convkit.ConvTranspose2dDesc()
    t.layout, t.weights_layout = _LAYOUTS[layout]
    t.stride_h, t.stride_w = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    t.pad_top = t.pad_bottom = ph
    t.pad_left = t.pad_right = pw
    t.output_pad_h, t.output_pad_w = _pair(output_padding, "output_padding")
    t.dilation_h, t.dilation_w = _pair(dilation, "dilation")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError("convkit: groups must be an int")
    t.groups = int(groups)
    if ci != c:
        raise ValueError(f"convkit: w has {ci} input channels, x has {c} "
                         f"(w.shape {w.shape}, x.shape {x.shape}, {layout})")
    t.batch, t.in_h, t.in_w, t.in_channels = n, h, wd, c
    t.kernel_h, t.kernel_w, t.out_channels = kh, kw, og * t.groups
    t.has_bias = bias is not None
    b = _bias(bias, t.out_channels, copy)
    oh, ow = _convkit.transposed_output_shape(t)
    y = _out(out, _y_shape(n, oh, ow, t.out_channels, layout))
    _convkit.conv_transpose(t, x, w, b, y, _target(max_target), _threads(threads))
    return y
