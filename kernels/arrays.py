"""What kind of array is this: the one place tinyad.kernels (and the engine) asks.

    FLOATS             the dtypes kernels compute in: float32 and float64
    is_cupy(x)         a CuPy array (asked by the module the type comes from: CuPy is never
                       imported to answer)
    array_module(x)    numpy or cupy, whichever owns x
    on_device_of(v, x) side argument v (a NumPy array, a scalar, a CuPy array) on x's device
    like(v, x)         the same, in x's dtype when x is float
"""
import importlib

import numpy as np

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def is_cupy(x):
    return type(x).__module__.split(".")[0] == "cupy"


def array_module(x):
    return importlib.import_module("cupy") if is_cupy(x) else np


def on_device_of(v, x):
    """`v` as an array on x's device: a copy to the GPU when x is CuPy's and v is not, to the
    host in the opposite case (side arguments are small)."""
    if is_cupy(v) and not is_cupy(x):
        v = v.get()
    return array_module(x).asarray(v)


def like(v, x):
    """`v` on x's device (on_device_of), cast to x's dtype when x is float32/float64."""
    v = on_device_of(v, x)
    return v.astype(x.dtype) if x.dtype in FLOATS and v.dtype != x.dtype else v
