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

Any other window (overlapping, padded, dilated, adaptive) is given by the positions of its taps,
and ``tap_argmax`` says where its maximum is as PyTorch's CPU kernels say it (the first tap
holding the largest value, row by row; the last NaN where there is one; padding never): one pass
here, ten whole-array passes in NumPy (tinyad/nn/functional_pool.py, its yardstick).
"""
import numpy as np
from numba import njit

from . import buffers
from .cpu_conv import channels_last
from .jit import CACHE, inline


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


@inline
def maxima(xt, mt, b, y, x, kh, kw, count):
    """count[c] = how many elements of window (y, x) of image b equal its maximum mt[b, y, x, c]."""
    count[:] = 0
    for i in range(kh):
        for j in range(kw):
            for ch in range(count.size):
                count[ch] += xt[b, y * kh + i, x * kw + j, ch] == mt[b, y, x, ch]


@njit(nogil=True, cache=CACHE, error_model="numpy")
def gather_kernel(tt, xt, mt, kh, kw, out):
    """out[n, y, x, c] = (sum of tt where xt equals the max) / (how many do)."""
    n, oh, ow, c = out.shape
    count = np.empty(c, out.dtype)
    for b in range(n):
        for y in range(oh):
            for x in range(ow):
                maxima(xt, mt, b, y, x, kh, kw, count)
                out[b, y, x, :] = 0
                for i in range(kh):
                    for j in range(kw):
                        for ch in range(c):
                            if xt[b, y * kh + i, x * kw + j, ch] == mt[b, y, x, ch]:
                                out[b, y, x, ch] += tt[b, y * kh + i, x * kw + j, ch]
                for ch in range(c):
                    out[b, y, x, ch] /= count[ch]


@njit(nogil=True, cache=CACHE, error_model="numpy")
def scatter_kernel(gt, xt, mt, kh, kw, out):
    """out at each window element: gt / count where xt equals the max (count: how many do),
    else 0 · that (so NaN for a window without a maximum); a ragged edge is left to the caller."""
    n, oh, ow, c = gt.shape
    share = np.empty(c, out.dtype)
    for b in range(n):
        for y in range(oh):
            for x in range(ow):
                maxima(xt, mt, b, y, x, kh, kw, share)
                for ch in range(c):
                    share[ch] = gt[b, y, x, ch] / share[ch]
                for i in range(kh):
                    for j in range(kw):
                        for ch in range(c):
                            hit = xt[b, y * kh + i, x * kw + j, ch] == mt[b, y, x, ch]
                            out[b, y * kh + i, x * kw + j, ch] = share[ch] if hit else 0 * share[ch]


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
    (kh, kw), (oh, ow) = kernel, m.shape[2:]
    out = buffers.empty((n, h, w, c), g.dtype)
    out[:, oh * kh:] = 0                                   # the ragged edge: no window
    out[:, :oh * kh, ow * kw:] = 0
    scatter_kernel(channels_last(g), channels_last(x), channels_last(m), *kernel, out)
    return out.transpose(0, 3, 1, 2)


@njit(nogil=True, cache=CACHE, error_model="numpy")
def tap_argmax_kernel(xt, rows, cols, real_rows, real_cols, out):
    """out[n, y, x, c] = h·W + w of the maximum of xt[n, :, :, c] (N, H, W, C) over the taps
    (rows[y, i], cols[x, j]) that are real; -1 until the first real tap is seen."""
    n, oh, ow, c = out.shape
    width = xt.shape[2]
    best = np.empty(c, xt.dtype)
    for b in range(n):
        for y in range(oh):
            for x in range(ow):
                out[b, y, x, :] = -1
                for i in range(rows.shape[1]):
                    if not real_rows[y, i]:
                        continue
                    for j in range(cols.shape[1]):
                        if not real_cols[x, j]:
                            continue
                        r, q = rows[y, i], cols[x, j]
                        for ch in range(c):
                            v = xt[b, r, q, ch]
                            if out[b, y, x, ch] < 0 or v > best[ch] or v != v:
                                best[ch] = v
                                out[b, y, x, ch] = r * width + q


def tap_argmax(x, rows, cols, real_rows, real_cols):
    """Plane indices (N, C, OH, OW) int64 of each window's maximum, windows given by their taps'
    rows (OH, Kh) and columns (OW, Kw) and whether each is inside the input."""
    n, c = x.shape[:2]
    out = np.empty((n, rows.shape[0], cols.shape[0], c), np.int64)
    tap_argmax_kernel(channels_last(x), rows.astype(np.int64), cols.astype(np.int64),
                      real_rows, real_cols, out)
    return out.transpose(0, 3, 1, 2)
