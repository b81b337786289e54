"""The Tensor: an array, and what reverse mode needs to know about it.

A Tensor holds its array in ``_data`` (NumPy on the CPU, CuPy on the GPU). If it was produced by a
primitive while some input required a gradient, ``_node`` records that application on the tape
(see tape.py and node.py). ``_version`` says when its values were last replaced (``_assign``:
an optimizer step, ``load_state_dict``), on the clock that also numbers the tape's nodes: a node
that saved the tensor before that refuses to read it, as PyTorch's version counter does.

This file says what a tensor *is*. What you can *do* with one (``+``, ``@``, ``x.sum()``,
``x.backward()``...) is in ops/tensor_methods.py, one line per operator into the op layer,
attached to this class there: the interpreter, which makes tensors, sits between the two files
(tensor.py below it, ops above), so neither has to import the other in a circle. Autodidax and
JAX attach their tracers' operators the same way.
"""
import itertools
import math
import warnings

import numpy as np

from . import backend
from .errors import BatchingError, DtypeError, GradError, ShapeError


class Clock:
    """One clock for the tape's Wengert numbers (node.py) and tensors' versions (``_assign``):
    ``next(Clock.ticks)`` reads it; `last_assigned` is the time of the latest ``_assign``."""
    ticks = itertools.count(1)
    last_assigned = 0


