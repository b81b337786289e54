"""Softmax cross-entropy and its gradient in one Numba kernel, rows in parallel.

For logits z (N, C) and integer labels (N,), each row r takes three passes over its C values,
all in cache after the first::

    m = max_j z[r, j]                      subtracted so that exp never overflows
    g[r, j] = exp(z[r, j] - m),  s = sum_j g[r, j]
    loss[r] = m + log(s) - z[r, label]     = -log softmax(z[r])[label]
    g[r, j] = g[r, j] / (s N) - [j == label] / N

and returns ``(mean(loss), g)``: the loss a 0-d array, both in the dtype of z (the loss sums
are kept in float64). Same signature as ``reference.softmax_xent``.

Two pieces keep LLVM vectorizing. Numba's ``np.exp`` is a scalar libm call, so ``exp_nonpositive``
computes exp from +, *, / and a table lookup. And the row sum lives in its own function compiled
with ``fastmath={'reassoc'}``: reassociation lets the sum split across SIMD lanes, but must not
reach the exp, whose range reduction depends on the order of its subtractions.
"""
import numba
import numpy as np
from numba import prange

from .jit import inline, kernel, launch

LOG2E = 1.4426950408889634
LN2_HI = 0.693359375                          # ln 2 = LN2_HI + LN2_LO; LN2_HI has 9 bits, so
LN2_LO = -2.12194440054690582768e-4           # n * LN2_HI is exact for |n| < 2^15 in float32
POW2 = 2.0 ** np.arange(-1100, 1)             # 2^k for k = -1100..0 (below 2^-1074: 0)


@inline
def exp_nonpositive(u):
    """``exp(u)`` for u <= 0 (u > 0 is taken as 0), within 1.5 ulp in float32 and float64.

    Write u = n ln2 + r with n = round(u / ln2), so |r| <= ln2 / 2 and exp(u) = 2^n e^r. Cephes'
    Pade form gives e^r = 1 + 2 p / (q - p), p = r P(r^2), q = Q(r^2), and 2^n comes from a
    table. NaN returns NaN before its (meaningless) table index is used.
    """
    T = type(u)
    x = T(-745) if u < -745 else (T(0) if u > 0 else u)       # exp(-745) is float64's last
    n = np.floor(x * T(LOG2E) + T(0.5))
    r = (x - n * T(LN2_HI)) - n * T(LN2_LO)
    r2 = r * r
    p = r * ((T(1.26177193074810590878e-4) * r2 + T(3.02994407707441961300e-2)) * r2 + T(1))
    q = ((T(3.00198505138664455042e-6) * r2 + T(2.52448340349684104192e-3)) * r2
         + T(2.27265548208155028766e-1)) * r2 + T(2)
    return (T(1) + T(2) * p / (q - p)) * T(POW2[int(n) + 1100]) if n == n else x


@numba.njit(fastmath={"reassoc"})
def row_sum(row):
    """``sum(row)`` in float64, reassociated into SIMD lanes (called, not inlined, to keep the
    fast-math flag on these adds alone)."""
    s = 0.0
    for v in row:
        s += v
    return s


@kernel
def softmax_xent_kernel(z, labels):
    n, c = z.shape
    inv_n = 1.0 / n
    loss = np.empty(n)
    g = np.empty_like(z)
    for r in prange(n):
        m = z[r, 0]
        for j in range(1, c):
            m = z[r, j] if z[r, j] > m else m
        for j in range(c):
            g[r, j] = exp_nonpositive(z[r, j] - m)
        s = row_sum(g[r])
        loss[r] = m + np.log(s) - z[r, labels[r]]
        scale = inv_n / s
        for j in range(c):
            g[r, j] *= scale
        g[r, labels[r]] -= inv_n
    return loss.sum() * inv_n, g


def softmax_xent(logits, labels):
    if logits.dtype not in (np.float32, np.float64):
        raise TypeError(f"Numba kernels take float32 or float64, not {logits.dtype}")
    loss, g = launch(softmax_xent_kernel, logits.size, np.ascontiguousarray(logits),
                     np.ascontiguousarray(labels, dtype=np.int64))
    return np.asarray(loss, dtype=logits.dtype), g
