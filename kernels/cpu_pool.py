"""Max-pooling over non-overlapping windows in one pass each way (Numba, CPU, channels-last).

For x (N, C, H, W) and a kh x kw window moving by its own size (OH = H // kh, OW = W // kw; a
ragged edge is dropped), with m[n, c, y, x] the window's maximum and, for each of its elements,
hit = (x == m) / (number of elements equal to m) (ties share; a NaN window gives NaN)::

    forward(x)           m                                   (N, C, OH, OW)
    gather(t, x, m)      sum over the window of hit · t      (N, C, OH, OW)   the JVP
    scatter(g, x, m)     hit · g at each window element      (N, C, H, W)     the VJP (0 elsewhere)

gather and scatter are each other's adjoint. NumPy takes five passes and four temporaries of x's
size for the backward (a compare, a cast, a sum, a division, a product); here each map reads its
inputs once. Arrays are channels-last inside; results are channels-last buffers seen as NCHW.
"""
import numpy as np
from numba import njit

from . import buffers
from .cpu_conv import channels_last
from .jit import CACHE


@njit(nogil=True, cache=CACHE, error_model="numpy")
def max_kernel(xt, kh, kw, out):
    """out[n, y, x, c] = max of xt[n, y·kh:(y+1)·kh, x·kw:(x+1)·kw, c]; NaN wins."""
    n, oh, ow, c = out.shape
    for b in range(n):
        for y in range(oh):
            for x in range(ow):
                for ch in range(c):
                    out[b, y, x, ch] = xt[b, y * kh, x * kw, ch]
                for i in range(kh):
                    for j in range(kw):
                        for ch in range(c):
                            v = xt[b, y * kh + i, x * kw + j, ch]
                            if v > out[b, y, x, ch] or v != v:
                                out[b, y, x, ch] = v


@njit(nogil=True, cache=CACHE, error_model="numpy")
def gather_kernel(tt, xt, mt, kh, kw, out):
    """out[n, y, x, c] = (sum of tt where xt equals the max) / (how many do)."""
    n, oh, ow, c = out.shape
    for b in range(n):
        for y in range(oh):
            for x in range(ow):
                for ch in range(c):
                    m, total, count = mt[b, y, x, ch], 0.0, 0
                    for i in range(kh):
                        for j in range(kw):
                            if xt[b, y * kh + i, x * kw + j, ch] == m:
                                total += tt[b, y * kh + i, x * kw + j, ch]
                                count += 1
                    out[b, y, x, ch] = total / count


@njit(nogil=True, cache=CACHE, error_model="numpy")
def scatter_kernel(gt, xt, mt, kh, kw, out):
    """out (zero-filled by the caller) at each window element: gt / count where xt equals the
    max (count: how many do), else 0 · that (so NaN for a window without a maximum)."""
    n, oh, ow, c = gt.shape
    for b in range(n):
        for y in range(oh):
            for x in range(ow):
                for ch in range(c):
                    m, count = mt[b, y, x, ch], 0
                    for i in range(kh):
                        for j in range(kw):
                            count += xt[b, y * kh + i, x * kw + j, ch] == m
                    share = gt[b, y, x, ch] / count
                    for i in range(kh):
                        for j in range(kw):
                            hit = xt[b, y * kh + i, x * kw + j, ch] == m
                            out[b, y * kh + i, x * kw + j, ch] = share if hit else 0 * share


def forward(x, kernel):
    n, c, h, w = x.shape
    (kh, kw) = kernel
    out = buffers.empty((n, h // kh, w // kw, c), x.dtype)
    max_kernel(channels_last(x), kh, kw, out)
    return out.transpose(0, 3, 1, 2)


def gather(t, x, m, kernel):
    out = buffers.empty((m.shape[0], m.shape[2], m.shape[3], m.shape[1]), t.dtype)
    gather_kernel(channels_last(t), channels_last(x), channels_last(m), *kernel, out)
    return out.transpose(0, 3, 1, 2)


def scatter(g, x, m, kernel):
    n, c, h, w = x.shape
    out = buffers.empty((n, h, w, c), g.dtype)
    out.fill(0)
    scatter_kernel(channels_last(g), channels_last(x), channels_last(m), *kernel, out)
    return out.transpose(0, 3, 1, 2)
