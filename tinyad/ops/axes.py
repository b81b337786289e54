"""Axis arguments: None, an int, or a sequence of ints, brought to one normal form."""
import builtins

import numpy as np


def reduction_axes(axis, ndim):
    """None, or a sorted tuple of non-negative axes."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % builtins.max(ndim, 1) for a in axes))
