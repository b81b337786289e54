"""The switch, and the one surface callers use: which backend runs a kernel on an array.

    "auto"    the table backends.AUTO, per device and dtype (the default)
    "numpy"   whole-array operations: NumPy on the CPU; on CUDA, CuPy's kernels
    "numba"   Numba's kernels: on the CPU for NumPy arrays, on CUDA for CuPy arrays

Set it with the environment (``TINYAD_KERNELS=numba``, read once at import), for the process with
``use("numba")``, or for a block (this thread or task only) with ``with using("numpy"): ...``;
``backend()`` says what is set. ``select(key, x)`` is the Backend that runs `key` (an activation
name, "softmax_xent", "matmul" or "col2im") on array x; ``fused(name, x)`` asks whether that is a
fused kernel rather than NumPy's array operations, the engine's one question. Arrays of other
dtypes than float32/float64 are computed in float64 by the NumPy backend.

The entry points below check their arguments (naming the kernel, the shapes and the rule), move
a side argument (tangent, bias, labels) to the main array's device and cast it to its dtype, and
call the selected backend.
"""
import contextlib
import contextvars
import os

import numpy as np

from .activations import ACTIVATIONS, check
from .arrays import FLOATS, array_module, is_cupy, like, on_device_of
from .backends import AUTO, BACKENDS, NUMPY
from . import reference

SWITCH = ("auto", "numpy", "numba")


def _check(name):
    if name not in SWITCH:
        raise ValueError(f"unknown kernel backend {name!r}: use one of {', '.join(SWITCH)}")
    return name


_AUTO = {(device, np.dtype(dtype)): row for (device, dtype), row in AUTO.items()}  # dtype keys
_default = _check(os.environ.get("TINYAD_KERNELS", "auto").strip().lower() or "auto")
_scoped = contextvars.ContextVar("tinyad_kernels", default=None)


def use(name):
    """Set the backend for the process ("auto", "numpy" or "numba"); a ``using`` block wins."""
    global _default
    _default = _check(name)


@contextlib.contextmanager
def using(name):
    """Set the backend inside a ``with`` block; the previous choice comes back on exit."""
    token = _scoped.set(_check(name))
    try:
        yield name
    finally:
        _scoped.reset(token)


def backend():
    """The switch in force: "auto", "numpy" or "numba"."""
    return _scoped.get() or _default


def select(key, x):
    """The Backend that runs kernel `key` on array `x`: by x's device and dtype and the switch."""
    device = "cpu" if type(x) is np.ndarray else "cuda" if is_cupy(x) else "cpu"
    row = _AUTO.get((device, x.dtype))
    if row is None:                           # not float32/float64
        return NUMPY
    choice = backend()
    if choice == "auto":
        choice = row[key]
    return BACKENDS[device, "cupy" if device == "cuda" and choice == "numpy" else choice]


def fused(name, x):
    """Does activation `name` on array `x` run as a fused kernel (one pass that gives the value
    and the derivative) rather than as NumPy's whole-array operations?"""
    return select(check(name), x) is not NUMPY


def _array(x):
    if type(x) is np.ndarray and x.dtype in FLOATS:      # the usual case, asked first
        return x
    x = x if is_cupy(x) else np.asarray(x)
    return x if x.dtype in FLOATS else x.astype(np.float64)


def act_value(name, x):
    """``f(x)`` alone, from the definition on whole arrays (NumPy's or CuPy's): the value where
    no kernel is fused (a fused kernel gives the derivative in the same pass: act_forward)."""
    return reference.act_value(name, _array(x))


def act_forward(name, x):
    """``(f(x), f'(x))`` for f in ACTIVATIONS: value and derivative, shaped and typed like x."""
    x = _array(x)
    return select(check(name), x).act_forward(name, x)


