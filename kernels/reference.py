"""Plain NumPy references: the meaning of every kernel, written as array expressions.

Each function has the same signature and return convention as its fused twin in ``cpu.py`` (and,
for activations, ``cuda.py`` and ``cupy_kernels.py``); tests hold the fast versions to these.

Activations return a pair, the value and the derivative, both shaped and typed like ``x``::

    relu(x)    = max(x, 0)                     relu'(x)    = 1 if x > 0 else 0
    tanh(x)                                    tanh'(x)    = 1 - tanh(x)^2
    sigmoid(x) = (1 + tanh(x/2)) / 2           sigmoid'(x) = s (1 - s),  s = sigmoid(x)
    gelu(x)    = x/2 (1 + tanh(u)),  u = k (x + a x^3),  k = sqrt(2/pi),  a = 0.044715
    gelu'(x)   = (1 + tanh(u))/2 + x/2 (1 - tanh(u)^2) k (1 + 3 a x^2)

GELU is the tanh approximation (Hendrycks & Gimpel 2016, as in GPT-2); sigmoid goes through tanh
so that it never overflows. ``relu(nan)`` is nan (``np.maximum`` propagates it).
"""
import importlib

import numpy as np

GELU_K = 0.7978845608028654          # sqrt(2 / pi)
GELU_A = 0.044715


def relu(x):
    return np.maximum(x, 0), (x > 0).astype(x.dtype)


def tanh(x):
    y = np.tanh(x)
    return y, 1 - y * y


def sigmoid(x):
    y = 0.5 * np.tanh(0.5 * x) + 0.5
    return y, y * (1 - y)


def gelu(x):
    k, a = x.dtype.type(GELU_K), x.dtype.type(GELU_A)      # keep float32 math in float32
    x2 = x * x
    th = np.tanh(k * (x + a * x * x2))
    return 0.5 * x * (1 + th), 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * k * (1 + 3 * a * x2)


ACTIVATIONS = {"relu": relu, "tanh": tanh, "sigmoid": sigmoid, "gelu": gelu}


def act_forward(name, x):
    """``(f(x), f'(x))``: the value and what a tape saves for the backward pass."""
    return ACTIVATIONS[name](x)


def act_jvp(name, x, t):
    """``(f(x), f'(x) * t)``: the value and the tangent a dual number carries forward."""
    y, d = ACTIVATIONS[name](x)
    return y, d * t


def bias_act(name, x, b):
    """``(f(x + b), f'(x + b))`` for ``x`` of shape (batch, features) and ``b`` of (features,)."""
    return ACTIVATIONS[name](x + b)


def softmax_xent(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    logits (N, C), labels (N,) in [0, C). With ``m`` the row max (subtracted so exp never
    overflows), ``lse = m + log(sum(exp(z - m)))``::

        loss     = mean(lse - z[label])                 a 0-d array, dtype of logits
        dlogits  = (softmax(z) - onehot(label)) / N     shape (N, C)
    """
    n = logits.shape[0]
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) - shifted[rows, labels])
    grad = e / s
    grad[rows, labels] -= 1
    return np.asarray(loss, dtype=logits.dtype), grad / logits.dtype.type(n)


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
    xp = np if isinstance(cols, np.ndarray) else importlib.import_module("cupy")
    n, c, h, w = shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = window_grid(shape, kernel, stride, padding)
    out = xp.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=cols.dtype)
    win = cols.reshape(n, oh, ow, kh, kw, c)
    for i in range(kh):
        for j in range(kw):
            out[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :] += win[:, :, :, i, j]
    return out[:, ph:ph + h, pw:pw + w, :].transpose(0, 3, 1, 2)
