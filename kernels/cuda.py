"""Numba CUDA kernels compiled from the definitions, on CuPy (or numba.cuda) memory.

Activations: activations.py's rules, compiled as device functions with CUDA's ``math.exp`` and
``math.tanh``; a grid-stride loop over the flattened array computes ``(f(x), f'(x))``,
``(f(x), f'(x) t)`` or ``(f(x + b), f'(x + b))`` per element. Softmax cross-entropy: xent.row,
one thread per row (classifier rows are short; the CuPy backend's RawKernel spreads a row over
a block instead).

Tiled matmul, ``C = A @ B``. Each TILE x TILE thread block owns one TILE x TILE tile of C, one
element per thread. It walks k in steps of TILE: every thread loads one element of A's tile and
one of B's into shared memory (neighbouring threads read neighbouring addresses, so the loads
coalesce; outside the matrix they load 0, so edge tiles need no special case), the block waits
(``syncthreads``, reached by every thread: never inside a branch), each thread accumulates TILE
products from shared memory, and the block waits again before the tiles are overwritten. Each
element of A and B is read from global memory M/TILE or N/TILE times instead of M or N times.

Entry points take device arrays and return the same kind: CuPy arrays (viewed without a copy
through ``__cuda_array_interface__``, launched on CuPy's current stream so the work stays ordered
with CuPy's) or Numba device arrays (default stream). Same signatures as reference.py.
"""
import importlib
import math

import numpy as np


def _lend_numpy_row_stack():
    """numba-cuda 0.30.4, its last release (in maintenance), registers an overload for
    ``np.row_stack``, which NumPy 2.5 removed, so its first compile raises AttributeError. Lend
    NumPy the alias (it was ``vstack``) while numba-cuda's array module registers it, then take
    it back; with an older NumPy nothing changes."""
    if hasattr(np, "row_stack"):
        return
    np.row_stack = np.vstack
    try:
        importlib.import_module("numba.cuda.np.arrayobj")
    except ImportError:                        # the simulator has no such module
        pass
    finally:
        del np.row_stack


_lend_numpy_row_stack()

from numba import cuda, float32, float64  # noqa: E402  (after the loan above)

from . import xent  # noqa: E402
from .activations import by_kind, compile_copies, compile_rules, index_of  # noqa: E402
from .arrays import is_cupy  # noqa: E402

TILE = 16
THREADS = 256                    # per block for the elementwise kernels
device = cuda.jit(device=True, inline="always")


RULES = compile_rules(device, exp=math.exp, tanh=math.tanh)
rule = by_kind(device, list(RULES.values()))       # rule(kind, x): ACTIVATIONS[kind]
row = compile_copies(device, {"row_sum": xent.row_sum, "row": xent.row}, vars(xent),
                     {"exp": math.exp, "log": math.log})["row"]


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


@cuda.jit
def bias_kernel(kind, x, b, y, d):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        y[i], d[i] = rule(kind, x[i] + b[i % b.size])


@cuda.jit
def softmax_xent_kernel(z, labels, g, loss, inv_n):
    for r in range(cuda.grid(1), z.shape[0], cuda.gridsize(1)):
        loss[r] = row(z[r], labels[r], g[r], inv_n)


def tiled_matmul(dtype):
    """The tiled matmul kernel for one element type (shared memory is typed when compiled)."""
    @cuda.jit
    def matmul_kernel(a, b, c):
        sa = cuda.shared.array((TILE, TILE), dtype)
        sb = cuda.shared.array((TILE, TILE), dtype)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        row = cuda.blockIdx.y * TILE + ty
        col = cuda.blockIdx.x * TILE + tx
        m, k, n = a.shape[0], a.shape[1], b.shape[1]
        acc = dtype(0)
        for k0 in range(0, k, TILE):
            sa[ty, tx] = a[row, k0 + tx] if row < m and k0 + tx < k else dtype(0)
            sb[ty, tx] = b[k0 + ty, col] if k0 + ty < k and col < n else dtype(0)
            cuda.syncthreads()
            for kk in range(TILE):
                acc += sa[ty, kk] * sb[kk, tx]
            cuda.syncthreads()
        if row < m and col < n:
            c[row, col] = acc
    return matmul_kernel


MATMUL = {np.dtype(np.float32): tiled_matmul(float32), np.dtype(np.float64): tiled_matmul(float64)}


def _view(a):
    """A Numba view of device array `a`: CuPy's through ``__cuda_array_interface__``, no copy.

    ``sync=False``: no host wait on the stream CuPy exports, since we launch on that stream.
    """
    if isinstance(a, np.ndarray):
        raise TypeError("pass a device array (CuPy or numba.cuda), not a NumPy array")
    return cuda.as_cuda_array(a, sync=False) if is_cupy(a) else a


def _flat(a):
    """`a` as a flat view of C-ordered memory (a CuPy copy only when `a` is strided)."""
    if is_cupy(a):
        import cupy
        return _view(cupy.ascontiguousarray(a).reshape(-1))
    return _view(a).ravel()


def _empty(a, shape=None, dtype=None):
    """An uninitialized device array of a's kind."""
    shape, dtype = a.shape if shape is None else shape, a.dtype if dtype is None else dtype
    if is_cupy(a):
        import cupy
        return cupy.empty(shape, dtype)
    return cuda.device_array(shape, dtype)


def _stream(a):
    if is_cupy(a):
        import cupy
        return cuda.external_stream(cupy.cuda.get_current_stream().ptr)
    return cuda.default_stream()


def _blocks(n):
    return max(1, min(math.ceil(n / THREADS), 1024))    # the grid-stride loop covers the rest


def _elementwise(kernel, name, x, *inputs):
    out = _empty(x), _empty(x)
    if x.size:
        kernel[_blocks(x.size), THREADS, _stream(x)](
            index_of(name), _flat(x), *map(_flat, inputs), *map(_flat, out))
    return out


def act_forward(name, x):
    """``(f(x), f'(x))`` for a device array x (any shape, float32 or float64)."""
    return _elementwise(forward_kernel, name, x)


def act_jvp(name, x, t):
    """``(f(x), f'(x) t)`` for device arrays x and t of one shape and dtype."""
    return _elementwise(jvp_kernel, name, x, t)


def bias_act(name, x, b):
    """``(f(x + b), f'(x + b))`` for x (..., F) and b (F,) on the device."""
    return _elementwise(bias_kernel, name, x, b)


def softmax_xent(logits, labels):
    """Mean loss and (softmax - onehot) / N for logits (N, C) and integer labels (N,)."""
    n = logits.shape[0]
    g, loss = _empty(logits), _empty(logits, (n,), np.float64)
    softmax_xent_kernel[_blocks(n), THREADS, _stream(logits)](
        _view(logits), _view(labels), _view(g), _view(loss), 1.0 / n)
    if is_cupy(logits):
        return loss.mean().astype(logits.dtype), g
    return np.asarray(loss.copy_to_host().mean(), dtype=logits.dtype), g


def matmul(a, b):
    """``a @ b`` for device matrices a (M, K) and b (K, N) of one float dtype."""
    if a.dtype != b.dtype or a.dtype not in MATMUL or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul needs float (M, K) @ (K, N) of one dtype; got {a.dtype} "
                         f"{a.shape} and {b.dtype} {b.shape}")
    c = _empty(a, (a.shape[0], b.shape[1]))
    if c.size:
        grid = (math.ceil(b.shape[1] / TILE), math.ceil(a.shape[0] / TILE))
        MATMUL[a.dtype][grid, (TILE, TILE), _stream(a)](_view(a), _view(b), _view(c))
    return c
