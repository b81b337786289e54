"""Drawing tangents fast: one random call for all parameters, split into views.

Both distributions have E[v] = 0 and E[v vᵀ] = I, which is all the forward gradient needs to be
unbiased. Rademacher (±1) has the smaller variance: its fourth moment is 1 against the normal's 3.

The default generator is fast_tangents.py's (Numba). Without Numba, NumPy's: normal by its
ziggurat drawn directly in float32 (no float64 array and cast); Rademacher from random bytes, 8
signs per byte (unpack the bits, map {0, 1} -> {-1, +1}).
"""
import numpy as np

from ..backend import xp_of


def draw(shapes, distribution, rng, like, draw_flat=None):
    """One tangent per shape, float dtype and device of array `like`: one flat draw (by
    `draw_flat`, default the fastest available), split into views."""
    sizes = [int(np.prod(s)) for s in shapes]
    flat = (draw_flat or fastest())(sum(sizes), distribution, rng, like.dtype)
    flat = xp_of(like).asarray(flat)
    out, start = [], 0
    for shape, n in zip(shapes, sizes):
        out.append(flat[start:start + n].reshape(shape))
        start += n
    return out


def fastest():
    """The Numba generator (fast_tangents.py) when Numba imports, else NumPy's."""
    from . import fast_tangents
    return fast_tangents.draw_flat if fast_tangents.available() else draw_flat_numpy


def draw_flat_numpy(n, distribution, rng, dtype=np.float32):
    if distribution == "normal":
        return rng.standard_normal(n, dtype=np.dtype(dtype).type)
    if distribution == "rademacher":
        bits = np.unpackbits(rng.integers(0, 256, (n + 7) // 8, dtype=np.uint8))[:n]
        return (bits.astype(dtype) * 2 - 1)
    raise ValueError(f"unknown tangent distribution {distribution!r}: use 'normal' or "
                     "'rademacher'")


def draw_flat_naive(n, distribution, rng, dtype=np.float32):
    """The obvious way, kept as the benchmark baseline: float64 draws, then a cast."""
    if distribution == "normal":
        return rng.normal(size=n).astype(dtype)
    return rng.choice(np.array([-1.0, 1.0]), size=n).astype(dtype)
