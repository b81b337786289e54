"""Losses, as PyTorch's ``torch.nn.functional`` computes them (its names, arguments, defaults and
reduction conventions). Each takes ``reduction="mean" | "sum" | "none"``.

Classification, scores x of shape (N, C), (N, C, d1, ..., dk) or (C,) (classes on axis 1):

    cross_entropy(x, y)   p = log_softmax(x) over the classes, then nll_loss(p, y); or, for y of
                          x's shape (class probabilities), l_n = -sum_c w_c y_nc p_nc
    nll_loss(p, y)        l_n = -w[y_n] p[n, y_n], and l_n = 0 where y_n = ignore_index
                          "mean" = sum_n l_n / sum_n w[y_n] over the targets not ignored (with no
                          weight: their number); for class probabilities, sum_n l_n / (N·d1···dk)
    label_smoothing ε     targets become (1 - ε)·onehot(y) + ε/C: l_n = (1 - ε) l_n +
                          ε/C · sum_c -w_c p_nc, reduced as above

Two classes, probabilities p or logits x against targets t in [0, 1], optional weight w:

    binary_cross_entropy(p, t)               -w [t log p + (1 - t) log(1 - p)], each log clamped
                                             at -100 as in PyTorch (so p = 0 or 1 stays finite)
    binary_cross_entropy_with_logits(x, t)   -w [pw·t log σ(x) + (1 - t) log(1 - σ(x))], computed
                                             as w [pw·t·sp(-x) + (1 - t) sp(x)], sp(z) = log(1 +
                                             e^z) (never overflows: finite for any logits;
                                             without a log1p primitive a term below ~1e-16
                                             rounds to 0, its gradient stays exact)

Regression, input x against target t (broadcast together as PyTorch does, with its UserWarning
when the shapes differ: (N, 1) against (N,) compares every prediction with every target):

    l1_loss          |x - t|
    mse_loss         (x - t)²
    smooth_l1_loss   0.5 d² / beta where |d| < beta, else |d| - beta/2       (beta = 0: l1)
    huber_loss       0.5 d² where |d| < delta, else delta (|d| - delta/2)

All are tinyad operations, differentiable in both modes and to any order (the class weights
too). The plain cross-entropy, mean over (N, C) logits with integer labels and nothing ignored,
is one fused primitive (``ops.softmax_cross_entropy``), as fast as before.
"""
import warnings

import numpy as np

from .. import backend, ops
from ..errors import BatchingError, DtypeError, ShapeError
from ..ops import class_targets
from ..tensor import Tensor
from .activations import log1p_exp

