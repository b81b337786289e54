"""Reductions: sum (linear) and max (its derivative goes to the maximal entries, split evenly
between ties). `axis` is None or a sorted tuple of non-negative axes (ops checks it)."""
from .. import ops
from ..interpreter import LINEAR, Primitive
from ..node import OUT
from .rules import array_module, constant_of

sum = Primitive("sum", lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims), jvp=LINEAR,
                saves=(), vjp=(lambda g, out, x, axis, keepdims: ops.expand_to(g, x.shape, axis),))
max = Primitive("max", lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
                saves=(0, OUT),
                jvp=(lambda t, out, x, axis, keepdims:
                     ops.sum(t * _argmax_mask(x, out, axis), axis, keepdims),),
                vjp=(lambda g, out, x, axis, keepdims:
                     ops.expand_to(g, x.shape, axis) * _argmax_mask(x, out, axis),))


def _argmax_mask(x, out, axis):
    """Where x attains its max along `axis`, split evenly between ties: 1/k on each of k tied
    entries, 0 elsewhere (x's shape; locally constant, rules.constant_of)."""
    xd, od = x.data, out.data
    if od.ndim != xd.ndim and axis is not None:
        od = array_module(od).expand_dims(od, axis)
    hit = (xd == od).astype(xd.dtype)
    return constant_of(hit / hit.sum(axis=axis, keepdims=True), out)
