"""Pooling (``F.max_pool2d``, ``F.avg_pool2d``, ``F.adaptive_avg_pool2d``,
``F.adaptive_max_pool2d``), PyTorch's signatures and semantics, NCHW or (C, H, W), composed of
primitives that have their rules already:

    max_pool2d      non-overlapping windows (stride = kernel, no padding or dilation, no extra
                    ceil_mode window, no indices asked for): the max_pool2d primitive, one pass
                    each way, ties sharing the gradient. Otherwise each window's maximum is
                    chosen on the raw values as PyTorch chooses it (the first tap holding the
                    largest value, row by row; in a window holding NaN, the last NaN; padding
                    never), and the output is x gathered there (getitem: its gradient goes to
                    that one tap, scatter_add). return_indices gives those taps as PyTorch does:
                    h·W + w within each (H, W) plane, int64.
    avg_pool2d      a window sum (conv2d of each plane with a kernel of ones: linear, its
                    transpose is conv2d_transpose) divided by the divisor: divisor_override, or
                    the window's size within the padded input (count_include_pad), or the
                    number of its taps inside the input.
    adaptive_*      windows [floor(i·H/OH), ceil((i+1)·H/OH)) along each axis: the avg is a
                    gather of each window's taps, masked, summed and divided by their number
                    (avg_pool2d when the windows tile the input); the max as max_pool2d's.

Window counts, padding (at most half the kernel) and ceil_mode: window_args.py.
"""
import numpy as np

from .. import ops
from ..backend import xp_of
from ..batching import map_arrays
from ..errors import ShapeError
from .window_args import batched, pads, sizes, unbatched, window_count


def _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, where):
    """kernel, stride, padding pairs, dilation and the grid (OH, OW), checked as PyTorch does."""
    kernel = sizes(kernel_size, 2, "kernel_size", where)
    stride = kernel if stride is None or stride == () else sizes(stride, 2, "stride", where)
    dilation = sizes(dilation, 2, "dilation", where)
    pad = sizes(padding, 2, "padding", where, low=0)
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise ValueError(f"{where}: padding {pad} must be at most half the kernel {kernel}")
    grid = tuple(window_count(size, k, s, (p, p), d, where, ceil_mode)
                 for size, k, s, p, d in zip(x.shape[2:], kernel, stride, pad, dilation))
    return kernel, stride, pad, dilation, grid


# --- the maximum as PyTorch picks it, on raw arrays (NumPy or CuPy) -----------------------------
def first_max(win, real):
    """Position along the last axis of each window's maximum: the first `real` tap holding the
    largest value, or, where a real tap is NaN, the last NaN (PyTorch's CPU kernels)."""
    xp = xp_of(win)
    top = xp.where(real, win, -xp.inf).max(axis=-1, keepdims=True)          # NaN propagates
    first = (real & (win == top)).argmax(axis=-1)
    nan = real & xp.isnan(win)
    last_nan = nan.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
    return xp.where(nan.any(axis=-1), last_nan, first)


def tap_argmax(x, rows, cols, real_rows, real_cols):
    """For raw x (N, C, H, W) and windows whose taps sit at rows (OH, Kh) and columns (OW, Kw)
    (real_*: the taps inside the input): the plane index h·W + w of each window's maximum,
    (N, C, OH, OW) int64. NumPy arrays run tinyad.kernels.cpu_pool's one-pass kernel, others
    (CuPy) the array expressions of whole_tap_argmax."""
    if isinstance(x, np.ndarray):
        from ..kernels import cpu_pool
        return cpu_pool.tap_argmax(x, rows, cols, real_rows, real_cols)
    return whole_tap_argmax(x, rows, cols, real_rows, real_cols)


