"""Moving entries without changing them: flip, roll, permute, moveaxis (movedim), swapaxes,
unsqueeze, flatten, unflatten, tile, repeat (repeat_interleave). All are linear composites of
getitem, concatenate, transpose, reshape and broadcast_to, so both derivatives move the
cotangent back the same way.

Two names mean different things in NumPy and PyTorch; tinyad follows NumPy and gives PyTorch's
meaning its unambiguous name:

    repeat(x, r, axis)   NumPy's repeat = PyTorch's repeat_interleave: each entry r times in a row
    tile(x, reps)        NumPy's tile   = PyTorch's Tensor.repeat: the whole tensor reps times
    transpose(x, *axes)  NumPy's (a permutation) = PyTorch's permute; PyTorch's transpose(x, a, b)
                         is swapaxes (swapdims)
"""
import math
import operator

import numpy as np

from .. import backend
from ..errors import ShapeError
from .axes import one_axis, reduction_axes
from .indexing import getitem, raw_index
from .lifting import lift
from .shape import broadcast_to, concatenate, expand_dims, reshape, transpose


def flip(x, axis=None):
    """x reversed along `axis` (an int, a tuple, or None for every axis)."""
    x = lift(x)
    axes = reduction_axes("flip", axis, x.shape)
    axes = range(x.ndim) if axes is None else axes
    return getitem(x, tuple(slice(None, None, -1) if a in axes else slice(None)
                            for a in range(x.ndim)))


def roll(x, shift, axis=None):
    """Entries shifted by `shift` along `axis`, those pushed off the end coming back at the
    start; with axis None, along the flattened x (shape kept), as NumPy's roll."""
    x = lift(x)
    if axis is None:
        return reshape(roll(reshape(x, -1), shift, 0), *x.shape)
    shifts, axes = (shift, axis) if isinstance(axis, (tuple, list)) else ((shift,), (axis,))
    if isinstance(shift, (tuple, list)) != isinstance(axis, (tuple, list)) \
            or len(shifts) != len(axes):
        raise ShapeError(f"roll: shift {shift} and axis {axis} must be an int each or "
                         "sequences of one length")
    for s, a in zip(shifts, axes):
        a = one_axis("roll", a, x.shape)
        n = x.shape[a]
        s = operator.index(s) % n if n else 0
        if s:
            head = (slice(None),) * a
            x = concatenate([getitem(x, head + (slice(n - s, None),)),
                             getitem(x, head + (slice(0, n - s),))], a)
    return x


def permute(x, *axes):
    """PyTorch's permute: transpose with every axis named once."""
    x = lift(x)
    axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
    if len(axes) != x.ndim:
        raise ShapeError(f"permute: needs all {x.ndim} axes of shape {x.shape}, got {axes}")
    return transpose(x, *axes)


def moveaxis(x, source, destination):
    """Axes `source` moved to positions `destination` (ints or sequences of one length), the
    others keeping their order (NumPy's moveaxis, PyTorch's movedim)."""
    x = lift(x)
    src = [source] if not isinstance(source, (tuple, list)) else list(source)
    dst = [destination] if not isinstance(destination, (tuple, list)) else list(destination)
    if len(src) != len(dst):
        raise ShapeError(f"moveaxis: source {source} and destination {destination} must have "
                         "one length")
    src = [one_axis("moveaxis", a, x.shape) for a in src]
    dst = [one_axis("moveaxis", a, x.shape) for a in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ShapeError(f"moveaxis: source {source} and destination {destination} must each "
                         f"name an axis of shape {x.shape} once")
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, *order)


movedim = moveaxis


def swapaxes(x, axis1, axis2):
    """x with two axes exchanged (PyTorch's transpose(x, a, b), swapdims)."""
    x = lift(x)
    order = list(range(x.ndim))
    a, b = one_axis("swapaxes", axis1, x.shape), one_axis("swapaxes", axis2, x.shape)
    order[a], order[b] = order[b], order[a]
    return transpose(x, *order)


swapdims = swapaxes


def unsqueeze(x, axis):
    """PyTorch's name for expand_dims: a new axis of length 1 at `axis`."""
    return expand_dims(x, axis)


def flatten(x, start_axis=0, end_axis=-1):
    """Axes start_axis..end_axis (inclusive) merged into one (PyTorch's flatten; all by
    default, as NumPy's). A 0-d x becomes 1-D."""
    x = lift(x)
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = one_axis("flatten", start_axis, x.shape), one_axis("flatten", end_axis, x.shape)
    if start > end:
        raise ShapeError(f"flatten: start axis {start_axis} comes after end axis {end_axis} "
                         f"for shape {x.shape}")
    return reshape(x, *x.shape[:start], math.prod(x.shape[start:end + 1]), *x.shape[end + 1:])


def unflatten(x, axis, sizes):
    """Axis `axis` split into axes of `sizes` (one may be -1), PyTorch's unflatten."""
    x = lift(x)
    axis = one_axis("unflatten", axis, x.shape)
    sizes = tuple(int(n) for n in sizes)
    known = math.prod(n for n in sizes if n != -1)
    if sizes.count(-1) > 1 or (sizes.count(-1) == 0 and known != x.shape[axis]) \
            or (-1 in sizes and (known == 0 or x.shape[axis] % known)):
        raise ShapeError(f"unflatten: sizes {sizes} do not multiply to axis {axis}'s length "
                         f"{x.shape[axis]} (shape {x.shape}); at most one may be -1")
    sizes = tuple(x.shape[axis] // known if n == -1 else n for n in sizes)
    return reshape(x, *x.shape[:axis], *sizes, *x.shape[axis + 1:])


def tile(x, reps):
    """NumPy's tile (PyTorch's Tensor.repeat): x repeated reps[i] times along axis i, with
    leading axes of length 1 added to whichever of x and reps is shorter."""
    x = lift(x)
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    if any(r < 0 for r in reps):
        raise ShapeError(f"tile: repetitions must be >= 0, got {reps}")
    ndim = max(x.ndim, len(reps))
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - x.ndim) + x.shape
    spread = reshape(x, *[m for n in shape for m in (1, n)])
    spread = broadcast_to(spread, tuple(m for r, n in zip(reps, shape) for m in (r, n)))
    return reshape(spread, *(r * n for r, n in zip(reps, shape)))


def repeat(x, repeats, axis=None):
    """NumPy's repeat (PyTorch's repeat_interleave): each entry `repeats` times in a row along
    `axis` (of the flattened x when None); `repeats` an int, or one count per entry."""
    x = lift(x)
    if axis is None:
        x, axis = reshape(x, -1), 0
    axis = one_axis("repeat", axis, x.shape)
    n = x.shape[axis]
    if isinstance(repeats, (int, np.integer)):
        if repeats < 0:
            raise ShapeError(f"repeat: repeats must be >= 0, got {repeats}")
        spread = broadcast_to(expand_dims(x, axis + 1),
                              x.shape[:axis + 1] + (repeats,) + x.shape[axis + 1:])
        return reshape(spread, *x.shape[:axis], n * repeats, *x.shape[axis + 1:])
    counts = backend.asarray(raw_index(repeats, x, "repeat"), "cpu")
    if counts.shape not in ((n,), (1,)) or (counts < 0).any():
        raise ShapeError(f"repeat: repeats must be one count >= 0 or one per entry ({n}) of "
                         f"axis {axis} of shape {x.shape}, got shape {counts.shape}")
    source = backend.asarray(np.repeat(np.arange(n), counts), x.device)
    return getitem(x, (slice(None),) * axis + (source,))


repeat_interleave = repeat
