"""Shape: reshape, transpose, broadcast_to, concatenate. All linear: each is its own JVP, and
its VJP is the adjoint map (reshape back, the inverse permutation, sum, slice), which needs the
inputs' shapes only: the tape keeps no values (``saves=()``). Inside vmap each keeps the batch
axis in front: shapes gain it, axes move past it."""
import numpy as np

from .. import ops
from ..interpreter import LINEAR, Primitive, apply, unbroadcast
from .batching import batch_all, pad
from .rules import BROADCAST, array_module

reshape = Primitive("reshape", lambda x, shape: x.reshape(shape), jvp=LINEAR, saves=(),
                    shape_rule="the new shape must hold as many elements as the old",
                    vjp=(lambda g, out, x, shape: ops.reshape(g, x.shape),),
                    batch=lambda prim, xs, batched, shape:
                    apply(prim, xs[0], shape=xs[0].shape[:1] + shape))
transpose = Primitive("transpose", lambda x, axes: x.transpose(axes), jvp=LINEAR, saves=(),
                      shape_rule="axes must be a permutation of the input's axes",
                      vjp=(lambda g, out, x, axes: ops.transpose(g, *np.argsort(axes)),),
                      batch=lambda prim, xs, batched, axes:
                      apply(prim, xs[0], axes=(0,) + tuple(a + 1 for a in axes)))
broadcast_to = Primitive("broadcast_to", lambda x, shape: array_module(x).broadcast_to(x, shape),
                         jvp=LINEAR, shape_rule=BROADCAST, saves=(),
                         vjp=(lambda g, out, x, shape: unbroadcast(g, x.shape),),
                         batch=lambda prim, xs, batched, shape:
                         apply(prim, pad(xs[0], len(shape)), shape=xs[0].shape[:1] + shape))
concatenate = Primitive("concatenate", lambda *xs, axis: _concatenate(xs, axis),
                        jvp=LINEAR, shape_rule="every axis but the joined one must be equal",
                        saves=(),                  # shapes only: _piece
                        vjp=lambda i, g, out, *xs, axis: ops.getitem(g, _piece(xs, i, axis)),
                        batch=lambda prim, xs, batched, axis:
                        apply(prim, *batch_all(xs, batched), axis=axis + 1))


def _concatenate(xs, axis):
    """``concatenate`` into a C-ordered result. NumPy's own picks the inputs' memory order, so
    joining transposed views gives a strided result that every later reshape must copy; writing
    into a C-ordered ``out`` costs the same and keeps those reshapes views."""
    xp = array_module(xs[0])
    nd = xs[0].ndim
    ax = axis + nd if axis < 0 else axis
    if not 0 <= ax < nd or any(x.ndim != nd for x in xs):
        return xp.concatenate(xs, axis)               # let NumPy raise its own error
    shape = list(xs[0].shape)
    shape[ax] = int(np.sum([x.shape[ax] for x in xs], dtype=np.int64))
    out = xp.empty(tuple(shape), dtype=xp.result_type(*xs))
    return xp.concatenate(xs, axis, out=out)


def _piece(xs, i, axis):
    """The index of input i's block in concatenate's output."""
    start = int(np.sum([x.shape[axis] for x in xs[:i]], dtype=int))
    axis = axis % xs[0].ndim
    return (slice(None),) * axis + (slice(start, start + xs[i].shape[axis]),)
