"""Elementwise math beyond the basics: one-line wrappers over the primitives of trigonometric.py,
exponential.py and special.py (PyTorch's spellings beside NumPy's: asin = arcsin...), and the
composites built from them and from arithmetic:

    exp2(x) = 2^x (power)          square(x) = x·x              reciprocal(x) = x^-1
    rsqrt(x) = x^-0.5              lerp(a, b, w) = a + w (b - a)
    copysign(x, y) = |x| · (±1 from y's sign bit; no derivative in y)
    clip(x, min, max) (clamp)      masked_fill(x, mask, v) = where(mask, v, x)

An integer input to a float function is computed in float64, as NumPy's ufuncs do; reciprocal
and rsqrt give tinyad's default float, float32, as true division does.
"""
import numpy as np

from .. import backend
from .. import primitives as P
from ..errors import ShapeError
from ..interpreter import apply
from .arithmetic import compare, div, mul, power, where
from .functions import abs
from .lifting import DEFAULT_FLOAT, astype, lift, lift_pair
from .rounding import piecewise_constant


def _floating(x):
    """x lifted; an integer or bool tensor cast to float64 (NumPy's float functions do)."""
    x = lift(x)
    return x if x.dtype.kind == "f" else astype(x, np.float64)


def tan(x): return apply(P.tan, lift(x))
def arcsin(x): return apply(P.arcsin, lift(x))
def arccos(x): return apply(P.arccos, lift(x))
def arctan(x): return apply(P.arctan, lift(x))
def arctan2(y, x): return apply(P.arctan2, *lift_pair(y, x))
def sinh(x): return apply(P.sinh, lift(x))
def cosh(x): return apply(P.cosh, lift(x))
def arcsinh(x): return apply(P.arcsinh, lift(x))
def arccosh(x): return apply(P.arccosh, lift(x))
def arctanh(x): return apply(P.arctanh, lift(x))
def log1p(x): return apply(P.log1p, lift(x))
def expm1(x): return apply(P.expm1, lift(x))
def log2(x): return apply(P.log2, lift(x))
def log10(x): return apply(P.log10, lift(x))
def logaddexp(x, y): return apply(P.logaddexp, *lift_pair(x, y))
def erf(x): return apply(P.erf, lift(x))


asin, acos, atan, atan2 = arcsin, arccos, arctan, arctan2
asinh, acosh, atanh = arcsinh, arccosh, arctanh


def exp2(x):
    """2^x, as ``power(2, x)``: exact at integers, d/dx = 2^x ln 2."""
    return power(2.0, _floating(x))


def square(x):
    """x·x (an integer tensor stays integer, as in NumPy and PyTorch)."""
    x = lift(x)
    return mul(x, x)


def reciprocal(x):
    """1 / x; an integer tensor gives float32 (true division's rule)."""
    x = lift(x)
    return power(x, -1) if x.dtype.kind == "f" else div(1, x)


def rsqrt(x):
    """1 / √x; an integer tensor gives float32."""
    x = lift(x)
    return power(x if x.dtype.kind == "f" else astype(x, DEFAULT_FLOAT), -0.5)


def lerp(start, end, weight):
    """start + weight·(end - start), elementwise with broadcasting (PyTorch's lerp)."""
    start, end = lift_pair(start, end)
    return start + weight * (end - start)


def copysign(x, y):
    """|x| with the sign (the sign bit, so -0.0 counts as negative) of y, in NumPy's result
    dtype. d/dx = ±1 away from x = 0 (0 there, as |x|); y's derivative is zero."""
    x, y = lift_pair(x, y)
    dtype = np.copysign(np.zeros(0, x.dtype), np.zeros(0, y.dtype)).dtype
    x = astype(x, dtype)
    xp = backend.xp_of(y.data)
    sign = piecewise_constant(xp.where(xp.signbit(y.data), -1, 1).astype(dtype), y)
    return abs(x) * sign


def clip(x, min=None, max=None):
    """x limited to [min, max] (either bound may be None; a tensor bound broadcasts), as NumPy's
    clip and PyTorch's clamp: ``minimum(maximum(x, min), max)``, so min > max gives max. The
    derivative goes to x where min <= x <= max (bounds included, as PyTorch's clamp) and to a
    tensor bound where it is the value; NaN stays NaN."""
    x = lift(x)
    if min is None and max is None:
        raise ValueError(f"clip: at least one of min and max must be given (x of shape {x.shape})")
    out = x
    if min is not None:
        out = where(compare("less", out, min), min, out)
    if max is not None:
        out = where(compare("greater", out, max), max, out)
    return out


clamp = clip


def masked_fill(x, mask, value):
    """x with `value` where `mask` (a bool tensor or array that broadcasts to x's shape)."""
    x = lift(x)
    try:
        fits = np.broadcast_shapes(np.shape(mask), x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"masked_fill: mask of shape {np.shape(mask)} must broadcast to x's "
                         f"shape {x.shape} (aligned from the right, each axis of the mask equal "
                         "or 1)")
    return where(mask, value, x)
