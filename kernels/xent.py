"""Softmax cross-entropy and its gradient, written once for whole arrays and once for one row.

For logits z (N, C) and integer labels y (N,), with m_r the row max (subtracted so that exp never
overflows) and lse_r = m_r + log sum_j exp(z[r, j] - m_r)::

    loss     = mean_r (lse_r - z[r, y_r])                 a 0-d array, dtype of z
    dlogits  = (softmax(z) - onehot(y)) / N               (N, C)

``softmax_xent`` computes it on NumPy or CuPy arrays (the reference, and the NumPy and CuPy
backends' fallback); ``row`` computes one row with loops, and is compiled by Numba for the CPU
(a ``prange`` over rows, cpu_softmax.py) and for CUDA (a thread per row, cuda.py), with the
target's ``exp``, ``log`` and ``row_sum`` swapped in (activations.compile_copies). The CuPy
RawKernel (cupy_kernels.py) is tested against these.
"""
import numpy as np

from .arrays import array_module

exp, log = np.exp, np.log


def row_sum(v):
    """sum(v) in float64, in order (the CPU swaps in a vectorized sum)."""
    s = 0.0
    for x in v:
        s += x
    return s


def row(z, label, g, inv_n):
    """Row r of the batch: z = logits[r] (C,), label = y_r, inv_n = 1/N; fills g (C,) with
    (softmax(z) - onehot(label)) / N and returns lse - z[label] (NaN anywhere: NaN row)."""
    m = z[0]
    for j in range(1, z.shape[0]):
        m = z[j] if z[j] > m else m
    for j in range(z.shape[0]):
        g[j] = exp(z[j] - m)                  # <= 0: never overflows
    s = row_sum(g)
    scale = inv_n / s
    e_label = g[label]
    for j in range(z.shape[0]):
        g[j] = g[j] * scale
    g[label] = e_label * scale - inv_n          # rounded once: 0 where softmax is 1
    return m + log(s) - z[label]


def softmax_xent(z, labels):
    """``(loss, dlogits)`` for NumPy or CuPy arrays, whole-array operations."""
    xp = array_module(z)
    n = z.shape[0]
    rows = xp.arange(n)
    shifted = z - z.max(axis=1, keepdims=True)
    e = xp.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    loss = xp.mean(xp.log(s[:, 0]) - shifted[rows, labels])
    g = e / s
    g[rows, labels] -= 1
    return xp.asarray(loss, dtype=z.dtype), g / z.dtype.type(n)
