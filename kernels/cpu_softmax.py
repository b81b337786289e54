"""Softmax cross-entropy and its gradient in one Numba kernel, rows in parallel.

Each row is xent.row (its three passes over C values, all in cache after the first), compiled
with the vectorizable exp of cpu_math.py and a row sum that reassociates into SIMD lanes
(fastmath={'reassoc'} on that sum alone: it must not reach the exp, whose range reduction depends
on the order of its subtractions). Returns ``(mean(loss), g)``: the loss a 0-d array, both in the
dtype of z (the loss sums are kept in float64). Same signature as ``reference.softmax_xent``.
"""
import numpy as np
from numba import prange

from . import cpu_math, xent
from .activations import compile_copies
from .arrays import FLOATS
from .jit import inline, kernel, launch

row = compile_copies(inline, {"row": xent.row}, vars(xent),
                     {"exp": cpu_math.exp, "log": np.log, "row_sum": cpu_math.row_sum})["row"]


@kernel
def softmax_xent_kernel(z, labels):
    n = z.shape[0]
    inv_n = 1.0 / n
    loss = np.empty(n)
    g = np.empty_like(z)
    for r in prange(n):
        loss[r] = row(z[r], labels[r], g[r], inv_n)
    return loss.sum() * inv_n, g


def softmax_xent(logits, labels):
    if logits.dtype not in FLOATS:
        raise TypeError(f"Numba kernels take float32 or float64, not {logits.dtype}")
    loss, g = launch(softmax_xent_kernel, logits.size, np.ascontiguousarray(logits),
                     np.ascontiguousarray(labels, dtype=np.int64))
    return np.asarray(loss, dtype=logits.dtype), g
