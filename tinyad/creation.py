"""Making tensors from nothing but a shape or a range: arange, linspace, eye, full, full_like,
empty, empty_like, rand, randint (zeros, ones, randn and the *_like of zeros and ones are in
tensor.py).

Each takes ``dtype``, ``requires_grad`` (float dtypes only) and ``device`` as ad.zeros does.
Without a dtype, a float result is float32 (tinyad's default, as PyTorch's; NumPy would give
float64) and an integer one int64. Random tensors take a ``seed`` and give the same values on
every device (drawn by NumPy's generator on the host, then moved), as ``ad.randn``.
"""
import numpy as np

from . import backend
from .tensor import Tensor, _filled

DEFAULT_FLOAT = np.float32


def _placed(array, dtype, requires_grad, device):
    return Tensor(backend.asarray(array, backend.normalize_device(device),
                                  backend.check_dtype(dtype)), requires_grad=requires_grad)


def _number_dtype(*values):
    """bool, int64 or float32: what Python numbers make without a dtype."""
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return np.bool_
    if all(isinstance(v, (bool, int, np.integer)) for v in values):
        return np.int64
    return DEFAULT_FLOAT


def arange(start, stop=None, step=1, *, dtype=None, requires_grad=False, device="cpu"):
    """Evenly spaced values in [start, stop) (start 0 when one bound is given), as NumPy's
    arange: int64 for integer bounds and step, else float32."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    dtype = _number_dtype(start, stop, step) if dtype is None else dtype
    values = np.arange(start, stop, step)
    return _placed(values, np.int64 if dtype is np.bool_ else dtype, requires_grad, device)


def linspace(start, stop, num=50, *, endpoint=True, dtype=None, requires_grad=False,
             device="cpu"):
    """`num` evenly spaced values from start to stop (included unless endpoint=False);
    NumPy's and PyTorch's (whose third argument, steps, is num)."""
    if int(num) < 0:
        raise ValueError(f"linspace: num must be >= 0, got {num}")
    dtype = backend.check_dtype(DEFAULT_FLOAT if dtype is None else dtype)
    values = np.linspace(start, stop, int(num), endpoint=endpoint, dtype=dtype)
    return _placed(values, dtype, requires_grad, device)


def eye(n, m=None, k=0, *, dtype=DEFAULT_FLOAT, requires_grad=False, device="cpu"):
    """The (n, m) matrix with ones on diagonal k (m = n by default)."""
    return _placed(np.eye(n, m, k), dtype, requires_grad, device)


def full(shape, fill_value, *, dtype=None, requires_grad=False, device="cpu"):
    """A tensor of `shape` filled with `fill_value` (bool, int64 or float32 by its type)."""
    dtype = _number_dtype(fill_value) if dtype is None else dtype
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _filled("full", lambda xp, s, d: xp.full(s, fill_value, d), shape, dtype,
                   requires_grad, device)


def full_like(x, fill_value, *, dtype=None, requires_grad=False):
    """A tensor of x's shape and device, in x's dtype unless given, filled with `fill_value`."""
    return full(x.shape, fill_value, dtype=x.dtype if dtype is None else dtype,
                requires_grad=requires_grad, device=x.device)


def empty(*shape, dtype=DEFAULT_FLOAT, requires_grad=False, device="cpu"):
    """A tensor of `shape` whose values are whatever the memory held: write before reading."""
    return _filled("empty", lambda xp, s, d: xp.empty(s, d), shape, dtype, requires_grad, device)


def empty_like(x, *, dtype=None, requires_grad=False):
    return empty(*x.shape, dtype=x.dtype if dtype is None else dtype,
                 requires_grad=requires_grad, device=x.device)


def rand(*shape, seed=None, dtype=DEFAULT_FLOAT, requires_grad=False, device="cpu"):
    """Uniform samples in [0, 1), drawn in `dtype` itself (a float64 draw rounded to float32
    could give 1.0)."""
    if np.dtype(dtype) not in backend.FLOATS:
        raise ValueError(f"rand: draws float32 or float64, not {np.dtype(dtype)}")

    def draw(xp, s, d):
        return xp.asarray(np.random.default_rng(seed).random(s, dtype=d))
    return _filled("rand", draw, shape, dtype, requires_grad, device)


def randint(low, high=None, size=(), *, seed=None, dtype=np.int64, device="cpu"):
    """Uniform integers in [low, high) ([0, low) when high is None, as NumPy's); PyTorch's
    ``randint(high, size)`` form (a shape as the second argument) works too."""
    if isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: needs low < high, got [{low}, {high})")
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    values = np.random.default_rng(seed).integers(low, high, size, dtype=np.int64)
    return _placed(values, dtype, False, device)
