"""Numba CUDA kernels: a shared-memory tiled matmul and the fused activations.

Tiled matmul, ``C = A @ B`` (float32). Each TILE x TILE thread block owns one TILE x TILE tile of
C, one element per thread. It walks k in steps of TILE: every thread loads one element of A's
tile and one of B's into shared memory (neighbouring threads read neighbouring addresses, so the
loads coalesce; outside the matrix they load 0, so edge tiles need no special case), the block
waits (``syncthreads``, reached by every thread: never inside a branch), each thread accumulates
TILE products from shared memory, and the block waits again before the tiles are overwritten.
Each element of A and B is read from global memory M/TILE or N/TILE times instead of M or N
times, and each element of C is written once.

Activations: a grid-stride loop over the flattened array computes ``(f(x), f'(x))`` or
``(f(x), f'(x) t)`` per element with CUDA's math library (formulas in ``reference.py``).

Launch helpers take device arrays and return the same kind: CuPy arrays (viewed without a copy
through ``__cuda_array_interface__``, launched on CuPy's current stream so the work stays ordered
with CuPy's) or Numba device arrays (default stream). Contiguous inputs are never copied.
"""
import math

import numpy as np
from numba import cuda, float32

from .reference import ACTIVATIONS, GELU_A, GELU_K

TILE = 16
THREADS = 256                    # per block for the elementwise kernels
KINDS = tuple(ACTIVATIONS)       # a kernel's `kind` is the index here


@cuda.jit
def matmul_kernel(a, b, c):
    sa = cuda.shared.array((TILE, TILE), float32)
    sb = cuda.shared.array((TILE, TILE), float32)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    row = cuda.blockIdx.y * TILE + ty
    col = cuda.blockIdx.x * TILE + tx
    m, k, n = a.shape[0], a.shape[1], b.shape[1]
    acc = float32(0)
    for k0 in range(0, k, TILE):
        sa[ty, tx] = a[row, k0 + tx] if row < m and k0 + tx < k else float32(0)
        sb[ty, tx] = b[k0 + ty, col] if k0 + ty < k and col < n else float32(0)
        cuda.syncthreads()
        for kk in range(TILE):
            acc += sa[ty, kk] * sb[kk, tx]
        cuda.syncthreads()
    if row < m and col < n:
        c[row, col] = acc


@cuda.jit(device=True, inline="always")
def rule(kind, x):
    """``(f(x), f'(x))`` for activation ``KINDS[kind]``, in x's precision."""
    T = type(x)
    if kind == 0:
        return (T(0) if x <= 0 else x), (T(1) if x > 0 else T(0))
    if kind == 1:
        y = math.tanh(x)
        return y, T(1) - y * y
    if kind == 2:
        y = T(0.5) * math.tanh(T(0.5) * x) + T(0.5)
        return y, y * (T(1) - y)
    k, a, x2 = T(GELU_K), T(GELU_A), x * x
    th = math.tanh(k * (x + a * x * x2))
    return (T(0.5) * x * (T(1) + th),
            T(0.5) * (T(1) + th) + T(0.5) * x * (T(1) - th * th) * k * (T(1) + T(3) * a * x2))


@cuda.jit
def forward_kernel(kind, x, y, d):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        y[i], d[i] = rule(kind, x[i])


@cuda.jit
def jvp_kernel(kind, x, t, y, ty):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        v, d = rule(kind, x[i])
        y[i] = v
        ty[i] = d * t[i]


def _is_cupy(a):
    return type(a).__module__.startswith("cupy")


def _device(a):
    """A Numba view of device array `a`: CuPy's through ``__cuda_array_interface__``, no copy.

    ``sync=False``: no host wait on the stream CuPy exports, since we launch on that stream.
    """
    if isinstance(a, np.ndarray):
        raise TypeError("pass a device array (CuPy or numba.cuda), not a NumPy array")
    return cuda.as_cuda_array(a, sync=False) if _is_cupy(a) else a


def _empty(a, shape=None):
    """An uninitialized device array of a's kind and dtype."""
    shape = a.shape if shape is None else shape
    if _is_cupy(a):
        import cupy
        return cupy.empty(shape, a.dtype)
    return cuda.device_array(shape, a.dtype)


def _stream(a):
    if _is_cupy(a):
        import cupy
        return cuda.external_stream(cupy.cuda.get_current_stream().ptr)
    return cuda.default_stream()


def _blocks(n):
    return max(1, min(math.ceil(n / THREADS), 1024))    # the grid-stride loop covers the rest


def act_forward(name, x):
    """``(f(x), f'(x))`` for a device array x (any shape, float32 or float64)."""
    xv = _device(x.ravel())
    y, d = _empty(x), _empty(x)
    forward_kernel[_blocks(x.size), THREADS, _stream(x)](
        KINDS.index(name), xv, _device(y.ravel()), _device(d.ravel()))
    return y, d


def act_jvp(name, x, t):
    """``(f(x), f'(x) t)`` for device arrays x and t of one shape and dtype."""
    xv, tv = _device(x.ravel()), _device(t.ravel())
    y, ty = _empty(x), _empty(x)
    jvp_kernel[_blocks(x.size), THREADS, _stream(x)](
        KINDS.index(name), xv, tv, _device(y.ravel()), _device(ty.ravel()))
    return y, ty


def matmul(a, b):
    """``a @ b`` for float32 device matrices a (M, K) and b (K, N)."""
    if a.dtype != np.float32 or b.dtype != np.float32 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul needs float32 (M, K) @ (K, N); got {a.dtype} {a.shape} and "
                         f"{b.dtype} {b.shape}")
    av, bv = _device(a), _device(b)
    c = _empty(a, (a.shape[0], b.shape[1]))
    grid = (math.ceil(b.shape[1] / TILE), math.ceil(a.shape[0] / TILE))
    matmul_kernel[grid, (TILE, TILE), _stream(a)](av, bv, _device(c))
    return c
