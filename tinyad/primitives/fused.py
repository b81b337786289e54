"""Fused composites: log_softmax and the mean softmax cross-entropy, one node instead of many
for what every training step runs. Their rules are still written in tinyad ops. Inside vmap,
log_softmax's axis moves past the batch axis, and the cross-entropy of a batch of logits
(B, N, C) is the composite ``ops.rows_cross_entropy``, each example's mean over its own rows.

The cross-entropy's kernel (``kernels.softmax_xent``) gives the loss and its gradient
(softmax - onehot) / N in one call: when the tape records, the gradient is kept as the node's
residual and a backward pass that is not itself recorded scales it by g; a recorded one
differentiates the formula in ``_xent_grad`` (so the logits are kept too: N x C, small)."""
from .. import kernels, ops, tape
from ..interpreter import Primitive
from ..node import OUT
from .batching import along_axis
from .rules import array_module, const

log_softmax = Primitive(              # out = x - logsumexp(x); softmax = e^out, along `axis`
    "log_softmax", lambda x, axis: _log_softmax(x, axis), saves=(OUT,),
    jvp=(lambda t, out, x, axis: t - ops.sum(ops.exp(out) * t, axis, keepdims=True),),
    vjp=(lambda g, out, x, axis: g - ops.exp(out) * ops.sum(g, axis, keepdims=True),),
    batch=along_axis)
cross_entropy = Primitive(            # out = mean_n (logsumexp(z[n]) - z[n, y_n]); NaN for N = 0
    "cross_entropy", lambda z, labels: _cross_entropy(z, labels)[0], saves=(0,),
    forward=lambda z, labels: _cross_entropy(z, labels),
    jvp=(lambda t, out, z, labels: ops.sum(t * _xent_grad(z, labels)),),
    vjp=(lambda g, out, z, labels, residual=None:
         g * (const(residual) if residual is not None else _xent_grad(z, labels)),),
    batch=lambda prim, zs, batched, labels: ops.rows_cross_entropy(zs[0], _onehot(zs[0], labels)),
    shape_rule="logits (N, C) and integer labels (N,) in [0, C)")


def _onehot(z, labels):
    return ops.one_hot(labels, z.shape[-1], z.dtype)


def _xent_grad(z, labels):
    """d out / dz = (softmax(z) - onehot(labels)) / N, (N, C) (empty when N = 0). A constant from
    ``kernels.softmax_xent`` when nothing will differentiate it again (as for the activations);
    otherwise written in tinyad ops, exact to any order."""
    if z._level < 0 and not (tape.recording() and z._requires_grad):
        return const(kernels.softmax_xent(z._data, labels, labels_checked=True)[1])
    return (ops.exp(ops.log_softmax(z, -1)) - _onehot(z, labels)) * (1.0 / max(z.shape[0], 1))


def _log_softmax(x, axis):
    """(x - m) - log sum e^(x - m), m = max x: no exponential overflows."""
    xp = array_module(x)
    s = x - x.max(axis=axis, keepdims=True)
    return s - xp.log(xp.exp(s).sum(axis=axis, keepdims=True))


def _cross_entropy(z, labels):
    """(mean over rows of lse - z[n, y_n], its gradient by z) from kernels.softmax_xent; the
    loss is NaN over no rows (the mean of nothing, as NumPy, PyTorch and JAX say). The labels
    were checked by the wrapper (ops.softmax_cross_entropy)."""
    return kernels.softmax_xent(z, labels, labels_checked=True)

