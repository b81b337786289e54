"""Indexing: getitem and its adjoint scatter_add (both linear). Basic indices (ints, slices,
None, ...) and integer arrays; with an integer array a position may repeat, and its
cotangents add up."""
import numpy as np

from .. import ops
from ..interpreter import LINEAR, Primitive
from .rules import array_module

INDEXING = ("an integer index of an axis of length n lies in [-n, n), an index array holds "
            "such integers, and there is at most one index per axis")
getitem = Primitive("getitem", lambda x, index: x[index], jvp=LINEAR, shape_rule=INDEXING,
                    saves=(),
                    vjp=(lambda g, out, x, index: ops.scatter_add(g, index, x.shape),))
scatter_add = Primitive("scatter_add",                      # zeros(shape) with g added at index
                        lambda g, index, shape: _scatter_add(g, index, shape), jvp=LINEAR,
                        shape_rule=INDEXING, saves=(),
                        vjp=(lambda c, out, g, index, shape: ops.getitem(c, index),))


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
