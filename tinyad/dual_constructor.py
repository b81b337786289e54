"""``ad.dual(primal, tangent)``: the user's constructor for a dual tensor ``primal + tangent·ε``.

It sits above the op layer (it lifts numbers and arrays and casts the tangent), next to the
transforms that use it (``jvp``), while dual.py, the forward-mode interpreter, stays below.
"""
from .backend import FLOATS
from .batching import levels_of
from .dual import Dual, innermost_level
from .errors import BatchingError, DeviceError, DtypeError, ShapeError
from .ops import astype, lift


def dual(primal, tangent, level=None):
    """The dual tensor ``primal + tangent·ε`` at `level` (default: the innermost open level).
    The primal must be float32 or float64; the tangent takes its shape (exactly) and dtype.
    Inside vmap the level must be one opened inside it (``with ad.dual_level():``, or jvp)."""
    primal = lift(primal)
    tangent = lift(tangent, primal)
    if primal.dtype not in FLOATS:
        raise DtypeError(f"dual: the primal must be float32 or float64, got {primal.dtype}")
    if tangent.shape != primal.shape:
        raise ShapeError(f"dual: tangent shape {tangent.shape} must equal primal shape "
                         f"{primal.shape}")
    if tangent.device != primal.device:
        raise DeviceError(f"dual: primal on {primal.device}, tangent on {tangent.device} (shape "
                          f"{primal.shape}); move one with .to()")
    level = innermost_level() if level is None else level
    if max(levels_of(primal) + levels_of(tangent), default=-1) >= level:
        raise BatchingError(f"dual: the primal or tangent (shape {primal.shape}) is batched by a "
                            f"vmap entered after dual level {level} was opened; open the level "
                            "inside the vmap (with ad.dual_level(): ...), or use ad.jvp")
    return Dual(primal, astype(tangent, primal.dtype), level)
