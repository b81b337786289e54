"""Indexing: getitem and its adjoint scatter_add (both linear). Basic indices (ints, slices,
None, ...) and integer arrays; with an integer array a position may repeat, and its
cotangents add up.

Inside vmap the index gains a leading ``:`` for the batch axis. NumPy keeps that axis first,
except when the index's advanced entries (arrays, and integers beside them) are apart, as in
``x[i, :, j]``: then their axes come first and the batch axis after them (``batch_position``),
and the rules move it back. (An index that is itself batched goes through ops/indexing.py.)"""
import numpy as np

from .. import ops
from ..interpreter import LINEAR, Primitive, apply
from .batching import moved_to_front
from .rules import array_module

INDEXING = ("an integer index of an axis of length n lies in [-n, n), an index array holds "
            "such integers, and there is at most one index per axis")


def _getitem_batch(prim, xs, batched, index):
    index = _as_tuple(index)
    return moved_to_front(apply(prim, xs[0], index=(slice(None),) + index), batch_position(index))


def _scatter_add_batch(prim, gs, batched, index, shape):
    """The adjoint of getitem's rule: the batch axis goes where getitem would have put it."""
    g, index = gs[0], _as_tuple(index)
    at = batch_position(index)
    if at:
        g = ops.transpose(g, *range(1, at + 1), 0, *range(at + 1, g.ndim))
    return apply(prim, g, index=(slice(None),) + index, shape=gs[0].shape[:1] + shape)


getitem = Primitive("getitem", lambda x, index: x[index], jvp=LINEAR, shape_rule=INDEXING,
                    saves=(),
                    vjp=(lambda g, out, x, index: ops.scatter_add(g, index, x.shape),),
                    batch=_getitem_batch)
scatter_add = Primitive("scatter_add",                      # zeros(shape) with g added at index
                        lambda g, index, shape: _scatter_add(g, index, shape), jvp=LINEAR,
                        shape_rule=INDEXING, saves=(), batch=_scatter_add_batch,
                        vjp=(lambda c, out, g, index, shape: ops.getitem(c, index),))


def _as_tuple(index):
    return index if isinstance(index, tuple) else (index,)


def batch_position(index):
    """Where NumPy puts the axis of a ``:`` put in front of `index` (a tuple): first, or, when
    its advanced entries (arrays; integers too once there is an array) are not side by side,
    after the axes they make, which come first (NumPy's rule)."""
    arrays = [i for i in index if getattr(i, "ndim", 0) > 0]
    if not arrays:
        return 0
    advanced = [k for k, i in enumerate(index) if hasattr(i, "ndim") or
                isinstance(i, (int, np.integer))]
    if advanced[-1] - advanced[0] + 1 == len(advanced):
        return 0
    return max(1 if a.dtype == bool else a.ndim for a in arrays)


def _scatter_add(g, index, shape):
    xp = array_module(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g                       # a basic index never repeats a position
    elif xp is np:
        np.add.at(out, index, g)             # an integer array may: repeats add up
    else:
        import cupyx
        cupyx.scatter_add(out, index, g)
    return out


def _is_basic(index):
    index = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in index)
