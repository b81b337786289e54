"""Indexing: getitem (basic and integer-array indices) and its adjoint scatter_add."""
import numpy as np

from .. import backend
from .. import primitives as P
from ..interpreter import apply
from ..tensor import Tensor
from .lifting import lift, same_device


def getitem(x, index):
    """Basic (ints, slices, None, ...) and integer-array indexing; gradients scatter back."""
    x = lift(x)
    return apply(P.getitem, x, index=raw_index(index, x, "getitem"))


def raw_index(index, x, op):
    """Index arrays as arrays of tensor x's device: a raw array (NumPy, CuPy, a list) is moved
    there; a Tensor index on another device is an error naming `op`."""
    if isinstance(index, tuple):
        return tuple(raw_index(i, x, op) for i in index)
    if isinstance(index, Tensor):
        same_device(op, x, index)
        index = index._data
    if isinstance(index, (list, np.ndarray)) or backend.device_of(index) == "cuda":
        return backend.asarray(index, x.device)
    return index


def scatter_add(g, index, shape):
    g = lift(g)
    return apply(P.scatter_add, g, index=raw_index(index, g, "scatter_add"), shape=tuple(shape))
