"""Forward mode by dual numbers, tagged with levels.

A dual number ``x + t·ε`` (with ε² = 0) carries a value and a tangent; pushing it through f gives
``f(x) + f'(x) t·ε``: the value and the directional derivative in one pass. ``apply`` does the
pushing, primitive by primitive, with each primitive's JVP rule.

Nested forward mode needs *levels*. In d/dx [x · d/dy (x + y)|y=1] the inner and outer ε must not
mix (Siskind and Pearlmutter's perturbation confusion): each ``dual_level()`` (and each ``jvp``)
opens a new level, and an operation works on the highest level among its inputs, treating lower
levels as constants. The answer is then 1, not 2.
"""
import itertools
from contextlib import contextmanager

from .backend import FLOATS
from .errors import DeviceError, DtypeError, ShapeError
from .tensor import Tensor

_levels = [0]                 # the open levels; level 0 is always there for plain ``ad.dual``
_counter = itertools.count(1)


class Dual(Tensor):
    """``primal + tangent·ε_level``. Its array (``.data``, ``.numpy()``) is the primal's."""
    __slots__ = ("primal", "tangent", "_level")

    def __init__(self, primal, tangent, level):
        Tensor.__init__(self, primal._data)
        self.primal, self.tangent, self._level = primal, tangent, level

    def detach(self):
        """Cut the tape, keep the perturbation."""
        return Dual(self.primal.detach(), self.tangent.detach(), self._level)

    def __repr__(self):
        return f"dual(primal={self.primal!r}, tangent={self.tangent!r}, level={self._level})"


@contextmanager
def dual_level():
    """Open a new, innermost level for ``ad.dual``; yields its number."""
    level = next(_counter)
    _levels.append(level)
    try:
        yield level
    finally:
        _levels.remove(level)


def dual(primal, tangent, level=None):
    """The dual tensor ``primal + tangent·ε`` at `level` (default: the innermost open level)."""
    primal = ops.lift(primal)
    tangent = ops.lift(tangent, primal)
    if primal.dtype not in FLOATS:
        raise DtypeError(f"dual: the primal must be float32 or float64, got {primal.dtype}")
    if tangent.shape != primal.shape:
        raise ShapeError(f"dual: tangent shape {tangent.shape} must equal primal shape "
                         f"{primal.shape}")
    if tangent.device != primal.device:
        raise DeviceError(f"dual: primal on {primal.device}, tangent on {tangent.device} (shape "
                          f"{primal.shape}); move one with .to()")
    return Dual(primal, ops.astype(tangent, primal.dtype), _levels[-1] if level is None else level)


def unpack(x, level):
    """(primal, tangent) of `x` at `level`; a value that does not depend on it has tangent 0."""
    if isinstance(x, Dual) and x._level == level:
        return x.primal, x.tangent
    return x, Tensor(x._xp.zeros_like(x._data))


def fit_tangent(tangent, out):
    """Bring a tangent to the output's shape and dtype: ``x + b`` with b broadcast over x moves
    with x's tangent on every broadcast copy."""
    td, od = tangent._data, out._data
    if td.shape != od.shape:
        tangent = ops.broadcast_to(tangent, od.shape)
    if td.dtype != od.dtype:
        tangent = ops.astype(tangent, od.dtype)
    return tangent


from . import ops  # noqa: E402  (ops imports this module's dependencies)
