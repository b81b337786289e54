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


def softmax_cross_entropy(logits, labels):
    """The mean softmax cross-entropy, one fused primitive (its rules: primitives/fused.py):
    ``mean_n (logsumexp(z[n]) - z[n, labels[n]])`` for logits z (N, C) and integer labels (N,) in
    [0, C), moved to z's device and checked once here (``class_labels``); NaN for N = 0."""
    z = lift(logits)
    y = class_labels(z, labels)
    if isinstance(y, Tensor):                                  # labels that vary inside vmap
        return rows_cross_entropy(z, one_hot(y, z.shape[-1], z.dtype))
    return apply(P.cross_entropy, z, labels=y)


def class_labels(logits, labels, where="cross_entropy"):
    """`labels` as an integer array (N,) of class indices in [0, C) on the device of `logits`
    (N, C), checked: a Tensor on that device, or an array of either device or a list (moved
    there). Labels that vary across a vmap's batch stay a (batched) Tensor, every example's
    checked. The range check reads one boolean back from the device (a host sync): an index out
    of range would otherwise wrap around silently on a GPU."""
    if logits.ndim != 2:
        raise ShapeError(f"{where}: logits must be (N, C), got shape {logits.shape}")
    batched = isinstance(labels, Tensor) and bool(labels._batch_axes)
    y = labels if batched else Tensor(backend.asarray(raw_index(labels, logits, where),
                                                      logits.device))
    if y.shape != (logits.shape[0],):
        raise ShapeError(f"{where}: labels must have shape ({logits.shape[0]},) to match "
                         f"logits {logits.shape}, got {y.shape}")
    if y.dtype.kind not in "iu":
        raise DtypeError(f"{where}: labels must be integer class indices, got dtype {y.dtype}")
    every = y._data                                            # every example's, inside vmap
    if every.size and bool(((every < 0) | (every >= logits.shape[1])).any()):
        raise IndexError(f"{where}: labels must lie in [0, {logits.shape[1]}), got values "
                         f"from {int(every.min())} to {int(every.max())}")
    return y if batched else every


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
