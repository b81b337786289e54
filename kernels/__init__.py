"""tinyad.kernels: each kernel's math written once, run by the backend the device and a switch pick.

One call computes what the engine needs from an activation in a single pass over memory::

    y, dydx = act_forward("gelu", x)        # value and derivative: what the tape saves
    y = act_value("gelu", x)                # the value alone, from whole-array operations
    y, ty   = act_jvp("gelu", x, t)         # value and tangent f'(x) t: what a dual number carries
    y, dydx = bias_act("relu", x, b)        # f(x + b) for x (batch, features), b (features,)
    loss, dlogits = softmax_xent(logits, labels)   # mean loss, (softmax - onehot) / N
    c = matmul(a, b)
    x = col2im(cols, shape, kernel, stride, padding)  # im2col's adjoint: windows summed back

Outputs keep the input's dtype (float32 in, float32 out) and device (NumPy or CuPy arrays).
The math: activations.py (each activation's value and derivative, the names in ACTIVATIONS) and
xent.py. The backends (NumPy, Numba CPU, Numba CUDA, CuPy) and the table of what "auto" runs:
backends.py. The switch (``TINYAD_KERNELS``, ``use``, ``using``) and the dispatch: select.py.

Importing this package imports NumPy only: Numba loads, and kernels compile (or load from the
on-disk cache), on first use; CuPy and numba.cuda load only in the GPU modules.
"""
from .activations import ACTIVATIONS
from .arrays import FLOATS, is_cupy
from .backends import AUTO, BACKENDS, CUPY, NUMBA_CPU, NUMBA_CUDA, NUMPY, Backend
from .select import (SWITCH, act_forward, act_jvp, act_value, backend, bias_act, col2im, fused,
                     matmul, select, softmax_xent, use, using)

__all__ = ["ACTIVATIONS", "AUTO", "BACKENDS", "Backend", "CUPY", "FLOATS", "NUMBA_CPU",
           "NUMBA_CUDA", "NUMPY", "SWITCH", "act_forward", "act_jvp", "act_value", "backend",
           "bias_act", "col2im", "fused", "is_cupy", "matmul", "select", "softmax_xent", "use",
           "using"]
