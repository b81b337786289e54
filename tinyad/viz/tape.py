"""The tape view: the nodes that reverse mode recorded, as a table.

Every primitive applied to a tensor that requires a gradient leaves a ``Node`` on its output
(see tinyad/node.py): the primitive, where each input came from (a node, a leaf, a constant), the
values its VJP rules will read and nothing else, its parameters, and a Wengert number that only
grows. ``tape(f, *args)`` runs f and lists those nodes in the order they were *recorded*
(increasing Wengert number, so every node comes after the nodes that made its inputs).
``backward()`` visits exactly these rows, from the bottom up.

Nothing here hooks into the engine: the view is the tape's own walk over the nodes' parents
(``tinyad.tape.walk``), the one backward() runs.
"""
import inspect

import numpy as np

from .. import backend
from ..errors import GradError
from ..node import Node, StandIn
from ..tape import enable_grad, walk as tape_walk
from ..tensor import Tensor, tensor
from .table import abbrev, show


def tape(f, *args, names=None, verbose=True):
    """Print and return the tape behind a tensor: ``tape(y)``, or ``tape(f, *args)``, which runs
    f on fresh copies of `args` that require a gradient, named after f's parameters.

    One row (a dict) per node, in recorded order:
        index         the node's Wengert number
        op            the primitive's name
        inputs        labels: '#index' for a recorded result, a name for a leaf, 'const ...'
        input_shapes  the inputs' shapes; shape: the output's shape
        saved         what the node keeps for its VJP rules: the inputs and the output they read
                      (abbreviated values), a residual, the params
    `names` maps labels to leaf tensors, e.g. ``names={"w": w}``.
    """
    if isinstance(f, Tensor):
        root, names = f, dict(names or {})
    else:
        root, names = _run(f, args, names)
    nodes, leaves = walk(root)
    labels = leaf_labels(leaves, names)
    rows = [_row(node, labels) for node in nodes]
    if verbose:
        show(f"tape: {len(rows)} nodes in recorded order (backward visits them bottom-up)", rows, {
            "#": lambda r: r["index"],
            "op": lambda r: r["op"],
            "inputs": lambda r: ", ".join(r["inputs"]),
            "shapes": lambda r: f"{', '.join(map(str, r['input_shapes']))} -> {r['shape']}",
            "saved for backward": lambda r: r["saved"]})
    return rows


def walk(root):
    """The nodes reachable from `root`, oldest first, and the leaves reached: the tape's own
    walk (tinyad/tape.py), read in recorded order."""
    try:
        nodes, leaves = tape_walk([root])
    except GradError as e:
        raise ValueError(f"tape view: {e}; or look at the tape before backward()") from None
    return nodes[::-1], leaves


def input_labels(node, labels):
    """A label per input of `node`: '#index' for a node's result, the leaf's label, or the
    constant's ('const 2', or its shape where the node did not keep its values)."""
    return [f"#{p.index}" if type(p) is Node else labels[id(p)] if p is not None
            else constant_label(x) for x, p in zip(node.inputs, node.parents)]


def leaf_labels(leaves, names):
    """Label each leaf by id: its name in `names`, else 'leafK' if it requires a gradient, else
    'const' and its value (or shape)."""
    by_id = {id(x): name for name, x in names.items()}
    labels, unnamed = {}, 0
    for x in leaves:
        if id(x) in by_id:
            labels[id(x)] = by_id[id(x)]
        elif x.requires_grad:
            labels[id(x)] = f"leaf{unnamed}"
            unnamed += 1
        else:
            labels[id(x)] = constant_label(x)
    return labels


def constant_label(x):
    """'const 2' for a single number, 'const (3, 2)' for an array or a value not kept."""
    return "const " + (abbrev(x.numpy()) if x.size == 1 and not isinstance(x, StandIn)
                       else str(x.shape))


def _run(f, args, names):
    """Call f on leaf copies of args that require a gradient; name them after f's parameters."""
    xs = [_leaf(a) for a in args]
    own = dict(zip(parameter_names(f, len(xs)), xs))
    with enable_grad():
        out = f(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"tape view: f must return a Tensor, got {type(out).__name__}")
    return out, {**own, **(names or {})}


def parameter_names(f, count):
    """Names for f's first `count` positional arguments: its parameters', else 'argK'."""
    params = [p.name for p in inspect.signature(f).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [params[i] if i < len(params) else f"arg{i}" for i in range(count)]


def _leaf(a):
    x = a if isinstance(a, Tensor) else tensor(a)
    return x.detach().requires_grad_() if x.dtype.kind == "f" else x


def _row(node, labels):
    inputs = input_labels(node, labels)
    saved = []
    for label, x in zip(inputs, node.inputs):
        if isinstance(x, StandIn):
            continue
        item = label if label.startswith("const ") and x.size == 1 else \
            f"{label}={abbrev(x.numpy())}"
        if item not in saved:
            saved.append(item)
    out = node.output()
    if not isinstance(out, StandIn):
        saved.append(f"out={abbrev(out.numpy())}")
    if node.residual is not None:
        saved.append(f"residual={abbrev(backend.to_device(node.residual, 'cpu'))}")
    saved += [f"{k}={abbrev(v) if isinstance(v, np.ndarray) else v}"
              for k, v in node.params.items()]
    return {"index": node.index, "op": node.prim.name, "inputs": inputs,
            "input_shapes": [x.shape for x in node.inputs], "shape": node.shape,
            "saved": ", ".join(saved)}
