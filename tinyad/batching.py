"""vmap's values: a batch of examples standing for one, tagged with a level (Autodidax's design).

``vmap(f)(xs)`` runs f once on a ``Batched`` tensor: it holds every example in ``value``, the
batch along axis 0, and stands for one of them (its shape is ``value.shape[1:]``). Each primitive
applied to it runs its *batching rule* (the table's fourth entry, next to the computation, the JVP
and the VJP): one application of the primitive to the whole batch, axes arranged so that it acts
on each example as it would alone. ``apply`` (interpreter.py) does this for the highest level
among an operation's inputs first, as for dual numbers, whose levels share the counter
(modes.py). So in ``vmap(jvp(f))`` each dual number's primal and tangent are batches, and in
``jvp(vmap(f))`` each batch holds dual numbers; the two never mix.

The batch axis is always axis 0 of ``value``; vmap moves the mapped axis there on the way in and
to ``out_axes`` on the way out (vmap.py). A tensor at several batch levels (nested vmaps) is a
tower: the outer wrapper is the highest level, and its array holds the lower levels' batch axes
first, lowest first, then one example's axes.

Masks and signs that rules read from values (relu's ``x > 0``) are constants: ``map_arrays``
computes one from the arrays of any tensors, example by example, and returns it batched as its
inputs are (``constant`` strips derivatives but keeps the batch).
"""
from contextlib import contextmanager

from . import modes
from .errors import BatchingError
from .tensor import Tensor, Tracer


class Batched(Tracer):
    """A batch of examples at `level`: ``value`` holds them along its axis 0; this tensor
    stands for one example (shape ``value.shape[1:]``)."""
    __slots__ = ("value",)

    def __init__(self, value, level):
        Tracer.__init__(self, value._data)
        self.value, self._level = value, level
        self._batch_axes = value._batch_axes + 1

    def detach(self):
        """Cut the tape, keep the batch."""
        return Batched(self.value.detach(), self._level)

    def _parts(self):
        return (self.value,)

    def __repr__(self):
        return f"batched(value={self.value!r}, level={self._level})"


@contextmanager
def batch_level():
    """Open a new batch level in this thread or task for the length of a ``with`` block; yields
    its number. Only batched values of open levels can be computed with (``check_open``)."""
    with modes.entered("batch_levels", modes.new_level()) as level:
        yield level


def levels_of(x):
    """The batch levels x's array carries, lowest first (the order of its leading axes)."""
    levels = []
    while x._batch_axes:
        if isinstance(x, Batched):
            levels.append(x._level)
            x = x.value
        else:
            x = x.primal
    return levels[::-1]


def rewrap(t, levels):
    """The plain tensor `t`, whose leading axes are batches at `levels` (lowest first), as the
    tower of Batched tensors it stands for."""
    for level in levels:
        t = Batched(t, level)
    return t


def constant(x):
    """x's values without any derivative (no tape, no tangent), batched as x is."""
    t = Tensor(x._data)
    return rewrap(t, levels_of(x)) if x._batch_axes else t


def map_arrays(fn, *xs):
    """``fn(*arrays)``, elementwise with NumPy broadcasting per example, as a constant batched at
    every level any of `xs` is (tensors, or numbers and arrays taken as one example's).

    Each array gets one axis per batch level among the inputs (length 1 where it has none) and
    length-1 axes up to the largest example rank, so that every example meets its own. `fn` must
    act on trailing axes only (elementwise, or adding axes at the end, as one_hot does)."""
    arrays = [x._data if isinstance(x, Tensor) else x for x in xs]
    if not any(isinstance(x, Tensor) and x._batch_axes for x in xs):
        return Tensor(fn(*arrays))
    per = [levels_of(x) if isinstance(x, Tensor) else [] for x in xs]
    every = sorted(set().union(*per))
    rank = max(getattr(a, "ndim", 0) - len(p) for a, p in zip(arrays, per))
    aligned = []
    for a, p in zip(arrays, per):
        if not hasattr(a, "ndim"):
            aligned.append(a)                           # a Python number: broadcasts anyway
            continue
        sizes = dict(zip(p, a.shape))
        example = a.shape[len(p):]
        shape = [sizes.get(level, 1) for level in every] + [1] * (rank - len(example))
        aligned.append(a.reshape(tuple(shape) + tuple(example)))
    return rewrap(Tensor(fn(*aligned)), every)


def check_open(level):
    """A batched tensor can be computed with only inside its vmap."""
    if level not in modes.current().batching:
        raise BatchingError(f"a batched tensor of level {level} was used outside the vmap that "
                            "made it (kept in a variable that outlived the call, or passed to "
                            "another thread): return it from the mapped function instead")
