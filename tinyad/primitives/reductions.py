"""Reductions: sum (linear) and max (its derivative goes to the maximal entries, split evenly
between ties). `axis` is None or a sorted tuple of non-negative axes (ops checks it)."""
from .. import ops
from ..interpreter import LINEAR, Primitive

sum = Primitive("sum", lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims), jvp=LINEAR,
                vjp=(lambda g, out, x, axis, keepdims: ops.expand_to(g, x.shape, axis),))
max = Primitive("max", lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
                jvp=(lambda t, out, x, axis, keepdims:
                     ops.sum(t * ops.argmax_mask(x, out, axis), axis, keepdims),),
                vjp=(lambda g, out, x, axis, keepdims:
                     ops.expand_to(g, x.shape, axis) * ops.argmax_mask(x, out, axis),))
