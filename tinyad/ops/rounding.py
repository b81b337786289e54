"""Step functions: floor, ceil, round, trunc, sign, and ``//``; and the remainders ``%`` and fmod.

A step function's derivative is zero wherever it exists. As in PyTorch, its float output stays
on the tape (and carries a zero tangent) when an input is tracked, so ``(x // 2).sum()
.backward()`` gives x a zero gradient rather than an error: the value, computed by NumPy, goes
through the ``locally_constant`` primitive (``piecewise_constant`` below), as the masks of the
rules do. Integer results never need that: integer tensors take no gradient.

``x % y`` and ``x // y`` follow Python and NumPy (the remainder takes the divisor's sign, the
quotient rounds down); ``fmod`` follows C (the dividend's sign). An integer divided by zero is a
ZeroDivisionError, as in Python and PyTorch (NumPy would return 0 with a warning).
"""
import numpy as np

from .. import backend
from .. import primitives as P
from ..interpreter import apply
from ..tensor import Tensor
from .arithmetic import add
from .lifting import lift, lift_pair


def piecewise_constant(value, *inputs):
    """`value` (a raw array computed from the inputs' values by a step function) as a tensor
    with zero derivative: connected to the tracked inputs or carrying a zero tangent when any
    is on the tape or dual; a plain constant otherwise."""
    live = [x for x in inputs if x._requires_grad or x._level >= 0]
    if not live:
        return Tensor(value)
    anchor = live[0] if len(live) == 1 else add(*live)
    return apply(P.locally_constant, anchor, value=value)


def _step(name):
    def step(x):
        x = lift(x)
        return piecewise_constant(getattr(backend.xp_of(x.data), name)(x.data), x)
    step.__name__ = name
    step.__doc__ = f"NumPy's {name}, elementwise; zero derivative (integers stay integers)."
    return step


floor, ceil, trunc, sign = _step("floor"), _step("ceil"), _step("trunc"), _step("sign")


def round(x, decimals=0):
    """Round half to even (NumPy's and PyTorch's rule) to `decimals` places; zero derivative."""
    x = lift(x)
    return piecewise_constant(backend.xp_of(x.data).round(x.data, decimals), x)


def _integer_divisor_check(op, x, y):
    if x.dtype.kind in "iub" and y.dtype.kind in "iub" and bool((y.data == 0).any()):
        raise ZeroDivisionError(f"{op}: integer division by zero (shapes {x.shape}, {y.shape})")


def floor_divide(x, y):
    """x // y: the quotient rounded down (NumPy's floor_divide); zero derivative."""
    x, y = lift_pair(x, y)
    _integer_divisor_check("floor_divide", x, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = backend.xp_of(x.data).floor_divide(x.data, y.data)
    return piecewise_constant(value, x, y)


def remainder(x, y):
    """x % y with the divisor's sign (Python's and NumPy's); d/dx = 1, d/dy = -(x // y)."""
    x, y = lift_pair(x, y)
    _integer_divisor_check("remainder", x, y)
    return apply(P.remainder, x, y)


def fmod(x, y):
    """C's fmod: the remainder with the dividend's sign; d/dx = 1, d/dy = -trunc(x / y)."""
    x, y = lift_pair(x, y)
    _integer_divisor_check("fmod", x, y)
    return apply(P.fmod, x, y)
