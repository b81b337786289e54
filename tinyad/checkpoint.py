"""``ad.checkpoint(f)`` (alias ``ad.remat``): keep f's output, recompute its inside when needed.

Reverse mode keeps every intermediate a VJP rule will read until the backward pass reaches it:
a deep network's activations, layer after layer. ``checkpoint(f)`` runs f without keeping them
and puts one node on the tape for the whole call (calls.py); when the backward pass reaches that
node it runs f again, this time recording, and backpropagates through the fresh recording:

    memory  O(outputs of the checkpointed calls + the intermediates of one call at a time)
    time    one extra forward pass of f per backward pass

Segments of √L layers of an L-layer network keep O(√L) activations instead of O(L) (Chen et
al. 2016, "Training deep nets with sublinear memory cost"). bench/bench_memory.py measures it.

Values and derivatives are those of f, to every order: inside a recorded backward pass (grad of
grad) the recomputation stays connected to the inputs, so the next derivative goes through it.
Tensors f closes over (a layer's parameters) are found and become inputs of the node. Forward
mode stores nothing anyway: with dual numbers among the inputs, f simply runs. f must compute the
same values when run again (no fresh random draws such as dropout masks inside): a mismatch is
an error.
"""
import functools

from . import tape, tree
from .batching import constant
from .calls import (Outputs, arguments_read, carries_tangent, check_batch_levels, clock,
                    closed_over, differentiated, one_node, stand_in, tensors_at)
from .errors import BatchingError, GradError
from .tensor import Tensor
from .vmap import vmap


def checkpoint(f):
    """f, recomputed in the backward pass instead of storing its intermediates; same values and
    derivatives as f. Usable as a decorator."""
    name = f"checkpoint[{getattr(f, '__name__', 'f')}]"

    @functools.wraps(f)
    def wrapped(*args):
        leaves, treedef = tree.flatten(args)
        tensors = list({id(x): x for x in leaves if isinstance(x, Tensor)}.values())
        if not tape.recording() or any(carries_tangent(x) for x in tensors):
            return f(*args)
        plain = [constant(x) if isinstance(x, Tensor) else x for x in leaves]
        since = clock()
        with arguments_read() as read:
            out = f(*treedef.unflatten(plain))  # records only what depends on a closure
        outputs = Outputs(out, name)
        out_leaves = [o for o in tree.leaves(out) if isinstance(o, Tensor)]
        if any(carries_tangent(o) for o in out_leaves):
            return f(*args)                     # closes over a dual number: nothing to save
        check_batch_levels(out_leaves, tensors, name)
        captured = tensors_at(closed_over(out_leaves, since), read, name)
        tracked = [x for x in tensors if differentiated(x)]
        del out, out_leaves                     # the recording of this run can go now
        if not tracked + captured:
            return outputs.tree()
        inputs = tensors + [x for x in captured if all(x is not t for t in tensors)]

        def cotangents(args, g, joined):
            outer = tape.recording()
            own = {id(x): stand_in(x, outer, True) for x in tracked}
            with tape.enable_grad():
                again = f(*treedef.unflatten([own.get(id(x), x) for x in leaves]))
                floats = outputs.check(again, "f run again")
                _check_same(floats, outputs, name)
                cts = tape.grad_of(floats, list(own.values()) + captured, outputs.split(g),
                                   create_graph=outer)
            total = {}                          # a tensor both passed and closed over: add up
            for x, ct in zip(tracked + captured, cts):
                total[id(x)] = total[id(x)] + ct if id(x) in total else ct
            return [total.get(id(x)) for x in inputs]

        def mapped(values, batched):
            """The call on a batch's values (its node's batching rule): f vmapped over the
            arguments' tensors, checkpointed (closures stay closures: they are not batched)."""
            def on_tensors(*ts):
                given = dict(zip(map(id, tensors), ts))
                return f(*treedef.unflatten([given.get(id(x), x) for x in leaves]))
            if any(batched[len(tensors):]):
                raise BatchingError(f"{name}: f uses a tensor batched by vmap without receiving "
                                    "it as an argument (a closure); pass it as an argument")
            axes = tuple(0 if b else None for b in batched[:len(tensors)])
            return checkpoint(vmap(on_tensors, in_axes=axes))(*values[:len(tensors)])
        return one_node(name, inputs, outputs, cotangents, mapped=mapped)
    return wrapped


remat = checkpoint


def _check_same(again, outputs, name):
    """f run again must give the values it gave the first time."""
    for new, k in zip(again, outputs.floats):
        first = outputs.leaves[k]
        if not first._xp.allclose(new._data, first._data, rtol=1e-4, atol=1e-6, equal_nan=True):
            raise GradError(f"{name}: f gave different values when run again in the backward "
                            "pass (random draws such as dropout inside it?); checkpoint needs f "
                            "to be deterministic")
