"""The NumPy backend: every kernel as whole-array operations, the meaning the others are held to.

Activations are the definitions in activations.py run on arrays; softmax cross-entropy is
xent.softmax_xent; matmul is BLAS. Same signatures and return conventions as every backend
(backends.py); these also run on CuPy arrays, where the CuPy backend has no kernel of its own.
"""
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


def window_grid(shape, kernel, stride, padding):
    """(OH, OW): the windows of a kh x kw kernel with stride s over an (N, C, H, W) input
    zero-padded by p, (H + 2p - kh) // sh + 1 by (W + 2p - kw) // sw + 1 (< 1: it does not fit)."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    return (shape[2] + 2 * ph - kh) // sh + 1, (shape[3] + 2 * pw - kw) // sw + 1


def col2im(cols, shape, kernel, stride, padding):
    """im2col's adjoint: each window row of `cols` (N·OH·OW, kh·kw·C), columns ordered (i, j, c),
    added back where it came from in an input of `shape` (N, C, H, W)::

        out[n, c, y·sh + i - ph, x·sw + j - pw] += cols[(n, y, x), (i, j, c)]

    One strided, vectorised add per kernel offset (i, j) into a zero-padded channels-last buffer;
    the result is that buffer, padding cropped, seen as NCHW. NumPy or CuPy, as `cols` is."""
    xp = array_module(cols)
    n, c, h, w = shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = window_grid(shape, kernel, stride, padding)
    out = xp.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=cols.dtype)
    win = cols.reshape(n, oh, ow, kh, kw, c)
    for i in range(kh):
        for j in range(kw):
            out[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :] += win[:, :, :, i, j]
    return out[:, ph:ph + h, pw:pw + w, :].transpose(0, 3, 1, 2)
