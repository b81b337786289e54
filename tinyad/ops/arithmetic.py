"""Arithmetic wrappers: add mul power maximum minimum neg, and sub div where identity compare.
Python numbers meeting a tensor follow NumPy 2's weak-scalar rule (lifting.py)."""
import numpy as np

from .. import backend
from .. import primitives as P
from ..batching import map_arrays
from ..interpreter import apply
from ..tensor import Tensor
from .lifting import DEFAULT_FLOAT, SCALARS, astype, lift, lift_pair, same_device


def add(x, y): return apply(P.add, *lift_pair(x, y))
def mul(x, y): return apply(P.mul, *lift_pair(x, y))
def power(x, y): return apply(P.power, *lift_pair(x, y))
def maximum(x, y): return apply(P.maximum, *lift_pair(x, y))
def minimum(x, y): return apply(P.minimum, *lift_pair(x, y))
def neg(x): return apply(P.neg, lift(x))


def sub(x, y):
    x, y = lift_pair(x, y)
    return add(x, neg(y))


def div(x, y):
    """True division, x · y⁻¹. Integer or bool operands give a float result: the dtype NumPy's
    promotion of the two gives when it is a float (float32 / int64 tensor: float64, as for
    ``+``), else tinyad's default float, float32 (int / int, int / 2: as PyTorch and JAX;
    NumPy gives float64)."""
    x, y = lift_pair(x, y)
    if x.dtype.kind != "f" or y.dtype.kind != "f":
        dtype = np.result_type(x.dtype, y.dtype)
        dtype = dtype if dtype.kind == "f" else DEFAULT_FLOAT
        x, y = astype(x, dtype), astype(y, dtype)
    return mul(x, power(y, -1))


def where(cond, x, y):
    """``cond ? x : y`` elementwise; `cond` is a boolean tensor or array (no gradient)."""
    x, y = lift_pair(x, y)
    if isinstance(cond, Tensor):
        same_device("where", x, cond)
    else:
        cond = Tensor(backend.asarray(cond, x.device))
    if cond.dtype != bool:
        cond = map_arrays(lambda c: c.astype(bool), cond)
    return apply(P.select, x, y, cond)


def identity(x): return apply(P.identity, lift(x))


def compare(name, x, y):
    """A comparison (``<``, ``==``...): a bool tensor of the primal values, with no gradient
    (batched inside vmap). A Python number is compared exactly, as NumPy 2 compares it
    (``i64 > 16777216.5``); a raw array is a constant on the tensor's device."""
    like = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else None
    x, y = (v if isinstance(v, (Tensor,) + SCALARS) else lift(v, like) for v in (x, y))
    if isinstance(x, Tensor) and isinstance(y, Tensor):
        same_device(name, x, y)
    return map_arrays(getattr(np, name), x, y)
