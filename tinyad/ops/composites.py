"""Composites used by models: logsumexp, softmax, and the wrappers of the fused log_softmax and
mean softmax cross-entropy."""
from .. import backend
from .. import primitives as P
from ..batching import constant
from ..errors import DtypeError, ShapeError
from ..interpreter import apply
from ..tensor import Tensor
from .axes import one_axis, reduction_axes
from .functions import exp, log
from .indexing import one_hot, raw_index
from .lifting import lift
from .reductions import max, mean, sum
from .shape import squeeze


def logsumexp(x, axis=-1, keepdims=False):
    """log sum exp x over `axis` (an int, a tuple, or None for all), shifted by the (constant)
    max so nothing overflows."""
    x = lift(x)
    axis = reduction_axes("logsumexp", axis, x.shape)
    shift = max(constant(x), axis, keepdims=True)
    out = log(sum(exp(x - shift), axis, keepdims=True)) + shift
    return out if keepdims else squeeze(out, axis)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along one axis: one fused primitive (its rules: primitives/fused.py)."""
    x = lift(x)
    return apply(P.log_softmax, x, axis=one_axis("log_softmax", axis, x.shape))


def softmax_cross_entropy(logits, labels, labels_checked=False):
    """The mean softmax cross-entropy, one fused primitive (its rules: primitives/fused.py):
    ``mean_n (logsumexp(z[n]) - z[n, labels[n]])`` for logits z (N, C) and integer labels (N,) in
    [0, C), moved to z's device and checked once here (``class_labels``; skipped with
    ``labels_checked=True`` for labels a caller checked already: an array on z's device); NaN for
    N = 0."""
    z = lift(logits)
    if isinstance(labels, Tensor) and labels._batch_axes:      # labels that vary inside vmap
        y = class_labels(z, labels)
        return rows_cross_entropy(z, one_hot(y, z.shape[-1], z.dtype))
    return apply(P.cross_entropy, z, labels=labels if labels_checked else class_labels(z, labels))


def class_labels(logits, labels, where="cross_entropy"):
    """`labels` (N,) as integer class indices in [0, C) on the device of `logits` (N, C),
    checked (``class_targets``)."""
    if logits.ndim != 2:
        raise ShapeError(f"{where}: logits must be (N, C), got shape {logits.shape}")
    return class_targets(logits, labels, where)[0]


def class_targets(scores, labels, where="cross_entropy", ignore_index=None):
    """`labels` as an integer array of class indices on the device of `scores`, checked against
    it: scores (N, C, d1, ..., dk) take labels (N, d1, ..., dk) (the classes are axis 1), scores
    (C,) one 0-d label. Labels are a Tensor on that device, or an array of either device or a
    list (moved there); each lies in [0, C) or equals `ignore_index`. Labels that vary across a
    vmap's batch stay a (batched) Tensor, every example's checked.

    Returns ``(labels, ignoring)``, ignoring a bool: whether some label equals ignore_index. The
    check reads one answer back from the device, one host sync, when every label is a class or
    when ignore_index names a class (an index out of range would otherwise wrap around silently
    on a GPU); labels equal to an ignore_index outside [0, C) cost two syncs more."""
    if scores.ndim < 1:
        raise ShapeError(f"{where}: scores must have a class axis, got shape {scores.shape}")
    batched = isinstance(labels, Tensor) and bool(labels._batch_axes)
    y = labels if batched else backend.asarray(raw_index(labels, scores, where), scores.device)
    expected = () if scores.ndim == 1 else scores.shape[:1] + scores.shape[2:]
    if y.shape != expected:
        raise ShapeError(f"{where}: labels must have shape {expected} to match scores "
                         f"{scores.shape}, got {y.shape}")
    if y.dtype.kind not in "iu":
        raise DtypeError(f"{where}: labels must be integer class indices, got dtype {y.dtype}")
    every = y._data if batched else y                          # every example's, inside vmap
    if not every.size:
        return y, False
    classes = scores.shape[0 if scores.ndim == 1 else 1]
    outside = (every < 0) | (every >= classes)
    if ignore_index is not None and 0 <= ignore_index < classes:   # it names a class
        ignored = every == ignore_index
        bad, ignoring = backend.xp_of(every).stack([outside.any(), ignored.any()]).tolist()
    elif not outside.any():                  # the usual case: every label a class, one read back
        return y, False
    elif ignore_index is None:               # some label outside [0, C)
        bad, ignoring = True, False
    else:                                    # some label outside [0, C): ignored, or wrong
        ignored = every == ignore_index
        bad, ignoring = bool((outside & ~ignored).any()), bool(ignored.any())
    if bad:
        raise IndexError(f"{where}: labels must lie in [0, {classes})"
                         + (f" or equal ignore_index={ignore_index}" if ignore_index is not None
                            else "") + f", got values from {int(every.min())} to "
                         f"{int(every.max())}")
    return y, bool(ignoring)


def rows_cross_entropy(z, onehot):
    """``-mean_n sum_c log_softmax(z)[..., n, c] onehot[..., n, c]``: the mean cross-entropy over
    the rows n of z (..., N, C), as a composite (one value per leading index)."""
    return -mean(sum(log_softmax(z, -1) * onehot, -1), -1)


def softmax(x, axis=-1):
    """e^x / sum e^x over `axis` (an int, a tuple, or None for all), shifted by the (constant)
    max."""
    x = lift(x)
    axis = reduction_axes("softmax", axis, x.shape)
    e = exp(x - max(constant(x), axis, keepdims=True))
    return e / sum(e, axis, keepdims=True)
