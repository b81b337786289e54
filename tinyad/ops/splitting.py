"""Cutting a tensor into pieces along an axis: split and array_split (NumPy's), chunk
(PyTorch's). Each piece is a ``getitem`` of a slice, so the pieces' cotangents are scattered
back into place and add up.

    split(x, 3)           3 equal pieces (an error if the axis does not divide)
    split(x, [2, 5])      pieces x[:2], x[2:5], x[5:] (indices where to cut)
    array_split(x, 3)     3 pieces whose lengths differ by at most one, the longer first
    chunk(x, 3)           pieces of ceil(n / 3), the last shorter; fewer than 3 if n is small

PyTorch's ``split(x, size)`` (pieces of a given length) is ``chunk(x, ceil(n / size))`` or
NumPy's split at ``range(size, n, size)``.
"""
import math
import operator

from ..errors import ShapeError
from .axes import one_axis
from .indexing import getitem
from .lifting import lift


def _cut(x, axis, bounds):
    head = (slice(None),) * axis
    return [getitem(x, head + (slice(a, b),)) for a, b in zip(bounds[:-1], bounds[1:])]


def _cuts(op, x, sections_or_indices, axis, equal):
    x = lift(x)
    axis = one_axis(op, axis, x.shape)
    n = x.shape[axis]
    if isinstance(sections_or_indices, (list, tuple)):
        inner = [min(max(operator.index(i) + (n if i < 0 else 0), 0), n)
                 for i in sections_or_indices]
        return x, axis, [0] + inner + [n]
    parts = operator.index(sections_or_indices)
    if parts <= 0:
        raise ShapeError(f"{op}: the number of sections must be positive, got {parts}")
    if equal and n % parts:
        raise ShapeError(f"{op}: axis {axis} of length {n} (shape {x.shape}) does not divide "
                         f"into {parts} equal sections; use array_split")
    size, extra = divmod(n, parts)
    bounds = [0]
    for i in range(parts):
        bounds.append(bounds[-1] + size + (1 if i < extra else 0))
    return x, axis, bounds


def split(x, indices_or_sections, axis=0):
    """NumPy's split: equal sections, or cuts at the given indices."""
    return _cut(*_cuts("split", x, indices_or_sections, axis, equal=True))


def array_split(x, indices_or_sections, axis=0):
    """NumPy's array_split: like split, with sections allowed to differ by one."""
    return _cut(*_cuts("array_split", x, indices_or_sections, axis, equal=False))


def chunk(x, chunks, axis=0):
    """PyTorch's chunk: pieces of ceil(n / chunks) along `axis`, the last shorter."""
    x = lift(x)
    axis = one_axis("chunk", axis, x.shape)
    chunks = operator.index(chunks)
    if chunks <= 0:
        raise ShapeError(f"chunk: the number of chunks must be positive, got {chunks}")
    n = x.shape[axis]
    size = math.ceil(n / chunks) if n else 0
    bounds = list(range(0, n, size)) + [n] if size else [0, 0]
    return _cut(x, axis, bounds)
