"""Building blocks of JVP and VJP rules: rules from partial derivatives, constants, masks.

Elementwise primitives give their partial derivatives once, ``d_i(out, *args) = ∂out/∂arg_i``;
both rules follow from it: ``jvp_i = t * d_i`` and ``vjp_i = g * d_i`` (broadcast inputs are
summed back to their shape by the interpreter's one fitting step). Masks such as ``x > 0`` are
constants: their own derivative is zero almost everywhere.
"""
import numpy as np

from ..backend import xp_of
from ..interpreter import Primitive
from ..tensor import Tensor

BROADCAST = "broadcasting: aligned from the right, each axis pair must be equal or contain a 1"


def elementwise(name, impl, *partials):
    """A primitive applied elementwise, from its partial derivatives ``d_i(out, *args)``."""
    rules = tuple(_times(d) for d in partials)
    return Primitive(name, impl, jvp=rules, vjp=rules, shape_rule=BROADCAST)


def _times(d):
    return lambda t, out, *args, **params: t * d(out, *args, **params)


def const(array):
    """A constant tensor (no tangent, no gradient) from a raw array."""
    return Tensor(array)


def mask(cond, like):
    """1.0 where `cond`, else 0.0, in the dtype of `like`: the derivative of a selection."""
    return const(cond.astype(like.dtype))


def array_module(array):
    """numpy or cupy, as `array` is (NumPy's own arrays answered without a lookup)."""
    return np if type(array) is np.ndarray else xp_of(array)
