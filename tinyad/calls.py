"""A whole function call as one node on the tape, with a VJP of our choosing.

custom_jvp, custom_vjp (custom.py) and checkpoint (checkpoint.py) all run a function f once,
then put ONE node on the tape for the call, ``out = call(*inputs)``, whose cotangents come from
a rule instead of from f's own operations: the transposed JVP rule, the user's ``bwd``, or
f run again. The node is an ordinary primitive made for this one call (``register=False`` keeps
it out of the table): its computation hands back the output f already produced, and its VJP is
one function for all inputs, evaluated once per cotangent.

The primitive has one output tensor, so f's float outputs (a pytree) are joined into one vector
for the node and taken apart again after it (a single output goes through unchanged).

Tensors f uses without receiving them as arguments (a closure) are found by walking back from
its outputs over the nodes recorded while it ran (``recorded_since``: Wengert numbers tell them
from older nodes), so a gradient cannot be lost without an error. The tape leads to the nodes
behind them, not to the tensors (node.py); the tensors themselves are those f's operations read
(``arguments_read``).

Inside vmap the node's batching rule runs the call again on the batches' values with f and its
rules mapped by vmap (``mapped``): the same kind of call, one level down, so a derivative taken
outside the vmap still goes through the rule.
"""
from contextlib import contextmanager
from operator import attrgetter

import numpy as np

from . import modes, tape, tree
from .backend import FLOATS
from .batching import Batched, levels_of
from .dual import Dual
from .errors import BatchingError, GradError, ShapeError
from .node import Node
from .ops import concatenate, identity, lift, reshape
from .interpreter import Primitive, apply
from .tape import vertex
from .tensor import Tensor, zeros_like
from .transforms import as_tensor


class Outputs:
    """The structure, shapes and dtypes of f's output tree, remembered without its values' tape.
    Float leaves are joined into one tensor for the node; the others are constants."""

    def __init__(self, out, where):
        leaves, self.treedef = tree.flatten(out)
        self.where = where
        self.leaves = [as_tensor(o, where, "an output").detach() for o in leaves]
        self.floats = [k for k, o in enumerate(self.leaves) if o.dtype in FLOATS]
        self.shapes = [self.leaves[k].shape for k in self.floats]
        self.dtypes = [self.leaves[k].dtype for k in self.floats]
        self.sizes = [self.leaves[k].size for k in self.floats]

    def joined_data(self):
        """The float leaves' values as one array: the one leaf's, or all raveled and joined."""
        datas = [self.leaves[k]._data for k in self.floats]
        if len(datas) == 1:
            return datas[0]
        xp = self.leaves[self.floats[0]]._xp
        return xp.concatenate([d.reshape(-1) for d in datas]).astype(np.result_type(*self.dtypes))

    def join(self, parts, batched=False):
        """Tensors, one per float leaf, as one tensor laid out as ``joined_data`` (after a leading
        batch axis, for `batched` parts)."""
        if len(parts) == 1:
            return parts[0]
        lead = (parts[0].shape[0],) if batched else ()
        return concatenate([reshape(p, *lead, -1) for p in parts], axis=len(lead))

    def split(self, joined):
        """The inverse of ``join``: one tensor per float leaf, in its shape and dtype."""
        if len(self.floats) == 1:
            return [joined]
        parts, start = [], 0
        for shape, dtype, size in zip(self.shapes, self.dtypes, self.sizes):
            part = reshape(joined[start:start + size], *shape)
            parts.append(part if part.dtype == dtype else part.astype(dtype))
            start += size
        return parts

    def tree(self, float_parts=None, constants=True):
        """The output tree, with `float_parts` (default: the values f gave) at the float leaves,
        and the other leaves as f gave them (`constants`) or zeros (in a cotangent)."""
        leaves = [o if constants else zeros_like(o) for o in self.leaves]
        for k, part in zip(self.floats, float_parts or []):
            leaves[k] = part
        return self.treedef.unflatten(leaves)

    def check(self, other, what):
        """The float leaves of `other` (a tree that must match the output: a rule's tangent or a
        recomputed output), lifted to tensors; an error naming `what` otherwise."""
        leaves = tree.flatten_as(self.treedef, other, f"{self.where}: {what}")
        floats = [lift(leaves[k], self.leaves[k]) for k in self.floats]
        for x, shape in zip(floats, self.shapes):
            if x.shape != shape:
                raise ShapeError(f"{self.where}: {what} has shape {x.shape} where the output has "
                                 f"shape {shape}")
        return floats


