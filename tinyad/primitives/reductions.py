"""Reductions: sum (linear) and max (its derivative goes to the maximal entries, split evenly
between ties). `axis` is None or a sorted tuple of non-negative axes (ops checks it). Inside
vmap the reduced axes move one place right, past the batch axis."""
from .. import ops
from ..batching import constant, map_arrays
from ..interpreter import LINEAR, Primitive
from ..node import OUT
from .batching import reduction
from .rules import constant_of

sum = Primitive("sum", lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims), jvp=LINEAR,
                saves=(), vjp=(lambda g, out, x, axis, keepdims: ops.expand_to(g, x.shape, axis),),
                batch=reduction)
max = Primitive("max", lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
                saves=(0, OUT),
                jvp=(lambda t, out, x, axis, keepdims:
                     ops.sum(t * _argmax_mask(x, out, axis), axis, keepdims),),
                vjp=(lambda g, out, x, axis, keepdims:
                     ops.expand_to(g, x.shape, axis) * _argmax_mask(x, out, axis),),
                batch=reduction)


def _argmax_mask(x, out, axis):
    """Where x attains its max along `axis`, split evenly between ties: 1/k on each of k tied
    entries, 0 elsewhere (x's shape; locally constant, rules.constant_of)."""
    kept = tuple(1 if axis is None or i in axis else n for i, n in enumerate(x.shape))
    top = ops.reshape(constant(out), *kept)                     # the max, beside its axis
    dtype = x.dtype
    hit = map_arrays(lambda x, top: (x == top).astype(dtype), x, top)
    return constant_of(hit / ops.sum(hit, axis, keepdims=True), out)
