"""Convolution windows: im2col and its adjoint col2im (nn/im2col.py explains the layout)."""
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
