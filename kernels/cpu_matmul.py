"""A register-tiled matmul in Numba: how BLAS gets fast, in thirty lines (BLAS stays the default).

``C = A @ B`` with A (M, K), B (K, N). The naive i-k-j loop does one load and one store of C for
every multiply-add, so it is bound by memory operations, not arithmetic. Here each step computes a
4 x 4 tile of C held in sixteen scalar accumulators (registers), dotting four rows of A with four
rows of B^T (B transposed once so both walks over k are contiguous)::

    C[i:i+4, j:j+4] = sum_k  A[i:i+4, k] (outer) B^T[j:j+4, k]      8 loads per 16 multiply-adds

``fastmath={'reassoc', 'contract'}`` lets LLVM split each sum over k into SIMD lanes and fuse
multiply-adds; it leaves NaN and inf handling intact (no ``nnan``/``ninf``). M and N are
zero-padded to multiples of 4 so every tile is full; the padding is sliced off at the end.
Row tiles run in parallel (``prange``). Measured GFLOP/s against NumPy's BLAS:
``bench/results/kernels_cpu.md``.
"""
import numpy as np
from numba import prange

from .jit import inline, kernel

FASTMATH = {"reassoc", "contract"}


@inline(fastmath=FASTMATH)
def tile(a, bt, c, i, j):
    """``c[i:i+4, j:j+4] = a[i:i+4] @ bt[j:j+4].T`` with the tile in registers."""
    c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = a.dtype.type(0)
    c20 = c21 = c22 = c23 = c30 = c31 = c32 = c33 = a.dtype.type(0)
    for k in range(a.shape[1]):
        a0, a1, a2, a3 = a[i, k], a[i + 1, k], a[i + 2, k], a[i + 3, k]
        b0, b1, b2, b3 = bt[j, k], bt[j + 1, k], bt[j + 2, k], bt[j + 3, k]
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3     # noqa: E702
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3     # noqa: E702
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3     # noqa: E702
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3     # noqa: E702
    c[i, j], c[i, j + 1], c[i, j + 2], c[i, j + 3] = c00, c01, c02, c03
    c[i + 1, j], c[i + 1, j + 1], c[i + 1, j + 2], c[i + 1, j + 3] = c10, c11, c12, c13
    c[i + 2, j], c[i + 2, j + 1], c[i + 2, j + 2], c[i + 2, j + 3] = c20, c21, c22, c23
    c[i + 3, j], c[i + 3, j + 1], c[i + 3, j + 2], c[i + 3, j + 3] = c30, c31, c32, c33


@kernel(fastmath=FASTMATH)
def matmul_kernel(a, b):
    m, n = a.shape[0], b.shape[1]
    m4, n4 = (m + 3) // 4 * 4, (n + 3) // 4 * 4
    ap = np.zeros((m4, a.shape[1]), a.dtype)
    ap[:m] = a
    bt = np.zeros((n4, a.shape[1]), a.dtype)
    bt[:n] = b.T
    c = np.empty((m4, n4), a.dtype)
    for i4 in prange(m4 // 4):
        for j4 in range(n4 // 4):
            tile(ap, bt, c, 4 * i4, 4 * j4)
    return c[:m, :n].copy()


def matmul(a, b):
    """``a @ b`` for 2-D float32 or float64 arrays of one dtype (same signature as reference)."""
    return matmul_kernel(np.ascontiguousarray(a), np.ascontiguousarray(b))
