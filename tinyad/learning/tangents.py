"""Drawing tangents fast: one random call for all parameters, split into views.

Both distributions have E[v] = 0 and E[v vᵀ] = I, which is all the forward gradient needs to be
unbiased. Rademacher (±1) has the smaller variance: its fourth moment is 1 against the normal's 3.

Tangents are drawn where the parameters live. On the CPU the default generator is
fast_tangents.py's (Numba); without Numba, NumPy's: normal by its ziggurat drawn directly in
float32 (no float64 array and cast); Rademacher from random bytes, 8 signs per byte (unpack the
bits, map {0, 1} -> {-1, +1}). On the GPU, CuPy's generator draws them there: nothing is drawn on
the host and copied over (for a 784-1024-1024-10 MLP that copy alone would be 7.5 MB a step).
"""
import numpy as np

from .. import backend

DISTRIBUTIONS = ("normal", "rademacher")


def draw(shapes, distribution, rng, like, draw_flat=None):
    """One tangent per shape, in the float dtype and on the device of array `like`: one flat
    draw, split into views. On the CPU `rng` is a NumPy generator and `draw_flat` (default the
    fastest available) draws; on the GPU `rng` is a CuPy generator (``device_generator``; a NumPy
    one seeds a new CuPy generator on every call, correct but slow: keep one)."""
    sizes = [int(np.prod(s)) for s in shapes]
    if backend.device_of(like) == "cuda":
        flat = draw_flat_device(sum(sizes), distribution, rng, like.dtype)
    else:
        flat = (draw_flat or fastest())(sum(sizes), distribution, rng, like.dtype)
    out, start = [], 0
    for shape, n in zip(shapes, sizes):
        out.append(flat[start:start + n].reshape(shape))
        start += n
    return out


def device_generator(rng):
    """A CuPy generator seeded by one draw from NumPy generator `rng`: a seeded rule draws the
    same device tangents on every run (though not the numbers it would draw on the CPU)."""
    return backend.cupy().random.default_rng(int(rng.integers(2**63)))


def draw_flat_device(n, distribution, rng, dtype=np.float32):
    """`n` draws on the GPU by CuPy generator `rng`, in `dtype`."""
    if isinstance(rng, np.random.Generator):
        rng = device_generator(rng)
    if distribution == "normal":
        return rng.standard_normal(n, dtype=dtype)
    check_distribution(distribution)
    signs = (rng.random(n, dtype=dtype) < 0.5).astype(dtype)      # uniform [0, 1): a fair coin
    signs *= 2
    signs -= 1
    return signs


def check_distribution(distribution):
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"unknown tangent distribution {distribution!r}: use 'normal' or "
                         "'rademacher'")


def fastest():
    """The Numba generator (fast_tangents.py) when Numba imports, else NumPy's."""
    from . import fast_tangents
    return fast_tangents.draw_flat if fast_tangents.available() else draw_flat_numpy


def draw_flat_numpy(n, distribution, rng, dtype=np.float32):
    if distribution == "normal":
        return rng.standard_normal(n, dtype=np.dtype(dtype).type)
    check_distribution(distribution)
    bits = np.unpackbits(rng.integers(0, 256, (n + 7) // 8, dtype=np.uint8))[:n]
    return (bits.astype(dtype) * 2 - 1)


def draw_flat_naive(n, distribution, rng, dtype=np.float32):
    """The obvious way, kept as the benchmark baseline: float64 draws, then a cast."""
    if distribution == "normal":
        return rng.normal(size=n).astype(dtype)
    return rng.choice(np.array([-1.0, 1.0]), size=n).astype(dtype)
