"""Convolution and pooling: the windows (im2col and its adjoint col2im; nn/im2col.py explains
the layout), the convolution family (conv2d, and its two derivatives conv2d_transpose and
conv2d_weight: primitives/convolution.py) and max-pooling with its two linear derivatives
(primitives/pooling.py)."""
import numpy as np

from .. import primitives as P
from ..interpreter import apply
from .lifting import lift


def _two(v):
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else tuple(int(k) for k in v)


def im2col(x, kernel, stride=1, padding=0):
    """(N, C, H, W) -> the (N·OH·OW, kh·kw·C) matrix of its windows, columns ordered (i, j, c):
    ``cols[(n, y, x), (i, j, c)] = xpad[n, c, y·sh + i, x·sw + j]`` (see nn/im2col.py)."""
    return apply(P.im2col, lift(x), kernel=_two(kernel), stride=_two(stride), padding=_two(padding))


def col2im(cols, shape, kernel, stride=1, padding=0):
    """im2col's adjoint: windows (N·OH·OW, kh·kw·C) summed back into an input of `shape`."""
    return apply(P.col2im, lift(cols), shape=tuple(int(n) for n in shape), kernel=_two(kernel),
                 stride=_two(stride), padding=_two(padding))


def conv2d(x, w, bias=None, stride=1, padding=0):
    """out[n,o,y,x] = bias[o] + Σ_{c,i,j} w[o,c,i,j] · xpad[n,c,y·sh+i,x·sw+j] for
    x (N, C, H, W), w (O, C, kh, kw), bias (O,) or None -> (N, O, OH, OW)."""
    args = (lift(x), lift(w)) + (() if bias is None else (lift(bias),))
    return apply(P.conv2d, *args, stride=_two(stride), padding=_two(padding))


def conv2d_transpose(g, w, shape, stride=1, padding=0):
    """The adjoint of x -> conv2d(x, w) for an x of `shape` (N, C, H, W), applied to g."""
    return apply(P.conv2d_transpose, lift(g), lift(w), shape=tuple(int(n) for n in shape),
                 stride=_two(stride), padding=_two(padding))


def conv2d_weight(x, g, kernel, stride=1, padding=0):
    """dw[o,c,i,j] = Σ_{n,y,x} g[n,o,y,x] · xpad[n,c,y·sh+i,x·sw+j]: the weight's cotangent."""
    return apply(P.conv2d_weight, lift(x), lift(g), kernel=_two(kernel), stride=_two(stride),
                 padding=_two(padding))


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
