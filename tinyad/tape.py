"""Reverse mode: the tape, and the backward pass that reads it from the end.

When a primitive runs on an input that requires a gradient, ``apply`` records the application:
a ``Node`` on the output (node.py) that points to its inputs' nodes (or to the leaf
tensors, for parameters) and keeps only the values its VJP rules read. Nodes are numbered as they
are created, so the numbers form a Wengert list: every node's inputs were made before it. The
backward pass therefore needs no recursion: collect the nodes reachable from the output, sort them
by number, newest first, and visit each exactly once, after every node that consumed its output
has passed its cotangent down:

    grads[out's node] = seed
    for node in reversed(topological order):
        for each parent p_i (the node or leaf behind input i that requires a gradient):
            grads[p_i] += fit_cotangent(vjp_i(grads[node], ...), x_i)

(``Node.cotangents`` runs the VJP rules on the saved values; ``Primitive.cotangent`` applies one
and the fitting, which sums away broadcast axes: interpreter.py.) Cotangents are kept per node,
not per tensor, so the tensors of the forward pass can be freed while their nodes wait.
"""
from operator import attrgetter

from . import backend, modes
from .errors import GradError, ShapeError
from .node import Node, tracked_below
from .tensor import Tensor, ones_like, zeros_like


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


def vertex(t):
    """Where the backward pass meets tensor t: the node that computed it, or t itself (a leaf)."""
    node = t._node
    return t if node is None else node


def backward(out, gradient=None, retain_graph=False, create_graph=False):
    """``out.backward(gradient)``: add d<gradient, out>/d leaf to ``leaf.grad`` for every leaf."""
    seed = _seed(out, gradient, "backward")
    if not out._requires_grad:
        raise GradError(f"backward: the tensor of shape {out.shape} does not require a gradient "
                        "(no input had requires_grad=True, or it was made under no_grad)")
    grads, leaves = _run([out], [seed], (), retain_graph, create_graph)
    for leaf in leaves:
        g = grads.get(leaf)
        if g is None:
            continue
        if not create_graph:
            g = g.detach()
        leaf._grad = g if leaf._grad is None else _accumulate(leaf._grad, g, create_graph)


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
    found = reached(outputs, inputs, gradients, retain_graph, create_graph, "grad")
    return tuple(g if g is not None else zeros_like(x.primal) for g, x in zip(found, inputs))


def reached(outputs, inputs, gradients, retain_graph, create_graph, where):
    """``grad_of``'s cotangents, None for each input the outputs do not depend on."""
    seeds = [_seed(o, g, where) for o, g in zip(outputs, gradients)]
    roots = [o for o in outputs if o._requires_grad]
    seeds = [s for o, s in zip(outputs, seeds) if o._requires_grad]
    grads, _ = _run(roots, seeds, inputs, retain_graph, create_graph)
    return [grads.get(vertex(x)) for x in inputs]


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
    """The backward pass. Returns the cotangents by vertex (a node, or a leaf: keys by
    identity) and the leaves reached."""
    nodes, ends = walk(roots, stops)
    if create_graph is None:
        create_graph = recording() and _watched(nodes, ends, {vertex(x) for x in stops})
    retain_graph = retain_graph or create_graph   # a recorded backward pass reads the graph
    grads = {}
    for r, s in zip(roots, seeds):
        _add(grads, vertex(r), s)
    with _recording(create_graph):
        for node in nodes:
            g = grads.pop(node, None)        # every consumer of the output has passed its share
            if g is not None:
                if node.extra is not None:
                    _retain(node.retained(), g, create_graph)
                for parent, share in node.cotangents(g):
                    old = grads.get(parent)
                    grads[parent] = share if old is None else old + share
            if not retain_graph:
                node.free()
    return grads, [t for t in ends if t._requires_grad]


def outer_tracked(roots, stops):
    """True when `roots` depend on a tensor that an outer transform differentiates: a tensor that
    requires a gradient other than `stops`, a stop that is itself computed from one, or a dual
    number whose primal or tangent is on the tape (reverse over forward over reverse)."""
    nodes, ends = walk(roots, stops)
    return _watched(nodes, ends, {vertex(x) for x in stops})


def walk(roots, stops=()):
    """The tape behind tensors `roots`: the nodes reachable from them, newest first (the order
    backward visits them), and the tensors where the walk ended (leaves that require a gradient,
    and the tensors in `stops`), in the order first reached, inputs left to right. (Nodes and
    tensors are kept in sets and dicts by identity: neither defines an equality of its own
    that these would call.)"""
    stop = {vertex(s): s for s in stops}
    seen, nodes, ends = set(), [], []
    stack = [vertex(r) for r in reversed(roots)]
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if type(v) is not Node or v in stop:
            ends.append(stop.get(v, v))
            continue
        if v.inputs is None:
            shapes = ", ".join(str(p.shape) if p is not None else "a constant" for p in v.parents)
            raise GradError(
                f"backward through a freed graph: node #{v.index} '{v.prim.name}' (inputs "
                f"{shapes} -> {v.shape}) was freed by backward(); pass retain_graph=True to "
                "the first backward() to go through the graph twice")
        nodes.append(v)
        for p in reversed(v.parents):
            if p is not None and p not in seen:
                stack.append(p)
    nodes.sort(key=attrgetter("index"), reverse=True)
    return nodes, ends


def _watched(nodes, ends, stop_vertices):
    """Whether an outer transform is watching (see ``outer_tracked``), from a walk's result."""
    for t in ends:
        stop = vertex(t) in stop_vertices
        if (t._requires_grad and not stop) or (stop and t._node is not None) or tracked_below(t):
            return True
    return any(node.watched for node in nodes)   # a constant input that is a tracked dual


def _retain(t, g, create_graph):
    """``.grad`` of a computed tensor that asked for it (``retain_grad``), added up as a leaf's."""
    if t is not None:
        g = g if create_graph else g.detach()
        t._grad = g if t._grad is None else _accumulate(t._grad, g, create_graph)


def _add(grads, v, g):
    old = grads.get(v)
    grads[v] = g if old is None else old + g
