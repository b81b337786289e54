"""The NumPy backend: every kernel as whole-array operations, the meaning the others are held to.

Activations are the definitions in activations.py run on arrays; softmax cross-entropy is
xent.softmax_xent; matmul is BLAS. Same signatures and return conventions as every backend
(backends.py); these also run on CuPy arrays, where the CuPy backend has no kernel of its own.
"""
import numpy as np

from .activations import RULES, check
from .arrays import array_module
from .xent import softmax_xent  # noqa: F401  (this backend's entry point)


def act_value(name, x):
    """``f(x)`` alone: what the engine's forward pass needs when no kernel is fused."""
    value, _ = RULES[check(name)]
    return value(x)


def act_forward(name, x):
    """``(f(x), f'(x))``: the value and what a tape saves for the backward pass."""
    value, derivative = RULES[check(name)]
    return value(x), derivative(x)


def act_jvp(name, x, t):
    """``(f(x), f'(x) * t)``: the value and the tangent a dual number carries forward."""
    y, d = act_forward(name, x)
    return y, d * t


def bias_act(name, x, b):
    """``(f(x + b), f'(x + b))`` for ``x`` of shape (..., features) and ``b`` of (features,)."""
    return act_forward(name, x + b)


def matmul(a, b):
    """``a @ b`` for a (M, K) and b (K, N): NumPy's BLAS, the default and the yardstick."""
    return a @ b


def pads(padding):
    """Zero padding as ((top, bottom), (left, right)): from (ph, pw), each an int (the same on
    both sides) or a (before, after) pair, or already in that form."""
    return tuple((int(p), int(p)) if isinstance(p, (int, np.integer)) else (int(p[0]), int(p[1]))
                 for p in padding)


def window_grid(shape, kernel, stride, padding, dilation=(1, 1)):
    """(OH, OW): the windows of a kh x kw kernel with stride s and dilation d (taps d apart) over
    an (N, C, H, W) input zero-padded by p (``pads``), ``(H + pt + pb - dh·(kh - 1) - 1) // sh + 1``
    by the same across (< 1: it does not fit)."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ((pt, pb), (pl, pr)) = pads(padding)
    return ((shape[2] + pt + pb - dh * (kh - 1) - 1) // sh + 1,
            (shape[3] + pl + pr - dw * (kw - 1) - 1) // sw + 1)


def col2im(cols, shape, kernel, stride, padding, dilation=(1, 1)):
    """im2col's adjoint: each window row of `cols` (N·OH·OW, kh·kw·C), columns ordered (i, j, c),
    added back where it came from in an input of `shape` (N, C, H, W)::

        out[n, c, y·sh + i·dh - pt, x·sw + j·dw - pl] += cols[(n, y, x), (i, j, c)]

    One strided, vectorised add per kernel offset (i, j) into a zero-padded channels-last buffer;
    the result is that buffer, padding cropped, seen as NCHW. NumPy or CuPy, as `cols` is."""
    xp = array_module(cols)
    n, c, h, w = shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ((pt, pb), (pl, pr)) = pads(padding)
    oh, ow = window_grid(shape, kernel, stride, padding, dilation)
    out = xp.zeros((n, h + pt + pb, w + pl + pr, c), dtype=cols.dtype)
    win = cols.reshape(n, oh, ow, kh, kw, c)
    for i in range(kh):
        for j in range(kw):
            out[:, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                j * dw:j * dw + sw * (ow - 1) + 1:sw, :] += win[:, :, :, i, j]
    return out[:, pt:pt + h, pl:pl + w, :].transpose(0, 3, 1, 2)
