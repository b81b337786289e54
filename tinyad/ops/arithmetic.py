"""Arithmetic wrappers: add mul power maximum neg, and sub div minimum where astype identity
compare composed from them."""
import numpy as np

from .. import primitives as P
from ..interpreter import apply
from ..tensor import Tensor
from .lifting import lift, lift_pair


def add(x, y): return apply(P.add, *lift_pair(x, y))
def mul(x, y): return apply(P.mul, *lift_pair(x, y))
def power(x, y): return apply(P.power, *lift_pair(x, y))
def maximum(x, y): return apply(P.maximum, *lift_pair(x, y))
def neg(x): return apply(P.neg, lift(x))
def sub(x, y): return add(x, neg(lift(y, x if isinstance(x, Tensor) else None)))
def div(x, y): return mul(x, power(lift(y, x if isinstance(x, Tensor) else None), -1))
def minimum(x, y): return neg(maximum(neg(lift(x)), neg(lift(y))))


def where(cond, x, y):
    """``cond ? x : y`` elementwise; `cond` is a boolean tensor or array (no gradient)."""
    x, y = lift_pair(x, y)
    cond = cond._data if isinstance(cond, Tensor) else x._xp.asarray(cond)
    return apply(P.select, x, y, cond=cond.astype(bool))


def astype(x, dtype):
    x = lift(x)
    dtype = np.dtype(dtype)
    return x if x.dtype == dtype else apply(P.astype, x, dtype=dtype)


def identity(x): return apply(P.identity, lift(x))


def compare(name, x, y):
    """A comparison (``<``, ``==``...): a bool tensor of the primal values, with no gradient."""
    x, y = lift_pair(x, y)
    return Tensor(getattr(np, name)(x._data, y._data))
