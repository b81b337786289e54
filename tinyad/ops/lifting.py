"""Lifting: Python numbers and arrays that meet a tensor become constant tensors.

A Python number takes the dtype of the tensor it meets, so ``x32 * 0.5`` stays float32."""
import numpy as np

from ..tensor import Tensor, tensor


def lift(x, like=None):
    """`x` as a Tensor; Python numbers take `like`'s floating dtype and device."""
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, (int, float, bool, np.number)):
        dtype = like.dtype if like.dtype.kind == "f" else (np.float32 if isinstance(x, float) else None)
        return Tensor(like._xp.asarray(x, dtype=dtype))
    return tensor(x)


def lift_pair(x, y):
    """Both operands of a binary operation as Tensors, each number lifted against the other."""
    return (lift(x, y if isinstance(y, Tensor) else None),
            lift(y, x if isinstance(x, Tensor) else None))
