"""Forward mode by dual numbers, tagged with levels.

A dual number ``x + t·ε`` (with ε² = 0) carries a value and a tangent; pushing it through f gives
``f(x) + f'(x) t·ε``: the value and the directional derivative in one pass. ``apply`` does the
pushing, primitive by primitive, with each primitive's JVP rule.

Nested forward mode needs *levels*. In d/dx [x · d/dy (x + y)|y=1] the inner and outer ε must not
mix (Siskind and Pearlmutter's perturbation confusion): each ``dual_level()`` (and each ``jvp``)
opens a new level, and an operation works on the highest level among its inputs, treating lower
levels as constants. The answer is then 1, not 2. vmap's batch levels (batching.py) take their
numbers from the same counter (modes.py), so a dual level and a batch level are never confused.

The user's constructor, ``ad.dual(primal, tangent)``, is in dual_constructor.py.
"""
from contextlib import contextmanager

from . import modes
from .tensor import Tracer, zeros_like


class Dual(Tracer):
    """``primal + tangent·ε_level``. Its array (``.data``, ``.numpy()``) is the primal's."""
    __slots__ = ("primal", "tangent")

    def __init__(self, primal, tangent, level):
        Tracer.__init__(self, primal._data)
        self.primal, self.tangent, self._level = primal, tangent, level
        self._batch_axes = primal._batch_axes

    def detach(self):
        """Cut the tape, keep the perturbation."""
        return Dual(self.primal.detach(), self.tangent.detach(), self._level)

    def _parts(self):
        return self.primal, self.tangent

    def __repr__(self):
        return f"dual(primal={self.primal!r}, tangent={self.tangent!r}, level={self._level})"


@contextmanager
def dual_level():
    """Open a new, innermost level for ``ad.dual`` in this thread or task; yields its number."""
    with modes.entered("dual_levels", modes.new_level()) as level:
        yield level


def innermost_level():
    """The level ``ad.dual`` tags with by default: the innermost open one (0 when none is)."""
    return modes.current().dual_level


def unpack(x, level):
    """(primal, tangent) of `x` at `level`; a value that does not depend on it has tangent 0."""
    if isinstance(x, Dual) and x._level == level:
        return x.primal, x.tangent
    return x, zeros_like(x)
