"""convkit for PyTorch users: an autograd Function and a drop-in nn.Module.

    from convkit.torch import Conv2d
    layer = Conv2d(3, 16, 3, padding=1)      # as torch.nn.Conv2d
    y = layer(x)                             # x: float32 NCHW CPU tensor
    y.sum().backward()                       # convkit's backward passes

Tensors are NCHW with OIHW weights (PyTorch's), float32, on the CPU; they
are handed to convkit as numpy views, without copies when contiguous.
"""
import torch

import convkit

__all__ = ["Conv2dFunction", "Conv2d", "conv2d"]


def _np(t, name):
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"convkit: {name} must be a torch.Tensor")
    if t.device.type != "cpu" or t.dtype != torch.float32:
        raise TypeError(f"convkit: {name} must be a float32 CPU tensor, not {t.dtype} on "
                        f"{t.device}")
    return t.detach().contiguous().numpy()


class Conv2dFunction(torch.autograd.Function):
    """y = conv2d(x, w, bias) with convkit's forward and backward passes
    (``Conv2dFunction.apply(x, w, bias, stride, padding, dilation, groups)``,
    NCHW/OIHW)."""

    @staticmethod
    def forward(ctx, x, w, bias=None, stride=1, padding=0, dilation=1, groups=1):
        ctx.conf = (stride, padding, dilation, groups)
        ctx.save_for_backward(x, w)
        ctx.has_bias = bias is not None
        y = convkit.conv2d(_np(x, "x"), _np(w, "w"),
                           None if bias is None else _np(bias, "bias"),
                           stride, padding, dilation, groups, layout="NCHW")
        return torch.from_numpy(y)

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.conf
        dy_np = _np(dy, "dy")
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            dx = torch.from_numpy(convkit.conv2d_backward_data(
                dy_np, _np(w, "w"), tuple(x.shape), stride, padding, dilation, groups,
                layout="NCHW"))
        if ctx.needs_input_grad[1] or (ctx.has_bias and ctx.needs_input_grad[2]):
            r = convkit.conv2d_backward_weights(
                _np(x, "x"), dy_np, tuple(w.shape), stride, padding, dilation, groups,
                layout="NCHW", bias=ctx.has_bias)
            if ctx.has_bias:
                dw, db = (torch.from_numpy(a) for a in r)
            else:
                dw = torch.from_numpy(r)
            if not ctx.needs_input_grad[1]:
                dw = None
            if ctx.has_bias and not ctx.needs_input_grad[2]:
                db = None
        return dx, dw, db, None, None, None, None


def conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``torch.nn.functional.conv2d`` through convkit, differentiable."""
    return Conv2dFunction.apply(x, w, bias, stride, padding, dilation, groups)


class Conv2d(torch.nn.Conv2d):
    """``torch.nn.Conv2d`` (same arguments, parameters and initialization)
    whose forward and backward run on convkit. Only ``padding_mode="zeros"``
    and numeric padding; float32 on the CPU."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.padding_mode != "zeros" or isinstance(self.padding, str):
            raise ValueError("convkit: Conv2d supports padding_mode='zeros' and numeric "
                             "padding only")

    def forward(self, x):
        return Conv2dFunction.apply(x, self.weight, self.bias, self.stride, self.padding,
                                    self.dilation, self.groups)
