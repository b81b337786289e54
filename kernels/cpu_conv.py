"""2-D convolution on the CPU without the whole window matrix: blocks of windows, BLAS, Numba.

The three array maps of a convolution with kernel (kh, kw), stride s, dilation d (taps d apart),
zero padding p (top and left (pt, pl); the bottom and right ones only bound the window grid) and
G groups, for x (N, C, H, W), w (O, C/G, kh, kw) and g (N, O, OH, OW) (``reference.window_grid``
gives OH, OW), with xpad[n, c, y·sh + i·dh, x·sw + j·dw] the tap (i, j) of window (y, x)::

    forward(x, w)       out[n, o, y, x] = sum_{c,i,j} w[o, c, i, j] · xpad[n, c, y·sh+i·dh, ...]
    input_grad(g, w)    dx = the adjoint of x -> forward(x, w): each g[n, o, y, x] · w[o, :, :, :]
                        added back over its window (a transposed convolution)
    weight_grad(x, g)   dw[o, c, i, j] = sum_{n,y,x} g[n, o, y, x] · xpad[n, c, y·sh+i·dh, ...]

with c running over the C/G input channels of o's group: the k-th O/G output channels see the
k-th C/G input channels (G = 1: all of them, the ordinary convolution).
Each is a matrix product per group with the window matrix cols[(n, y, x), (i, j, c)] = xpad[n, c,
...] (N·OH·OW rows of kh·kw·C/G): out = cols @ W, dcols = g @ Wᵀ (then summed back into dx),
dw = colsᵀ @ g, with W the weight as a (kh·kw·C/G, O/G) matrix. For the paper's CNN at batch 64
that matrix is 115 MB in float32. Here it is never whole: rows are taken BLOCK_BYTES at a time
(about 1 MB), written by a Numba loop into one reused buffer, multiplied by BLAS while they sit
in cache (which also runs the product faster: 105 GFLOP/s against 79 for the whole (50176, 576)
@ (576, 64) on one core), and for dx summed back at once. Arrays are channels-last inside
(N, H, W, C): a window's C values are one contiguous run (a group's, one run of C/G). Inputs
arrive as NCHW views of any layout; results are channels-last buffers seen as NCHW
(``out.transpose(0, 3, 1, 2)``), which the next layer reads without a copy. Outputs and input
gradients take their memory from ``buffers`` (no pages faulted in step after step).
"""
import threading

import numpy as np

from numba import njit

from . import buffers
from .jit import CACHE, inline
from .reference import pads, window_grid

BLOCK_BYTES = 1 << 20           # window rows per block: about this many bytes of them
_buffers = threading.local()     # per thread: {(rows, cols, dtype): reused block buffer}


