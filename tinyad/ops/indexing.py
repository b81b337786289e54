"""Indexing: getitem (basic and integer-array indices) and its adjoint scatter_add."""
import numpy as np

from .. import primitives as P
from ..interpreter import apply
from ..tensor import Tensor
from .lifting import lift


def getitem(x, index):
    """Basic (ints, slices, None, ...) and integer-array indexing; gradients scatter back."""
    x = lift(x)
    return apply(P.getitem, x, index=raw_index(index, x._xp))


def raw_index(index, xp):
    """Index arrays as arrays of the indexed tensor's device."""
    if isinstance(index, tuple):
        return tuple(raw_index(i, xp) for i in index)
    if isinstance(index, Tensor):
        index = index._data
    if isinstance(index, (list, np.ndarray)) or hasattr(index, "__cuda_array_interface__"):
        return xp.asarray(index)
    return index


def scatter_add(g, index, shape):
    g = lift(g)
    return apply(P.scatter_add, g, index=raw_index(index, g._xp), shape=tuple(shape))
