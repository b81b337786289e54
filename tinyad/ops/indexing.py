"""Indexing: getitem (basic and integer-array indices) and its adjoint scatter_add; one_hot.

An index that varies across a vmap's batch (a batched integer tensor, as labels are in
per-example losses) cannot be a parameter of the getitem primitive, which is shared by every
example. ``x[i]`` and ``x[i, j]`` with such indices are a one-hot product instead,
``one_hot(flat index) @ x`` with x's indexed axes flattened: O(indices × rows) work and memory,
differentiable and batched like any other product."""
import numpy as np

from .. import backend
from .. import primitives as P
from ..backend import xp_of
from ..batching import map_arrays
from ..errors import BatchingError, IndexingError
from ..interpreter import apply
from ..tensor import Tensor
from .lifting import lift, same_device
from .linalg import matmul
from .shape import reshape


def getitem(x, index):
    """Basic (ints, slices, None, ...) and integer-array indexing; gradients scatter back."""
    x = lift(x)
    parts = index if isinstance(index, tuple) else (index,)
    if any(isinstance(i, Tensor) and i._batch_axes for i in parts):
        return _gather(x, parts)
    return apply(P.getitem, x, index=raw_index(index, x, "getitem"))


def raw_index(index, x, op):
    """Index arrays as arrays of tensor x's device: a raw array (NumPy, CuPy, a list) is moved
    there; a Tensor index on another device is an error naming `op`."""
    if isinstance(index, tuple):
        return tuple(raw_index(i, x, op) for i in index)
    if isinstance(index, Tensor):
        same_device(op, x, index)
        index = index.data
    if isinstance(index, (list, np.ndarray)) or backend.device_of(index) == "cuda":
        return backend.asarray(index, x.device)
    return index


def scatter_add(g, index, shape):
    g = lift(g)
    return apply(P.scatter_add, g, index=raw_index(index, g, "scatter_add"), shape=tuple(shape))


def one_hot(labels, classes, dtype):
    """(..., classes) in `dtype`: 1 at each label's class, 0 elsewhere; a constant (batched as
    the labels are inside vmap). `labels` is an integer tensor or array."""
    return map_arrays(lambda y: (y[..., None] == xp_of(y).arange(classes)).astype(dtype), labels)


def _gather(x, parts):
    """x[i0, i1, ...] for integer indices, one per leading axis, some batched: the flat index
    into those axes picks rows of x (P, rest) by a one-hot product."""
    for i in parts:
        kind = getattr(i, "dtype", np.asarray(i).dtype).kind
        if kind not in "iu":
            raise BatchingError(
                f"getitem: an index that varies across the vmap batch must be integer arrays, "
                f"one per leading axis (x[i] or x[i, j]); got {_kinds(parts)} for shape {x.shape}")
    lead, rest = x.shape[:len(parts)], x.shape[len(parts):]
    rows = int(np.prod(lead, dtype=np.int64))
    flat = map_arrays(lambda *ix: _flat_index(ix, lead, x.shape), *parts)
    picked = matmul(reshape(one_hot(flat, rows, x.dtype), -1, rows), reshape(x, rows, -1))
    return reshape(picked, *flat.shape, *rest)


def _flat_index(ix, lead, shape):
    """The position of x[i0, i1, ...] among x's leading axes `lead`, flattened; negative indices
    count from the end; one out of range is an IndexingError."""
    xp = xp_of(ix[0]) if hasattr(ix[0], "ndim") else np
    flat = 0
    for i, n in zip(ix, lead):
        i = xp.asarray(i)
        if i.size and (int(i.min()) < -n or int(i.max()) >= n):
            raise IndexingError(f"getitem: index from {int(i.min())} to {int(i.max())} is out of "
                                f"range for an axis of length {n} (shape {shape})")
        flat = flat * n + xp.where(i < 0, i + n, i)
    return flat


def _kinds(parts):
    return "(" + ", ".join(type(i).__name__ for i in parts) + ")"
