"""Reductions: sum, max, mean; and expand_to, which undoes a reduction (their rules use it)."""
import numpy as np

from .. import primitives as P
from ..interpreter import apply
from .axes import reduction_axes
from .lifting import lift
from .shape import broadcast_to, reshape


def sum(x, axis=None, keepdims=False):
    x = lift(x)
    return apply(P.sum, x, axis=reduction_axes("sum", axis, x.shape), keepdims=bool(keepdims))


def max(x, axis=None, keepdims=False):
    x = lift(x)
    return apply(P.max, x, axis=reduction_axes("max", axis, x.shape), keepdims=bool(keepdims))


def mean(x, axis=None, keepdims=False):
    """sum / count; NaN over an empty axis (count 0), as NumPy, PyTorch and JAX."""
    x = lift(x)
    axes = reduction_axes("mean", axis, x.shape)
    count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
    return sum(x, axes, keepdims) * (1.0 / count if count else float("nan"))


def expand_to(g, shape, axis):
    """Undo a reduction over `axis`: put the reduced axes back as 1s, then broadcast to `shape`.
    The reshape is skipped when broadcasting alone lines g up (a full reduction, keepdims, or
    leading axes only): (10,) -> (64, 10) needs none, (64,) -> (64, 10) needs (64, 1)."""
    kept = tuple(1 if axis is None or i in axis else n for i, n in enumerate(shape))
    lead = len(kept) - g.ndim
    if lead < 0 or g.shape != kept[lead:] or any(n != 1 for n in kept[:lead]):
        g = reshape(g, *kept)
    return broadcast_to(g, shape)
