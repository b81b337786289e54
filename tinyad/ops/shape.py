"""Shape: reshape, transpose, broadcast_to, expand_dims, squeeze, concatenate, stack."""
import builtins

import numpy as np

from .. import primitives as P
from ..interpreter import apply
from .axes import reduction_axes
from .lifting import lift


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def reshape(x, *shape):
    x = lift(x)
    shape = tuple(int(n) for n in _shape(shape))
    if -1 in shape:
        known = int(np.prod([n for n in shape if n != -1]))
        shape = tuple(x.size // builtins.max(known, 1) if n == -1 else n for n in shape)
    return x if shape == x.shape else apply(P.reshape, x, shape=shape)


def transpose(x, *axes):
    """Permute axes (reverse them when none are given), as ``ndarray.transpose``."""
    x = lift(x)
    axes = tuple(int(a) % builtins.max(x.ndim, 1) for a in _shape(axes)) or \
        tuple(reversed(range(x.ndim)))
    return x if axes == tuple(range(x.ndim)) else apply(P.transpose, x, axes=axes)


def broadcast_to(x, shape):
    x = lift(x)
    shape = tuple(shape)
    return x if x.shape == shape else apply(P.broadcast_to, x, shape=shape)


def expand_dims(x, axis):
    x = lift(x)
    axis = axis % (x.ndim + 1)
    return reshape(x, *x.shape[:axis], 1, *x.shape[axis:])


def squeeze(x, axis=None):
    x = lift(x)
    axes = reduction_axes(axis, x.ndim) or tuple(i for i, n in enumerate(x.shape) if n == 1)
    return reshape(x, *(n for i, n in enumerate(x.shape) if i not in axes))


def concatenate(xs, axis=0):
    xs = [lift(x) for x in xs]
    return apply(P.concatenate, *xs, axis=int(axis))


def stack(xs, axis=0):
    xs = [lift(x) for x in xs]
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis)
