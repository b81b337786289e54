"""Composites used by models: logsumexp, softmax, and the wrappers of the fused log_softmax and
mean softmax cross-entropy."""
from .. import backend
from .. import primitives as P
from ..errors import DtypeError, ShapeError
from ..interpreter import apply
from ..tensor import Tensor
from .axes import one_axis, reduction_axes
from .functions import exp, log
from .indexing import raw_index
from .lifting import lift
from .reductions import sum
from .shape import squeeze


def logsumexp(x, axis=-1, keepdims=False):
    """log sum exp x over `axis` (an int, a tuple, or None for all), shifted by the (constant)
    max so nothing overflows."""
    x = lift(x)
    axis = reduction_axes("logsumexp", axis, x.shape)
    shift = Tensor(x.data.max(axis=axis, keepdims=True))
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
    return apply(P.cross_entropy, z, labels=class_labels(z, labels))


def class_labels(logits, labels, where="cross_entropy"):
    """`labels` as an integer array (N,) of class indices in [0, C) on the device of `logits`
    (N, C), checked: a Tensor on that device, or an array of either device or a list (moved
    there). The range check reads one boolean back from the device (a host sync): an index out
    of range would otherwise wrap around silently on a GPU."""
    if logits.ndim != 2:
        raise ShapeError(f"{where}: logits must be (N, C), got shape {logits.shape}")
    y = backend.asarray(raw_index(labels, logits, where), logits.device)
    if y.shape != (logits.shape[0],):
        raise ShapeError(f"{where}: labels must have shape ({logits.shape[0]},) to match "
                         f"logits {logits.shape}, got {y.shape}")
    if y.dtype.kind not in "iu":
        raise DtypeError(f"{where}: labels must be integer class indices, got dtype {y.dtype}")
    if y.size and bool(((y < 0) | (y >= logits.shape[1])).any()):
        raise IndexError(f"{where}: labels must lie in [0, {logits.shape[1]}), got values "
                         f"from {int(y.min())} to {int(y.max())}")
    return y


def softmax(x, axis=-1):
    """e^x / sum e^x over `axis` (an int, a tuple, or None for all), shifted by the (constant)
    max."""
    x = lift(x)
    axis = reduction_axes("softmax", axis, x.shape)
    e = exp(x - Tensor(x.data.max(axis=axis, keepdims=True)))
    return e / sum(e, axis, keepdims=True)
