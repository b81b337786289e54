"""The switch: which implementation of each kernel runs, and the one surface the engine calls.

Backends for NumPy arrays::

    "numpy"   the references in reference.py (plain array expressions)
    "numba"   the fused kernels in cpu.py and cpu_matmul.py (compiled on first use, then cached)
    "auto"    per kernel, whichever measured faster: the table AUTO below (the default)

Set it with the environment (``TINYAD_KERNELS=numba``, read once at import), for the process with
``use("numba")``, or for a block (this thread or task only) with ``with using("numpy"): ...``;
``backend()`` says what is set and ``backend("matmul")`` what a kernel will run. CuPy arrays
always take the GPU kernels in cupy_kernels.py; dtypes other than float32/float64 always take
the references (with NumPy's type promotion).

AUTO, measured by ``bench/bench_kernels.py`` (float32, 2-core AMD EPYC/Zen 5, OpenBLAS with
OPENBLAS_CORETYPE=Haswell; bench/results/kernels_cpu.md), as NumPy-ms / Numba-ms at 64x1024 and
256x1024: see that file for the numbers behind each entry.
"""
import contextlib
import contextvars
import importlib
import os

import numpy as np

from . import reference

BACKENDS = ("auto", "numpy", "numba")
ACTIVATIONS = tuple(reference.ACTIVATIONS)
FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
NUMBA_MODULE = {"act_forward": "cpu", "act_jvp": "cpu", "bias_act": "cpu",
                "softmax_xent": "cpu_softmax", "matmul": "cpu_matmul"}
AUTO = {"act_forward": "numba", "act_jvp": "numba", "bias_act": "numba",
        "softmax_xent": "numba", "matmul": "numpy"}


def _check(name):
    if name not in BACKENDS:
        raise ValueError(f"unknown kernel backend {name!r}: use one of {', '.join(BACKENDS)}")
    return name


_default = _check(os.environ.get("TINYAD_KERNELS", "auto").strip().lower() or "auto")
_scoped = contextvars.ContextVar("tinyad_kernels", default=None)


def use(name):
    """Set the backend for the whole process ("auto", "numpy" or "numba")."""
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


def backend(kernel=None):
    """The backend in force; given a kernel name, the one that kernel runs ("auto" resolved)."""
    choice = _scoped.get() or _default
    return AUTO[kernel] if kernel is not None and choice == "auto" else choice


def _on_gpu(x):
    return type(x).__module__.startswith("cupy")


def _impl(kernel, x):
    """The module implementing `kernel` for array `x`."""
    if _on_gpu(x):
        return importlib.import_module(".cupy_kernels", __package__)
    if x.dtype not in FLOATS or backend(kernel) == "numpy":
        return reference
    return importlib.import_module("." + NUMBA_MODULE[kernel], __package__)


def _array(x):
    return x if _on_gpu(x) else np.asarray(x)


def _activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}: use one of {', '.join(ACTIVATIONS)}")


def _like(v, x):
    """A tangent or a bias as an array of x's kind, in x's dtype when x is float32/float64."""
    v = _array(v)
    return v.astype(x.dtype) if x.dtype in FLOATS and v.dtype != x.dtype else v


def act_forward(name, x):
    """``(f(x), f'(x))`` for f in ACTIVATIONS: value and derivative, shaped and typed like x."""
    _activation(name)
    x = _array(x)
    return _impl("act_forward", x).act_forward(name, x)


def act_jvp(name, x, t):
    """``(f(x), f'(x) * t)``: value and tangent; t is broadcast to x's shape, cast to its dtype."""
    _activation(name)
    x = _array(x)
    t = _like(t, x)
    if t.shape != x.shape:
        t = (importlib.import_module("cupy") if _on_gpu(x) else np).broadcast_to(t, x.shape)
    return _impl("act_jvp", x).act_jvp(name, x, t)


def bias_act(name, x, b):
    """``(f(x + b), f'(x + b))`` for x (..., F) and b (F,): a dense layer's activation."""
    _activation(name)
    x = _array(x)
    b = _like(b, x)
    if x.ndim < 1 or b.shape != x.shape[-1:]:
        raise ValueError(f"bias_act: x of shape {x.shape} needs b of shape {x.shape[-1:]}, "
                         f"got {b.shape}")
    return _impl("bias_act", x).bias_act(name, x, b)


def softmax_xent(logits, labels):
    """Mean softmax cross-entropy and dL/dlogits = (softmax - onehot) / N.

    logits (N, C) float, labels (N,) integers in [0, C). Returns ``(loss, dlogits)``: loss a 0-d
    array and dlogits (N, C), both in the dtype of logits.
    """
    logits, labels = _array(logits), _array(labels)
    if logits.ndim != 2 or logits.shape[0] == 0 or logits.shape[1] == 0:
        raise ValueError(f"softmax_xent: logits must be (N, C) with N, C >= 1, got {logits.shape}")
    if labels.shape != logits.shape[:1] or labels.dtype.kind not in "iu":
        raise ValueError(f"softmax_xent: labels must be integers of shape ({logits.shape[0]},), "
                         f"got {labels.dtype} {labels.shape}")
    if int(labels.min()) < 0 or int(labels.max()) >= logits.shape[1]:
        raise ValueError(f"softmax_xent: labels must lie in [0, {logits.shape[1]})")
    return _impl("softmax_xent", logits).softmax_xent(logits, labels)


def matmul(a, b):
    """``a @ b``. The Numba kernel takes 2-D float arrays of one dtype; anything else is NumPy's."""
    a, b = _array(a), _array(b)
    if a.ndim != 2 or b.ndim != 2 or a.dtype != b.dtype:
        return a @ b
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not chain (K differs)")
    return _impl("matmul", a).matmul(a, b)
