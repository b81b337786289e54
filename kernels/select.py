"""The switch: which implementation of each kernel runs, and the one surface the engine calls.

Backends for NumPy arrays::

    "numpy"   the references in reference.py (plain array expressions)
    "numba"   the fused kernels in cpu.py, cpu_softmax.py, cpu_matmul.py (compiled on first use,
              then cached on disk)
    "auto"    the table AUTO below: per activation (its three kernels measured alike), softmax
              cross-entropy and matmul, whichever measured faster (the default)

Set it with the environment (``TINYAD_KERNELS=numba``, read once at import), for the process with
``use("numba")``, or for a block (this thread or task only) with ``with using("numpy"): ...``;
``backend()`` says what is set, ``backend("gelu")`` what a key of AUTO will run. Float CuPy
arrays always take the GPU kernels in cupy_kernels.py; dtypes other than float32/float64 always
take the references (with NumPy's type promotion; CuPy's for CuPy arrays).

AUTO was measured with ``bench/bench_kernels.py`` (float32, 2 cores of an AMD Zen 5, OpenBLAS
with OPENBLAS_CORETYPE=Haswell; all numbers in bench/results/kernels_cpu.md). NumPy time over
Numba time at 64x1024 and 256x256 (forward, jvp, bias forms), and for softmax also at 64x10 and
256x10 (batch x classes)::

    relu      1.9-2.8x   Numba: one pass instead of maximum + compare + cast
    gelu      3.7-7.6x   Numba: a dozen NumPy passes (and their temporaries) fused into one
    tanh      0.5-0.8x   NumPy: its SIMD tanh is as fast as ours (1.5x for bias at 64x1024)
    sigmoid   0.7-0.9x   NumPy
    softmax   2.1x, 0.7x, 2.2x, 2.2x   Numba (0.8x at 256x100 and 256x1024, 1.1x at 1024x1024)
    matmul    Numba 88-125 GFLOP/s against BLAS 195-208: NumPy
    col2im    3.1-3.9x   Numba: the kh·kw strided adds as plain loops (the CNN's 3x3 windows over
              (64, 64, 28, 28) and (64, 64, 14, 14), float32; cpu_windows.py); 0.6x with one
              channel (64, 1, 28, 28), where the whole call takes under a millisecond

In context (a 2-layer MLP step, BLAS matmuls between the kernels) "auto" took 0.75 ms against
0.99 ms all-NumPy at 256x256, and 2.71 against 2.88 ms at 64x1024, where the matmuls dominate.
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
                "softmax_xent": "cpu_softmax", "matmul": "cpu_matmul", "col2im": "cpu_windows"}
AUTO = {"relu": "numba", "tanh": "numpy", "sigmoid": "numpy", "gelu": "numba",
        "softmax_xent": "numba", "matmul": "numpy", "col2im": "numba"}


def _check(name):
    if name not in BACKENDS:
        raise ValueError(f"unknown kernel backend {name!r}: use one of {', '.join(BACKENDS)}")
    return name


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


def backend(kernel=None):
    """The backend in force; given a key of AUTO (an activation, "softmax_xent" or "matmul"),
    the one that runs it, "auto" resolved."""
    choice = _scoped.get() or _default
    return AUTO[kernel] if kernel is not None and choice == "auto" else choice


def _on_gpu(x):
    return type(x).__module__.startswith("cupy")


def _impl(kernel, x, key):
    """The module implementing `kernel` for array `x`, chosen by ``backend(key)``."""
    if x.dtype not in FLOATS:
        return reference
    if _on_gpu(x):
        return importlib.import_module(".cupy_kernels", __package__)
    if backend(key) == "numpy":
        return reference
    return importlib.import_module("." + NUMBA_MODULE[kernel], __package__)


def _array(x):
    return x if _on_gpu(x) else np.asarray(x)


def _activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}: use one of {', '.join(ACTIVATIONS)}")


def _on(v, x):
    """`v` (an array of either device, a list) as an array of x's device: a side argument
    (labels, bias, tangent) is copied over when it lives on the other one."""
    if _on_gpu(x):
        return importlib.import_module("cupy").asarray(v)
    return v.get() if _on_gpu(v) else np.asarray(v)


def _like(v, x):
    """A tangent or a bias as an array of x's kind, in x's dtype when x is float32/float64."""
    v = _on(v, x)
    return v.astype(x.dtype) if x.dtype in FLOATS and v.dtype != x.dtype else v


def act_forward(name, x):
    """``(f(x), f'(x))`` for f in ACTIVATIONS: value and derivative, shaped and typed like x."""
    _activation(name)
    x = _array(x)
    return _impl("act_forward", x, name).act_forward(name, x)


def act_jvp(name, x, t):
    """``(f(x), f'(x) * t)``: value and tangent; t is broadcast to x's shape, cast to its dtype."""
    _activation(name)
    x = _array(x)
    t = _like(t, x)
    if t.shape != x.shape:
        t = (importlib.import_module("cupy") if _on_gpu(x) else np).broadcast_to(t, x.shape)
    return _impl("act_jvp", x, name).act_jvp(name, x, t)


def bias_act(name, x, b):
    """``(f(x + b), f'(x + b))`` for x (..., F) and b (F,): a dense layer's activation."""
    _activation(name)
    x = _array(x)
    b = _like(b, x)
    if x.ndim < 1 or b.shape != x.shape[-1:]:
        raise ValueError(f"bias_act: x of shape {x.shape} needs b of shape {x.shape[-1:]}, "
                         f"got {b.shape}")
    return _impl("bias_act", x, name).bias_act(name, x, b)


def softmax_xent(logits, labels):
    """Mean softmax cross-entropy and dL/dlogits = (softmax - onehot) / N.

    logits (N, C) float, labels (N,) integers in [0, C). Returns ``(loss, dlogits)``: loss a 0-d
    array and dlogits (N, C), both in the dtype of logits.
    """
    logits = _array(logits)
    labels = _on(labels, logits)
    if logits.ndim != 2 or logits.shape[0] == 0 or logits.shape[1] == 0:
        raise ValueError(f"softmax_xent: logits must be (N, C) with N, C >= 1, got {logits.shape}")
    if labels.shape != logits.shape[:1] or labels.dtype.kind not in "iu":
        raise ValueError(f"softmax_xent: labels must be integers of shape ({logits.shape[0]},), "
                         f"got {labels.dtype} {labels.shape}")
    if int(labels.min()) < 0 or int(labels.max()) >= logits.shape[1]:
        raise ValueError(f"softmax_xent: labels must lie in [0, {logits.shape[1]})")
    return _impl("softmax_xent", logits, "softmax_xent").softmax_xent(logits, labels)


def col2im(cols, shape, kernel, stride, padding):
    """im2col's adjoint (reference.col2im): windows (N·OH·OW, kh·kw·C) added back into an
    (N, C, H, W) array; kernel, stride and padding are (rows, columns) pairs of ints. CuPy
    arrays take the reference, which runs on either."""
    (n, c), (kh, kw) = shape[:2], kernel
    oh, ow = reference.window_grid(shape, kernel, stride, padding)
    if oh < 1 or ow < 1 or cols.shape != (n * oh * ow, kh * kw * c):
        raise ValueError(f"col2im: windows of shape {cols.shape} do not come from an input "
                         f"{tuple(shape)} with kernel {kernel}, stride {stride}, padding {padding}")
    impl = reference if _on_gpu(cols) else _impl("col2im", _array(cols), "col2im")
    return impl.col2im(cols, shape, kernel, stride, padding)


def matmul(a, b):
    """``a @ b``. The Numba kernel takes 2-D float arrays of one dtype; anything else is NumPy's."""
    a, b = _array(a), _array(b)
    if a.ndim != 2 or b.ndim != 2 or a.dtype != b.dtype:
        return a @ b
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not chain (K differs)")
    return _impl("matmul", a, "matmul").matmul(a, b)
