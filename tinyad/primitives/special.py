"""Special functions: erf, the error function (the exact GELU and the normal CDF are built on it).

    erf(x) = 2/√π ∫₀ˣ e^(-s²) ds,        erf'(x) = 2/√π e^(-x²)

NumPy has no erf: NumPy arrays run the C library's through Numba (kernels/cpu_special.py), CuPy
arrays ``cupyx.scipy.special.erf``. An integer input is computed in float64, as NumPy's ufuncs do.
"""
import math

import numpy as np

from .. import ops
from .rules import array_module, elementwise

TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _erf(x):
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if array_module(x) is np:
        from ..kernels import cpu_special
        return cpu_special.erf(x)
    from cupyx.scipy import special
    return special.erf(x)


erf = elementwise("erf", _erf, lambda out, x: TWO_OVER_SQRT_PI * ops.exp(-(x * x)))