def whole_tap_argmax(x, rows, cols, real_rows, real_cols):
    """tap_argmax by whole-array operations: every window's taps gathered, then first_max."""
    xp = xp_of(x)
    h, w = x.shape[2:]
    rows, cols, real_rows, real_cols = (xp.asarray(a) for a in (rows, cols, real_rows, real_cols))
    win = x[:, :, xp.clip(rows, 0, h - 1)[:, None, :, None],
            xp.clip(cols, 0, w - 1)[None, :, None, :]]
    real = real_rows[:, None, :, None] & real_cols[None, :, None, :]
    k = first_max(win.reshape(win.shape[:4] + (-1,)), real.reshape(real.shape[:2] + (-1,)))
    oy, ox = xp.arange(rows.shape[0])[:, None], xp.arange(cols.shape[0])
    return (rows[oy, k // cols.shape[1]] * w + cols[ox, k % cols.shape[1]]).astype(np.int64)


def gather_planes(x, index):
    """out[n, c, y, x] = x[n, c].flat[index[n, c, y, x]]: a getitem, so gradients flow back to
    the taps picked (scatter_add)."""
    n, c, h, w = x.shape
    index = index.data
    base = xp_of(index).arange(n * c, dtype=np.int64).reshape(n, c, 1, 1) * (h * w)
    return ops.reshape(ops.getitem(ops.reshape(x, -1), (index + base).reshape(-1)), index.shape)


def select_taps(x, index, taps):
    """gather_planes for indices that vary across a vmap's batch (which cannot be a getitem's
    parameter): every window's taps gathered at the shared tap positions, (N, C, OH, Kh, OW, Kw),
    and summed where the tap is the one picked (a real tap at plane index `index`; ad.where, so
    the gradient reaches that tap alone and a NaN elsewhere stays out)."""
    rows, cols, real_rows, real_cols = taps
    h, w = x.shape[2:]
    rows, cols = np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1)
    win = ops.getitem(x, (slice(None), slice(None), x._xp.asarray(rows[:, :, None, None]),
                          x._xp.asarray(cols[None, None])))
    plane = rows[:, :, None, None] * w + cols[None, None]                    # (OH, Kh, OW, Kw)
    real = real_rows[:, :, None, None] & real_cols[None, None]
    picked = map_arrays(lambda i: (i[..., :, None, :, None] == xp_of(i).asarray(plane))
                        & xp_of(i).asarray(real), index)
    return ops.sum(ops.where(picked, win, 0.0), (3, 5))


def _pooled_max(x, taps, return_indices):
    """x at each window's maximum (tap_argmax), and the plane indices if asked for; each image
    on its own, so inside vmap the batch's images go to tap_argmax as one batch of images."""
    def argmax(a):                                       # (..., C, H, W): any leading axes
        index = tap_argmax(a.reshape((-1,) + a.shape[-3:]), *taps)
        return index.reshape(a.shape[:-2] + index.shape[2:])
    index = map_arrays(argmax, x)
    out = select_taps(x, index, taps) if index._batch_axes else gather_planes(x, index)
    return (out, index) if return_indices else out


def _with_indices(result, added):
    if isinstance(result, tuple):
        return unbatched(result[0], added), unbatched(result[1], added)
    return unbatched(result, added)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window (module docstring): (N, C, H, W) or (C, H, W) -> (N, C, OH,
    OW), implicit -inf padding; with return_indices, (values, int64 plane indices)."""
    x, added = batched(input, 2, "max_pool2d")
    kernel, stride, pad, dilation, grid = _geometry(x, kernel_size, stride, padding, dilation,
                                                    ceil_mode, "max_pool2d")
    floor_grid = (x.shape[2] // kernel[0], x.shape[3] // kernel[1])
    if (stride == kernel and pad == (0, 0) and dilation == (1, 1) and grid == floor_grid
            and not return_indices):
        return unbatched(ops.max_pool2d(x, kernel), added)
    taps = []
    for size, k, s, p, d, g in zip(x.shape[2:], kernel, stride, pad, dilation, grid):
        at = np.arange(g)[:, None] * s - p + np.arange(k) * d
        taps.append((at, (at >= 0) & (at < size)))
    (rows, real_rows), (cols, real_cols) = taps
    return _with_indices(_pooled_max(x, (rows, cols, real_rows, real_cols), return_indices),
                         added)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window (module docstring): (N, C, H, W) or (C, H, W) -> (N, C, OH, OW),
    implicit zero padding."""
    x, added = batched(input, 2, "avg_pool2d")
    kernel, stride, pad, _, grid = _geometry(x, kernel_size, stride, padding, 1, ceil_mode,
                                             "avg_pool2d")
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer))
                                         or divisor_override == 0):
        raise ValueError(f"avg_pool2d: divisor_override must be a nonzero int, got "
                         f"{divisor_override!r}")
    n, c, h, w = x.shape
    counts, conv_pad = [], []
    for size, k, s, p, g in zip((h, w), kernel, stride, pad, grid):
        start = np.arange(g) * s - p
        end = np.minimum(start + k, size + p)
        inside = np.minimum(end, size) - np.maximum(start, 0)
        counts.append(end - start if count_include_pad else inside)
        conv_pad.append((p, max(p, (g - 1) * s + k - size - p)))    # a grid of exactly g
    ones = ops.lift(x._xp.ones((1, 1) + kernel, x.dtype), x)
    sums = ops.conv2d(ops.reshape(x, n * c, 1, h, w), ones, None, stride, tuple(conv_pad))
    sums = ops.reshape(sums, n, c, *grid)
    divisor = counts[0][:, None] * counts[1][None, :]
    if divisor_override is not None:
        divisor = divisor_override
    elif (divisor == divisor.flat[0]).all():
        divisor = int(divisor.flat[0])
    else:
        divisor = ops.lift(x._xp.asarray(divisor.astype(x.dtype)), x)
    return unbatched(sums / divisor, added)


