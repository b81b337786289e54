"""A strict stand-in for CuPy 14, on NumPy, for tinyad's tests on machines without a GPU.

Put the folder above this package first on ``sys.path`` (tests/conftest.py does it unless
TINYAD_TEST_CUPY=real; bench/gpu_check.sh does it with FAKE_CUPY=tests/fake_cupy) and
``import cupy`` gives this module: ``device="cuda"`` then means arrays of this package's
``ndarray``, whose values live in NumPy arrays but which obey CuPy's rules (see _array.py):
no implicit conversion to NumPy, no host data in device arithmetic, values read back (a sync)
and host data copied in (h2d) counted in ``cupy.fake`` (see fake.py).

Only what tinyad and its tests touch is here, each with CuPy's signature; a NumPy function
missing from this module is missing on purpose (``np.f(device_array)`` then raises TypeError,
as CuPy does for what it does not implement). CUDA kernels (ElementwiseKernel, RawModule) run
registered NumPy stand-ins (_kernels.py); ``cupy.cuda`` reports one device.
"""
import types

import numpy as np
from numpy import (bool_, can_cast, complex64, complex128, dtype, e, finfo, float16,  # noqa: F401
                   float32, float64, iinfo, inf, int8, int16, int32, int64, isscalar, nan, newaxis,
                   pi, promote_types, uint8, uint16, uint32, uint64)

from . import cuda, fake, random  # noqa: F401
from ._array import ndarray, operand, ufunc_call, wrap
from ._kernels import ElementwiseKernel, RawKernel, RawModule  # noqa: F401

__version__ = "14.0.0+fake"


class ufunc:
    """A device ufunc: NumPy's, with device operands only (and scalars)."""

    def __init__(self, uf):
        self._uf, self.__name__, self.nin, self.nout = uf, uf.__name__, uf.nin, uf.nout

    def __call__(self, *args, **kwargs):
        return ufunc_call(self._uf, "__call__", args, kwargs)

    def __getattr__(self, method):            # at, reduce, outer, accumulate, reduceat
        if method not in ("at", "reduce", "outer", "accumulate", "reduceat"):
            raise AttributeError(method)
        return lambda *args, **kwargs: ufunc_call(self._uf, method, args, kwargs)

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"


for _name in dir(np):
    if isinstance(getattr(np, _name), np.ufunc):
        globals()[_name] = ufunc(getattr(np, _name))


def _device(x):
    """Arguments of a device function: device arrays unwrapped (in lists and tuples too); host
    arrays refused."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        raise TypeError(f"Unsupported type {type(x)}")
    if isinstance(x, (list, tuple)):
        return type(x)(_device(v) for v in x)
    return x


def _function(np_func, syncs=False):
    """`np_func` on device arrays; ``syncs``: its result's size depends on the values, which the
    host must read back first (nonzero, unique...)."""
    def function(*args, **kwargs):
        if syncs:
            fake.record("sync")
        out = kwargs.get("out")
        r = np_func(*_device(args), **{k: _device(v) for k, v in kwargs.items()})
        return out if isinstance(out, ndarray) else wrap(r)
    function.__name__ = np_func.__name__
    return function


for _name in ("amax amin all any argmax argmin argsort around atleast_1d atleast_2d atleast_3d "
              "broadcast_arrays broadcast_to clip concatenate count_nonzero cumprod cumsum diag "
              "diagonal diff dot einsum expand_dims flip hstack inner isclose kron max mean min "
              "moveaxis nan_to_num outer pad prod ravel repeat reshape result_type roll round "
              "searchsorted sort split squeeze stack std sum swapaxes take take_along_axis "
              "tensordot tile trace transpose tril triu var vstack zeros_like ones_like "
              "empty_like full_like copy ascontiguousarray asfortranarray").split():
    globals()[_name] = _function(getattr(np, _name))
for _name in ("argwhere", "flatnonzero", "nonzero", "unique"):
    globals()[_name] = _function(getattr(np, _name), syncs=True)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """A 0-d boolean device array, as CuPy 14 returns (reading it as a bool is a sync)."""
    return all(isclose(a, b, rtol, atol, equal_nan))  # noqa: F821  (defined in the loop above)


def where(condition, x=None, y=None):
    """``x`` where `condition` else ``y`` (operands as a ufunc's); alone, ``nonzero``."""
    if x is None and y is None:
        return nonzero(condition)  # noqa: F821  (defined in the loop above)
    return ufunc_call(np.where, "__call__", (condition, x, y), {})


# ---- creation on the device (a kernel fills them: no copy) ---------------------------------
def zeros(shape, dtype=float, order="C"):
    return ndarray._of(np.zeros(shape, dtype, order))


def ones(shape, dtype=float, order="C"):
    return ndarray._of(np.ones(shape, dtype, order))


def empty(shape, dtype=float, order="C"):
    return ndarray._of(np.empty(shape, dtype, order))


def full(shape, fill_value, dtype=None, order="C"):
    return ndarray._of(np.full(shape, operand(fill_value), dtype, order))


arange = _function(np.arange)
eye = _function(np.eye)
identity = _function(np.identity)
linspace = _function(np.linspace)


# ---- between host and device ------------------------------------------------------------------
def _to_device(obj, dtype, order, ndmin=0):
    host = np.array(obj, dtype=dtype, order=order, ndmin=ndmin)   # device arrays inside: refused
    if host.dtype.kind not in "biufc":
        raise ValueError(f"Unsupported dtype {host.dtype}")
    fake.record("h2d", host.nbytes)
    return ndarray._of(host)


def asarray(a, dtype=None, order=None, copy=None, blocking=False):
    """A device array: `a` itself if it is one (cast on the device if `dtype` differs),
    else `a`'s values copied from the host (h2d)."""
    if isinstance(a, ndarray):
        r = a._a.astype(dtype, copy=bool(copy)) if dtype is not None else \
            (a._a.copy() if copy else a._a)
        return a if r is a._a else ndarray._of(r)
    return _to_device(a, dtype, order or "K")


asanyarray = asarray


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, blocking=False):
    if isinstance(obj, ndarray):
        r = np.array(obj._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin)
        return obj if r is obj._a else ndarray._of(r)
    return _to_device(obj, dtype, order, ndmin)


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if isinstance(a, ndarray):
        return a.get(stream, order, out, blocking)
    return np.asarray(a, order=order)


def copyto(dst, src, casting="same_kind", where=None):
    src = operand(src) if not (isinstance(src, np.ndarray) and src.ndim == 0) else src
    np.copyto(dst._a, src, casting=casting, where=True if where is None else operand(where))


def get_array_module(*args):
    import cupy
    return cupy if any(isinstance(a, ndarray) for a in args) else np


# ---- namespaces ---------------------------------------------------------------------------
lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(
    as_strided=_function(np.lib.stride_tricks.as_strided)))
linalg = types.SimpleNamespace(**{n: _function(getattr(np.linalg, n))
                                  for n in ("norm", "inv", "solve", "det", "svd", "qr",
                                            "cholesky", "eigh")})


class MemoryPool:
    """The allocator's bookkeeping: the fake keeps none (NumPy owns the memory)."""

    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_all_blocks(self):
        pass


_pool, _pinned = MemoryPool(), MemoryPool()


def get_default_memory_pool():
    return _pool


def get_default_pinned_memory_pool():
    return _pinned


def is_available():
    return True
