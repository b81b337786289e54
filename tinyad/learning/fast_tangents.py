"""Tangents from a counter-based, vectorised generator: a normal tangent for the 1.86M weights of
a 784-1024-1024-10 MLP in about a millisecond on one thread.

A forward-gradient step draws one number per parameter; with NumPy's float32 normal (about 11 ns
a number) drawing costs more than the dual-number pass itself. This module draws the same
distributions through the ``draw_flat`` interface of tangents.py (whose ``draw`` uses it by
default) from the Numba kernels of ``tinyad.kernels.cpu_random``: Philox4x32-10 keys one
xoshiro128++ generator per SIMD lane and chunk of 4096 numbers, and a branch-free float32
Box-Muller turns word pairs into normals (the kernels' docstring has the formulas);
``rademacher`` turns each word into 32 signs.

Reproducible: the key (three 32-bit words) comes from the caller's NumPy ``Generator``, and each
number is a function of the key and its index alone, so a seeded generator gives the same
tangents on every run and with any number of threads.

Threads: ``draw_flat(..., threads=k)``, or ``set_threads(k)`` for every later draw, shares the
chunks among up to k Python threads running the kernel without the GIL (at least MIN_CHUNKS
chunks each; the default is one thread: the library never takes cores nobody asked for). Numba
is a dependency of tinyad, but it is imported only when a tangent is first drawn; ``available()``
says whether it can be.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

DISTRIBUTIONS = ("normal", "rademacher")
MIN_CHUNKS = 64          # chunks (of 4096 numbers) per thread: below that, waking one costs more
_state = {"threads": 1, "pool": None, "pool_size": 0}


def available():
    """True when Numba imports (the kernels compile, or load from the cache, on first use)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def set_threads(n):
    """Threads for every later draw that does not name its own (1: the calling thread only)."""
    if int(n) < 1:
        raise ValueError(f"set_threads: need at least one thread, got {n}")
    _state["threads"] = int(n)


def draw_flat(n, distribution, rng, dtype=np.float32, out=None, threads=None):
    """`n` draws (E[v] = 0, E[v vᵀ] = I) into a new 1-D array of `dtype`, or into `out` (a
    contiguous 1-D float array of size n). Normal values carry float32 resolution in any dtype.
    A new array of 1 MB or more takes its memory from ``tinyad.kernels.buffers``: once the last
    tangent of a step is dropped, the next step's draw reuses it instead of faulting in fresh
    pages (7.5 MB a step for the 784-1024-1024-10 MLP)."""
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"unknown tangent distribution {distribution!r}: use 'normal' or "
                         "'rademacher'")
    n = int(n)
    if out is None:
        from ..kernels import buffers                    # memory kept from draw to draw
        out = buffers.empty(n, dtype)
    elif out.ndim != 1 or out.size != n or not out.flags.c_contiguous or out.dtype.kind != "f":
        raise ValueError(f"draw_flat: out must be a contiguous 1-D float array of size {n}, got "
                         f"shape {out.shape}, dtype {out.dtype}")
    key = [np.uint64(k) for k in rng.integers(0, 2 ** 32, size=3, dtype=np.uint64)]
    from ..kernels import cpu_random as kernel
    kind = kernel.NORMAL if distribution == "normal" else kernel.RADEMACHER
    threads = _state["threads"] if threads is None else int(threads)
    chunks = -(-n // kernel.CHUNK)
    threads = max(1, min(threads, chunks // MIN_CHUNKS))
    if threads == 1:
        kernel.fill(out, kind, 0, *key)
        return out
    bounds = [kernel.CHUNK * (chunks * i // threads) for i in range(threads)] + [n]
    jobs = [_pool(threads).submit(kernel.fill, out[a:b], kind, a // kernel.CHUNK, *key)
            for a, b in zip(bounds, bounds[1:])]
    for job in jobs:
        job.result()
    return out


def _pool(threads):
    """A thread pool of at least `threads` workers, made on first need and kept."""
    if _state["pool_size"] < threads:
        if _state["pool"] is not None:
            _state["pool"].shutdown()
        _state["pool"] = ThreadPoolExecutor(threads, thread_name_prefix="tinyad-tangents")
        _state["pool_size"] = threads
    return _state["pool"]
