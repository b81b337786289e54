"""Building blocks of batching rules: how a primitive runs on a whole batch at once (vmap).

A rule ``batch(prim, values, batched, **params)`` gets the inputs, ``values[i]`` with the batch
axis first where ``batched[i]`` and as it is where not (shared by every example), and returns the
output for the whole batch, batch axis first. Rules apply primitives (usually `prim` itself, with
the batch axis accounted for in the arrangement or the parameters), so they are differentiable:
vmap of grad and grad of vmap go through them.

    broadcasting      elementwise primitives, and matmul (its leading axes broadcast): line the
                      batch axes up, length-1 axes for the rest; the primitive broadcasts
    reduction         sum, max: the reduced axes move one place right
    along_axis        one axis parameter (log_softmax, the cumulative ops): it moves one place right
    batch_all         every input batched (a shared one broadcast along the batch): concatenate
    images            (B, N, ...) batches of images as one batch of B·N (pooling, convolution)
    per_example       the last resort: the primitive once per example, stacked (B applications)

Adding a primitive: an elementwise one made by ``rules.elementwise`` gets ``broadcasting``
automatically; any other passes ``batch=`` one line, usually `prim` applied to the values with
the axes or parameters shifted past the batch axis (see shape.py, reductions.py).
"""
from ..interpreter import PRIMITIVES, apply


def broadcasting(prim, values, batched, **params):
    """NumPy broadcasting lines axes up from the right, so a batched input gets length-1 axes
    after its batch axis up to the largest example rank: (B, 3) with (2, 3) becomes (B, 1, 3)
    with (2, 3), and each example meets the whole of the shared input, as it would alone."""
    rank = max(v.ndim - b for v, b in zip(values, batched))
    return apply(prim, *(pad(v, rank) if b else v for v, b in zip(values, batched)), **params)


def pad(v, rank):
    """A batch (B, *s) as (B, 1, ..., 1, *s) with `rank` axes after the batch axis."""
    missing = rank + 1 - v.ndim
    if missing <= 0:
        return v
    return apply(PRIMITIVES["reshape"], v, shape=v.shape[:1] + (1,) * missing + v.shape[1:])


def batch_all(values, batched):
    """Every input as a batch: the shared ones broadcast along the batch axis (a view, no copy)."""
    size = values[batched.index(True)].shape[0]
    return [v if b else apply(PRIMITIVES["broadcast_to"],
                              apply(PRIMITIVES["reshape"], v, shape=(1,) + v.shape),
                              shape=(size,) + v.shape)
            for v, b in zip(values, batched)]


def shifted(axis, ndim):
    """An example's reduction axes (None: all of them) as axes of the batch, (B, ...) of `ndim`
    axes: each moves one place right, and the batch axis is never reduced."""
    return tuple(range(1, ndim)) if axis is None else tuple(a + 1 for a in axis)


def reduction(prim, values, batched, axis, keepdims):
    (x,) = values
    return apply(prim, x, axis=shifted(axis, x.ndim), keepdims=keepdims)


def along_axis(prim, values, batched, axis):
    """A primitive along one example axis: in the batch that axis is one place right."""
    return apply(prim, values[0], axis=axis + 1)


def moved_to_front(x, position):
    """The batch axis, found at `position`, moved back to the front."""
    if position == 0:
        return x
    axes = (position,) + tuple(a for a in range(x.ndim) if a != position)
    return apply(PRIMITIVES["transpose"], x, axes=axes)


def images(prim, values, batched, **params):
    """Batches of images (B, N, ...) as one batch of B·N, and the result back to (B, N, ...):
    for a primitive that treats its leading axis as independent images, every input with one."""
    values = batch_all(values, batched)
    size, n = values[0].shape[:2]
    reshape = PRIMITIVES["reshape"]
    out = apply(prim, *(apply(reshape, v, shape=(size * n,) + v.shape[2:]) for v in values),
                **params)
    return apply(reshape, out, shape=(size, n) + out.shape[1:])


def per_example(prim, values, batched, **params):
    """The rule of last resort: the primitive applied to each example, the results stacked along
    a new batch axis (B applications: right for any primitive, fast for none)."""
    size = values[batched.index(True)].shape[0]
    getitem, reshape = PRIMITIVES["getitem"], PRIMITIVES["reshape"]
    outs = [apply(prim, *(apply(getitem, v, index=i) if b else v
                          for v, b in zip(values, batched)), **params) for i in range(size)]
    return apply(PRIMITIVES["concatenate"], *(apply(reshape, o, shape=(1,) + o.shape)
                                              for o in outs), axis=0)
