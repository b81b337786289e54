"""Predicates and logic, whose results are bool or integer tensors: isnan, isinf, isfinite,
isclose, all, any, logical and/or/xor/not, bitwise and/or/xor/not and the shifts.

None of them has a derivative or a node on the tape: their outputs are bool or integer tensors,
which take no gradient (as PyTorch's). A dual input gives a plain result computed from its
primal. Bitwise operations and shifts take integer or bool tensors only (shifts: integers), as
NumPy; a float tensor is a DtypeError naming the operation. Python numbers follow the
weak-scalar rule (an int32 tensor & 1 stays int32).
"""
from .. import backend
from ..errors import DtypeError
from ..tensor import Tensor
from .axes import reduction_axes
from .lifting import lift, lift_pair


def _xp(x):
    return backend.xp_of(x.data)


def isnan(x):
    x = lift(x)
    return Tensor(_xp(x).isnan(x.data))


def isinf(x):
    x = lift(x)
    return Tensor(_xp(x).isinf(x.data))


def isfinite(x):
    x = lift(x)
    return Tensor(_xp(x).isfinite(x.data))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|a - b| <= atol + rtol·|b| elementwise (NumPy's and PyTorch's defaults)."""
    a, b = lift_pair(a, b)
    return Tensor(_xp(a).isclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def all(x, axis=None, keepdims=False):
    """True where every element along `axis` (an int, a tuple, or None for all) is nonzero."""
    x = lift(x)
    axes = reduction_axes("all", axis, x.shape)
    return Tensor(_xp(x).all(x.data, axis=axes, keepdims=bool(keepdims)))


def any(x, axis=None, keepdims=False):
    """True where some element along `axis` is nonzero."""
    x = lift(x)
    axes = reduction_axes("any", axis, x.shape)
    return Tensor(_xp(x).any(x.data, axis=axes, keepdims=bool(keepdims)))


def _binary(name, kinds):
    def op(x, y):
        x, y = lift_pair(x, y)
        for v in (x, y):
            if kinds and v.dtype.kind not in kinds:
                raise DtypeError(f"{name}: takes {_words(kinds)} tensors, got dtypes {x.dtype} "
                                 f"and {y.dtype} with shapes {x.shape}, {y.shape}")
        return Tensor(getattr(_xp(x), name)(x.data, y.data))
    op.__name__ = name
    return op


def _unary(name, kinds, ufunc=None):
    def op(x):
        x = lift(x)
        if kinds and x.dtype.kind not in kinds:
            raise DtypeError(f"{name}: takes {_words(kinds)} tensors, got dtype {x.dtype} with "
                             f"shape {x.shape}")
        return Tensor(getattr(_xp(x), ufunc or name)(x.data))
    op.__name__ = name
    return op


def _words(kinds):
    return "integer or bool" if "b" in kinds else "integer"


INTEGERS, INTEGERS_OR_BOOL = "iu", "iub"
logical_and = _binary("logical_and", None)
logical_or = _binary("logical_or", None)
logical_xor = _binary("logical_xor", None)
logical_not = _unary("logical_not", None)
bitwise_and = _binary("bitwise_and", INTEGERS_OR_BOOL)
bitwise_or = _binary("bitwise_or", INTEGERS_OR_BOOL)
bitwise_xor = _binary("bitwise_xor", INTEGERS_OR_BOOL)
bitwise_not = _unary("bitwise_not", INTEGERS_OR_BOOL, ufunc="invert")
invert = bitwise_not
left_shift = _binary("left_shift", INTEGERS)
right_shift = _binary("right_shift", INTEGERS)
bitwise_left_shift, bitwise_right_shift = left_shift, right_shift
