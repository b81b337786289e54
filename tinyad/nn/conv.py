"""Convolutional layers, PyTorch's signatures: Conv1d, Conv2d and ConvTranspose2d (the conv2d
family of primitives, tinyad/primitives/convolution.py, through functional_conv.py; outputs are
channels-last buffers seen as NCHW, which the next layer reads without a copy).

Weights are PyTorch's: (out_channels, in_channels/groups, *kernel) for Conv1d and Conv2d,
(in_channels, out_channels/groups, kh, kw) for ConvTranspose2d, and so is the default
initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, fan_in = weight.shape[1]
times the kernel's size. padding_mode "zeros" only (pad first for the others).
"""
import math

import numpy as np

from ..tensor import zeros
from . import functional as F
from . import init
from .module import Module, Parameter
from .window_args import conv_pads, sizes


class _ConvNd(Module):
    """What the three layers share: checked arguments, parameters, initialisation, repr, and
    the forward pass ``function`` (F.conv2d or F.conv1d) of the weight and bias."""

    def __init__(self, name, spatial, in_channels, out_channels, kernel_size, stride, padding,
                 dilation, groups, bias, padding_mode, dtype, transposed=False):
        super().__init__()
        if not isinstance(groups, int) or groups < 1 or in_channels % groups \
                or out_channels % groups:
            raise ValueError(f"{name}: in_channels {in_channels} and out_channels {out_channels} "
                             f"must both be divisible by groups {groups}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode {padding_mode!r} is not supported (only "
                             "'zeros')")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = sizes(kernel_size, spatial, "kernel_size", name)
        self.stride = sizes(stride, spatial, "stride", name)
        self.dilation = sizes(dilation, spatial, "dilation", name)
        pairs = conv_pads(padding, self.kernel_size, self.stride, self.dilation, name)
        self.padding = padding if isinstance(padding, str) else tuple(   # PyTorch's (ph, pw)
            before if before == after else (before, after) for before, after in pairs)
        self.padding_mode = padding_mode
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(zeros(*shape, dtype=dtype))
        self.bias = Parameter(zeros(out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def forward(self, x):
        return self.function(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                             self.groups)

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")
        if self.dilation != (1,) * len(self.dilation):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + f", bias={self.bias is not None}"


class _Conv(_ConvNd):
    """Conv1d and Conv2d: PyTorch's signature; the class names its kind, its number of spatial
    axes and its forward ``function``."""
    kind, spatial = None, None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", dtype=np.float32):
        super().__init__(self.kind, self.spatial, in_channels, out_channels, kernel_size, stride,
                         padding, dilation, groups, bias, padding_mode, dtype)


class Conv2d(_Conv):
    """(N, in_channels, H, W) -> (N, out_channels, OH, OW), OH = (H + 2·padding - dilation·(kh -
    1) - 1) // stride + 1; padding an int, a pair, ((top, bottom), (left, right)), "valid" or
    "same" (stride 1)."""
    kind, spatial, function = "Conv2d", 2, staticmethod(F.conv2d)


class Conv1d(_Conv):
    """(N, in_channels, L) -> (N, out_channels, OL), OL = (L + 2·padding - dilation·(k - 1) -
    1) // stride + 1; padding an int, ((before, after),), "valid" or "same" (stride 1)."""
    kind, spatial, function = "Conv1d", 1, staticmethod(F.conv1d)


class ConvTranspose2d(_ConvNd):
    """(N, in_channels, H, W) -> (N, out_channels, H_out, W_out), the transpose of a Conv2d
    with these arguments: H_out = (H - 1)·stride - 2·padding + dilation·(kh - 1) +
    output_padding + 1."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 dtype=np.float32):
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d: padding must be an int or a tuple, got "
                             f"{padding!r}")
        super().__init__("ConvTranspose2d", 2, in_channels, out_channels, kernel_size, stride,
                         padding, dilation, groups, bias, padding_mode, dtype, transposed=True)
        self.output_padding = sizes(output_padding, 2, "output_padding", "ConvTranspose2d",
                                    low=0)

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)

    def extra_repr(self):
        return super().extra_repr() + f", output_padding={self.output_padding}"
