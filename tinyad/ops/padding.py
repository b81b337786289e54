"""Padding: NumPy's pad (``pad_width`` per axis) and PyTorch's F.pad (a flat tuple from the last
axis backwards), in the modes both libraries share under their own names:

    constant            the value (0 by default) around x
    reflect             mirrored without repeating the edge: [c b | a b c d | c b]
    edge (replicate)    the edge entry repeated:             [a a | a b c d | d d]
    wrap (circular)     the other end continued:             [c d | a b c d | a b]
    symmetric           mirrored with the edge repeated:     [b a | a b c d | d c]

The constant mode writes x into a larger zero tensor (the ``scatter_add`` primitive, whose
adjoint reads it back) and adds the value outside; the others gather each axis's padded
positions from x by an index array (``getitem``), so the cotangent of every copy flows back to
the entry it copies. Widths larger than the axis keep mirroring or wrapping, as in NumPy.
"""
import numpy as np

from .. import backend
from .. import primitives as P
from ..errors import ShapeError
from ..interpreter import apply
from .indexing import getitem
from .lifting import lift

MODES = {"constant": "constant", "reflect": "reflect", "edge": "edge", "replicate": "edge",
         "wrap": "wrap", "circular": "wrap", "symmetric": "symmetric"}


def _widths(pad_width, ndim):
    """NumPy's pad_width forms (an int, (before, after), or one pair per axis) as pairs."""
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    except ValueError:
        raise ShapeError(f"pad: pad_width {pad_width!r} must be an int, a (before, after) pair "
                         f"or one pair per axis of a {ndim}-axis tensor") from None
    if (widths < 0).any():
        raise ShapeError(f"pad: widths must be >= 0, got {pad_width!r}")
    return [(int(a), int(b)) for a, b in widths]


def _source(n, before, after, mode):
    """For each position of the padded axis, the position of x it copies."""
    pos = np.arange(-before, n + after)
    if mode == "edge":
        return np.clip(pos, 0, n - 1)
    if mode == "wrap":
        return pos % n
    if mode == "symmetric":
        period = pos % (2 * n)
        return np.where(period < n, period, 2 * n - 1 - period)
    if n == 1:                                      # reflect: an axis of one entry repeats it
        return np.zeros_like(pos)
    period = pos % (2 * n - 2)
    return np.where(period < n, period, 2 * n - 2 - period)


def pad(x, pad_width, mode="constant", value=0.0):
    """x padded by `pad_width` (NumPy's forms) in `mode`; `value` fills the constant mode."""
    x = lift(x)
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {sorted(MODES)}, got {mode!r}")
    return _padded(x, _widths(pad_width, x.ndim), MODES[mode], value)


def _padded(x, widths, mode, value):
    if mode == "constant":
        shape = tuple(n + a + b for n, (a, b) in zip(x.shape, widths))
        inside = tuple(slice(a, a + n) for n, (a, _) in zip(x.shape, widths))
        out = apply(P.scatter_add, x, index=inside, shape=shape)
        if value == 0:
            return out
        outside = backend.xp_of(x.data).full(shape, value, dtype=x.dtype)
        outside[inside] = 0
        return out + outside
    for axis, (n, (before, after)) in enumerate(zip(x.shape, widths)):
        if before or after:
            if n == 0:
                raise ShapeError(f"pad: cannot pad axis {axis} of shape {x.shape} in mode "
                                 f"{mode!r}: it has no entry to copy")
            source = backend.asarray(_source(n, before, after, mode), x.device)
            x = getitem(x, (slice(None),) * axis + (source,))
    return x


def torch_pad(x, pad, mode="constant", value=0.0):
    """PyTorch's F.pad: `pad` = (left, right) for the last axis, then (top, bottom) for the one
    before, and so on; modes "constant", "reflect", "replicate", "circular". As in PyTorch,
    reflect needs widths smaller than the axis."""
    x = lift(x)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ShapeError(f"pad: takes pairs (before, after) for at most {x.ndim} trailing axes "
                         f"of shape {x.shape}, got {pad}")
    pairs = [(0, 0)] * (x.ndim - len(pad) // 2) + \
        [(pad[i], pad[i + 1]) for i in range(len(pad) - 2, -1, -2)]
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                         f"'circular', got {mode!r}")
    if any(a < 0 or b < 0 for a, b in pairs):
        raise ShapeError(f"pad: widths must be >= 0, got {pad}")
    if mode == "reflect":
        for n, (a, b) in zip(x.shape, pairs):
            if max(a, b) >= n and (a or b):
                raise ShapeError(f"pad: reflect padding {(a, b)} must be smaller than the axis "
                                 f"length {n} (shape {x.shape})")
    return _padded(x, pairs, MODES[mode], value)