# --- adaptive pools ----------------------------------------------------------------------------
def _output_size(x, output_size, where):
    size = (output_size,) * 2 if output_size is None or isinstance(output_size, int) \
        else tuple(output_size)
    if len(size) != 2:
        raise ValueError(f"{where}: output_size must be an int or a pair, got {output_size!r}")
    size = tuple(x.shape[2 + i] if s is None else s for i, s in enumerate(size))
    if not all(isinstance(s, (int, np.integer)) and s >= 1 for s in size):
        raise ValueError(f"{where}: output_size must hold ints >= 1, got {output_size!r}")
    if min(x.shape[2:]) < 1:
        raise ShapeError(f"{where}: input {x.shape} has an empty plane")
    return size


def adaptive_taps(size, out):
    """The windows [floor(i·size/out), ceil((i+1)·size/out)) as taps (out, K) (a tap past a
    window's end repeats its start, marked not real) and each window's length."""
    start = np.arange(out) * size // out
    end = -(-(np.arange(out) + 1) * size // out)
    offsets = np.arange((end - start).max())
    real = offsets < (end - start)[:, None]
    return np.where(real, start[:, None] + offsets, start[:, None]), real, end - start


def adaptive_avg_pool2d(input, output_size):
    """The mean of each adaptive window: (N, C, H, W) or (C, H, W) -> (N, C, *output_size)
    (an entry None keeps that axis)."""
    x, added = batched(input, 2, "adaptive_avg_pool2d")
    size = _output_size(x, output_size, "adaptive_avg_pool2d")
    if all(s % o == 0 for s, o in zip(x.shape[2:], size)):
        return unbatched(avg_pool2d(x, tuple(s // o for s, o in zip(x.shape[2:], size))), added)
    out, lengths = x, []
    for axis, (s, o) in enumerate(zip(x.shape[2:], size), start=2):
        taps, real, length = adaptive_taps(s, o)
        xp = x._xp
        picked = ops.getitem(out, (slice(None),) * axis + (xp.asarray(taps),))   # (.., o, K, ..)
        mask = xp.asarray(real).reshape(real.shape + (1,) * (out.ndim - axis - 1))
        out = ops.sum(ops.where(mask, picked, 0.0), axis + 1)
        lengths.append(length)
    divisor = (lengths[0][:, None] * lengths[1][None, :]).astype(x.dtype)
    return unbatched(out / ops.lift(x._xp.asarray(divisor), x), added)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """The maximum of each adaptive window, picked as max_pool2d picks it; with return_indices,
    (values, int64 plane indices)."""
    x, added = batched(input, 2, "adaptive_max_pool2d")
    size = _output_size(x, output_size, "adaptive_max_pool2d")
    (rows, real_rows, _), (cols, real_cols, _) = (adaptive_taps(s, o)
                                                  for s, o in zip(x.shape[2:], size))
    return _with_indices(_pooled_max(x, (rows, cols, real_rows, real_cols), return_indices),
                         added)
