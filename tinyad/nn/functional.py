"""Stateless functions: activations, losses and the layers' computations (``F`` in PyTorch).

    linear(x, W, b)          x @ W.T + b                             x (N, in), W (out, in)
    softmax(z)_k             e^{z_k} / sum_j e^{z_j}                  along ``dim``
    log_softmax(z)_k         z_k - logsumexp(z)                       shifted by max z: no overflow
    cross_entropy(z, y)      mean_n [logsumexp(z_n) - z_n[y_n]]       z (N, C) logits, y (N,) ints
    mse_loss(p, t)           mean (p - t)²                            p and t of one shape
    conv2d                   the conv2d primitive (primitives/convolution.py)
    max_pool2d               the max_pool2d primitive (im2col and a max for overlapping windows)

All are tinyad operations (the mean cross-entropy, log_softmax, conv2d, max_pool2d and im2col
are primitives with their own rules; the rest are compositions), so reverse mode, forward mode
and their nestings differentiate them.
"""
from .. import backend, ops
from ..errors import DtypeError, ShapeError
from ..ops import class_labels, gelu, relu, sigmoid, tanh  # noqa: F401  (this namespace)
from ..ops import (celu, elu, hardsigmoid, hardswish, hardtanh, leaky_relu,  # noqa: F401
                   logsigmoid, mish, one_hot, relu6, selu, silu, softmin, softplus, softsign)
from ..ops import torch_pad as pad  # noqa: F401  (PyTorch's F.pad; ad.pad is NumPy's)
from .im2col import geometry, im2col

REDUCTIONS = ("mean", "sum", "none")


def softmax(x, dim=-1):
    return ops.softmax(x, dim)


def log_softmax(x, dim=-1):
    return ops.log_softmax(x, dim)


def linear(x, weight, bias=None):
    """``x @ weight.T + bias``: weight (out, in) as in PyTorch."""
    out = ops.matmul(x, ops.transpose(weight))
    return out if bias is None else out + bias


def cross_entropy(logits, labels, reduction="mean"):
    """Softmax cross-entropy from raw scores: ``-log_softmax(logits)[n, labels[n]]``, reduced.

    logits (N, C) float; labels (N,) integer class indices in [0, C) (a Tensor, an array or a list).
    It never exponentiates a large score, so it stays finite for any logits. The mean (the
    default) is one primitive, ``ops.softmax_cross_entropy``; "sum" and "none" index log_softmax."""
    logits = ops.lift(logits)
    if reduction == "mean":
        return ops.softmax_cross_entropy(logits, labels)               # one primitive
    y = class_labels(logits, labels)
    rows = backend.xp_of(y).arange(len(y))
    picked = ops.log_softmax(logits, -1)[rows, y]                       # (N,)
    return _reduce(-picked, reduction, "cross_entropy")


def mse_loss(pred, target, reduction="mean"):
    """Mean squared error, ``mean((pred - target)²)``; pred and target must have one shape
    (broadcasting (N, 1) against (N,) would compare every prediction with every target)."""
    pred = ops.lift(pred)
    target = ops.lift(target, pred)
    if pred.shape != target.shape:
        raise ShapeError(f"mse_loss: pred shape {pred.shape} and target shape {target.shape} "
                         "differ; reshape one of them")
    d = pred - target
    return _reduce(d * d, reduction, "mse_loss")


def _reduce(losses, reduction, where):
    if reduction == "mean":
        return ops.mean(losses)
    if reduction == "sum":
        return ops.sum(losses)
    if reduction == "none":
        return losses
    raise ValueError(f"{where}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """2-D cross-correlation (PyTorch's convolution), NCHW:

        out[n, o, y, x] = bias[o] + sum_{c,i,j} weight[o, c, i, j] · xpad[n, c, y·s + i, x·s + j]

    x (N, C, H, W), weight (O, C, kh, kw), bias (O,) -> (N, O, OH, OW): one ``conv2d`` primitive
    (tinyad/primitives/convolution.py: a block of windows at a time, never the whole window matrix, the
    bias added in cache) whose result is a channels-last array seen as NCHW, which the next
    convolution reads as is."""
    x, weight = ops.lift(x), ops.lift(weight)
    if weight.ndim != 4 or x.ndim != 4 or x.shape[1] != weight.shape[1]:
        raise ShapeError(f"conv2d: input (N, C, H, W) {x.shape} and weight (O, C, kh, kw) "
                         f"{weight.shape} must agree on C")
    geometry(x, weight.shape[2:], stride, padding, "conv2d")
    return ops.conv2d(x, weight, bias, stride, padding)


def max_pool2d(x, kernel_size, stride=None):
    """The largest value of each kernel window: (N, C, H, W) -> (N, C, OH, OW); the stride
    defaults to the kernel size (non-overlapping windows). Ties share the gradient equally.

    Non-overlapping windows (stride = kernel) are one ``max_pool2d`` primitive
    (tinyad/primitives/pooling.py: one pass each way); others go through im2col and a max."""
    x = ops.lift(x)
    stride = kernel_size if stride is None else stride
    (kh, kw), step, _, (oh, ow) = geometry(x, kernel_size, stride, 0, "max_pool2d")
    n, c = x.shape[:2]
    if step == (kh, kw):
        return ops.max_pool2d(x, (kh, kw))
    cols, _ = im2col(x, (kh, kw), step, 0, "max_pool2d")                # (N·OH·OW, kh·kw·C)
    out = ops.max(ops.reshape(cols, n, oh, ow, kh * kw, c), axis=3)
    return ops.transpose(out, 0, 3, 1, 2)