@inline
def move_windows(image, first, cols, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, to_cols):
    """Between channels-last image (N, H, W, C) and window rows cols[r - first] (columns (i, j, c))
    of rows r = (n, y, x): to_cols copies each window into its row (zeros where it leaves the
    image); otherwise each row is added back into its window."""
    _, h, w, c = image.shape
    for row in range(cols.shape[0]):
        r = first + row
        n, yx = r // (oh * ow), r % (oh * ow)
        y0, x0 = (yx // ow) * sh - pt, (yx % ow) * sw - pl
        for i in range(kh):
            for j in range(kw):
                yy, xx, base = y0 + i * dh, x0 + j * dw, (i * kw + j) * c
                inside = 0 <= yy < h and 0 <= xx < w
                if to_cols and inside:
                    for ch in range(c):
                        cols[row, base + ch] = image[n, yy, xx, ch]
                elif to_cols:
                    for ch in range(c):
                        cols[row, base + ch] = 0
                elif inside:
                    for ch in range(c):
                        image[n, yy, xx, ch] += cols[row, base + ch]


@njit(nogil=True, cache=CACHE)
def im2col_rows(xt, first, cols, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow):
    """cols[r - first] = the window of row r = (n, y, x) of xt (N, H, W, C), zeros outside."""
    move_windows(xt, first, cols, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, True)


@njit(nogil=True, cache=CACHE)
def col2im_rows(cols, first, dx, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow):
    """The adjoint: each row of cols added back into its window of dx (N, H, W, C)."""
    move_windows(dx, first, cols, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, False)


def channels_last(a):
    """An (N, C, H, W) array as a C-contiguous (N, H, W, C) one (no copy when it already is one,
    seen as NCHW)."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def weight_matrix(w):
    """(O, C, kh, kw) -> (kh·kw·C, O), rows ordered (i, j, c) as the window columns (NumPy or
    CuPy: the reshape copies into C order)."""
    return w.transpose(2, 3, 1, 0).reshape(-1, w.shape[0])


def blocks(rows, width, dtype, channels):
    """Row ranges of a (rows, width) window matrix, and a reused buffer for one range: about
    BLOCK_BYTES of windows, or of the (rows, channels) matrix they multiply or come from when
    that is wider (the first layer's windows are 9 numbers, its outputs 64)."""
    step = max(1, min(rows, BLOCK_BYTES // (max(width, channels, 1) * dtype.itemsize)))
    cache = getattr(_buffers, "arrays", None)
    if cache is None:
        cache = _buffers.arrays = {}
    key = (step, width, dtype.str)
    if key not in cache:
        if len(cache) > 8:
            cache.clear()
        cache[key] = np.empty((step, width), dtype)
    buffer = cache[key]
    return [(a, min(a + step, rows)) for a in range(0, rows, step)], buffer


def groups_of(groups, c, o):
    """(input channels, output channels) of each group, as slices: C/G and O/G of them."""
    cg, og = c // groups, o // groups
    return [(slice(k * cg, (k + 1) * cg), slice(k * og, (k + 1) * og)) for k in range(groups)]


def geometry(kernel, stride, padding, dilation, grid):
    """The window arguments of im2col_rows and col2im_rows: kh kw sh sw dh dw pt pl oh ow."""
    ((pt, _), (pl, _)) = pads(padding)
    return (*kernel, *stride, *dilation, pt, pl, *grid)


def forward(x, w, stride, padding, bias=None, dilation=(1, 1), groups=1):
    """x (N, C, H, W), w (O, C/G, kh, kw) -> (N, O, OH, OW), as the module docstring; plus
    bias (O,) when given, added to each block while it is in cache."""
    n, kernel, o = x.shape[0], w.shape[2:], w.shape[0]
    grid = window_grid(x.shape, kernel, stride, padding, dilation)
    where = geometry(kernel, stride, padding, dilation, grid)
    xt = channels_last(x)
    out = buffers.empty((n * grid[0] * grid[1], o), x.dtype)
    parts = [(xt[..., cs], weight_matrix(w[os]), out[:, os])
             for cs, os in groups_of(groups, x.shape[1], o)]
    ranges, buffer = blocks(len(out), parts[0][1].shape[0], x.dtype, o // groups)
    for a, b in ranges:
        cols = buffer[:b - a]
        for xg, wm, og in parts:
            im2col_rows(xg, a, cols, *where)
            np.matmul(cols, wm, out=og[a:b])
        if bias is not None:
            out[a:b] += bias
    return out.reshape(n, *grid, o).transpose(0, 3, 1, 2)


def input_grad(g, w, shape, stride, padding, dilation=(1, 1), groups=1):
    """g (N, O, OH, OW), w (O, C/G, kh, kw) -> dx of `shape` (N, C, H, W): the adjoint of
    forward."""
    n, c, h, wd = shape
    kernel, o = w.shape[2:], w.shape[0]
    where = geometry(kernel, stride, padding, dilation, g.shape[2:])
    g2 = channels_last(g).reshape(-1, o)
    dx = buffers.empty((n, h, wd, c), g.dtype)
    dx.fill(0)          # not np.zeros: calloc maps fresh pages, faulted in while summing
    parts = [(g2[:, os], np.ascontiguousarray(weight_matrix(w[os]).T), dx[..., cs])
             for cs, os in groups_of(groups, c, o)]                    # Wᵀ (O/G, kh·kw·C/G)
    ranges, buffer = blocks(len(g2), parts[0][1].shape[1], g.dtype, o // groups)
    for a, b in ranges:
        cols = buffer[:b - a]
        for gg, wt, dxg in parts:
            np.matmul(gg[a:b], wt, out=cols)
            col2im_rows(cols, a, dxg, *where)
    return dx.transpose(0, 3, 1, 2)


def weight_grad(x, g, kernel, stride, padding, dilation=(1, 1), groups=1):
    """x (N, C, H, W), g (N, O, OH, OW) -> dw (O, C/G, kh, kw) = colsᵀ @ g per group, block by
    block."""
    (kh, kw), c, o = kernel, x.shape[1], g.shape[1]
    cg, og = c // groups, o // groups
    where = geometry(kernel, stride, padding, dilation, g.shape[2:])
    xt, g2 = channels_last(x), channels_last(g).reshape(-1, o)
    dtype = np.result_type(x.dtype, g.dtype)
    parts = [(xt[..., cs], g2[:, os], np.zeros((kh * kw * cg, og), dtype))
             for cs, os in groups_of(groups, c, o)]
    part = np.empty((kh * kw * cg, og), dtype)
    ranges, buffer = blocks(len(g2), kh * kw * cg, x.dtype, og)
    for a, b in ranges:
        cols = buffer[:b - a]
        for xg, gg, acc in parts:
            im2col_rows(xg, a, cols, *where)
            np.matmul(cols.T, gg[a:b], out=part)
            acc += part
    dw = [acc.reshape(kh, kw, cg, og).transpose(3, 2, 0, 1) for _, _, acc in parts]
    return np.ascontiguousarray(dw[0] if groups == 1 else np.concatenate(dw))
