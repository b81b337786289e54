"""Cumulative operations: cumsum, cumprod, logcumsumexp (primitives: primitives/cumulative.py)
and cummax, cummin (composites: the running extreme's index, then take_along_axis).

`axis` None works on the flattened tensor, as NumPy's cumsum does. Integer and bool inputs of
cumsum and cumprod accumulate in NumPy's dtype (int64 for small integers and bool);
logcumsumexp computes integers in float64.

cummax and cummin return (values, indices) as PyTorch's do: the index of the running maximum is
the last of tied entries (PyTorch's ``>=``), and once a NaN is met the value stays NaN and the
index follows the latest NaN. The derivative of values goes to the entry at the index.
"""
import numpy as np

from .. import backend
from .. import primitives as P
from ..interpreter import apply
from ..primitives.cumulative import scan
from ..tensor import Tensor
from .axes import one_axis
from .gather import take_along_axis
from .lifting import astype, lift
from .sorting import ValuesIndices


def _along(op, x, axis):
    """x (flattened when axis is None) and its non-negative axis."""
    x = lift(x)
    if axis is None:
        return x.reshape(-1), 0
    return x, one_axis(op, axis, x.shape)


def _accumulating(x):
    """Small integers and bools accumulate in int64 (NumPy's cumsum and cumprod do)."""
    if x.dtype.kind in "b" or (x.dtype.kind == "i" and x.dtype.itemsize < 8):
        return astype(x, np.int64)
    if x.dtype.kind == "u" and x.dtype.itemsize < 8:
        return astype(x, np.uint64)
    return x


def cumsum(x, axis=None):
    x, axis = _along("cumsum", x, axis)
    return apply(P.cumsum, _accumulating(x), axis=axis)


def cumprod(x, axis=None):
    x, axis = _along("cumprod", x, axis)
    return apply(P.cumprod, _accumulating(x), axis=axis)


def logcumsumexp(x, axis=None):
    """log Σ_{k≤i} e^x_k along `axis`, never overflowing."""
    x, axis = _along("logcumsumexp", x, axis)
    if x.dtype.kind != "f":
        x = astype(x, np.float64)
    return apply(P.logcumsumexp, x, axis=axis)


def _running(op, ufunc_name, x, axis):
    x = lift(x)
    if x.ndim == 0:
        return ValuesIndices(x, Tensor(backend.xp_of(x.data).zeros((), np.int64)))
    axis = one_axis(op, axis, x.shape)
    xd = x.data
    xp = backend.xp_of(xd)
    extreme = scan(ufunc_name, xd, axis)
    hit = (xd == extreme) | (xp.isnan(xd) if xd.dtype.kind == "f" else False)
    n = xd.shape[axis]
    pos = xp.arange(n).reshape((n,) + (1,) * (xd.ndim - axis - 1))
    index = scan("maximum", xp.where(hit, pos, 0), axis).astype(np.int64)
    return ValuesIndices(take_along_axis(x, index, axis), Tensor(index))


def cummax(x, axis):
    """(values, indices): the running maximum along `axis` and where it was attained."""
    return _running("cummax", "maximum", x, axis)


def cummin(x, axis):
    """(values, indices): the running minimum along `axis` and where it was attained."""
    return _running("cummin", "minimum", x, axis)
