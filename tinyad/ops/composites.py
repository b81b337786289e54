"""Composites used by models: logsumexp, softmax, and the wrappers of the fused log_softmax and
mean softmax cross-entropy."""
from .. import primitives as P
from ..batching import constant
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
    ``mean_n (logsumexp(z[n]) - z[n, labels[n]])`` for logits z (N, C), N >= 1, and integer
    labels (N,) in [0, C), moved to z's device. Checked inputs: nn.functional.cross_entropy."""
    z = lift(logits)
    if isinstance(labels, Tensor) and labels._batch_axes:      # labels that vary inside vmap
        return rows_cross_entropy(z, one_hot(labels, z.shape[-1], z.dtype))
    return apply(P.cross_entropy, z, labels=raw_index(labels, z._xp))


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
