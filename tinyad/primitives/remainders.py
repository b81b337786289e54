"""Remainders: remainder (Python's and NumPy's ``%``: the sign of the divisor) and fmod (C's:
the sign of the dividend). Both are ``x - q·y`` for an integer quotient q that is constant
between its jumps, so (as in PyTorch)

    remainder(x, y) = x - floor(x / y)·y      ∂/∂x = 1,   ∂/∂y = -floor(x / y)
    fmod(x, y)      = x - trunc(x / y)·y      ∂/∂x = 1,   ∂/∂y = -trunc(x / y)

The quotient is read from the computed remainder, ``(x - out) / y`` rounded, so it is the one
that produced the value even where x / y rounds across an integer. Integer tensors get the same
values (NumPy's) and no gradient.
"""
import numpy as np

from ..interpreter import Primitive
from .batching import broadcasting
from .rules import BROADCAST, array_module, mask


def _rounded_quotient(out, x, y):
    with np.errstate(invalid="ignore", divide="ignore"):
        return array_module(out).round((x - out) / y)


def _quotient(out, x, y):
    """The integer q with out = x - q·y (a constant with zero derivative)."""
    return mask(_rounded_quotient, out, x, y, out=out)


def _remainder_primitive(name, impl):
    rules = (lambda t, out, x, y: t,
             lambda t, out, x, y: -t * _quotient(out, x, y))
    return Primitive(name, impl, jvp=rules, vjp=rules, shape_rule=BROADCAST, batch=broadcasting)


remainder = _remainder_primitive("remainder", np.remainder)
fmod = _remainder_primitive("fmod", np.fmod)
