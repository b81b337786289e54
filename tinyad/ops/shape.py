"""Shape: reshape, transpose, broadcast_to, expand_dims, squeeze, concatenate, stack."""
import builtins

import numpy as np

from .. import primitives as P
from ..errors import ShapeError
from ..interpreter import apply
from .axes import new_axis, one_axis, permutation, reduction_axes
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
    axes = _shape(axes)
    axes = permutation("transpose", axes, x.shape) if axes else tuple(reversed(range(x.ndim)))
    return x if axes == tuple(range(x.ndim)) else apply(P.transpose, x, axes=axes)


def broadcast_to(x, shape):
    x = lift(x)
    shape = tuple(shape)
    return x if x.shape == shape else apply(P.broadcast_to, x, shape=shape)


def expand_dims(x, axis):
    """A new axis of length 1 at position `axis` of the result, in [-ndim-1, ndim]."""
    x = lift(x)
    axis = new_axis("expand_dims", axis, x.shape)
    return reshape(x, *x.shape[:axis], 1, *x.shape[axis:])


def squeeze(x, axis=None):
    """Drop axes of length 1: the ones named by `axis`, or all of them."""
    x = lift(x)
    axes = reduction_axes("squeeze", axis, x.shape)
    if axes is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    for a in axes:
        if x.shape[a] != 1:
            raise ShapeError(f"squeeze: axis {a} of shape {x.shape} has length {x.shape[a]}; only "
                             "axes of length 1 can be squeezed")
    return reshape(x, *(n for i, n in enumerate(x.shape) if i not in axes))


def concatenate(xs, axis=0):
    """Join tensors along an existing axis; every other axis must match."""
    xs = [lift(x) for x in xs]
    if not xs:
        raise ShapeError("concatenate: needs at least one tensor")
    return apply(P.concatenate, *xs, axis=one_axis("concatenate", axis, xs[0].shape))


def stack(xs, axis=0):
    """Join tensors of one shape along a new axis at position `axis` of the result."""
    xs = [lift(x) for x in xs]
    if not xs:
        raise ShapeError("stack: needs at least one tensor")
    axis = new_axis("stack", axis, xs[0].shape)
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis)