class Tensor:
    __slots__ = ("_data", "_requires_grad", "_grad", "_node", "_version", "__weakref__")
    __array_ufunc__ = None      # make NumPy defer: ndarray + Tensor calls Tensor.__radd__
    _level = -1                 # a transform's level; plain tensors sit below every level (Tracer)
    _batch_axes = 0             # leading axes of _data that vmap added (Tracer)

    def __init__(self, data, requires_grad=False):
        self._data = data
        self._node = None
        self._grad = None
        self._requires_grad = False
        self._version = 0
        if requires_grad:
            self.requires_grad = True

    # ---- what the tensor is -------------------------------------------------------------
    shape = property(lambda self: tuple(self._data.shape))
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: int(self._data.size))
    dtype = property(lambda self: self._data.dtype)
    device = property(lambda self: backend.device_of(self._data))
    data = property(lambda self: self._data, doc="The raw array (no copy, no gradient).")
    is_leaf = property(lambda self: self._node is None, doc="Not computed on the tape: an input, "
                       "a parameter, a constant (only leaves get ``.grad`` by default).")

    @property
    def grad(self):
        """The gradient ``backward()`` accumulated: on leaves that require one, and on computed
        tensors that asked for it with ``retain_grad()``; otherwise None (with a warning for a
        computed tensor, as in PyTorch)."""
        if self._grad is None and self._node is not None and self._node.retained() is None:
            warnings.warn("tinyad: .grad of a computed (non-leaf) tensor stays None: backward() "
                          "fills .grad on leaves only; call .retain_grad() on this tensor before "
                          "backward() to keep its gradient too", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        self._grad = value

    def retain_grad(self):
        """Keep this computed tensor's gradient in ``.grad`` during ``backward()`` (added up over
        calls, as a leaf's); a no-op on a leaf, an error on a tensor without a gradient."""
        if not self._requires_grad:
            raise GradError(f"retain_grad: the tensor of shape {self.shape} does not require a "
                            "gradient, so backward() never reaches it")
        if self._node is not None:
            self._node.retain(self)

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and self.dtype not in backend.FLOATS:
            raise DtypeError(
                f"requires_grad: only float32/float64 tensors can require a gradient, "
                f"got dtype {self.dtype} with shape {self.shape}")
        self._requires_grad = bool(flag)

    @property
    def primal(self):
        """A plain tensor is its own primal (a dual tensor overrides this)."""
        return self

    @property
    def tangent(self):
        """A plain tensor carries no perturbation: its tangent is zero."""
        return zeros_like(self)

    @property
    def _xp(self):
        return backend.xp_of(self._data)

    def numpy(self):
        """The values as a NumPy array (copied from the GPU when needed)."""
        return np.asarray(backend.to_device(self.data, "cpu"))

    def item(self):
        return self.data.item()

    def tolist(self):
        return self.numpy().tolist()

    def __len__(self):
        return len(self._data)

    def __repr__(self):
        extra = ", requires_grad=True" if self._requires_grad else ""
        extra += f", device='{self.device}'" if self.device != "cpu" else ""
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        return f"tensor({body}, dtype={self.dtype}{extra})"

    def __bool__(self):
        return bool(self.data)

    def __float__(self):
        return float(self.data)

    __hash__ = object.__hash__   # identity hashing; == is elementwise (ops/tensor_methods.py)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ---- leaving the tape -----------------------------------------------------------------
    def detach(self):
        """The same values, cut from the tape (no node, no gradient)."""
        return Tensor(self._data)

    def _assign(self, data):
        """Replace the values with the new array `data` (an optimizer step, ``load_state_dict``,
        an initialiser). The version becomes the clock's time, later than every node recorded
        so far, so a node that saved this tensor for its VJP refuses to run (node.py) rather
        than read the new values. Never write into the old
        array instead: a node may hold a view of it (``W.T``), which must keep the values the
        forward pass saw."""
        self._data = data
        self._version = Clock.last_assigned = next(Clock.ticks)

    def _relinked(self, node):
        """The same value as a new tensor that `node` computed (None: on no node). A node keeps
        its output this way, as values, never as the tensor that points back at it (a cycle
        that would keep both alive until the garbage collector runs)."""
        t = self._copy()
        if node is not None:
            t._node, t._requires_grad = node, True
        return t

    def _copy(self):
        return Tensor(self._data)

    def requires_grad_(self, flag=True):
        self.requires_grad = flag
        return self

    def to(self, device):
        """A copy on `device` ('cpu' or 'cuda'); the same tensor if it is already there."""
        data = backend.to_device(self.data, device)
        if data is self._data:
            return self
        return Tensor(data, requires_grad=self._requires_grad)


def tensor(data, dtype=None, requires_grad=False, device=None):
    """Make a tensor. Python floats and float lists become float32, Python ints int64; a NumPy (or
    CuPy) array keeps its dtype; ``dtype`` overrides. Integer tensors cannot require a gradient.
    ``device`` defaults to where `data` is: "cuda" for a CuPy array, else "cpu"."""
    if isinstance(data, Tensor):
        data = data.data
    try:
        if dtype is None:
            dtype = _default_dtype(data)
        dtype = backend.check_dtype(dtype)
        device = backend.device_of(data) if device is None else backend.normalize_device(device)
        array = backend.asarray(data, device, dtype)
    except ValueError:
        ragged = _ragged(data)
        if ragged is None:
            raise
        raise ShapeError(f"tensor: nested lists must be rectangular, every list at one depth as "
                         f"long as the others (an array's rows): {ragged}") from None
    return Tensor(array, requires_grad=requires_grad)


def _ragged(data):
    """Where nested lists stop being rectangular, in words; None if they do not."""
    level, shape = [data], []
    while level and all(isinstance(x, (list, tuple)) for x in level):
        lengths = sorted({len(x) for x in level})
        if len(lengths) > 1:
            return (f"after shape {tuple(shape)}, the lists at depth {len(shape)} have lengths "
                    f"{', '.join(map(str, lengths))}")
        shape.append(lengths[0])
        level = [y for x in level for y in x]
    if any(isinstance(x, (list, tuple)) for x in level):
        return f"after shape {tuple(shape)}, lists and numbers mix at depth {len(shape)}"
    return None


def _default_dtype(data):
    if hasattr(data, "dtype"):
        return data.dtype            # arrays keep theirs; check_dtype rejects float16, complex...
    dtype = np.asarray(data).dtype
    return {"b": np.bool_, "i": np.int64, "u": np.int64, "f": np.float32}.get(dtype.kind, dtype)


def _filled(name, fill, shape, dtype, requires_grad, device):
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    xp = backend.module(device)
    return Tensor(fill(xp, tuple(shape), backend.check_dtype(dtype, name)),
                  requires_grad=requires_grad)


def zeros(*shape, dtype=np.float32, requires_grad=False, device="cpu"):
    return _filled("zeros", lambda xp, s, d: xp.zeros(s, d), shape, dtype, requires_grad, device)


def ones(*shape, dtype=np.float32, requires_grad=False, device="cpu"):
    return _filled("ones", lambda xp, s, d: xp.ones(s, d), shape, dtype, requires_grad, device)


def randn(*shape, seed=None, dtype=np.float32, requires_grad=False, device="cpu"):
    """Standard normal samples; the same `seed` gives the same values on every device."""
    def draw(xp, s, d):
        return xp.asarray(np.random.default_rng(seed).standard_normal(s).astype(d))
    return _filled("randn", draw, shape, dtype, requires_grad, device)


def zeros_like(x, dtype=None, requires_grad=False):
    """Zeros of x's shape (one example's, inside vmap) and device, in x's dtype unless `dtype`
    is given."""
    dtype = x.dtype if dtype is None else backend.check_dtype(dtype)
    return Tensor(x._xp.zeros(x.shape, dtype), requires_grad=requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    """Ones of x's shape (one example's, inside vmap) and device, in x's dtype unless `dtype` is
    given."""
    dtype = x.dtype if dtype is None else backend.check_dtype(dtype)
    return Tensor(x._xp.ones(x.shape, dtype), requires_grad=requires_grad)


class Tracer(Tensor):
    """A tensor at a transform's level, as JAX's tracers: a dual number (dual.py) or a batch of
    values (batching.py). Operations on tracers are interpreted level by level, the highest level
    among the inputs first (interpreter.py); levels come from one counter (modes.py).

    ``_data`` is the whole array underneath. For a batch it holds every example: ``_batch_axes``
    leading axes that vmap added (the lowest level's first), then one example's axes. ``shape``,
    ``ndim``, ``size`` and ``len`` are one example's: what the function being mapped sees. Its
    values are not one example's, so ``.data``, ``.numpy()``, ``.item()``, ``bool()`` and
    ``float()`` raise inside vmap (as JAX's do): a function mapped by vmap computes with tinyad
    operations, comparisons and ``ad.where`` included."""
    __slots__ = ("_level", "_batch_axes")

    shape = property(lambda self: tuple(self._data.shape[self._batch_axes:]))
    ndim = property(lambda self: self._data.ndim - self._batch_axes)
    size = property(lambda self: math.prod(self._data.shape[self._batch_axes:]))

    @property
    def data(self):
        """The raw array; an error for a batched tensor (whose array holds every example)."""
        if self._batch_axes:
            raise BatchingError(
                f"a batched tensor of shape {self.shape} (per example) has no values of its own "
                "inside vmap: .data, .numpy(), .item(), bool() and float() would need one "
                "example's. Compute with tinyad operations instead (comparisons and ad.where "
                "work per example); Python control flow on values cannot be batched")
        return self._data

    def _copy(self):
        """A new tracer of the same parts (off the tape: see Tensor._relinked)."""
        return type(self)(*self._parts(), self._level)

    def __len__(self):
        if not self.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]
