"""Sorting: argsort, sort, topk. The order is computed on the values (argsort: int64 indices, no
gradient); sorted values are ``take_along_axis(x, order)``, so their derivative goes back to the
entries they came from.

The sort is stable: equal entries keep their order (PyTorch's ``stable=True``; NumPy's
``kind="stable"``), descending included, so topk returns the first of tied entries. NaN sorts as
larger than every number, as in NumPy (last in ascending order) and PyTorch (first in
descending order, and first in topk).
"""
from collections import namedtuple

from .. import backend
from ..errors import ShapeError
from ..tensor import Tensor
from .axes import one_axis
from .gather import take_along_axis
from .lifting import lift

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _order(x, axis, descending):
    """Stable argsort along `axis` (an int, non-negative); descending order reverses the sort
    of the reversed line, which keeps ties in their original order."""
    xp = backend.xp_of(x)
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    flip = (slice(None),) * axis + (slice(None, None, -1),)
    return n - 1 - xp.argsort(x[flip], axis=axis, kind="stable")[flip]


def argsort(x, axis=-1, descending=False):
    """The int64 indices that sort x along `axis` (None: the flattened x), stably."""
    x = lift(x)
    data = x.data.reshape(-1) if axis is None else x.data
    if data.ndim == 0:
        return Tensor(backend.xp_of(data).zeros((), "int64"))
    axis = 0 if axis is None else one_axis("argsort", axis, x.shape)
    return Tensor(_order(data, axis, descending).astype("int64"))


def sort(x, axis=-1, descending=False):
    """x sorted along `axis` (None: flattened), as NumPy's sort: the values only (argsort
    gives the indices; PyTorch's sort returns both)."""
    x = lift(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if x.ndim == 0:
        return x
    return take_along_axis(x, argsort(x, axis, descending), axis)


def topk(x, k, axis=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (smallest) entries along `axis`, in order (PyTorch's
    topk; the order is always sorted)."""
    x = lift(x)
    axis = one_axis("topk", axis, x.shape) if x.ndim else None
    n = x.shape[axis] if axis is not None else 1
    if not 0 <= k <= n:
        raise ShapeError(f"topk: k = {k} must lie in [0, {n}] for shape {x.shape} along axis "
                         f"{axis}")
    if axis is None:
        return ValuesIndices(x, Tensor(backend.xp_of(x.data).zeros((), "int64")))
    order = _order(x.data, axis, largest)
    index = order[(slice(None),) * axis + (slice(0, k),)].astype("int64")
    return ValuesIndices(take_along_axis(x, index, axis), Tensor(index))
