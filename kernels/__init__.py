"""tinyad.kernels: fused kernels for the hot spots of a small network, with their references.

One call computes what the engine needs from an activation in a single pass over memory::

    y, dydx = act_forward("gelu", x)        # value and derivative: what the tape saves
    y, ty   = act_jvp("gelu", x, t)         # value and tangent f'(x) t: what a dual number carries
    y, dydx = bias_act("relu", x, b)        # f(x + b) for x (batch, features), b (features,)
    loss, dlogits = softmax_xent(logits, labels)   # mean loss, (softmax - onehot) / N
    c = matmul(a, b)
    x = col2im(cols, shape, kernel, stride, padding)  # im2col's adjoint: windows summed back

Outputs keep the input's dtype (float32 in, float32 out). Which implementation runs is a switch
(select.py): the NumPy references (reference.py), the Numba CPU kernels (cpu.py, cpu_matmul.py),
or per kernel the faster of the two ("auto", the default); CuPy arrays take the GPU kernels
(cupy_kernels.py). cuda.py holds Numba CUDA versions (a tiled matmul, the activations).

Importing this package imports NumPy only: Numba loads, and kernels compile (or load from the
on-disk cache), on first use; CuPy and numba.cuda load only in the GPU modules.
"""
from .select import (ACTIVATIONS, AUTO, BACKENDS, act_forward, act_jvp, backend, bias_act, col2im,
                     matmul, softmax_xent, use, using)

__all__ = ["ACTIVATIONS", "AUTO", "BACKENDS", "act_forward", "act_jvp", "backend", "bias_act",
           "col2im", "matmul", "softmax_xent", "use", "using"]
