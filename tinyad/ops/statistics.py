"""Reductions composed from the table: min, prod, var, std, norm; and argmax, argmin.

    min(x) = -max(-x)                   (exact; ties split the derivative evenly, as max)
    prod(x) = the last entry of cumprod along the reduced axes (exact derivative at zeros)
    var(x, ddof) = Σ (x - mean)² / (n - ddof);   std = √var
    norm(x, ord) = NumPy's linalg.norm: vector norms (2, 1, inf, -inf, 0, p) and matrix norms
                   ('fro', 1, -1, inf, -inf)

argmax and argmin return int64 indices (the first of tied or NaN entries, as NumPy and
PyTorch) and no gradient. ``correction`` is PyTorch's name for NumPy's ``ddof``; the default is
NumPy's, ddof = 0 (PyTorch's var and std default to 1).
"""
import math

import numpy as np

from .. import backend
from .. import primitives as P
from ..errors import DtypeError, ShapeError
from ..interpreter import apply
from ..tensor import Tensor
from .arithmetic import neg, where
from .axes import one_axis, reduction_axes
from .functions import abs, sqrt
from .indexing import getitem
from .lifting import lift
from .reductions import max, mean, sum
from .rounding import piecewise_constant
from .shape import reshape, transpose


def _kept_shape(shape, axes):
    return tuple(1 if axes is None or i in axes else n for i, n in enumerate(shape))


def min(x, axis=None, keepdims=False):
    """The smallest entry along `axis` (an int, a tuple, or None for all); NaN if any is NaN."""
    x = lift(x)
    if x.dtype.kind != "f":                     # integers: no gradient, and -INT_MIN overflows
        axes = reduction_axes("min", axis, x.shape)
        if x.size == 0:
            return max(x, axes, keepdims)       # the same refusal as max's
        return Tensor(x.data.min(axis=axes, keepdims=bool(keepdims)))
    return neg(max(neg(x), axis, keepdims))


def _arg(name, x, axis, keepdims):
    x = lift(x)
    axis = None if axis is None else one_axis(name, axis, x.shape)
    if x.size == 0 or (axis is not None and x.shape[axis] == 0):
        raise ShapeError(f"{name}: the input of shape {x.shape} is empty along axis {axis}: "
                         "an empty sequence has no extreme entry")
    out = getattr(backend.xp_of(x.data), name)(x.data, axis=axis, keepdims=bool(keepdims))
    return Tensor(out.astype(np.int64))


def argmax(x, axis=None, keepdims=False):
    """The index of the largest entry along `axis` (of the flattened tensor when None)."""
    return _arg("argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """The index of the smallest entry along `axis` (of the flattened tensor when None)."""
    return _arg("argmin", x, axis, keepdims)


def prod(x, axis=None, keepdims=False):
    """The product along `axis` (an int, a tuple, or None for all); 1 over no entries."""
    x = lift(x)
    axes = reduction_axes("prod", axis, x.shape)
    if x.dtype.kind != "f":
        return Tensor(x.data.prod(axis=axes, keepdims=bool(keepdims)))
    reduced = tuple(range(x.ndim)) if axes is None else axes
    kept = [a for a in range(x.ndim) if a not in reduced]
    count = math.prod(x.shape[a] for a in reduced)
    lines = reshape(transpose(x, *kept, *reduced), *[x.shape[a] for a in kept], count)
    if count == 0:
        out = sum(lines, -1) + 1
    else:
        out = getitem(apply(P.cumprod, lines, axis=lines.ndim - 1), (Ellipsis, -1))
    return reshape(out, *_kept_shape(x.shape, axes)) if keepdims else out


def var(x, axis=None, ddof=0, keepdims=False, *, correction=None):
    """Σ (x - mean)² / (n - ddof) along `axis`: NaN or inf when n <= ddof, as NumPy."""
    x = lift(x)
    if correction is not None:
        if ddof != 0:
            raise ValueError(f"var: give ddof ({ddof}) or correction ({correction}), not both")
        ddof = correction
    axes = reduction_axes("var", axis, x.shape)
    count = x.size if axes is None else math.prod(x.shape[a] for a in axes)
    centred = x - mean(x, axes, keepdims=True)
    squares = sum(centred * centred, axes, keepdims)
    dof = count - ddof
    return squares * (1.0 / dof if dof > 0 else math.inf)


def std(x, axis=None, ddof=0, keepdims=False, *, correction=None):
    """√var: the standard deviation along `axis`."""
    return sqrt(var(x, axis, ddof, keepdims, correction=correction))


def _root(s, p):
    """s^(1/p) for s >= 0, with a zero derivative where s = 0 (where the root's own is
    infinite and the norm is not differentiable: PyTorch's choice, 0)."""
    zero = s.data == 0
    if not bool(zero.any()):
        return s ** (1.0 / p)
    return where(zero, 0.0, where(zero, 1.0, s) ** (1.0 / p))


def _vector_norm(x, ord, axes, keepdims):
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is a matrix norm; a vector (shape {x.shape}, axes "
                         f"{axes}) takes a number: 2, 1, inf, -inf, 0 or any p")
    a = abs(x)
    if ord == math.inf:
        return max(a, axes, keepdims)
    if ord == -math.inf:
        return neg(max(neg(a), axes, keepdims))
    if ord == 0:
        count = backend.xp_of(x.data).sum(x.data != 0, axis=axes, keepdims=keepdims).astype(x.dtype)
        return piecewise_constant(count, x)
    if ord == 1:
        return sum(a, axes, keepdims)
    if ord == 2:
        return _root(sum(x * x, axes, keepdims), 2)
    return _root(sum(a ** ord, axes, keepdims), ord)


def _matrix_norm(x, ord, axes, keepdims):
    rows, cols = axes
    if ord in (None, "fro"):
        return _root(sum(x * x, axes, keepdims), 2)
    if ord in (1, -1, math.inf, -math.inf):
        inner, outer = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = sum(abs(x), (inner,), keepdims=True)
        picked = max(sums, (outer,), True) if ord > 0 else neg(max(neg(sums), (outer,), True))
        return picked if keepdims else reshape(picked, *(n for i, n in enumerate(x.shape)
                                                         if i not in axes))
    raise ValueError(f"norm: ord={ord!r} for a matrix (shape {x.shape}, axes {axes}) needs "
                     "singular values, which tinyad does not compute; use 'fro', 1, -1, inf "
                     "or -inf")


def norm(x, ord=None, axis=None, keepdims=False):
    """NumPy's linalg.norm: with `axis` an int (or a 1-D x) a vector norm, with two axes (or a
    2-D x and an `ord`) a matrix norm; with neither, the 2-norm of all entries."""
    x = lift(x)
    if x.dtype.kind != "f":
        raise DtypeError(f"norm: takes a float tensor, got dtype {x.dtype} (shape {x.shape})")
    if axis is None and ord is None:
        return _root(sum(x * x, None, keepdims), 2)
    if axis is None:
        axis = tuple(range(x.ndim))
    axes = reduction_axes("norm", axis, x.shape)
    if isinstance(axis, (tuple, list)) and len(axes) == 2:
        return _matrix_norm(x, ord, tuple(one_axis("norm", a, x.shape) for a in axis), keepdims)
    if len(axes) != 1:
        raise ShapeError(f"norm: takes one axis (a vector norm) or two (a matrix norm), got "
                         f"axis {axis} for shape {x.shape}")
    return _vector_norm(x, 2 if ord is None else ord, axes, keepdims)
