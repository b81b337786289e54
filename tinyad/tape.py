"""Reverse mode: the tape, and the backward pass that reads it from the end.

When a primitive runs on an input that requires a gradient, ``apply`` attaches a ``Node`` to the
output: the primitive, its inputs (the values its VJP rules need) and its parameters. Nodes are
numbered as they are created, so the numbers form a Wengert list: every node's inputs were made
before it. The backward pass therefore needs no recursion: collect the nodes reachable from the
output, sort them by number, newest first, and visit each exactly once, after every node that
consumed its output has passed its cotangent down:

    grads[out] = seed
    for node in reversed(topological order):
        for each input x_i that requires a gradient:
            grads[x_i] += fit_cotangent(vjp_i(grads[node's output], ...), x_i)

(``Primitive.cotangent`` applies the VJP rule and the fitting, which sums away broadcast axes:
interpreter.py.)
"""
import itertools

from . import backend, modes
from .errors import GradError, ShapeError
from .tensor import Tensor, ones_like, zeros_like

_counter = itertools.count()   # Wengert numbers: one count for all threads, so they only grow


def recording():
    """True while operations are written to the tape (outside ``no_grad``), in this thread or
    asyncio task (modes.py)."""
    return modes.current().recording


def _recording(flag):
    return modes.entered("grad_modes", flag)


def no_grad():
    """``with ad.no_grad(): ...`` runs operations without recording them (in this thread or
    task only)."""
    return _recording(False)


def enable_grad():
    """Record again inside a ``no_grad`` block."""
    return _recording(True)


def is_grad_enabled():
    return recording()


class Node:
    """One recorded primitive application: ``out = prim(*inputs, **params)``."""
    __slots__ = ("prim", "inputs", "params", "index", "shapes")

    def __init__(self, prim, inputs, params):
        self.prim, self.inputs, self.params = prim, inputs, params
        self.index = next(_counter)
        self.shapes = None            # filled in when the node is freed, for error messages

    def free(self):
        self.shapes = [x.shape for x in self.inputs]   # formatted only on error
        self.inputs = None

    def __repr__(self):
        return f"<node #{self.index} {self.prim.name}>"


def backward(out, gradient=None, retain_graph=False, create_graph=False):
    """``out.backward(gradient)``: add d<gradient, out>/d leaf to ``leaf.grad`` for every leaf."""
    seed = _seed(out, gradient, "backward")
    if not out._requires_grad:
        raise GradError(f"backward: the tensor of shape {out.shape} does not require a gradient "
                        "(no input had requires_grad=True, or it was made under no_grad)")
    grads, leaves = _run([out], [seed], (), retain_graph, create_graph)
    for key, leaf in leaves.items():
        g = grads.get(key)
        if g is None:
            continue
        if not create_graph:
            g = g.detach()
        leaf.grad = g if leaf.grad is None else _accumulate(leaf.grad, g, create_graph)


def _accumulate(old, new, create_graph):
    if create_graph:
        return old + new
    with no_grad():
        return old + new


def grad_of(outputs, inputs, gradients, retain_graph=False, create_graph=None):
    """The cotangents of `inputs` for cotangents `gradients` of `outputs`, leaving ``.grad`` alone
    (like ``torch.autograd.grad``). Inputs the outputs do not depend on get zeros.

    ``create_graph=None`` records the backward pass only when something outside `inputs` requires
    a gradient (an outer ``grad``), so nested transforms stay differentiable and plain ones fast.
    """
    seeds = [_seed(o, g, "grad") for o, g in zip(outputs, gradients)]
    roots = [o for o in outputs if o._requires_grad]
    seeds = [s for o, s in zip(outputs, seeds) if o._requires_grad]
    grads, _ = _run(roots, seeds, inputs, retain_graph, create_graph)
    result = []
    for x in inputs:
        g = grads.get(id(x))
        result.append(g if g is not None else zeros_like(x.primal))
    return tuple(result)


def _seed(out, gradient, where):
    if gradient is None:
        if out.size != 1:
            raise GradError(f"{where}: output has shape {out.shape}; a gradient can be created "
                            "implicitly only for a single-element output: pass gradient= (the "
                            "seed cotangent, same shape as the output)")
        return ones_like(out.primal)
    if not isinstance(gradient, Tensor):                # a raw array: on the output's device
        gradient = Tensor(backend.asarray(gradient, out.device, out.dtype))
    if gradient.shape != out.shape:
        raise ShapeError(f"{where}: gradient shape {gradient.shape} must equal the output shape "
                         f"{out.shape}")
    return gradient


def _run(roots, seeds, stops, retain_graph, create_graph):
    """The backward pass. Returns cotangents by id(tensor) and the leaves reached, by id."""
    stop_ids = {id(x) for x in stops}
    order, ends = walk(roots, stop_ids)
    if create_graph is None:
        create_graph = recording() and _watched(ends, stop_ids)
    retain_graph = retain_graph or create_graph   # a recorded backward pass reads the graph
    grads = {}
    for r, s in zip(roots, seeds):
        _add(grads, r, s)
    with _recording(create_graph):
        for t in order:
            g = grads.pop(id(t), None)       # every consumer of t has passed its share down
            node = t._node
            if g is not None:
                for i, x in enumerate(node.inputs):
                    if x._requires_grad:
                        gi = node.prim.cotangent(i, g, t, node.inputs, node.params)
                        _add(grads, x, gi)
            if not retain_graph:
                node.free()
    return grads, {id(t): t for t in ends if t._requires_grad}


def outer_tracked(roots, stops):
    """True when `roots` depend on a tensor that an outer transform differentiates: a tensor that
    requires a gradient other than `stops`, a stop that is itself computed from one, or a dual
    number whose primal or tangent is on the tape (reverse over forward over reverse)."""
    stop_ids = {id(x) for x in stops}
    return _watched(walk(roots, stop_ids)[1], stop_ids)


def walk(roots, stop_ids=frozenset()):
    """The tape behind `roots`: the recorded tensors reachable from them, newest node first (the
    order backward visits them), and the tensors where the walk ended (leaves, constants, and
    the tensors in `stop_ids`), in the order first reached, inputs left to right."""
    seen, recorded, ends = set(), [], []
    stack = list(roots)
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        node = t._node
        if node is None or id(t) in stop_ids:
            ends.append(t)
            continue
        if node.inputs is None:
            raise GradError(
                f"backward through a freed graph: node #{node.index} '{node.prim.name}' (inputs "
                f"{', '.join(map(str, node.shapes))} -> {t.shape}) was freed by backward(); "
                "pass retain_graph=True to the first backward() to go through the graph twice")
        recorded.append(t)
        stack.extend(reversed(node.inputs))
    recorded.sort(key=lambda t: t._node.index, reverse=True)
    return recorded, ends


def _watched(ends, stop_ids):
    """Whether an outer transform is watching (see ``outer_tracked``), from where a walk ended."""
    for t in ends:
        stop = id(t) in stop_ids
        if (t._requires_grad and not stop) or (stop and t._node is not None) or _tracked_below(t):
            return True
    return False


def _tracked_below(t):
    """A dual number whose primal or tangent, or a batch whose values, are on the tape (at any
    lower level)."""
    parts = t._parts() if t._level >= 0 else ()
    return any(p._requires_grad or _tracked_below(p) for p in parts)


def _add(grads, x, g):
    key = id(x)
    old = grads.get(key)
    grads[key] = g if old is None else old + g
