"""Stateless functions: activations, losses and the layers' computations (``F`` in PyTorch).

    linear(x, W, b)          x @ W.T + b                             x (N, in), W (out, in)
    softmax(z)_k             e^{z_k} / sum_j e^{z_j}                  along ``dim``
    log_softmax(z)_k         z_k - logsumexp(z)                       shifted by max z: no overflow
    cross_entropy(z, y)      mean_n [logsumexp(z_n) - z_n[y_n]]       z (N, C) logits, y (N,) ints
    mse_loss(p, t)           mean (p - t)²                            p and t of one shape
    conv1d conv2d conv_transpose2d                 functional_conv.py (the conv2d primitives)
    max_pool2d avg_pool2d adaptive_avg_pool2d
    adaptive_max_pool2d                            functional_pool.py
    interpolate                                    functional_interpolate.py

All are tinyad operations (the mean cross-entropy, log_softmax, the convolutions and the
non-overlapping max-pool are primitives with their own rules; the rest are compositions), so
reverse mode, forward mode and their nestings differentiate them.
"""
from .. import backend, ops
from ..errors import DtypeError, ShapeError
from ..ops import class_labels, gelu, relu, sigmoid, tanh  # noqa: F401  (this namespace)
from .functional_conv import conv1d, conv2d, conv_transpose2d  # noqa: F401
from .functional_interpolate import interpolate  # noqa: F401
from .functional_pool import (adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d,  # noqa: F401
                              max_pool2d)

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