def act_jvp(name, x, t):
    """``(f(x), f'(x) * t)``: value and tangent; t is broadcast to x's shape, cast to its dtype."""
    x = _array(x)
    t = like(t, x)
    if t.shape != x.shape:
        t = array_module(x).broadcast_to(t, x.shape)
    return select(check(name), x).act_jvp(name, x, t)


def bias_act(name, x, b):
    """``(f(x + b), f'(x + b))`` for x (..., F) and b (F,): a dense layer's activation."""
    x = _array(x)
    b = like(b, x)
    if x.ndim < 1 or b.shape != x.shape[-1:]:
        raise ValueError(f"bias_act: x of shape {x.shape} needs b of shape {x.shape[-1:]}, "
                         f"got {b.shape}")
    return select(check(name), x).bias_act(name, x, b)


def softmax_xent(logits, labels, labels_checked=False):
    """Mean softmax cross-entropy and dL/dlogits = (softmax - onehot) / N.

    logits (N, C) float, labels (N,) integers in [0, C). Returns ``(loss, dlogits)``: loss a 0-d
    array and dlogits (N, C), both in the dtype of logits, on logits' device. An empty batch
    (N = 0) has loss NaN, the mean of nothing, as in NumPy. ``labels_checked=True`` skips the
    range check (two host syncs on a GPU) for a caller that made it already (the engine's
    cross-entropy: ``ops.class_labels``).
    """
    logits = _array(logits)
    labels = on_device_of(labels, logits)
    if logits.ndim != 2 or logits.shape[1] == 0:
        raise ValueError(f"softmax_xent: logits must be (N, C) with C >= 1, got {logits.shape}")
    if labels.shape != logits.shape[:1] or labels.dtype.kind not in "iu":
        raise ValueError(f"softmax_xent: labels must be integers of shape ({logits.shape[0]},), "
                         f"got {labels.dtype} {labels.shape}")
    xp = array_module(logits)
    if labels.size == 0:
        return xp.asarray(xp.nan, dtype=logits.dtype), xp.zeros_like(logits)
    if not labels_checked and (int(labels.min()) < 0 or int(labels.max()) >= logits.shape[1]):
        raise ValueError(f"softmax_xent: labels must lie in [0, {logits.shape[1]})")
    return select("softmax_xent", logits).softmax_xent(logits, labels)


def col2im(cols, shape, kernel, stride, padding, dilation=(1, 1)):
    """im2col's adjoint (reference.col2im): windows (N·OH·OW, kh·kw·C) added back into an
    (N, C, H, W) array; kernel, stride and dilation are (rows, columns) pairs of ints, padding
    (rows, columns) with each an int or a (before, after) pair (reference.pads)."""
    cols = _array(cols)
    (n, c), (kh, kw) = shape[:2], kernel
    oh, ow = reference.window_grid(shape, kernel, stride, padding, dilation)
    fits = oh >= 1 and ow >= 1 and min(sum(reference.pads(padding), ())) >= 0
    if not fits or cols.shape != (n * oh * ow, kh * kw * c):
        raise ValueError(f"col2im: windows of shape {cols.shape} do not come from an input "
                         f"{tuple(shape)} with kernel {kernel}, stride {stride}, padding "
                         f"{padding}, dilation {dilation}")
    return select("col2im", cols).col2im(cols, shape, kernel, stride, padding, dilation)


def matmul(a, b):
    """``a @ b`` for 2-D float arrays of one dtype (anything else: the array library's @)."""
    a, b = (x if is_cupy(x) else np.asarray(x) for x in (a, b))
    if a.ndim != 2 or b.ndim != 2 or a.dtype != b.dtype or a.dtype not in FLOATS:
        return a @ like(b, a) if is_cupy(a) != is_cupy(b) else a @ b
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not chain (K differs)")
    return select("matmul", a).matmul(a, b)


__all__ = ["ACTIVATIONS", "SWITCH", "act_forward", "act_value", "act_jvp", "backend", "bias_act",
           "col2im", "fused", "matmul", "select", "softmax_xent", "use", "using"]
