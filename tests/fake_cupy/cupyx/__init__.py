"""``cupyx`` on the fake: the scatter operations, as NumPy's ``ufunc.at`` on device arrays
(repeated indices accumulate, as CuPy's atomics make them)."""
import numpy as np

from cupy._array import host_index, ndarray, operand


def _scatter(uf):
    def scatter(a, slices, value):
        if not isinstance(a, ndarray):
            raise TypeError(f"Unsupported type {type(a)}")
        uf.at(a._a, host_index(slices), operand(value))
    return scatter


scatter_add = _scatter(np.add)
scatter_max = _scatter(np.maximum)
scatter_min = _scatter(np.minimum)
