"""Special functions NumPy lacks, compiled by Numba from the C library's own: erf.

    erf(x) = 2/√π ∫₀ˣ e^(-s²) ds        float32 or float64 in, the same dtype out, any shape

libm's erf is correctly rounded to within an ulp in float64; NumPy has no erf, and SciPy is not
a dependency. The loop runs on all Numba threads once the array is large (``jit.launch``).
"""
import math

import numpy as np
from numba import prange

from .arrays import FLOATS
from .jit import kernel, launch


@kernel
def erf_kernel(x):
    out = np.empty_like(x)
    for i in prange(x.size):
        out[i] = math.erf(x[i])
    return out


def erf(x):
    """erf of a float32 or float64 NumPy array, elementwise."""
    if x.dtype not in FLOATS:
        raise TypeError(f"erf takes float32 or float64, not {x.dtype}")
    flat = np.ascontiguousarray(x).reshape(-1)
    return launch(erf_kernel, flat.size, flat).reshape(x.shape)
