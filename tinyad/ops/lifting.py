"""Lifting and casting: Python numbers and arrays that meet a tensor become constant tensors.

Python numbers follow NumPy 2's rule for Python scalars (NEP 50, "weak" scalars): the tensor's
dtype wins within its kind, so ``x32 * 0.5`` stays float32, ``x64 * 0.5`` float64 and
``i32 * 3`` int32 (a Python int that does not fit is an OverflowError, as in NumPy 2), and a
Python bool takes any tensor's dtype. Across kinds:

    bool tensor op Python int            int64, tinyad's default int (as NumPy and PyTorch)
    int or bool tensor op Python float   float32, tinyad's default float; the tensor is cast
                                         too (as PyTorch and JAX; NumPy 2 gives float64)

NumPy scalars (``np.float64(2.0)``) take a float tensor's dtype, and keep their own dtype with
an integer or bool tensor (where NumPy's promotion then decides). Arrays and lists become tensors
of their own dtype (ad.tensor); two tensors promote as NumPy promotes two arrays.
"""
import numpy as np

from .. import backend
from .. import primitives as P
from ..errors import DeviceError
from ..interpreter import apply
from ..tensor import Tensor, tensor

SCALARS = (bool, int, float, np.number)
DEFAULT_FLOAT, DEFAULT_INT = np.dtype(np.float32), np.dtype(np.int64)


def lift(x, like=None):
    """`x` as a Tensor. Meeting the tensor `like`, a constant on its device: a number takes its
    dtype by the rule above (the kind-crossing float case needs ``lift_pair``, which casts the
    tensor) and is filled in place there (nothing is copied from the host); a raw array (NumPy or
    CuPy) keeps its dtype and is moved to that device if it is on the other one."""
    if isinstance(x, Tensor):
        return x
    if like is None:
        return tensor(x)
    if isinstance(x, SCALARS):
        return Tensor(like._xp.full((), x, dtype=scalar_dtype(x, like.dtype)))
    return tensor(x, device=like.device)


def same_device(op, x, y):
    """Two tensors that must share a device (an operation that is no primitive checks here)."""
    if x.device != y.device:
        raise DeviceError(f"{op}: inputs on different devices {[x.device, y.device]} with shapes "
                          f"{x.shape}, {y.shape}; move them with .to('cuda') or .to('cpu')")


def scalar_dtype(x, dtype):
    """The dtype a number `x` takes next to a tensor of `dtype` (None: the number's own)."""
    if dtype.kind == "f":
        return dtype
    if isinstance(x, np.number):
        return None
    if isinstance(x, bool):
        return dtype
    if isinstance(x, int):
        return dtype if dtype.kind in "iu" else DEFAULT_INT
    return DEFAULT_FLOAT


def lift_pair(x, y):
    """Both operands of a binary operation as Tensors, a number lifted against the tensor it
    meets; an integer or bool tensor meeting a Python float is cast to float32 first."""
    if isinstance(x, Tensor):
        if isinstance(y, Tensor):
            return x, y                        # the usual case, first
        x = _float_for(x, y)
        return x, lift(y, x)
    if isinstance(y, Tensor):
        y = _float_for(y, x)
        return lift(x, y), y
    return tensor(x), tensor(y)


def _float_for(t, other):
    """`t` cast to the default float when it is integer or bool and `other` a Python float."""
    if t.dtype.kind != "f" and isinstance(other, float) and not isinstance(other, np.number):
        return astype(t, DEFAULT_FLOAT)
    return t


def astype(x, dtype):
    """`x` in `dtype` (the same tensor when it already is); differentiable between floats."""
    x = lift(x)
    dtype = backend.check_dtype(dtype, "astype")
    return x if x.dtype == dtype else apply(P.astype, x, dtype=dtype)
