"""Fused CPU activation kernels in Numba: one pass over memory where NumPy makes one per operation.

The activations of activations.py, compiled for one element with the vectorizable exp and tanh
of cpu_math.py, inlined into ``prange`` loops that LLVM vectorizes (and that run on all
NUMBA_NUM_THREADS threads once the array is large enough to pay for waking them: ``jit.launch``).
Each reads every input element once and writes each output once. Shapes:

    act_forward(name, x)    -> (f(x), f'(x))             any shape, float32 or float64
    act_jvp(name, x, t)     -> (f(x), f'(x) * t)         t shaped and typed like x
    bias_act(name, x, b)    -> (f(x + b), f'(x + b))     x (..., F), b (F,): rows in parallel

Same signatures as ``reference.py``; the dtype is preserved (float32 in, float32 out).
"""
import math

import numpy as np
from numba import prange

from . import cpu_math
from .activations import by_kind, compile_rules, index_of
from .arrays import FLOATS
from .jit import inline, kernel, launch

RULES = compile_rules(inline, exp=cpu_math.exp, tanh=cpu_math.tanh)
rule = by_kind(inline, list(RULES.values()))     # rule(kind, x): ACTIVATIONS[kind]


@kernel
def forward_kernel(kind, x):
    y, d = np.empty_like(x), np.empty_like(x)
    for i in prange(x.size):
        y[i], d[i] = rule(kind, x[i])
    return y, d


@kernel
def jvp_kernel(kind, x, t):
    y, ty = np.empty_like(x), np.empty_like(x)
    for i in prange(x.size):
        v, d = rule(kind, x[i])
        y[i], ty[i] = v, d * t[i]
    return y, ty


@kernel
def bias_kernel(kind, x, b):
    y, d = np.empty_like(x), np.empty_like(x)
    for r in prange(x.shape[0]):
        for j in range(x.shape[1]):
            y[r, j], d[r, j] = rule(kind, x[r, j] + b[j])
    return y, d


def _flat(x):
    if x.dtype not in FLOATS:
        raise TypeError(f"Numba kernels take float32 or float64, not {x.dtype}")
    return np.ascontiguousarray(x).reshape(-1)


def act_forward(name, x):
    y, d = launch(forward_kernel, x.size, index_of(name), _flat(x))
    return y.reshape(x.shape), d.reshape(x.shape)


def act_jvp(name, x, t):
    y, ty = launch(jvp_kernel, x.size, index_of(name), _flat(x), _flat(t))
    return y.reshape(x.shape), ty.reshape(x.shape)


def bias_act(name, x, b):
    rows = _flat(x).reshape(math.prod(x.shape[:-1]), x.shape[-1])
    y, d = launch(bias_kernel, x.size, index_of(name), rows, _flat(b))
    return y.reshape(x.shape), d.reshape(x.shape)