def one_node(name, inputs, outputs, cotangents, tangent=None, mapped=None):
    """``outputs``' float leaves, computed, as the result of one node ``name(*inputs)``.

    ``cotangents(args, g, out)`` gives every input's cotangent at once (a list; None for zero)
    for the cotangent g of the joined output; ``tangent(i, t, args)`` the joined output's
    tangent due to input i (forward mode), or None where forward mode is not allowed;
    ``mapped(values, batched)`` the output tree of the call mapped over a batch (vmap), given
    the inputs' values, batch axis first where batched."""
    if not outputs.floats:
        return outputs.tree()               # nothing to differentiate
    data = outputs.joined_data()
    cache = {}

    def vjp(i, g, out, *args):
        if cache.get("g") is not g:
            cache.update(g=g, cts=cotangents(args, g, out),
                         left={k for k, a in enumerate(args) if a._requires_grad})
        ct = cache["cts"][i]
        cache["left"].discard(i)
        if not cache["left"]:
            cache.clear()                    # every input served: let the cotangents go
        return ct if ct is not None else zeros_like(args[i])

    def forward_rule(i):
        if tangent is None:
            def refuse(t, out, *args):
                raise GradError(f"{name}: forward mode (jvp, jacfwd, hessian) is not defined here")
            return refuse
        return lambda t, out, *args: tangent(i, t, args)

    def batch(prim, values, batched):
        leaves = tree.leaves(mapped(values, batched))
        return outputs.join([leaves[k] for k in outputs.floats], batched=True)

    rules = tuple(forward_rule(i) for i in range(len(inputs)))
    prim = Primitive(name, lambda *datas: data, jvp=rules, vjp=vjp, batch=batch, register=False)
    joined = apply(prim, *inputs)
    return outputs.tree(outputs.split(joined))


def differentiated(x):
    """Whether x takes part in a derivative: on the tape (while it records) or carrying a
    tangent, at any level of its tower (a batch of values on an outer tape, say)."""
    recording = tape.recording()
    while True:
        if isinstance(x, Dual) or (recording and x._requires_grad):
            return True
        if not isinstance(x, Batched):
            return False
        x = x.value


def carries_tangent(x):
    """Whether x is, or holds at a lower level, a dual number."""
    while x._level >= 0:
        if isinstance(x, Dual):
            return True
        x = x.value
    return False


def check_unbatched(values, what, name):
    """`values` the call does not receive as inputs (non-differentiated arguments) cannot vary
    across a vmap's batch: the mapped call could not tell the examples apart."""
    for x in values:
        if isinstance(x, Tensor) and levels_of(x):
            raise BatchingError(f"{name}: {what} of shape {x.shape} varies across a vmap batch; "
                                "pass it as a differentiable argument instead")


def check_batch_levels(outs, inputs, name):
    """f's outputs may vary across a vmap's batch only where an input does: otherwise f uses a
    batched tensor it does not receive (a closure), which the mapped call cannot see."""
    given = set().union(*(levels_of(x) for x in inputs))
    for o in outs:
        if set(levels_of(o)) - given:
            raise BatchingError(f"{name} uses a tensor batched by vmap without receiving it as an "
                                "argument (a closure); pass it as an argument")


def clock():
    """The tape's next Wengert number: every node recorded from now on has this number or more."""
    with tape.enable_grad():
        return identity(Tensor(np.zeros(()), requires_grad=True))._node.index + 1


def recorded_since(roots, since, stops=()):
    """What tensors `roots` were computed from since Wengert number `since`: (the nodes recorded
    since then, oldest first; the vertices where the walk left them: older nodes, and leaves
    that require a gradient). The vertices of `stops` are neither followed nor listed."""
    seen = {id(vertex(s)) for s in stops}
    made, older, stack = [], [], [vertex(r) for r in roots]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if type(v) is not Node or v.index < since or v.inputs is None:
            older.append(v)
            continue
        made.append(v)
        stack.extend(p for p in v.parents if p is not None)
    made.sort(key=attrgetter("index"))
    return made, older


def closed_over(roots, since, stops=()):
    """The vertices (nodes, or leaves) behind tensors requiring a gradient that a function which
    ran since `since` used without receiving them as `stops`: its closure, as far as
    differentiation is concerned."""
    return [v for v in recorded_since(roots, since, stops)[1]
            if type(v) is Node or v._requires_grad]


@contextmanager
def arguments_read():
    """Within the block, {id(vertex): tensor} of the tensors requiring a gradient that
    operations read (in this thread or task): the tensors behind ``closed_over``'s vertices."""
    read = {}

    def observe(prim, args, params, out):
        for a in args:
            if a._requires_grad:
                read.setdefault(id(vertex(a)), a)
    with modes.entered("observers", observe):
        yield read


def tensors_at(vertices, read, where):
    """The tensors behind `vertices` (``closed_over``): a leaf is its own; a node's is the tensor
    an operation read (``arguments_read``)."""
    found = []
    for v in vertices:
        t = v if type(v) is not Node else read.get(id(v))
        if t is None:
            raise GradError(f"{where}: the function used a value computed outside it (node "
                            f"#{v.index} '{v.prim.name}') that none of its operations read in this "
                            "thread; pass it as an argument")
        found.append(t)
    return found


def stand_in(x, outer, differentiate):
    """Input x for a rule run again inside a backward pass: connected to x (``identity``) when
    that backward pass is itself recorded (`outer`: a higher derivative will differentiate the
    rule's result), else a fresh tensor on x's values (a dual keeps its tangent) that requires a
    gradient if we `differentiate` with respect to it."""
    if outer and x._requires_grad:
        return identity(x)
    fresh = x.detach()
    fresh._requires_grad = differentiate and x.dtype in FLOATS
    return fresh
