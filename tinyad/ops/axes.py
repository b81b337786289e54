"""Axis arguments, checked as NumPy checks them and brought to one normal form.

An axis of a tensor with n axes lies in [-n, n) (negative ones count from the end); a new axis
(expand_dims, stack) in [-n-1, n]. An axis out of range, or named twice, is an ``AxisError``
naming the operation, the shape and the axis: it never wraps around, so ``x.sum(axis=2)`` on a
(2, 3) tensor raises instead of summing axis 0. A 0-d tensor has no axis at all.
"""
import operator

from ..errors import AxisError


def one_axis(op, axis, shape):
    """The non-negative form of `axis` for a tensor of `shape`."""
    n = len(shape)
    a = operator.index(axis)
    if not -n <= a < n:
        raise AxisError(f"{op}: axis {axis} is out of range for shape {tuple(shape)}: an axis must "
                        f"lie in [{-n}, {n})" + (" (a 0-d tensor has none)" if n == 0 else ""))
    return a + n if a < 0 else a


def new_axis(op, axis, shape):
    """The non-negative position of a new axis inserted into a tensor of `shape`."""
    n = len(shape) + 1
    a = operator.index(axis)
    if not -n <= a < n:
        raise AxisError(f"{op}: axis {axis} is out of range for shape {tuple(shape)}: a new axis "
                        f"must lie in [{-n}, {n})")
    return a + n if a < 0 else a


def reduction_axes(op, axis, shape):
    """None (every axis), or the sorted non-negative axes that `axis` (an int or a sequence of
    ints) names for a tensor of `shape`, each named once."""
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        axes = tuple(sorted(one_axis(op, a, shape) for a in axis))
        if len(set(axes)) != len(axes):
            raise AxisError(f"{op}: axis {tuple(axis)} names an axis twice for shape "
                            f"{tuple(shape)}: each axis may appear once")
        return axes
    return (one_axis(op, axis, shape),)


def permutation(op, axes, shape):
    """`axes` checked to be a permutation of a tensor of `shape`'s axes, non-negative."""
    perm = tuple(one_axis(op, a, shape) for a in axes)
    if sorted(perm) != list(range(len(shape))):
        raise AxisError(f"{op}: axes {tuple(axes)} are not a permutation of the {len(shape)} axes "
                        f"of shape {tuple(shape)}: each axis must appear exactly once")
    return perm