REDUCTIONS = ("mean", "sum", "none")


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy from raw scores (see the module docstring); never exponentiates a
    large score, so it stays finite for any logits. `target`: integer class indices (a Tensor,
    an array or a list; one host sync checks their range), or, when it has input's shape (as
    PyTorch decides), float class probabilities."""
    x = ops.lift(input)
    _check_reduction(reduction, "cross_entropy")
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    shape = target.shape if hasattr(target, "shape") else np.shape(target)
    if tuple(shape) == x.shape:                                # probabilities, as PyTorch decides
        return _probability_loss(x, target, weight, ignore_index, reduction, label_smoothing)
    y, ignoring = class_targets(x, target, "cross_entropy", ignore_index)
    if isinstance(y, Tensor):                          # labels that vary across a vmap's batch
        return _batched_cross_entropy(x, y, weight, ignoring, reduction, label_smoothing)
    if (reduction == "mean" and weight is None and not label_smoothing and x.ndim == 2
            and not ignoring):
        return ops.softmax_cross_entropy(x, y, labels_checked=True)      # one primitive
    logp = ops.log_softmax(x, 0 if x.ndim == 1 else 1)
    return _class_loss(logp, y, ignoring, weight, ignore_index, reduction, label_smoothing,
                       "cross_entropy")


def _batched_cross_entropy(x, y, weight, ignoring, reduction, smoothing):
    """The plain cross-entropy of logits x (N, C) at labels y that vary inside vmap (a one-hot
    product: y cannot index); weights, smoothing and ignored labels are refused there."""
    if weight is not None or smoothing or ignoring or x.ndim != 2:
        raise BatchingError("cross_entropy: labels that vary across a vmap's batch take the "
                            f"plain form only (logits (N, C), got {x.shape}; no weight, "
                            "label_smoothing or ignored labels)")
    if reduction == "mean":
        return ops.softmax_cross_entropy(x, y)
    onehot = ops.one_hot(y, x.shape[1], x.dtype)
    return _reduce(-ops.sum(ops.log_softmax(x, 1) * onehot, 1), reduction, "cross_entropy")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """The negative log-likelihood of class indices under log-probabilities `input` (N, C, ...):
    ``-w[y_n] · input[n, y_n]``, reduced as the module docstring says."""
    p = ops.lift(input)
    _check_reduction(reduction, "nll_loss")
    y, ignoring = class_targets(p, target, "nll_loss", ignore_index)
    return _class_loss(p, y, ignoring, weight, ignore_index, reduction, 0.0, "nll_loss")


def _class_loss(logp, y, ignoring, weight, ignore_index, reduction, smoothing, where):
    """nll_loss of log-probabilities logp (N, C, d...) at checked labels y (N, d...), with
    optional label smoothing; see the module docstring for the reductions."""
    classes = logp.shape[0 if logp.ndim == 1 else 1]
    flat = ops.reshape(_classes_last(logp), -1, classes)                    # (M, C)
    labels = y.reshape(-1)
    xp = backend.xp_of(labels)
    kept = (labels != ignore_index) if ignoring else None
    safe = xp.where(kept, labels, 0) if ignoring else labels
    picked = flat[xp.arange(labels.size), safe]                              # (M,) p[n, y_n]
    w = _class_weight(weight, logp, classes, where)
    wn = None if w is None else w[safe]                                     # (M,) w[y_n]
    if kept is not None:
        mask = Tensor(kept.astype(logp.dtype))
        wn = mask if wn is None else wn * mask
    losses = -picked if wn is None else -(picked * wn)
    if smoothing:
        spread = -ops.sum(flat if w is None else flat * w, axis=1)             # -sum_c w_c p_nc
        if kept is not None:
            spread = spread * mask
        losses = (1 - smoothing) * losses + (smoothing / classes) * spread
    if reduction == "none":
        return ops.reshape(losses, *y.shape)
    total = ops.sum(losses)
    if reduction == "sum":
        return total
    return total / ops.sum(wn) if wn is not None else _divide(total, labels.size)


def _probability_loss(x, target, weight, ignore_index, reduction, smoothing):
    """cross_entropy against class probabilities of x's shape: -sum_c w_c t_nc log p_nc."""
    t = ops.lift(target, x)
    if t.dtype.kind != "f":
        raise DtypeError(f"cross_entropy: a target of the input's shape {x.shape} holds class "
                         f"probabilities and must be float, got dtype {t.dtype} (class indices "
                         f"have shape {x.shape[:1] + x.shape[2:]})")
    if ignore_index >= 0:
        raise ValueError("cross_entropy: ignore_index is not supported for class-probability "
                         "(floating point) targets")
    axis = 0 if x.ndim == 1 else 1
    classes = x.shape[axis]
    if smoothing:
        t = t * (1 - smoothing) + smoothing / classes
    w = _class_weight(weight, x, classes, "cross_entropy")
    if w is not None and x.ndim > 1:
        w = ops.reshape(w, classes, *([1] * (x.ndim - 2)))              # broadcast along axis 1
    terms = ops.log_softmax(x, axis) * t
    losses = -ops.sum(terms if w is None else terms * w, axis=axis)
    if reduction == "none":
        return losses
    total = ops.sum(losses)
    return total if reduction == "sum" else _divide(total, x.size // max(classes, 1))


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w [t log p + (1 - t) log(1 - p)] for probabilities p in [0, 1]; each log is clamped at
    -100, as in PyTorch, so p = 0 or 1 gives a finite loss (and a zero gradient there). A p
    outside [0, 1] is an error, as in PyTorch (checked: one host sync on a GPU)."""
    p, t = _same_shape(input, target, "binary_cross_entropy")
    if p.size and bool(((p.data < 0) | (p.data > 1)).any()):
        raise ValueError(f"binary_cross_entropy: input must hold probabilities in [0, 1], got "
                         f"values from {float(p.data.min())} to {float(p.data.max())} (for "
                         "scores use binary_cross_entropy_with_logits)")
    losses = -(t * _clamped_log(p) + (1 - t) * _clamped_log(1 - p))
    return _reduce(_weighted(losses, weight, p), reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """The binary cross-entropy of sigmoid(x), from the logits x, stable for any x:
    w [pw·t·log(1 + e^{-x}) + (1 - t) log(1 + e^x)]. ``pos_weight`` (broadcast along the last
    axis, one per class) weighs the positive term."""
    x, t = _same_shape(input, target, "binary_cross_entropy_with_logits")
    positive = t * log1p_exp(-x)
    if pos_weight is not None:
        positive = positive * ops.lift(pos_weight, x)
    losses = positive + (1 - t) * log1p_exp(x)
    return _reduce(_weighted(losses, weight, x), reduction, "binary_cross_entropy_with_logits")


def l1_loss(input, target, reduction="mean"):
    x, t = _broadcast(input, target, "l1_loss")
    return _reduce(ops.abs(x - t), reduction, "l1_loss")


def mse_loss(input, target, reduction="mean"):
    """mean((input - target)²); shapes that differ broadcast, with PyTorch's warning."""
    x, t = _broadcast(input, target, "mse_loss")
    d = x - t
    return _reduce(d * d, reduction, "mse_loss")


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    x, t = _broadcast(input, target, "smooth_l1_loss")
    a = ops.abs(x - t)
    if beta == 0:
        return _reduce(a, reduction, "smooth_l1_loss")
    return _reduce(ops.where(a < beta, (0.5 / beta) * a * a, a - 0.5 * beta), reduction,
                   "smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    x, t = _broadcast(input, target, "huber_loss")
    a = ops.abs(x - t)
    return _reduce(ops.where(a < delta, 0.5 * a * a, delta * (a - 0.5 * delta)), reduction,
                   "huber_loss")


# ---- shared pieces ------------------------------------------------------------------------------
def _check_reduction(reduction, where):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduce(losses, reduction, where):
    _check_reduction(reduction, where)
    if reduction == "mean":
        return ops.mean(losses)
    return ops.sum(losses) if reduction == "sum" else losses


def _divide(total, count):
    """total / count; NaN for count 0 (the mean of nothing), without a division warning."""
    return total * (1.0 / count if count else float("nan"))


def _classes_last(x):
    """(N, C, d1, ..., dk) -> (N, d1, ..., dk, C); (C,) -> (1, C); (N, C) as it is."""
    if x.ndim == 1:
        return ops.reshape(x, 1, -1)
    return x if x.ndim == 2 else ops.transpose(x, 0, *range(2, x.ndim), 1)


def _class_weight(weight, x, classes, where):
    if weight is None:
        return None
    w = ops.lift(weight, x)
    if w.shape != (classes,):
        raise ShapeError(f"{where}: weight must have shape ({classes},), one per class, got "
                         f"{w.shape}")
    return w


def _weighted(losses, weight, like):
    return losses if weight is None else losses * ops.lift(weight, like)


def _clamped_log(p):
    """max(log p, -100), also at p = 0 (log of 1 taken there, then replaced: no -inf, no NaN in
    the gradient)."""
    positive = p > 0
    return ops.where(positive, ops.maximum(ops.log(ops.where(positive, p, 1.0)), -100.0), -100.0)


def _same_shape(input, target, where):
    x = ops.lift(input)
    t = ops.lift(target, x)
    if t.shape != x.shape:
        raise ShapeError(f"{where}: target shape {t.shape} differs from input shape {x.shape}; "
                         "they must be equal")
    if x.dtype.kind != "f" or t.dtype.kind != "f":
        raise DtypeError(f"{where}: input and target must be float, got {x.dtype} and {t.dtype}")
    return x, t


def _broadcast(input, target, where):
    """input and target broadcast together as PyTorch does, warning (as it does) when their
    shapes differ."""
    x = ops.lift(input)
    t = ops.lift(target, x)
    if x.shape == t.shape:
        return x, t
    warnings.warn(f"{where}: Using a target size {t.shape} that is different to the input size "
                  f"{x.shape}. This will likely lead to incorrect results due to broadcasting. "
                  "Please ensure they have the same size.", UserWarning, stacklevel=3)
    try:
        shape = np.broadcast_shapes(x.shape, t.shape)
    except ValueError:
        raise ShapeError(f"{where}: input shape {x.shape} and target shape {t.shape} do not "
                         "broadcast together") from None
    return ops.broadcast_to(x, shape), ops.broadcast_to(t, shape)
