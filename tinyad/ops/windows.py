"""Convolution and pooling: the windows (im2col and its adjoint col2im; primitives/windows.py
explains the layout), the convolution family (conv2d, and its two derivatives conv2d_transpose and
conv2d_weight: primitives/convolution.py) and max-pooling with its two linear derivatives
(primitives/pooling.py)."""
import numpy as np

from .. import primitives as P
from ..interpreter import apply
from ..kernels.reference import pads
from .lifting import lift


def _two(v):
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else tuple(int(k) for k in v)


def _geometry(stride, padding, dilation, groups=None):
    """The windows' parameters as the primitives take them: stride and dilation (rows, columns),
    padding ((top, bottom), (left, right)) from an int, (ph, pw) or per-axis (before, after)
    pairs; groups an int where the primitive has groups."""
    padding = (padding, padding) if isinstance(padding, (int, np.integer)) else padding
    geometry = dict(stride=_two(stride), padding=pads(padding), dilation=_two(dilation))
    return geometry if groups is None else dict(geometry, groups=int(groups))


def im2col(x, kernel, stride=1, padding=0, dilation=1):
    """(N, C, H, W) -> the (N·OH·OW, kh·kw·C) matrix of its windows, columns ordered (i, j, c):
    ``cols[(n, y, x), (i, j, c)] = xpad[n, c, y·sh + i·dh, x·sw + j·dw]`` (primitives/windows.py
    explains it)."""
    return apply(P.im2col, lift(x), kernel=_two(kernel), **_geometry(stride, padding, dilation))


def col2im(cols, shape, kernel, stride=1, padding=0, dilation=1):
    """im2col's adjoint: windows (N·OH·OW, kh·kw·C) summed back into an input of `shape`."""
    return apply(P.col2im, lift(cols), shape=tuple(int(n) for n in shape), kernel=_two(kernel),
                 **_geometry(stride, padding, dilation))


def conv2d(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n,o,y,x] = bias[o] + Σ_{c,i,j} w[o,c,i,j] · xpad[n,c',y·sh+i·dh,x·sw+j·dw] for
    x (N, C, H, W), w (O, C/G, kh, kw), bias (O,) or None -> (N, O, OH, OW), c' the channel c of
    o's group (primitives/convolution.py)."""
    args = (lift(x), lift(w)) + (() if bias is None else (lift(bias),))
    return apply(P.conv2d, *args, **_geometry(stride, padding, dilation, groups))


def conv2d_transpose(g, w, shape, stride=1, padding=0, dilation=1, groups=1):
    """The adjoint of x -> conv2d(x, w) for an x of `shape` (N, C, H, W), applied to g."""
    return apply(P.conv2d_transpose, lift(g), lift(w), shape=tuple(int(n) for n in shape),
                 **_geometry(stride, padding, dilation, groups))


def conv2d_weight(x, g, kernel, stride=1, padding=0, dilation=1, groups=1):
    """dw[o,c,i,j] = Σ_{n,y,x} g[n,o,y,x] · xpad[n,c',y·sh+i·dh,x·sw+j·dw]: the weight's
    cotangent."""
    return apply(P.conv2d_weight, lift(x), lift(g), kernel=_two(kernel),
                 **_geometry(stride, padding, dilation, groups))


def max_pool2d(x, kernel):
    """The maximum of each non-overlapping `kernel` window of x (N, C, H, W)."""
    return apply(P.max_pool2d, lift(x), kernel=_two(kernel))


def max_pool2d_gather(t, x, m, kernel):
    """max_pool2d's JVP: Σ over each window of t at the maxima m of x's windows (x and m: the
    pooled input and its maxima, with zero derivative)."""
    t = lift(t)
    return apply(P.max_pool2d_gather, t, lift(x, t), lift(m, t), kernel=_two(kernel))


def max_pool2d_scatter(g, x, m, kernel):
    """max_pool2d's VJP: g spread over the maxima m of x's windows (x and m: the pooled input and
    its maxima, with zero derivative)."""
    g = lift(g)
    return apply(P.max_pool2d_scatter, g, lift(x, g), lift(m, g), kernel=_two(kernel))
