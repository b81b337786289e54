"""``cupy.random`` on the fake: CuPy's Generator API and its legacy functions, drawing with a
NumPy generator straight into device arrays (nothing is copied from the host).

The streams differ from CuPy's (cuRAND's XORWOW): a seed gives the same numbers on every run of
the fake, not the numbers a GPU would give.
"""
import numpy as np

from ._array import ndarray


def _floats(dtype, what):
    dtype = np.dtype(dtype)
    if dtype.char not in "fd":
        raise TypeError(f"Unsupported dtype {dtype.name} for {what}")
    return dtype


def _into(out, values):
    if out is None:
        return ndarray._of(values)
    if not isinstance(out, ndarray) or out.dtype != values.dtype or out.shape != values.shape:
        raise ValueError(f"out must be a cupy.ndarray of dtype {values.dtype} and shape "
                         f"{values.shape}")
    out._a[...] = values
    return out


class Generator:
    """``cupy.random.Generator``: standard_normal, random, uniform, integers."""

    def __init__(self, seed=None):
        self._rng = np.random.default_rng(seed)

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        size = out.shape if out is not None else size
        dtype = _floats(dtype, "standard_normal")
        return _into(out, np.asarray(self._rng.standard_normal(size, dtype=dtype.type)))

    def random(self, size=None, dtype=np.float64, out=None):
        size = out.shape if out is not None else size
        dtype = _floats(dtype, "random")
        return _into(out, np.asarray(self._rng.random(size, dtype=dtype.type)))

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        return ndarray._of(np.asarray(self._rng.uniform(low, high, size)).astype(dtype))

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        return ndarray._of(np.asarray(self._rng.integers(low, high, size, dtype=dtype,
                                                         endpoint=endpoint)))


def default_rng(seed=None):
    return seed if isinstance(seed, Generator) else Generator(seed)


class RandomState:
    """The legacy API (``cupy.random.standard_normal``...)."""

    def __init__(self, seed=None):
        self.seed(seed)

    def seed(self, seed=None):
        self._rng = np.random.default_rng(seed)

    def standard_normal(self, size=None, dtype=float):
        return ndarray._of(np.asarray(self._rng.standard_normal(size)).astype(dtype))

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=float):
        return ndarray._of(np.asarray(self._rng.normal(loc, scale, size)).astype(dtype))

    def uniform(self, low=0.0, high=1.0, size=None, dtype=float):
        return ndarray._of(np.asarray(self._rng.uniform(low, high, size)).astype(dtype))

    def random_sample(self, size=None, dtype=float):
        return ndarray._of(np.asarray(self._rng.random(size)).astype(dtype))

    def randint(self, low, high=None, size=None, dtype=int):
        return ndarray._of(np.asarray(self._rng.integers(low, high, size)).astype(dtype))

    def permutation(self, num):
        return ndarray._of(self._rng.permutation(num))

    def rand(self, *size, dtype=float):
        return self.random_sample(size, dtype)

    def randn(self, *size, dtype=float):
        return self.standard_normal(size, dtype)


_state = RandomState()
seed = _state.seed
(standard_normal, normal, uniform, random_sample, randint, permutation, rand, randn) = (
    _state.standard_normal, _state.normal, _state.uniform, _state.random_sample, _state.randint,
    _state.permutation, _state.rand, _state.randn)
random = random_sample


def get_random_state():
    return _state
