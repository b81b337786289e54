"""Registry entries (tests/primitive_specs.py explains the format) for the primitives of the
breadth files: trigonometric.py, exponential.py, special.py, remainders.py, cumulative.py.
primitive_specs.py merges them into SPECS."""
import math

import numpy as np
from hypothesis import strategies as st

from tinyad import ops

from primitive_specs import Spec, binary, broadcast_pair, shape, unary, values


def away_from_origin(data, dtype):
    """arctan2's inputs, off its branch cut (y = 0, x < 0) and its pole (the origin)."""
    y, x = binary()(data, dtype)
    return [np.asarray(np.where(np.abs(y) < 0.1, 0.1 + np.abs(y), y), dtype), x]


def erf_ref(x):
    return np.vectorize(math.erf, otypes=[x.dtype])(x).astype(x.dtype)


def remainder_draw(data, dtype):
    """x = y (k + f) with |y| in [0.5, 2], k an integer and f in [0.1, 0.9]: x / y stays away
    from the integers, where the remainder jumps."""
    a, b = broadcast_pair(data)
    full = np.broadcast_shapes(a, b)
    y = values(data, b, np.float64, 0.5, 2.0) * np.where(values(data, b, np.float64) > 0, 1, -1)
    k = np.round(values(data, full, np.float64, -3, 3))
    f = values(data, full, np.float64, 0.1, 0.9)
    return [np.asarray(np.broadcast_to(y, full) * (k + f), dtype), np.asarray(y, dtype)]


def along_axis(low=-2.0, high=2.0, zeros=False):
    """x and an axis of it (None: the flattened x); with `zeros`, some entries exactly 0."""
    def draw(data, dtype):
        x = values(data, shape(data), dtype, low, high)
        if zeros and x.size:
            hit = values(data, x.shape, np.float64, 0, 1) < data.draw(st.sampled_from([0.0, 0.3]))
            x = np.asarray(np.where(hit, 0, x), dtype)
        axis = None if x.ndim == 0 else data.draw(st.one_of(
            st.none(), st.integers(-x.ndim, x.ndim - 1)))
        return [x, axis]
    return draw


def accumulate_ref(ufunc):
    def ref(x, axis):
        return ufunc.accumulate(x.reshape(-1) if axis is None else x, axis=axis or 0)
    return ref


BREADTH_SPECS = {
    "tan": Spec(unary(-1.2, 1.2), ops.tan, np.tan),
    "arcsin": Spec(unary(-0.9, 0.9), ops.arcsin, np.arcsin),
    "arccos": Spec(unary(-0.9, 0.9), ops.arccos, np.arccos),
    "arctan": Spec(unary(), ops.arctan, np.arctan),
    "arctan2": Spec(away_from_origin, ops.arctan2, np.arctan2),
    "sinh": Spec(unary(), ops.sinh, np.sinh),
    "cosh": Spec(unary(), ops.cosh, np.cosh),
    "arcsinh": Spec(unary(), ops.arcsinh, np.arcsinh),
    "arccosh": Spec(unary(1.1, 3.0), ops.arccosh, np.arccosh),
    "arctanh": Spec(unary(-0.9, 0.9), ops.arctanh, np.arctanh),
    "log1p": Spec(unary(-0.5, 2.0), ops.log1p, np.log1p),
    "expm1": Spec(unary(), ops.expm1, np.expm1),
    "log2": Spec(unary(0.2, 3.0), ops.log2, np.log2),
    "log10": Spec(unary(0.2, 3.0), ops.log10, np.log10),
    "logaddexp": Spec(binary(), ops.logaddexp, np.logaddexp),
    "erf": Spec(unary(), ops.erf, erf_ref),
    "remainder": Spec(remainder_draw, ops.remainder, np.remainder, atol32=1e-6),
    "fmod": Spec(remainder_draw, ops.fmod, np.fmod, atol32=1e-6),
    "cumsum": Spec(along_axis(), ops.cumsum, lambda x, axis: np.cumsum(x, axis), atol32=1e-6),
    "cumprod": Spec(along_axis(zeros=True), ops.cumprod, lambda x, axis: np.cumprod(x, axis)),
    "logcumsumexp": Spec(along_axis(-3.0, 3.0), ops.logcumsumexp, accumulate_ref(np.logaddexp)),
}
