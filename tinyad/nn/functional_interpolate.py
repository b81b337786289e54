"""Resizing: ``F.interpolate``, PyTorch's signature and its CPU kernels' arithmetic, one spatial
axis at a time (every mode here is separable), each a gather of the input (getitem, whose
gradient scatter_add sends back) and for the linear modes a weighted sum of two gathers:

    nearest         out[i] = x[min(floor(i·scale), size - 1)]          (computed in float32)
    nearest-exact   out[i] = x[min(floor((i + 0.5)·scale), size - 1)]
    linear          src = scale·(i + 0.5) - 0.5, at least 0 (align_corners: scale·i);
    bilinear        i0 = floor(src), i1 = min(i0 + 1, size - 1), l = src - i0:
                    out[i] = (1 - l)·x[i0] + l·x[i1]; bilinear does the width first, then the height
    area            adaptive_avg_pool2d (functional_pool.py)

with scale = size / out_size, or 1 / scale_factor when a scale factor was given (and
recompute_scale_factor is not True), or for align_corners=True (size - 1) / (out_size - 1) (0
for one output). The output size is `size`, or floor(size·scale_factor). Positions and weights are
computed as PyTorch computes them (nearest in float32, linear in the input's dtype, a position
rounded once as its fused multiply-add rounds it), so nearest matches PyTorch exactly and linear
to within an ulp or two of the result (float64: of each position).
Gathers rather than a matrix product: a NaN or an infinity reaches only the outputs that read it.
"""
import math

import numpy as np

from .. import ops
from .functional_pool import adaptive_avg_pool2d
from .window_args import sizes

MODES = {"nearest": (1, 2), "nearest-exact": (1, 2), "linear": (1,), "bilinear": (2,),
         "area": (2,)}                       # mode -> the numbers of spatial axes it takes


def _scale(size, out, factor, align_corners, dtype):
    """The source step per output step (module docstring), in `dtype`."""
    if align_corners:
        return dtype.type((size - 1) / (out - 1) if out > 1 else 0)
    if factor is not None and factor > 0:
        return dtype.type(1.0 / factor)
    return dtype.type(size) / dtype.type(out)


def nearest_index(size, out, factor, exact):
    """Source index of each output along an axis (PyTorch's nearest_idx, in float32)."""
    i = np.arange(out)
    if out == size and not exact:
        return i
    scale = _scale(size, out, factor, False, np.dtype(np.float32))
    at = ((i + 0.5) * np.float64(scale)).astype(np.float32) if exact \
        else i.astype(np.float32) * scale
    return np.minimum(np.floor(at).astype(np.int64), size - 1)


def linear_taps(size, out, factor, align_corners, dtype):
    """(i0, i1, weight of i0, weight of i1) along an axis, weights in `dtype`."""
    scale = np.float64(_scale(size, out, factor, align_corners, dtype))
    i = np.arange(out, dtype=np.float64)
    src = scale * i if align_corners else np.maximum(scale * (i + 0.5) - 0.5, 0)
    src = src.astype(dtype)                  # float32: rounded once, as an FMA rounds
    i0 = np.minimum(src.astype(np.int64), size - 1)
    i1 = np.minimum(i0 + 1, size - 1)
    l1 = np.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    return i0, i1, (dtype.type(1) - l1).astype(dtype), l1


def _take(x, axis, index):
    return ops.getitem(x, (slice(None),) * axis + (x._xp.asarray(index),))


def _along(shape_len, axis, weights, like):
    """Weights (out,) shaped to broadcast along `axis` of a tensor of `shape_len` axes."""
    arr = like._xp.asarray(weights).reshape((-1,) + (1,) * (shape_len - axis - 1))
    return ops.lift(arr, like)


def _output_sizes(x, size, scale_factor, recompute_scale_factor, spatial):
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        return sizes(size, spatial, "size", "interpolate"), (None,) * spatial
    factors = (scale_factor,) * spatial if isinstance(scale_factor, (int, float)) \
        else tuple(scale_factor)
    if len(factors) != spatial or not all(isinstance(f, (int, float)) and f > 0
                                          for f in factors):
        raise ValueError(f"interpolate: scale_factor must be a positive number or {spatial} of "
                         f"them, got {scale_factor!r}")
    out = tuple(math.floor(s * float(f)) for s, f in zip(x.shape[2:], factors))
    if min(out) < 1:
        raise ValueError(f"interpolate: scale_factor {scale_factor} leaves no output of input "
                         f"{x.shape}")
    return out, (None,) * spatial if recompute_scale_factor else tuple(map(float, factors))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial axes of (N, C, L) or (N, C, H, W) to `size` or by `scale_factor`
    (module docstring). mode: nearest, nearest-exact, linear (3-D), bilinear (4-D), area."""
    x = ops.lift(input)
    spatial = x.ndim - 2
    if mode not in MODES:
        raise ValueError(f"interpolate: mode must be one of {sorted(MODES)}, got {mode!r}")
    if spatial not in MODES[mode]:
        ranks = " or ".join(f"{n + 2}-D" for n in MODES[mode])
        raise ValueError(f"interpolate: mode {mode!r} takes {ranks} inputs, got shape {x.shape}")
    linear = mode in ("linear", "bilinear")
    if align_corners is not None and not linear:
        raise ValueError("interpolate: align_corners goes only with the linear modes")
    if antialias:
        raise ValueError("interpolate: antialias is not supported")
    out_size, factors = _output_sizes(x, size, scale_factor, recompute_scale_factor, spatial)
    if mode == "area":
        return adaptive_avg_pool2d(x, out_size)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    for axis in reversed(range(2, x.ndim)):            # width first, as PyTorch sums
        size_in, out, factor = x.shape[axis], out_size[axis - 2], factors[axis - 2]
        if not linear:
            x = _take(x, axis, nearest_index(size_in, out, factor, mode == "nearest-exact"))
            continue
        i0, i1, l0, l1 = linear_taps(size_in, out, factor, bool(align_corners), dtype)
        x = (_take(x, axis, i0) * _along(x.ndim, axis, l0, x)
             + _take(x, axis, i1) * _along(x.ndim, axis, l1, x))
    return x
